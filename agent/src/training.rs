//! The training set and its figures: the bootstrap corpus shipped in the binary, the fixed
//! hold-out, the person's labels beside it, training one model with its report, evaluation
//! and cross-validation. Pure functions: when to train is `learn`'s.

use crate::model::{Example, Model, ModelError, ModelParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// The bootstrap corpus (`agent/corpus/bootstrap.tsv`): `LABEL<TAB>COMMAND` lines.
pub const BOOTSTRAP: &str = include_str!("../corpus/bootstrap.tsv");

/// Labelled lines of a `LABEL<TAB>COMMAND` text; comment lines start with `#`.
pub fn parse_tsv(text: &str) -> Vec<Example> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (label, command) = l.split_once('\t')?;
            let unsafe_ = match label.trim() {
                "unsafe" => true,
                "safe" => false,
                _ => return None,
            };
            Some(Example { command: command.to_string(), unsafe_, weight: 1.0 })
        })
        .collect()
}

/// The bootstrap corpus as examples.
pub fn bootstrap_examples() -> Vec<Example> {
    parse_tsv(BOOTSTRAP)
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Of those predicted in the class, the share that are.
    pub precision: f64,
    /// Of those in the class, the share predicted so.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Examples of the class in the test set.
    pub support: u64,
}

/// A training report, as `vigil train --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Version in the store (0 before it is stored).
    pub model_version: i64,
    /// Training examples.
    pub n_train: usize,
    /// Held-out test examples.
    pub n_test: usize,
    /// Share of test examples predicted right (threshold 0.5).
    pub accuracy: f64,
    /// `safe` and `unsafe`.
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// Rows: actual safe, actual unsafe; columns: predicted safe, predicted unsafe.
    pub confusion: [[u64; 2]; 2],
    /// The most important features and their weight: the forest's mean decrease in impurity
    /// (MSE of the 0/1 target), normalised to sum to 1 over all features.
    pub top_features: Vec<(String, f64)>,
    /// Wall time of fitting the model, in seconds.
    pub train_seconds: f64,
    /// Examples that came from the person's label file.
    pub personal_labels: usize,
    /// What the test set is: `corpus hold-out` (the fixed fifth of the bootstrap corpus that
    /// no model trains on) or `split` (a stratified fifth of a CSV's rows).
    #[serde(default)]
    pub test_set: String,
    /// Macro-averaged F1 on the test set: the one F1 that `vigil models`, `status`, `stats`
    /// and the guard show and compare.
    #[serde(default)]
    pub macro_f1: f64,
    /// k-fold cross-validated figures on the person's own labels, when there are enough
    /// of them (every label is trained on by the model itself; these come from models that
    /// each left one fold out).
    #[serde(default)]
    pub personal_cv: Option<CrossValidation>,
}

/// Cross-validated figures on the person's labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Folds.
    pub folds: usize,
    /// Labels validated (each once, by the model that did not see it).
    pub n: usize,
    /// Trees of each fold's model (fewer than the model's own, to keep retraining cheap).
    pub trees: usize,
    /// Share predicted right.
    pub accuracy: f64,
    /// Macro-averaged F1.
    pub macro_f1: f64,
    /// `safe` and `unsafe`.
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// Rows: actual safe, actual unsafe; columns: predicted safe, predicted unsafe.
    pub confusion: [[u64; 2]; 2],
}

impl Report {
    /// Macro-averaged F1 on the test set (the guard against a bad batch of labels compares it).
    pub fn macro_f1(&self) -> f64 {
        macro_f1(&self.per_class)
    }
}

/// The mean of the classes' F1.
pub fn macro_f1(per_class: &BTreeMap<String, ClassMetrics>) -> f64 {
    let f: Vec<f64> = per_class.values().map(|m| m.f1).collect();
    if f.is_empty() {
        0.0
    } else {
        f.iter().sum::<f64>() / f.len() as f64
    }
}

/// Whether a corpus line is in the fixed hold-out: one in five, by a hash of its text, so
/// that the hold-out is the same whatever the labels, the seed or the corpus's order, and no
/// model ever trains on it.
pub fn in_holdout(command: &str) -> bool {
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let h = command.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    h % 5 == 0
}

/// Folds of the cross-validation on the person's labels.
const CV_FOLDS: usize = 5;
/// Fewest labels of each class for a cross-validated figure.
const CV_MIN_PER_CLASS: usize = 3;

/// Splits examples into train and test sets, 80/20 within each class, deterministically.
pub fn stratified_split(examples: &[Example], seed: u64) -> (Vec<Example>, Vec<Example>) {
    let mut train = Vec::new();
    let mut test = Vec::new();
    for class in [false, true] {
        let mut idx: Vec<usize> = (0..examples.len()).filter(|&i| examples[i].unsafe_ == class).collect();
        shuffle(&mut idx, seed ^ u64::from(class));
        let n_test = (idx.len() as f64 * 0.2).round() as usize;
        for (k, i) in idx.into_iter().enumerate() {
            if k < n_test {
                test.push(examples[i].clone());
            } else {
                train.push(examples[i].clone());
            }
        }
    }
    (train, test)
}

