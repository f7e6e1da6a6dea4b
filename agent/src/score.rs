//! Scoring a command line: the hard rules first, then the person's own exact label, then the
//! model; and the one-line warning a risky command gets.

use crate::model::Model;
use crate::parse::parse;
use crate::rules::RuleSet;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use vigil::protocol::{Contribution, Explain, Label, Probabilities, ScoreRecord, Segment};

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
    /// Whether zsh marks an unsafe line while it is typed. Read by `vigil init` (a new shell
    /// applies a change); the agent only reports it.
    pub live: bool,
    /// When Enter waits for a second Enter: `off`, `rules` (a hard-rule hit) or `unsafe` (any
    /// unsafe verdict). Read by `vigil init`, like `live`.
    pub confirm: String,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            safe_below: 0.35,
            unsafe_above: 0.65,
            warn_at: 0.65,
            warn: true,
            live: true,
            confirm: "off".into(),
        }
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
    /// The hard rules in force (the built-in ones unless [`Scorer::with_rules`] says).
    rules: Arc<RuleSet>,
}

impl Scorer {
    /// A scorer with no model yet (rules only).
    pub fn new(config: ScoreConfig) -> Scorer {
        Scorer {
            config,
            model: RwLock::new(None),
            labels: RwLock::new(Arc::new(HashMap::new())),
            generation: AtomicU64::new(0),
            rules: Arc::new(RuleSet::builtin().clone()),
        }
    }

    /// The same scorer with `rules` in force (the configured set, see `RuleSet::from_config`).
    pub fn with_rules(mut self, rules: RuleSet) -> Scorer {
        self.rules = Arc::new(rules);
        self
    }

    /// The hard rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
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
        if let Some(rule) = self.rules.check_parsed(command, &parsed) {
            rec.label = Label::Unsafe;
            rec.p_unsafe = Some(1.0);
            rec.confidence = Some(1.0);
            rec.reason = format!("rule:{}", rule.id);
            rec.explanation = Some(rule.reason.to_string());
            rec.explain = Some(Explain {
                source: "rule".into(),
                contributions: vec![Contribution { feature: rec.reason.clone(), weight: 1.0 }],
            });
            return rec;
        }
        let own = self.labels.read().unwrap_or_else(|p| p.into_inner()).get(command.trim()).copied();
        if let Some(label) = own.filter(|l| *l != Label::Unknown) {
            rec.label = label;
            let p = if label == Label::Unsafe { 1.0 } else { 0.0 };
            rec.p_unsafe = Some(p);
            rec.confidence = Some(1.0);
            rec.reason = "label".into();
            rec.explain = Some(Explain {
                source: "label".into(),
                contributions: vec![Contribution { feature: format!("label:{}", label.as_str()), weight: p }],
            });
            return rec;
        }
        if let Some(current) = self.model() {
            let thresholds =
                crate::model::Thresholds { safe_below: self.config.safe_below, unsafe_above: self.config.unsafe_above };
            let prediction = current.model.predict_parsed(&parsed, &crate::features::ngrams(&parsed), thresholds);
            let p = prediction.p;
            rec.explain = Some(Explain {
                source: "model".into(),
                contributions: prediction
                    .contributions
                    .into_iter()
                    .map(|(feature, weight)| Contribution { feature, weight: (weight * 1000.0).round() / 1000.0 })
                    .collect(),
            });
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
            return Some(vigil_rules::rule_warning(&rec.command, why, rule));
        }
        let p = rec.p_unsafe.unwrap_or(1.0);
        if rec.reason == "label" {
            return Some(format!("vigil: {shown} is a command you labelled unsafe"));
        }
        let reasons = main_reasons(rec);
        let reasons = if reasons.is_empty() { String::new() } else { format!(": {reasons}") };
        (p >= self.config.warn_at).then(|| {
            format!(
                "vigil: {shown} looks risky{reasons} ({:.0}% unsafe, model v{})",
                p * 100.0,
                rec.model_version.unwrap_or(0)
            )
        })
    }

    /// What the prompt shows after the command.
    pub fn segment(rec: &ScoreRecord) -> Option<Segment> {
        Some(Segment { label: rec.label, p_unsafe: rec.p_unsafe, reason: rec.reason.clone() })
    }
}

