//! Learning: the training set (the bootstrap corpus shipped in the binary, plus the person's
//! labels), training a model version with its report, and bringing the first model up.

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
}

impl Report {
    /// Macro-averaged F1 (the guard against a bad batch of labels compares it).
    pub fn macro_f1(&self) -> f64 {
        let f: Vec<f64> = self.per_class.values().map(|m| m.f1).collect();
        if f.is_empty() {
            0.0
        } else {
            f.iter().sum::<f64>() / f.len() as f64
        }
    }
}

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
    (confusion, accuracy, per_class)
}

/// Trains on a stratified 80% of `examples` and measures the model on the other 20%: the
/// report describes exactly the model that is used (as the original design's scikit-learn
/// pipeline did), at the cost of a fifth of the data. Returns the model and its report.
pub fn train_with_report(examples: &[Example], params: &ModelParams, personal_labels: usize) -> Result<(Model, Report), ModelError> {
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
        per_class,
        confusion,
        top_features: model.top_features(20),
        train_seconds,
        personal_labels,
    };
    Ok((model, report))
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
        let contradictions: Vec<&str> = ex.iter().filter(|e| !e.unsafe_ && crate::rules::check(&e.command).is_some()).map(|e| e.command.as_str()).collect();
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
    fn tsv_lines_parse() {
        let ex = parse_tsv("# header\nsafe\tls -la\nunsafe\trm -rf /\nunknown\tx\nbad line\n");
        assert_eq!(ex.len(), 2);
        assert!(ex[1].unsafe_);
    }
}

// ---------------------------------------------------------------------------------------
// The learner: labels in, models out.

use crate::labels::LabelSet;
use crate::score::{Current, Scorer};
use crate::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use vigil::protocol::{Label, LabelError};

/// `[learn]` in config.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnConfig {
    /// A retrain starts this long after the last change to the label file.
    pub retrain_delay_secs: u64,
    /// ... and never sooner than this after the previous retrain.
    pub retrain_min_interval_secs: u64,
    /// How much one of the person's labels weighs against one corpus example.
    pub personal_weight: f64,
    /// A new model whose held-out macro F1 is worse than the current one's by more than this
    /// is stored but not made current.
    pub guard_margin: f64,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig { retrain_delay_secs: 30, retrain_min_interval_secs: 300, personal_weight: 5.0, guard_margin: 0.05 }
    }
}

/// What the learner knows, for `vigil status`.
#[derive(Debug, Clone, Default)]
pub struct LearnStatus {
    /// Labels in force.
    pub labels: u64,
    /// Problems in the label file (or the file itself).
    pub errors: Vec<LabelError>,
    /// The last training's outcome, in a line.
    pub last_training: Option<String>,
}

struct State {
    labels: LabelSet,
    file_error: Option<String>,
    /// Set when the labels changed and no model has seen them yet.
    changed_at: Option<std::time::Instant>,
    last_trained: Option<std::time::Instant>,
    last_training: Option<String>,
    closing: bool,
    /// Set once the scheduler has a model to offer, or has given up on training the first.
    ready: bool,
}

/// Reads labels, schedules retraining, trains, keeps every version, and rolls back.
pub struct Learner {
    db: PathBuf,
    labels_path: PathBuf,
    params: ModelParams,
    config: LearnConfig,
    scorer: Arc<Scorer>,
    state: Mutex<State>,
    wake: Condvar,
    /// Signalled when `ready` is set.
    ready: Condvar,
    training: Mutex<()>,
}

/// Why a training or rollback failed.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Training failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// No such version.
    #[error("there is no model version {0}")]
    NoSuchVersion(i64),
}

