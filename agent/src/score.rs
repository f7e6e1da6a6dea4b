//! Scoring a command line: the hard rules first, then the person's own exact label, then the
//! model; and the one-line warning a risky command gets.

use crate::model::Model;
use crate::parse::parse;
use crate::rules;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use vigil::protocol::{Label, Probabilities, ScoreRecord, Segment};

/// `[score]` in config.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreConfig {
    /// At or below this probability of unsafe, the model says safe.
    pub safe_below: f64,
    /// At or above this probability of unsafe, the model says unsafe; between the two the
    /// label is `unknown`.
    pub unsafe_above: f64,
    /// Warn before a command at or above this probability of unsafe (rule hits always warn).
    pub warn_at: f64,
    /// Whether hooks warn at all.
    pub warn: bool,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig { safe_below: 0.35, unsafe_above: 0.65, warn_at: 0.65, warn: true }
    }
}

/// The current model and its version.
pub struct Current {
    /// The model.
    pub model: Model,
    /// Its version in the store.
    pub version: i64,
    /// When it was trained (ms since the epoch).
    pub trained_at: i64,
}

/// Scores commands; the model and the labels can be swapped while it is in use.
pub struct Scorer {
    config: ScoreConfig,
    model: RwLock<Option<Arc<Current>>>,
    labels: RwLock<Arc<HashMap<String, Label>>>,
    /// Counts swaps of the model or the labels: a score kept from an earlier generation may
    /// be stale.
    generation: AtomicU64,
}

impl Scorer {
    /// A scorer with no model yet (rules only).
    pub fn new(config: ScoreConfig) -> Scorer {
        Scorer { config, model: RwLock::new(None), labels: RwLock::new(Arc::new(HashMap::new())), generation: AtomicU64::new(0) }
    }

    /// Changes whenever the model or the labels are swapped (see [`Scorer::score`]).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes `model` current; later scores use it.
    pub fn set_model(&self, model: Option<Arc<Current>>) {
        *self.model.write().unwrap_or_else(|p| p.into_inner()) = model;
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The current model, if any.
    pub fn model(&self) -> Option<Arc<Current>> {
        self.model.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the person's exact labels (command -> label).
    pub fn set_labels(&self, labels: HashMap<String, Label>) {
        *self.labels.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(labels);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Scores one command line.
    pub fn score(&self, command: &str) -> ScoreRecord {
        let parsed = parse(command);
        let mut rec = unscored(command);
        if let Some(rule) = rules::check_parsed(command, &parsed) {
            rec.label = Label::Unsafe;
            rec.p_unsafe = Some(1.0);
            rec.confidence = Some(1.0);
            rec.reason = format!("rule:{}", rule.id);
            rec.explanation = Some(rule.reason.to_string());
            return rec;
        }
        let own = self.labels.read().unwrap_or_else(|p| p.into_inner()).get(command.trim()).copied();
        if let Some(label) = own.filter(|l| *l != Label::Unknown) {
            rec.label = label;
            let p = if label == Label::Unsafe { 1.0 } else { 0.0 };
            rec.p_unsafe = Some(p);
            rec.confidence = Some(1.0);
            rec.reason = "label".into();
            return rec;
        }
        if let Some(current) = self.model() {
            let p = current.model.predict_ngrams(&crate::features::ngrams(&parsed));
            rec.p_unsafe = Some(p);
            rec.probabilities = Some(Probabilities { safe: 1.0 - p, unsafe_: p });
            rec.confidence = Some(p.max(1.0 - p));
            rec.model_version = Some(current.version);
            rec.reason = "model".into();
            rec.label = if p >= self.config.unsafe_above {
                Label::Unsafe
            } else if p <= self.config.safe_below {
                Label::Safe
            } else {
                Label::Unknown
            };
        }
        rec
    }

    /// The warning to print before the command runs, if it deserves one.
    pub fn warning(&self, rec: &ScoreRecord) -> Option<String> {
        if !self.config.warn || rec.label != Label::Unsafe {
            return None;
        }
        let shown = shorten(&rec.command, 60);
        if let Some(rule) = rec.reason.strip_prefix("rule:") {
            let why = rec.explanation.as_deref().unwrap_or("is destructive");
            return Some(format!("vigil: {shown} {why} (rule {rule})"));
        }
        let p = rec.p_unsafe.unwrap_or(1.0);
        if rec.reason == "label" {
            return Some(format!("vigil: {shown} is a command you labelled unsafe"));
        }
        (p >= self.config.warn_at).then(|| format!("vigil: {shown} looks risky ({:.0}% unsafe, model v{})", p * 100.0, rec.model_version.unwrap_or(0)))
    }

    /// What the prompt shows after the command.
    pub fn segment(rec: &ScoreRecord) -> Option<Segment> {
        Some(Segment { label: rec.label, p_unsafe: rec.p_unsafe, reason: rec.reason.clone() })
    }
}

/// The first `max` characters of a command, on one line.
/// The record of a command nothing has judged: label unknown, no probability.
pub fn unscored(command: &str) -> ScoreRecord {
    ScoreRecord {
        command: command.to_string(),
        label: Label::Unknown,
        p_unsafe: None,
        confidence: None,
        probabilities: None,
        reason: "none".into(),
        model_version: None,
        explanation: None,
    }
}

fn shorten(command: &str, max: usize) -> String {
    let one_line = command.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_win_and_explain_themselves() {
        let s = Scorer::new(ScoreConfig::default());
        let r = s.score("rm -rf ~");
        assert_eq!((r.label, r.p_unsafe, r.reason.as_str()), (Label::Unsafe, Some(1.0), "rule:fs:rm-home"));
        assert_eq!(s.warning(&r).unwrap(), "vigil: rm -rf ~ deletes your home folder (rule fs:rm-home)");
        // The person's label cannot lower a rule hit.
        s.set_labels(HashMap::from([("rm -rf ~".to_string(), Label::Safe)]));
        assert_eq!(s.score("rm -rf ~").label, Label::Unsafe);
    }

    #[test]
    fn without_a_model_unknown_and_no_warning() {
        let s = Scorer::new(ScoreConfig::default());
        let r = s.score("ls -la");
        assert_eq!((r.label, r.p_unsafe, r.reason.as_str()), (Label::Unknown, None, "none"));
        assert!(s.warning(&r).is_none());
    }

    #[test]
    fn own_labels_apply_at_once() {
        let s = Scorer::new(ScoreConfig::default());
        s.set_labels(HashMap::from([("make deploy-prod".to_string(), Label::Unsafe)]));
        let r = s.score("make deploy-prod");
        assert_eq!((r.label, r.reason.as_str()), (Label::Unsafe, "label"));
        assert!(s.warning(&r).unwrap().contains("you labelled unsafe"));
        let long = format!("echo {}", "x".repeat(100));
        assert!(shorten(&long, 60).chars().count() == 60);
    }
}
