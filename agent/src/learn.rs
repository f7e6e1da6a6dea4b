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