/// The model's main reasons for a risky verdict, in a few words: the (at most two) features
/// that raised the probability most.
pub fn main_reasons(rec: &ScoreRecord) -> String {
    let Some(explain) = rec.explain.as_ref().filter(|e| e.source == "model") else { return String::new() };
    explain
        .contributions
        .iter()
        .filter(|c| c.weight > 0.0)
        .take(2)
        .map(|c| shorten(&c.feature, 40))
        .collect::<Vec<_>>()
        .join(", ")
}

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
        explain: None,
    }
}

/// The first `max` characters of a command, on one line.
use vigil_rules::shorten;

/// `vigil rules`: the rule set in force, in the order it is tried.
pub fn apply_rules(agent: &std::sync::Arc<crate::state::Agent>) -> vigil::protocol::Response {
    let rules = agent.capture.scorer().rules().rules().iter();
    let info = |r: &crate::rules::Rule| vigil::protocol::RuleInfo {
        id: r.id.clone(),
        category: r.category().to_string(),
        severity: r.severity.as_str().to_string(),
        message: r.reason.clone(),
        source: r.source.as_str().to_string(),
    };
    vigil::protocol::Response::Rules(rules.map(info).collect())
}

/// `vigil score`: lines scored off the thread that answers hooks (thousands of lines are CPU
/// work). Like a recorded command, a scored one is judged on its redacted text.
pub async fn apply_score(
    agent: &std::sync::Arc<crate::state::Agent>,
    commands: Vec<String>,
) -> vigil::protocol::Response {
    let agent = agent.clone();
    let scored = tokio::task::spawn_blocking(move || {
        let scorer = agent.capture.scorer();
        commands.iter().map(|c| scorer.score(&agent.capture.privacy().redact(c))).collect()
    });
    match scored.await {
        Ok(records) => vigil::protocol::Response::Scores(records),
        Err(e) => crate::state::internal(e.to_string()),
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
    fn the_configured_rules_decide_and_explain_themselves() {
        let config: vigil_rules::RulesConfig = toml::from_str("disable = [\"fs:rm-home\"]\n[[custom]]\nid = \"deploy:prod\"\nmessage = \"deploys to production\"\nprogram = [\"make\"]\noperand = [\"deploy-prod\"]").unwrap();
        let (rules, problems) = RuleSet::from_config(&config);
        assert!(problems.is_empty(), "{problems:?}");
        let s = Scorer::new(ScoreConfig::default()).with_rules(rules);
        // Disabled: the person's configuration is the one thing that lowers a hard rule.
        assert_eq!(s.score("rm -rf ~").label, Label::Unknown);
        let r = s.score("make deploy-prod");
        assert_eq!((r.label, r.reason.as_str()), (Label::Unsafe, "rule:deploy:prod"));
        assert_eq!(r.explanation.as_deref(), Some("deploys to production"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["explain"]["source"], "rule");
        assert_eq!(json["explain"]["contributions"][0]["feature"], "rule:deploy:prod");
        // The force-push warning names the safer form, which is no force push.
        let r = s.score("git push --force origin main");
        assert!(s.warning(&r).unwrap().contains("--force-with-lease"), "{:?}", s.warning(&r));
        assert_ne!(s.score("git push --force-with-lease origin main").reason, "rule:git:force-push");
    }

    #[test]
    fn without_a_model_unknown_and_no_warning() {
        let s = Scorer::new(ScoreConfig::default());
        let r = s.score("ls -la");
        assert_eq!((r.label, r.p_unsafe, r.reason.as_str()), (Label::Unknown, None, "none"));
        assert!(s.warning(&r).is_none());
    }

    /// A scorer with model v1 as a fresh install trains it (from the bootstrap corpus).
    fn fresh_install() -> &'static Scorer {
        static SCORER: std::sync::OnceLock<Scorer> = std::sync::OnceLock::new();
        SCORER.get_or_init(|| {
            let s = Scorer::new(ScoreConfig::default());
            let (model, _) = crate::training::train_personal(
                &crate::training::bootstrap_examples(),
                &[],
                &crate::model::ModelParams::default(),
            )
            .unwrap();
            s.set_model(Some(Arc::new(Current { model, version: 1, trained_at: 0 })));
            s
        })
    }

    #[test]
    fn a_safe_command_stays_safe_under_sudo() {
        let s = fresh_install();
        let hand = crate::training::parse_tsv(include_str!("../../tests/data/handwritten.tsv"));
        let mut checked = 0;
        let mut became = Vec::new();
        for e in crate::training::bootstrap_examples().iter().chain(&hand).filter(|e| !e.unsafe_) {
            let bare = e.command.trim_start().strip_prefix("sudo ").unwrap_or(&e.command);
            if bare.starts_with('-') {
                continue; // `sudo --version`: sudo's own option, not a command under sudo
            }
            let without = s.score(bare);
            let with = s.score(&format!("sudo {bare}"));
            checked += 1;
            if with.label == Label::Unsafe && without.label != Label::Unsafe {
                became.push(format!(
                    "{bare}: {:?} {:?} -> {:.2}",
                    without.label,
                    without.p_unsafe,
                    with.p_unsafe.unwrap_or(0.0)
                ));
            }
            // Privilege never lowers a score either.
            assert!(with.p_unsafe >= without.p_unsafe || with.reason != without.reason, "{bare}");
        }
        assert!(checked > 2000, "{checked}");
        assert!(became.is_empty(), "safe lines made unsafe by sudo: {became:?}");
        // ... and it still raises a risky one.
        let risky = "rm -rf ./var/lib/mysql";
        assert!(s.score(&format!("sudo {risky}")).p_unsafe >= s.score(risky).p_unsafe);
    }

    #[test]
    fn an_unfamiliar_tool_with_a_destructive_verb_is_never_confidently_safe() {
        let s = fresh_install();
        // Tools no corpus holds, so the verb in the subcommand position is all there is.
        for line in [
            "zorbctl apps:destroy billing",
            "qqvm destroy 104 --purge",
            "kvz del team/settings",
            "flarnctl reset",
            "blobz rm docs/folder",
            "wumpus env rm staging",
            "grizzle secret delete api-key",
            "plonk stop-all --now",
        ] {
            let r = s.score(line);
            assert_ne!(r.label, Label::Safe, "{line}: {:?} {:?}", r.p_unsafe, r.explain);
            assert_eq!(r.reason, "model", "{line}");
        }
        // Their read-only forms and reading verbs are not held back.
        for line in ["zorbctl apps:list", "qqvm status 104", "kvz get team/settings", "flarnctl reset --help"] {
            let r = s.score(line);
            assert_ne!(r.label, Label::Unsafe, "{line}: {:?}", r.p_unsafe);
        }
    }

    #[test]
    fn a_model_verdict_says_why() {
        let s = fresh_install();
        let r = s.score("rm -rf ~/Documents");
        assert_eq!((r.label, r.reason.as_str()), (Label::Unsafe, "model"), "{r:?}");
        let explain = r.explain.clone().unwrap();
        assert_eq!(explain.source, "model");
        assert!(!explain.contributions.is_empty() && explain.contributions.len() <= 5);
        // Largest first, and what raised the score is what the warning names.
        assert!(explain.contributions.windows(2).all(|w| w[0].weight.abs() >= w[1].weight.abs()));
        let top = explain.contributions.iter().find(|c| c.weight > 0.0).unwrap();
        let warning = s.warning(&r).unwrap();
        assert!(warning.contains(&top.feature), "{warning}");
        assert!(warning.starts_with("vigil: rm -rf ~/Documents looks risky: "), "{warning}");
        // A rule and a label explain themselves too.
        assert_eq!(s.score("rm -rf /").explain.unwrap().source, "rule");
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