/// Fisher-Yates with a small xorshift generator: reproducible without a dependency.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
}

/// Scores a model on a test set.
pub fn evaluate(model: &Model, test: &[Example]) -> ([[u64; 2]; 2], f64, BTreeMap<String, ClassMetrics>) {
    let mut confusion = [[0u64; 2]; 2];
    for e in test {
        let predicted = model.predict(&e.command) >= 0.5;
        confusion[usize::from(e.unsafe_)][usize::from(predicted)] += 1;
    }
    let (accuracy, per_class) = metrics(&confusion);
    (confusion, accuracy, per_class)
}

/// Accuracy and per-class figures of a confusion matrix.
fn metrics(confusion: &[[u64; 2]; 2]) -> (f64, BTreeMap<String, ClassMetrics>) {
    let total: u64 = confusion.iter().flatten().sum();
    let accuracy = if total == 0 { 0.0 } else { (confusion[0][0] + confusion[1][1]) as f64 / total as f64 };
    let mut per_class = BTreeMap::new();
    for (k, name) in [(0, "safe"), (1, "unsafe")] {
        let tp = confusion[k][k] as f64;
        let predicted: f64 = (0..2).map(|a| confusion[a][k] as f64).sum();
        let actual: f64 = confusion[k].iter().sum::<u64>() as f64;
        let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
        let recall = if actual > 0.0 { tp / actual } else { 0.0 };
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        per_class.insert(name.to_string(), ClassMetrics { precision, recall, f1, support: actual as u64 });
    }
    (accuracy, per_class)
}

/// Trains on a stratified 80% of `examples` and measures the model on the other 20%: the
/// report describes exactly the model that is used (as the original design's scikit-learn
/// pipeline did), at the cost of a fifth of the data. Returns the model and its report.
pub fn train_with_report(
    examples: &[Example],
    params: &ModelParams,
    personal_labels: usize,
) -> Result<(Model, Report), ModelError> {
    let start = Instant::now();
    let (train, test) = stratified_split(examples, params.seed);
    let model = Model::train(&train, params)?;
    let train_seconds = start.elapsed().as_secs_f64();
    let (confusion, accuracy, per_class) = evaluate(&model, &test);
    let report = Report {
        model_version: 0,
        n_train: train.len(),
        n_test: test.len(),
        accuracy,
        macro_f1: macro_f1(&per_class),
        per_class,
        confusion,
        top_features: model.top_features(20),
        train_seconds,
        personal_labels,
        test_set: "split".into(),
        personal_cv: None,
    };
    Ok((model, report))
}

/// The corpus lines a person's labels leave: those of commands they did not label, split
/// into (train, fixed hold-out).
pub fn corpus_parts(corpus: &[Example], personal: &[Example]) -> (Vec<Example>, Vec<Example>) {
    let labelled: std::collections::HashSet<&str> = personal.iter().map(|e| e.command.as_str()).collect();
    corpus.iter().filter(|e| !labelled.contains(e.command.as_str())).cloned().partition(|e| !in_holdout(&e.command))
}

/// Trains the model a person uses: on the corpus less its fixed hold-out, and on every one of
/// the person's labels. The report's figures are measured on the corpus hold-out; with enough
/// labels, `personal_cv` adds a k-fold cross-validated figure on the person's labels.
pub fn train_personal(
    corpus: &[Example],
    personal: &[Example],
    params: &ModelParams,
) -> Result<(Model, Report), ModelError> {
    let start = Instant::now();
    let (corpus_train, holdout) = corpus_parts(corpus, personal);
    let mut train = corpus_train.clone();
    train.extend(personal.iter().cloned());
    let model = Model::train(&train, params)?;
    let train_seconds = start.elapsed().as_secs_f64();
    let (confusion, accuracy, per_class) = evaluate(&model, &holdout);
    let personal_cv = cross_validate(&corpus_train, personal, params);
    let report = Report {
        model_version: 0,
        n_train: train.len(),
        n_test: holdout.len(),
        accuracy,
        macro_f1: macro_f1(&per_class),
        per_class,
        confusion,
        top_features: model.top_features(20),
        train_seconds,
        personal_labels: personal.len(),
        test_set: "corpus hold-out".into(),
        personal_cv,
    };
    Ok((model, report))
}

