//! Features of a command line for the model: shell-aware tokens (from the parser, with flags
//! and paths normalised) into TF-IDF over 1-3 grams with a capped vocabulary, beside the
//! structural features of what each command does (`action.rs`).
//!
//! Wrappers (`sudo`, `env`, `time`, `nice`, `nohup`, `timeout`, ...) are transparent: they are
//! not tokens, so an n-gram never makes `sudo` a reason by itself; privilege is a structural
//! feature instead. `xargs` stays a token: what it runs takes its arguments from a pipe.
//!
//! Tokens and n-grams are linear in the parsed line (each command is looked at once, with
//! only the name of the one before it), so a hostile line costs what its length does.
#![deny(clippy::indexing_slicing)]

use crate::parse::{Cmd, Parsed};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The normalised token sequence of each command that runs, so that `rm -rf /x`, `rm -fr /x`
/// and `rm -r -f /x` are the same sequence.
pub fn command_tokens(parsed: &Parsed) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for pipeline in &parsed.pipelines {
        let mut feeder: Option<&Cmd> = None;
        for cmd in pipeline {
            let mut seq = Vec::new();
            if let Some(before) = feeder {
                // What feeds this command matters: `curl ... | bash`.
                seq.push(format!("|{}", before.name()));
            }
            tokens_of(cmd, &mut seq);
            out.push(seq);
            feeder = Some(cmd);
        }
    }
    out
}

/// Appends the tokens of one command to `seq`.
fn tokens_of(cmd: &Cmd, seq: &mut Vec<String>) {
    for w in cmd.wrappers.iter().filter(|w| *w == "xargs") {
        seq.push(format!("^{w}"));
    }
    seq.push(cmd.name().to_ascii_lowercase());
    let mut flags: Vec<String> = Vec::new();
    let mut operands: Vec<String> = Vec::new();
    let mut after_dashes = false;
    for a in cmd.args() {
        if !after_dashes && a == "--" {
            after_dashes = true;
            continue;
        }
        if !after_dashes && a.starts_with("--") && a.len() > 2 {
            let name = a.split('=').next().unwrap_or(a);
            flags.push(name.to_ascii_lowercase());
            if let Some((_, v)) = a.split_once('=') {
                operands.push(word_class(v));
            }
        } else if let Some(body) = a
            .strip_prefix('-')
            .filter(|body| !after_dashes && !body.is_empty() && !body.starts_with(|c: char| c.is_ascii_digit()))
        {
            // A bundle of short flags: -rf -> -f -r. Long-ish single-dash words (-delete,
            // -auto-approve) stay whole.
            if body.len() <= 4 && body.chars().all(|c| c.is_ascii_alphabetic()) {
                flags.extend(body.chars().map(|c| format!("-{c}")));
            } else {
                flags.push(a.split('=').next().unwrap_or(a).to_ascii_lowercase());
            }
        } else {
            operands.push(word_class(a));
        }
    }
    flags.sort();
    flags.dedup();
    seq.extend(flags);
    seq.extend(operands);
    for (op, target) in &cmd.redirects {
        seq.push(format!("redir{}", if op.contains('>') { ">" } else { "<" }));
        seq.push(word_class(target));
    }
    if cmd.substituted.iter().any(|c| matches!(c.name(), "curl" | "wget")) {
        seq.push("$(download)".into());
    }
}

