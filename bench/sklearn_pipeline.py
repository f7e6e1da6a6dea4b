"""The original design's pipeline, for comparison with `vigild train --csv`:
TfidfVectorizer(ngram_range=(1, 3), max_features=500) + RandomForestClassifier(
n_estimators=200, max_depth=10, n_jobs=1), 80/20 stratified split. Prints one JSON line."""
import csv, json, sys, time

t0 = time.perf_counter()
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

rows = [r for r in csv.DictReader(open(sys.argv[1], newline="")) if r["label"] in ("safe", "unsafe")]
X = [r["command"] for r in rows]
y = [r["label"] for r in rows]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=7)
t_fit = time.perf_counter()
vec = TfidfVectorizer(ngram_range=(1, 3), max_features=500)
clf = RandomForestClassifier(n_estimators=200, max_depth=10, n_jobs=1, random_state=7)
clf.fit(vec.fit_transform(X_train), y_train)
fit = time.perf_counter() - t_fit
acc = accuracy_score(y_test, clf.predict(vec.transform(X_test)))
print(json.dumps({"tool": "scikit-learn", "n_train": len(X_train), "n_test": len(X_test), "fit_seconds": fit, "process_seconds": time.perf_counter() - t0, "accuracy": acc}))