/// k-fold cross-validation on the person's labels: each fold is scored by a model trained on
/// the corpus and the other folds. `None` with fewer than [`CV_MIN_PER_CLASS`] labels of a class.
fn cross_validate(corpus_train: &[Example], personal: &[Example], params: &ModelParams) -> Option<CrossValidation> {
    let n_unsafe = personal.iter().filter(|e| e.unsafe_).count();
    if n_unsafe < CV_MIN_PER_CLASS || personal.len() - n_unsafe < CV_MIN_PER_CLASS {
        return None;
    }
    let folds = CV_FOLDS.min(n_unsafe).min(personal.len() - n_unsafe);
    // Stratified: each class dealt round-robin over the folds, in a fixed shuffled order.
    let mut fold_of = vec![0usize; personal.len()];
    for class in [false, true] {
        let mut idx: Vec<usize> =
            (0..personal.len()).filter(|&i| personal.get(i).is_some_and(|e| e.unsafe_ == class)).collect();
        shuffle(&mut idx, params.seed ^ 0x5eed ^ u64::from(class));
        for (k, i) in idx.into_iter().enumerate() {
            if let Some(f) = fold_of.get_mut(i) {
                *f = k % folds;
            }
        }
    }
    let fold_params = ModelParams { trees: (params.trees / 4).max(10), ..params.clone() };
    let mut confusion = [[0u64; 2]; 2];
    for fold in 0..folds {
        let mut train = corpus_train.to_vec();
        let mut test = Vec::new();
        for (e, f) in personal.iter().zip(&fold_of) {
            if *f == fold {
                test.push(e.clone());
            } else {
                train.push(e.clone());
            }
        }
        let model = Model::train(&train, &fold_params).ok()?;
        let (c, _, _) = evaluate(&model, &test);
        for (a, b) in confusion.iter_mut().flatten().zip(c.iter().flatten()) {
            *a += b;
        }
    }
    let (accuracy, per_class) = metrics(&confusion);
    Some(CrossValidation {
        folds,
        n: personal.len(),
        trees: fold_params.trees,
        accuracy,
        macro_f1: macro_f1(&per_class),
        per_class,
        confusion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_is_large_varied_and_consistent_with_the_rules() {
        let ex = bootstrap_examples();
        assert!(ex.len() >= 3000, "{}", ex.len());
        let unsafe_ = ex.iter().filter(|e| e.unsafe_).count();
        assert!(unsafe_ > 900 && ex.len() - unsafe_ > 1500);
        // A command the rules call unsafe must not be labelled safe in the corpus.
        let contradictions: Vec<&str> = ex
            .iter()
            .filter(|e| !e.unsafe_ && crate::rules::check(&e.command).is_some())
            .map(|e| e.command.as_str())
            .collect();
        assert!(contradictions.is_empty(), "safe in the corpus but a rule hit: {contradictions:?}");
    }

    #[test]
    fn split_is_stratified_and_deterministic() {
        let ex = bootstrap_examples();
        let (train, test) = stratified_split(&ex, 7);
        assert_eq!(train.len() + test.len(), ex.len());
        let share = |v: &[Example]| v.iter().filter(|e| e.unsafe_).count() as f64 / v.len() as f64;
        assert!((share(&train) - share(&test)).abs() < 0.01);
        assert_eq!(stratified_split(&ex, 7).1, test);
    }

    #[test]
    fn every_personal_label_is_trained_on_and_the_holdout_is_fixed() {
        let corpus = bootstrap_examples();
        let held: Vec<&Example> = corpus.iter().filter(|e| in_holdout(&e.command)).collect();
        let share = held.len() as f64 / corpus.len() as f64;
        assert!((0.15..0.25).contains(&share), "{share}");
        // The person's labels: one of them a corpus line of the hold-out, relabelled; the
        // others commands of their own, some of which hash into the hold-out.
        let relabelled = held.iter().find(|e| e.unsafe_).unwrap().command.clone();
        let mut personal = vec![Example { command: relabelled.clone(), unsafe_: false, weight: 5.0 }];
        for i in 0..12 {
            personal.push(Example {
                command: format!("shipit --target production svc{i}"),
                unsafe_: true,
                weight: 5.0,
            });
            personal.push(Example { command: format!("shipit --target sandbox svc{i}"), unsafe_: false, weight: 5.0 });
        }
        assert!(personal.iter().any(|e| in_holdout(&e.command)), "some label hashes into the hold-out");
        let params = ModelParams { trees: 20, ..ModelParams::default() };
        let (model, report) = train_personal(&corpus, &personal, &params).unwrap();
        let (corpus_train, holdout) = corpus_parts(&corpus, &personal);
        assert_eq!(report.n_train, corpus_train.len() + personal.len(), "every label trained on");
        assert_eq!(report.n_test, holdout.len());
        assert!(!holdout.iter().any(|e| e.command == relabelled), "a labelled command leaves the hold-out");
        assert_eq!(report.test_set, "corpus hold-out");
        assert!((report.macro_f1 - report.macro_f1()).abs() < 1e-12);
        assert!(model.predict("shipit --target production svc3") > model.predict("shipit --target sandbox svc3"));
        let cv = report.personal_cv.expect("25 labels are enough for a cross-validated figure");
        assert_eq!((cv.folds, cv.n), (5, 25));
        assert_eq!(cv.confusion.iter().flatten().sum::<u64>(), 25);
        // Fewer labels: no cross-validated figure, and the corpus hold-out is the same set.
        let (_, few) = train_personal(&corpus, &personal[..3], &params).unwrap();
        assert!(few.personal_cv.is_none());
        assert_eq!(few.n_test, corpus_parts(&corpus, &personal[..3]).1.len());
    }

    #[test]
    fn tsv_lines_parse() {
        let ex = parse_tsv("# header\nsafe\tls -la\nunsafe\trm -rf /\nunknown\tx\nbad line\n");
        assert_eq!(ex.len(), 2);
        assert!(ex[1].unsafe_);
    }
}