/// A word as the model sees it: words that name things keep their text (lower-cased),
/// paths and values become their class.
pub fn word_class(w: &str) -> String {
    let t = w.trim_end_matches('/');
    // A prefix in any ASCII case, without a lower-cased copy (most words never need one).
    let starts =
        |prefixes: &[&str]| prefixes.iter().any(|p| w.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p)));
    if w.is_empty() {
        return "<empty>".into();
    }
    if w.chars().all(|c| c == '/') {
        return "<root>".into();
    }
    if matches!(t, "/*" | "/.") {
        return "<root>".into();
    }
    if matches!(t, "*" | "." | "./" | ".." | "./*" | ".*") || t.is_empty() {
        return "<here>".into();
    }
    if t == "~" || t == "$HOME" || t == "${HOME}" || t == "~/*" || t == "$HOME/*" || t == "/home" || t == "/root" {
        return "<home>".into();
    }
    if starts(&["http://", "https://", "ftp://"]) {
        return "<url>".into();
    }
    if starts(&["s3://", "gs://", "az://"]) {
        return "<bucket>".into();
    }
    if let Some(dev) = t.strip_prefix("/dev/") {
        return match dev {
            "null" => "/dev/null".into(),
            "zero" | "urandom" | "random" => "/dev/zero".into(),
            d if d.starts_with("tcp/") || d.starts_with("udp/") => "/dev/tcp".into(),
            _ => "<disk>".into(),
        };
    }
    for sys in
        ["/etc", "/boot", "/usr", "/bin", "/sbin", "/lib", "/var/log", "/var/lib", "/var", "/proc", "/sys", "/opt"]
    {
        if t.strip_prefix(sys).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')) {
            return if t == sys { format!("<sys>{sys}") } else { format!("<sys>{sys}/...") };
        }
    }
    if t.starts_with("~/") || t.starts_with("$HOME/") || t.starts_with("/home/") || t.starts_with("/Users/") {
        // Dotfiles under the home keep their name: ~/.ssh, ~/.bash_history.
        let rest = t.split_once('/').map_or("", |x| x.1);
        let rest = if t.starts_with("/home/") || t.starts_with("/Users/") {
            rest.split_once('/').map_or("", |x| x.1)
        } else {
            rest
        };
        let first = rest.split('/').next().unwrap_or("");
        return if first.starts_with('.') { format!("<home>/{first}") } else { "<home>/...".into() };
    }
    if t.starts_with('/') {
        return "<abs>".into();
    }
    if t.ends_with(".git") || t == ".git" {
        return ".git".into();
    }
    if w.starts_with('$') {
        return "<var>".into();
    }
    if w.parse::<f64>().is_ok() {
        return "<num>".into();
    }
    if w.contains('/') {
        return "<rel>".into();
    }
    if w.len() > 24 || w.contains(char::is_whitespace) {
        // A sentence or a script: its words, as a bag.
        return "<text>".into();
    }
    w.to_ascii_lowercase()
}

/// The 1-3 grams of every command of a line (n-grams do not cross commands).
pub fn ngrams(parsed: &Parsed) -> Vec<String> {
    let mut out = Vec::new();
    for seq in command_tokens(parsed) {
        for n in 1..=3 {
            for w in seq.windows(n) {
                out.push(w.join(" "));
            }
        }
    }
    out
}