impl Learner {
    /// A learner over the store at `db` and the label file at `labels_path`.
    pub fn new(db: PathBuf, labels_path: PathBuf, params: ModelParams, config: LearnConfig, scorer: Arc<Scorer>) -> Arc<Learner> {
        Arc::new(Learner {
            db,
            labels_path,
            params,
            config,
            scorer,
            state: Mutex::new(State { labels: LabelSet::default(), file_error: None, changed_at: None, last_trained: None, last_training: None, closing: false, ready: false }),
            wake: Condvar::new(),
            ready: Condvar::new(),
            training: Mutex::new(()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the label file: the labels apply to scoring at once, are synced into the store,
    /// and a retrain is scheduled if they differ from what the last sync saw.
    pub fn reload_labels(&self) {
        let (set, file_error) = match crate::labels::read(&self.labels_path) {
            Ok(set) => (set, None),
            Err(e) => {
                tracing::error!("{e}");
                // Keep the labels already in force: a file half-written by an editor, or
                // made unreadable, must not wipe them.
                let mut st = self.lock();
                st.file_error = Some(e.to_string());
                return;
            }
        };
        for e in &set.errors {
            // The log is on disk: a bad line may hold a secret.
            tracing::warn!("{}: line {}: {} ({:?})", self.labels_path.display(), e.line, e.error, vigil::redact::redact(&e.text));
        }
        self.scorer.set_labels(set.labels.iter().map(|(c, (l, _))| (c.clone(), *l)).collect());
        let fingerprint = set.fingerprint();
        let rows: Vec<(String, String, u64)> = set.labels.iter().map(|(c, (l, line))| (c.clone(), l.as_str().to_string(), *line)).collect();
        let previous = Store::open(&self.db).and_then(|mut s| {
            let prev = s.meta("labels_fingerprint")?;
            s.sync_labels(&rows, &fingerprint)?;
            Ok(prev)
        });
        let mut st = self.lock();
        st.file_error = file_error;
        st.labels = set;
        match previous {
            Ok(prev) if prev.as_deref() != Some(fingerprint.as_str()) => {
                tracing::info!(labels = rows.len(), "labels changed; retrain scheduled");
                st.changed_at = Some(std::time::Instant::now());
                self.wake.notify_all();
            }
            Ok(_) => {}
            Err(e) => tracing::error!("cannot store the labels: {e}"),
        }
    }

    /// The training set: the bootstrap corpus, less the commands the person labelled, plus
    /// the person's labels weighted by `personal_weight`.
    pub fn training_set(&self, labels: &LabelSet) -> (Vec<Example>, usize) {
        let mut examples: Vec<Example> = bootstrap_examples().into_iter().filter(|e| !labels.labels.contains_key(&e.command)).collect();
        let personal = labels.labels.len();
        examples.extend(labels.labels.iter().map(|(c, (l, _))| Example { command: c.clone(), unsafe_: *l == Label::Unsafe, weight: self.config.personal_weight }));
        (examples, personal)
    }

    /// Trains a model now (waiting for one already under way), stores it, and makes it
    /// current unless the guard holds it back. Returns its report and whether it is current.
    pub fn train_now(&self, note: &str) -> Result<(Report, bool), LearnError> {
        let _one_at_a_time = self.training.lock().unwrap_or_else(|p| p.into_inner());
        let labels = self.lock().labels.clone();
        let fingerprint = labels.fingerprint();
        let (examples, personal) = self.training_set(&labels);
        let (model, mut report) = train_with_report(&examples, &self.params, personal)?;
        let mut store = Store::open(&self.db)?;
        let current_f1 = store.current_model()?.and_then(|(_, _, json, _)| serde_json::from_str::<Report>(&json).ok()).map(|r| r.macro_f1());
        let new_f1 = report.macro_f1();
        let held_back = current_f1.filter(|cur| new_f1 < cur - self.config.guard_margin);
        let note = match held_back {
            Some(cur) => format!("not made current: held-out F1 {new_f1:.3} is below the current model's {cur:.3} by more than {}", self.config.guard_margin),
            None => note.to_string(),
        };
        let blob = model.to_bytes()?;
        let version = store.insert_model(report.n_train, "{}", &blob, held_back.is_none(), Some(&note), Some(&fingerprint))?;
        report.model_version = version;
        store.update_model_metrics(version, &serde_json::to_string(&report).unwrap_or_default())?;
        let summary = format!(
            "model v{version}: accuracy {:.3}, F1 {:.3}, {} personal labels, {:.1} s{}",
            report.accuracy,
            new_f1,
            personal,
            report.train_seconds,
            if held_back.is_some() { format!("; {note}") } else { String::new() }
        );
        tracing::info!("{summary}");
        if held_back.is_none() {
            self.scorer.set_model(Some(Arc::new(Current { model, version, trained_at: vigil::now_ms() })));
        }
        let mut st = self.lock();
        st.last_trained = Some(std::time::Instant::now());
        st.last_training = Some(summary);
        if st.labels.fingerprint() == fingerprint {
            st.changed_at = None;
        }
        Ok((report, held_back.is_none()))
    }

    /// Makes an earlier (or later) version current; it stays so until the next label change
    /// triggers a retrain.
    pub fn rollback(&self, version: i64) -> Result<(), LearnError> {
        let _one_at_a_time = self.training.lock().unwrap_or_else(|p| p.into_inner());
        let mut store = Store::open(&self.db)?;
        let (v, created_at, _, blob) = store.set_current(version)?.ok_or(LearnError::NoSuchVersion(version))?;
        let model = Model::from_bytes(&blob)?;
        self.scorer.set_model(Some(Arc::new(Current { model, version: v, trained_at: created_at })));
        let mut st = self.lock();
        st.last_training = Some(format!("rolled back to model v{v}"));
        tracing::info!("rolled back to model v{v}");
        Ok(())
    }

    /// Labels, their problems, and the last training's outcome.
    pub fn status(&self) -> LearnStatus {
        let st = self.lock();
        let mut errors = st.labels.errors.clone();
        if let Some(e) = &st.file_error {
            errors.insert(0, LabelError { line: 0, text: self.labels_path.display().to_string(), error: e.clone() });
        }
        LearnStatus { labels: st.labels.labels.len() as u64, errors, last_training: st.last_training.clone() }
    }

    /// Waits (up to `timeout`) until the first model exists, or training it failed: bulk
    /// scoring right after the agent's first start should not settle for rules only.
    pub fn wait_ready(&self, timeout: Duration) {
        let st = self.lock();
        let _unused = self.ready.wait_timeout_while(st, timeout, |st| !st.ready && !st.closing).unwrap_or_else(|p| p.into_inner());
    }

    /// Stops the scheduler thread.
    pub fn close(&self) {
        self.lock().closing = true;
        self.wake.notify_all();
        self.ready.notify_all();
    }

    /// The scheduler: waits for label changes, and retrains `retrain_delay_secs` after the
    /// last one, never sooner than `retrain_min_interval_secs` after the previous retrain.
    /// With no usable model, trains one at once (v1 from the bootstrap corpus and any labels).
    pub fn run(self: Arc<Self>) {
        crate::model::lower_priority();
        // No model yet, or one this vigil could not read at start (an older format): the
        // agent loads the current model into the scorer before it starts this thread.
        if self.scorer.model().is_none() {
            if let Err(e) = self.train_now("bootstrap corpus") {
                tracing::error!("training the first model failed: {e}");
            }
        }
        self.lock().ready = true;
        self.ready.notify_all();
        // A year at most: any longer is "never", and adding it to an Instant cannot overflow.
        const YEAR: u64 = 365 * 24 * 3600;
        let delay = Duration::from_secs(self.config.retrain_delay_secs.min(YEAR));
        let interval = Duration::from_secs(self.config.retrain_min_interval_secs.min(YEAR));
        loop {
            let st = self.lock();
            if st.closing {
                return;
            }
            let Some(changed) = st.changed_at else {
                let _unused = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            let mut due = changed.checked_add(delay).unwrap_or(changed);
            if let Some(last) = st.last_trained {
                due = due.max(last.checked_add(interval).unwrap_or(last));
            }
            let now = std::time::Instant::now();
            if now < due {
                let _unused = self.wake.wait_timeout(st, due - now).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            drop(st);
            // Only if the labels differ from what the current model was trained on.
            let fingerprint = self.lock().labels.fingerprint();
            let current = Store::open(&self.db).and_then(|s| s.current_labels_fingerprint()).ok().flatten();
            if current.as_deref() == Some(fingerprint.as_str()) {
                self.lock().changed_at = None;
                continue;
            }
            if let Err(e) = self.train_now("label file changed") {
                tracing::error!("retraining failed: {e}");
                let mut st = self.lock();
                st.last_training = Some(format!("retraining failed: {e}"));
                st.last_trained = Some(std::time::Instant::now());
            }
        }
    }
}
