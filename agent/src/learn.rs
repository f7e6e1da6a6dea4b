//! The learner: labels in, models out. It watches the label set, schedules retraining
//! (`[learn]` delays), trains on a thread of its own with `training`, keeps the guard, stores
//! and promotes models, and rolls back.

use crate::labels::LabelSet;
use crate::model::{Example, Model, ModelError, ModelParams};
use crate::score::{Current, Scorer};
use crate::store::{Store, StoreError};
use crate::training::{bootstrap_examples, corpus_parts, evaluate, macro_f1, train_personal, Report};
use serde::{Deserialize, Serialize};
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
    pub fn new(
        db: PathBuf,
        labels_path: PathBuf,
        params: ModelParams,
        config: LearnConfig,
        scorer: Arc<Scorer>,
    ) -> Arc<Learner> {
        Arc::new(Learner {
            db,
            labels_path,
            params,
            config,
            scorer,
            state: Mutex::new(State {
                labels: LabelSet::default(),
                file_error: None,
                changed_at: None,
                last_trained: None,
                last_training: None,
                closing: false,
                ready: false,
            }),
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
            tracing::warn!(
                "{}: line {}: {} ({:?})",
                self.labels_path.display(),
                e.line,
                e.error,
                vigil::redact::redact(&e.text)
            );
        }
        self.scorer.set_labels(set.labels.iter().map(|(c, (l, _))| (c.clone(), *l)).collect());
        let fingerprint = set.fingerprint();
        let rows: Vec<(String, String, u64)> =
            set.labels.iter().map(|(c, (l, line))| (c.clone(), l.as_str().to_string(), *line)).collect();
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

    /// The person's labels as examples, weighted by `personal_weight` (the corpus is added
    /// to them, less the commands they labelled, by [`train_personal`]).
    pub fn personal_examples(&self, labels: &LabelSet) -> Vec<Example> {
        labels
            .labels
            .iter()
            .map(|(c, (l, _))| Example {
                command: c.clone(),
                unsafe_: *l == Label::Unsafe,
                weight: self.config.personal_weight,
            })
            .collect()
    }

    /// Trains a model now (waiting for one already under way), stores it, and makes it
    /// current unless the guard holds it back. Returns its report and whether it is current.
    pub fn train_now(&self, note: &str) -> Result<(Report, bool), LearnError> {
        let _one_at_a_time = self.training.lock().unwrap_or_else(|p| p.into_inner());
        let labels = self.lock().labels.clone();
        let fingerprint = labels.fingerprint();
        let personal_examples = self.personal_examples(&labels);
        let personal = personal_examples.len();
        let corpus = bootstrap_examples();
        let (model, mut report) = train_personal(&corpus, &personal_examples, &self.params)?;
        let mut store = Store::open(&self.db)?;
        // Like with like: the current model is measured now, on the very test set the new
        // one was (the corpus hold-out less the commands the person labelled). With none in
        // use (the first model, or a current one this vigil cannot read) there is nothing to
        // keep, and any model beats rules only.
        let in_use = self.scorer.model().is_some();
        let current_f1 = if in_use {
            store.current_model()?.and_then(|(_, _, _, blob)| Model::from_bytes(&blob).ok()).map(|current| {
                let (_, holdout) = corpus_parts(&corpus, &personal_examples);
                macro_f1(&evaluate(&current, &holdout).2)
            })
        } else {
            None
        };
        let new_f1 = report.macro_f1;
        let held_back = current_f1.filter(|cur| new_f1 < cur - self.config.guard_margin);
        let note = match held_back {
            Some(cur) => format!("not made current: held-out F1 {new_f1:.3} is below the current model's {cur:.3} on the same test set by more than {}", self.config.guard_margin),
            None => note.to_string(),
        };
        let blob = model.to_bytes()?;
        let version =
            store.insert_model(report.n_train, "{}", &blob, held_back.is_none(), Some(&note), Some(&fingerprint))?;
        report.model_version = version;
        store.update_model_metrics(version, &serde_json::to_string(&report).unwrap_or_default())?;
        let cv = report
            .personal_cv
            .as_ref()
            .map(|cv| format!(", F1 {:.3} on your labels ({}-fold)", cv.macro_f1, cv.folds))
            .unwrap_or_default();
        let summary = format!(
            "model v{version}: accuracy {:.3}, F1 {:.3}{cv}, {} personal labels, {:.1} s{}",
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
        // Decoded before it is made current: a version this vigil cannot read stays where it is.
        let (_, _, _, blob) = store.model(version)?.ok_or(LearnError::NoSuchVersion(version))?;
        let model = Model::from_bytes(&blob)?;
        let (v, created_at, _, _) = store.set_current(version)?.ok_or(LearnError::NoSuchVersion(version))?;
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
        let _unused = self
            .ready
            .wait_timeout_while(st, timeout, |st| !st.ready && !st.closing)
            .unwrap_or_else(|p| p.into_inner());
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