/// TF-IDF over a fixed vocabulary, fitted on training documents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vectorizer {
    /// The terms, by column.
    pub vocab: Vec<String>,
    /// Smoothed inverse document frequency of each term.
    pub idf: Vec<f64>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl Vectorizer {
    /// Keeps the `max_features` terms most frequent across the documents (as scikit-learn's
    /// `max_features` does), with idf = ln((1 + n) / (1 + df)) + 1. Each document's terms
    /// count `weight` times towards that frequency, so that the words of the person's own
    /// labels (weighted up) make the vocabulary even when the corpus outnumbers them.
    pub fn fit(docs: &[Vec<String>], weights: &[f64], max_features: usize) -> Vectorizer {
        let mut tf: HashMap<&str, (f64, u64)> = HashMap::new();
        for (i, doc) in docs.iter().enumerate() {
            let w = weights.get(i).copied().unwrap_or(1.0);
            let mut seen = std::collections::HashSet::new();
            for t in doc {
                let e = tf.entry(t.as_str()).or_default();
                e.0 += w;
                if seen.insert(t.as_str()) {
                    e.1 += 1;
                }
            }
        }
        let mut terms: Vec<(&str, f64, u64)> = tf.into_iter().map(|(t, (n, df))| (t, n, df)).collect();
        // Most frequent first; ties by name, so that fitting is deterministic.
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        terms.truncate(max_features);
        terms.sort_by(|a, b| a.0.cmp(b.0));
        let n = docs.len() as f64;
        let vocab: Vec<String> = terms.iter().map(|t| t.0.to_string()).collect();
        let idf = terms.iter().map(|t| ((1.0 + n) / (1.0 + t.2 as f64)).ln() + 1.0).collect();
        let mut v = Vectorizer { vocab, idf, index: HashMap::new() };
        v.reindex();
        v
    }

    /// Rebuilds the term index (after deserializing).
    pub fn reindex(&mut self) {
        self.index = self.vocab.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.vocab.len()
    }

    /// The L2-normalised TF-IDF row of one document, written into `row` (cleared first, then
    /// `extra` zeros appended for columns of other features). Returns the share of the
    /// document's terms that the vocabulary knows (0 for an empty document).
    pub fn transform_into(&self, doc: &[String], row: &mut Vec<f64>, extra: usize) -> f64 {
        row.clear();
        row.resize(self.vocab.len() + extra, 0.0);
        let mut known = 0usize;
        for t in doc {
            if let Some(x) = self.index.get(t).and_then(|&i| row.get_mut(i)) {
                *x += 1.0;
                known += 1;
            }
        }
        let mut norm = 0.0;
        for (x, idf) in row.iter_mut().zip(&self.idf) {
            *x *= idf;
            norm += *x * *x;
        }
        if norm > 0.0 {
            let norm = norm.sqrt();
            row.iter_mut().for_each(|x| *x /= norm);
        }
        if doc.is_empty() {
            0.0
        } else {
            known as f64 / doc.len() as f64
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn flag_spellings_meet() {
        let a = command_tokens(&parse("rm -rf /tmp/x"));
        assert_eq!(a, command_tokens(&parse("rm -fr /tmp/x")));
        assert_eq!(a, command_tokens(&parse("rm -r -f /tmp/x")));
        assert_eq!(a, vec![vec!["rm", "-f", "-r", "<abs>"]]);
        // Wrappers are transparent.
        assert_eq!(command_tokens(&parse("sudo rm -rf ~")), vec![vec!["rm", "-f", "-r", "<home>"]]);
        assert_eq!(command_tokens(&parse("sudo apt update")), command_tokens(&parse("apt update")));
        assert_eq!(command_tokens(&parse("env A=1 nice -n 5 timeout 10 make")), command_tokens(&parse("make")));
    }

    #[test]
    fn paths_and_values_become_classes() {
        assert_eq!(word_class("/"), "<root>");
        assert_eq!(word_class("$HOME"), "<home>");
        assert_eq!(word_class("~/.ssh/id_rsa"), "<home>/.ssh");
        assert_eq!(word_class("/home/bob/src/app"), "<home>/...");
        assert_eq!(word_class("/dev/sda1"), "<disk>");
        assert_eq!(word_class("/etc/passwd"), "<sys>/etc/...");
        assert_eq!(word_class("https://x.io/a.sh"), "<url>");
        assert_eq!(word_class("src/main.rs"), "<rel>");
        assert_eq!(word_class("Main"), "main");
        assert_eq!(word_class("42"), "<num>");
        assert_eq!(word_class("*"), "<here>");
    }

    #[test]
    fn pipelines_and_ngrams() {
        let p = parse("curl -fsSL https://x | sudo bash");
        let toks = command_tokens(&p);
        assert_eq!(toks[1], vec!["|curl", "bash"]);
        let grams = ngrams(&p);
        assert!(grams.contains(&"|curl bash".to_string()));
        assert!(grams.contains(&"curl -L".to_string()), "{grams:?}");
    }

    #[test]
    fn tfidf_rows_are_normalised_and_capped() {
        let docs: Vec<Vec<String>> =
            ["rm -rf /", "ls -la", "ls", "git push -f"].iter().map(|l| ngrams(&parse(l))).collect();
        let v = Vectorizer::fit(&docs, &[1.0; 4], 5);
        assert_eq!(v.width(), 5);
        let mut row = Vec::new();
        assert!(v.transform_into(&ngrams(&parse("ls -la")), &mut row, 2) > 0.0);
        assert_eq!(row.len(), 7);
        let norm: f64 = row.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-9, "{row:?}");
        assert_eq!(v.transform_into(&ngrams(&parse("zzz")), &mut row, 0), 0.0);
        assert!(row.iter().all(|x| *x == 0.0));
    }
}
