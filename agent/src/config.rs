//! Configuration: built-in defaults, then `config.toml`, then `VIGIL_*` variables, then flags,
//! merged by one pure function.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use toml::{Table, Value};

/// The agent's effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How events are batched into the store.
    pub capture: CaptureConfig,
    /// Agent process settings.
    pub agent: AgentConfig,
    /// Thresholds and warnings.
    pub score: crate::score::ScoreConfig,
    /// How the model is built.
    pub model: crate::model::ModelParams,
    /// When the model is retrained.
    pub learn: crate::learn::LearnConfig,
    /// What is redacted or not recorded.
    pub redact: RedactConfig,
    /// Which hard rules apply: built-in ones turned off, the person's own added.
    #[serde(default)]
    pub rules: vigil_rules::RulesConfig,
}

/// `[redact]`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    /// Extra regular expressions whose matches are replaced with `<redacted>`.
    pub extra_patterns: Vec<String>,
    /// Commands matching any of these regular expressions are not recorded at all.
    pub ignore_commands: Vec<String>,
    /// Commands run in these folders (or below them) are not recorded at all.
    pub ignore_folders: Vec<String>,
}

/// `[capture]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureConfig {
    /// Most events in one store transaction.
    pub batch_max_events: usize,
    /// Longest an accepted event waits before its batch is committed, in milliseconds.
    pub batch_max_delay_ms: u64,
    /// Seconds between looks for a spool file written while the agent was unreachable.
    pub spool_poll_secs: u64,
    /// When journal records are flushed to the disk (see [`Fsync`]).
    pub fsync: Fsync,
}

/// `[capture] fsync`: when the journal is flushed to the disk. Either way an acknowledged
/// event survives the agent being killed; this is about power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// Before each batch is taken (at most `batch_max_delay_ms` of events at risk).
    Batch,
    /// Before each event is acknowledged (nothing acknowledged is at risk; costs a disk flush
    /// per command).
    Always,
}

/// `[agent]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// tracing filter for the log file (`info`, `debug`, `vigil_agent=trace`, ...).
    pub log_level: String,
    /// Most connections served at once; more wait in the socket's backlog.
    pub max_connections: usize,
    /// A connection idle for this long is closed.
    pub idle_timeout_secs: u64,
}

/// The built-in defaults, as a TOML layer.
pub fn defaults() -> Table {
    let text = r#"
        [capture]
        batch_max_events = 1000
        batch_max_delay_ms = 50
        spool_poll_secs = 1
        fsync = "batch"

        [agent]
        log_level = "info"
        max_connections = 512
        idle_timeout_secs = 300

        [score]
        safe_below = 0.35
        unsafe_above = 0.65
        warn_at = 0.65
        warn = true
        live = true
        confirm = "off"

        [model]
        trees = 100
        max_depth = 25
        max_features = 1000
        features_per_split = 40
        seed = 7
        threads = 0

        [redact]
        extra_patterns = []
        ignore_commands = []
        ignore_folders = []

        [rules]
        disable = []
        custom = []

        [learn]
        retrain_delay_secs = 30
        retrain_min_interval_secs = 300
        personal_weight = 5.0
        guard_margin = 0.05
    "#;
    text.parse().unwrap_or_default()
}

/// One key of `config.toml`: where it lives and what it takes. Every key is checked against
/// this table before it is used.
///
/// To add a key: add its field to the section's struct (with `///`), its default to
/// [`defaults`], and one line to [`KEYS`]; a test fails until the three agree. A new section
/// is a field of [`Config`] and its keys here. A cross-key rule (`a` below `b`) is a line
/// of [`ORDER`].
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The `[section]`.
    pub section: &'static str,
    /// The key inside it.
    pub name: &'static str,
    /// What values it takes.
    pub kind: Kind,
}

/// The values a key takes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// An integer from `min` to `max`, both included.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A number from `min` to `max`, both included (an integer is taken as one).
    Float {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// A string, checked by the function (`Err` says what is wrong).
    Text(fn(&str) -> Result<(), String>),
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// A list of strings, each checked by the function.
    List(fn(&str) -> Result<(), String>),
    /// Any TOML value; its owner's deserialisation checks it (for structured keys such as an
    /// array of tables).
    Any,
}

const fn key(section: &'static str, name: &'static str, kind: Kind) -> Key {
    Key { section, name, kind }
}

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const fn float(min: f64, max: f64) -> Kind {
    Kind::Float { min, max }
}

fn any_text(_: &str) -> Result<(), String> {
    Ok(())
}

fn regex_text(p: &str) -> Result<(), String> {
    regex::Regex::new(p).map(|_| ()).map_err(|e| {
        format!("{p:?} is not a regular expression ({})", e.to_string().lines().last().unwrap_or("invalid").trim())
    })
}

fn log_filter(f: &str) -> Result<(), String> {
    tracing_subscriber::EnvFilter::try_new(f)
        .map(|_| ())
        .map_err(|e| format!("{f:?} is not a log filter ({e}); try info, debug or vigil_agent=trace"))
}

const DAY: i64 = 24 * 3600;

/// Every key of `config.toml`.
pub const KEYS: &[Key] = &[
    key("capture", "batch_max_events", int(1, 100_000)),
    key("capture", "batch_max_delay_ms", int(0, 60_000)),
    key("capture", "spool_poll_secs", int(1, 3600)),
    key("capture", "fsync", Kind::OneOf(&["batch", "always"])),
    key("agent", "log_level", Kind::Text(log_filter)),
    key("agent", "max_connections", int(1, 65_536)),
    key("agent", "idle_timeout_secs", int(1, DAY)),
    key("score", "safe_below", float(0.0, 1.0)),
    key("score", "unsafe_above", float(0.0, 1.0)),
    key("score", "warn_at", float(0.0, 1.0)),
    key("score", "warn", Kind::Bool),
    key("score", "live", Kind::Bool),
    key("score", "confirm", Kind::OneOf(&["off", "rules", "unsafe"])),
    key("model", "trees", int(1, 10_000)),
    key("model", "max_depth", int(1, 1000)),
    key("model", "max_features", int(1, 10_000_000)),
    key("model", "features_per_split", int(0, 10_000_000)),
    key("model", "seed", int(0, i64::MAX)),
    key("model", "threads", int(0, 1024)),
    key("redact", "extra_patterns", Kind::List(regex_text)),
    key("redact", "ignore_commands", Kind::List(regex_text)),
    key("redact", "ignore_folders", Kind::List(any_text)),
    // Ids are checked against the rule set, and custom entries one by one, by `rules`.
    key("rules", "disable", Kind::List(any_text)),
    key("rules", "custom", Kind::Any),
    key("learn", "retrain_delay_secs", int(0, 7 * DAY)),
    key("learn", "retrain_min_interval_secs", int(0, 30 * DAY)),
    key("learn", "personal_weight", float(0.0, 1000.0)),
    // Negative: every new model counts as worse (the tests use it to drive the guard).
    key("learn", "guard_margin", float(-1.0, 1.0)),
];

/// Pairs `(a, b)` of `section.key` where `a` must be below `b` (strictly when the flag is
/// set); when the merged values break one, both keys take their defaults.
pub const ORDER: &[(&str, &str, bool)] = &[
    ("score.safe_below", "score.unsafe_above", true),
    ("score.safe_below", "score.warn_at", true),
    ("model.features_per_split", "model.max_features", false),
];

/// Environment variables that set a key: (variable, section, key).
pub const ENV_KEYS: &[(&str, &str, &str)] = &[
    ("VIGIL_LOG", "agent", "log_level"),
    ("VIGIL_BATCH_MAX_EVENTS", "capture", "batch_max_events"),
    ("VIGIL_BATCH_MAX_DELAY_MS", "capture", "batch_max_delay_ms"),
    ("VIGIL_FSYNC", "capture", "fsync"),
    ("VIGIL_MODEL_TREES", "model", "trees"),
    ("VIGIL_MODEL_MAX_DEPTH", "model", "max_depth"),
    ("VIGIL_MODEL_MAX_FEATURES", "model", "max_features"),
];

/// Why the configuration file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `config.toml` could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The merged layers do not make a valid configuration (unknown key, wrong type).
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// A problem with one key, shown as `config.toml:LINE: KEY: what is wrong`. The key takes
/// its default (or the value of a lower layer); the rest of the configuration applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: the file's name, or the variable or flag that set the key.
    pub origin: String,
    /// The line in the file, when the problem is in one.
    pub line: Option<usize>,
    /// `section.key` (or the section alone).
    pub key: String,
    /// What is wrong, and what applies instead.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}: {}", self.origin, self.key, self.message),
            None => write!(f, "{}: {}: {}", self.origin, self.key, self.message),
        }
    }
}

/// Where each key of a layer was set: `section.key` -> (the file or variable, its line).
pub type Places = BTreeMap<String, (String, Option<usize>)>;

/// One layer of configuration above the defaults.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// Its name in `vigil config` (the file's path, `environment`, `flags`).
    pub name: String,
    /// Where its problems are said to be (the file's name, `environment`, `flags`).
    pub origin: String,
    /// Its keys.
    pub table: Table,
    /// `section` or `section.key` -> (origin, line) where it is set, when not `origin`.
    pub places: Places,
}

impl Layer {
    fn place(&self, key: &str) -> (String, Option<usize>) {
        self.places.get(key).cloned().unwrap_or_else(|| (self.origin.clone(), None))
    }

    fn problem(&self, key: &str, message: String) -> Problem {
        let (origin, line) = self.place(key);
        Problem { origin, line, key: key.to_string(), message }
    }
}

/// The effective configuration and what was wrong on the way.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What applies: the valid keys of every layer over the defaults.
    pub config: Config,
    /// Each problem, in the order of the layers and the file.
    pub problems: Vec<Problem>,
    /// (key, value, layer) of every key that applies (see [`explain`]).
    pub explained: Vec<(String, String, String)>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |t| t.matches('\n').count() + 1)
}

/// Reads `config.toml` as a layer; a missing file is an empty layer. A line that is not valid
/// TOML is reported and left out; the rest of the file applies.
pub fn file_layer(path: &Path) -> Result<(Layer, Vec<Problem>), ConfigError> {
    let origin = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut layer = Layer { name: path.display().to_string(), origin: origin.clone(), ..Layer::default() };
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((layer, Vec::new())),
        Err(source) => return Err(ConfigError::Read { path: path.display().to_string(), source }),
    };
    let (table, places, problems) = parse_file(&text, &origin);
    layer.table = table;
    layer.places = places;
    Ok((layer, problems))
}

/// Parses a file's text: its keys, where each is, and the lines that are not valid TOML
/// (each blanked in turn until the rest parses).
fn parse_file(text: &str, origin: &str) -> (Table, Places, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    for _ in 0..=lines.len().min(100) {
        let current = lines.join("\n");
        match toml_edit::ImDocument::parse(current.as_str()) {
            Ok(doc) => {
                let table = current.parse::<Table>().unwrap_or_default();
                return (table, places_of(&doc, &current, origin), problems);
            }
            Err(e) => {
                let line = e.span().map_or(1, |s| line_of(&current, s.start));
                let message = e.message().lines().next().unwrap_or("not valid TOML").trim().to_string();
                problems.push(Problem {
                    origin: origin.to_string(),
                    line: Some(line),
                    key: "syntax".into(),
                    message: format!("{message} (the line is ignored)"),
                });
                match lines.get_mut(line.saturating_sub(1)) {
                    Some(l) if !l.is_empty() => l.clear(),
                    // Nothing left to blank: the file is ignored.
                    _ => return (Table::new(), BTreeMap::new(), problems),
                }
            }
        }
    }
    (Table::new(), BTreeMap::new(), problems)
}

fn places_of(doc: &toml_edit::ImDocument<&str>, text: &str, origin: &str) -> Places {
    let mut out = BTreeMap::new();
    let root = doc.as_table();
    for (section, item) in root.iter() {
        let line = root.get_key_value(section).and_then(|(k, _)| k.span()).map(|s| line_of(text, s.start));
        out.insert(section.to_string(), (origin.to_string(), line));
        if let Some(t) = item.as_table_like() {
            for (name, _) in t.iter() {
                let line = t.get_key_value(name).and_then(|(k, _)| k.span()).map(|s| line_of(text, s.start));
                out.insert(format!("{section}.{name}"), (origin.to_string(), line));
            }
        }
    }
    out
}

/// Turns `VIGIL_*` variables into a layer. A value that parses as a TOML literal (number,
/// boolean) is taken as one; anything else is a string.
pub fn env_layer<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Table {
    env_layer_placed(vars).table
}

fn env_layer_placed<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Layer {
    let mut layer = Layer { name: "environment".into(), origin: "environment".into(), ..Layer::default() };
    for (name, raw) in vars {
        let Some((_, section, key)) = ENV_KEYS.iter().find(|(n, _, _)| *n == name) else { continue };
        let value = format!("v = {raw}")
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(raw.to_string()));
        set(&mut layer.table, section, key, value);
        layer.places.insert(format!("{section}.{key}"), (name.to_string(), None));
    }
    layer
}

/// Sets `section.key` in a layer.
pub fn set(layer: &mut Table, section: &str, key: &str, value: Value) {
    let entry = layer.entry(section.to_string()).or_insert_with(|| Value::Table(Table::new()));
    if let Value::Table(t) = entry {
        t.insert(key.to_string(), value);
    }
}

/// Merges layers, later ones winning key by key, into a [`Config`]; strict: the first bad
/// key is an error (see [`check`] for the forgiving merge the agent uses).
pub fn merge(layers: &[Table]) -> Result<Config, ConfigError> {
    let mut merged = Table::new();
    for layer in layers {
        deep_merge(&mut merged, layer);
    }
    Value::Table(merged).try_into().map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_string()))
}

fn deep_merge(into: &mut Table, from: &Table) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Table(a)), Value::Table(b)) => deep_merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Edit distance (Levenshtein) between two keys, for the did-you-mean.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(usize::MAX).saturating_add(usize::from(ca != *cb));
            let del = prev.get(j + 1).copied().unwrap_or(usize::MAX).saturating_add(1);
            let ins = cur.get(j).copied().unwrap_or(usize::MAX).saturating_add(1);
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The closest of `candidates` to `word`, if close enough to be a typo.
fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let n = word.chars().count();
    let limit = if n <= 3 { 1 } else { (n / 3).max(2) };
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn sections() -> Vec<&'static str> {
    let mut out: Vec<&str> = KEYS.iter().map(|k| k.section).collect();
    out.dedup();
    out
}

fn unknown_key(section: &str, name: &str) -> String {
    if let Some(k) = KEYS.iter().find(|k| k.name == name) {
        return format!("unknown key in [{section}]: it belongs in [{}] (ignored)", k.section);
    }
    let here = KEYS.iter().filter(|k| k.section == section).map(|k| k.name);
    if let Some(m) = closest(name, here) {
        return format!("unknown key, did you mean {m}? (ignored)");
    }
    if let Some(k) = KEYS.iter().find(|k| closest(name, [k.name]).is_some()) {
        return format!("unknown key, did you mean {} in [{}]? (ignored)", k.name, k.section);
    }
    let known: Vec<&str> = KEYS.iter().filter(|k| k.section == section).map(|k| k.name).collect();
    format!("unknown key (ignored); [{section}] takes {}", known.join(", "))
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Integer(i) => format!("the number {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => format!("the date {d}"),
        Value::Array(_) => "a list".into(),
        Value::Table(_) => "a table".into(),
    }
}

/// Checks one value against its kind: the value to use (none if it is unusable) and what is
/// wrong with it (a list keeps its good elements).
fn validate(kind: &Kind, v: &Value, default: Option<&Value>) -> (Option<Value>, Vec<String>) {
    let was = match default {
        Some(d) => format!(" (the default, {d}, applies)"),
        None => String::new(),
    };
    let bad = |m: String| (None, vec![format!("{m}{was}")]);
    match (kind, v) {
        (Kind::Any, v) => (Some(v.clone()), Vec::new()),
        (Kind::Bool, Value::Boolean(_)) => (Some(v.clone()), Vec::new()),
        (Kind::Bool, v) => bad(format!("expected true or false, found {}", describe(v))),
        (Kind::Int { min, max }, Value::Integer(i)) if i < min || i > max => {
            bad(format!("{i} is out of range: use {min} to {max}"))
        }
        (Kind::Int { .. }, Value::Integer(_)) => (Some(v.clone()), Vec::new()),
        (Kind::Int { .. }, Value::Float(f)) => bad(format!("expected a whole number, found {f}")),
        (Kind::Int { min, max }, v) => {
            bad(format!("expected a whole number from {min} to {max}, found {}", describe(v)))
        }
        (Kind::Float { min, max }, Value::Integer(i)) => validate(kind, &Value::Float(*i as f64), default)
            .0
            .map_or_else(|| bad(format!("{i} is out of range: use {min} to {max}")), |f| (Some(f), Vec::new())),
        (Kind::Float { min, max }, Value::Float(f)) if !f.is_finite() || f < min || f > max => {
            bad(format!("{f} is out of range: use {min} to {max}"))
        }
        (Kind::Float { .. }, Value::Float(_)) => (Some(v.clone()), Vec::new()),
        (Kind::Float { min, max }, v) => bad(format!("expected a number from {min} to {max}, found {}", describe(v))),
        (Kind::Text(check), Value::String(s)) => match check(s) {
            Ok(()) => (Some(v.clone()), Vec::new()),
            Err(m) => bad(m),
        },
        (Kind::Text(_), v) => bad(format!("expected a string, found {}", describe(v))),
        (Kind::OneOf(options), Value::String(s)) if options.contains(&s.as_str()) => (Some(v.clone()), Vec::new()),
        (Kind::OneOf(options), v) => {
            let hint = match v {
                Value::String(s) => {
                    closest(s, options.iter().copied()).map(|m| format!(", did you mean {m:?}?")).unwrap_or_default()
                }
                _ => String::new(),
            };
            let quoted: Vec<String> = options.iter().map(|o| format!("{o:?}")).collect();
            bad(format!("expected one of {}, found {}{hint}", quoted.join(", "), describe(v)))
        }
        (Kind::List(check), Value::Array(items)) => {
            let mut keep = Vec::new();
            let mut wrong = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => match check(s) {
                        Ok(()) => keep.push(item.clone()),
                        Err(m) => wrong.push(format!("element {}: {m} (left out)", i + 1)),
                    },
                    other => wrong.push(format!(
                        "element {}: expected a string, found {} (left out)",
                        i + 1,
                        describe(other)
                    )),
                }
            }
            (Some(Value::Array(keep)), wrong)
        }
        (Kind::List(_), v) => bad(format!("expected a list of strings, found {}", describe(v))),
    }
}

fn get_path<'a>(t: &'a Table, key: &str) -> Option<&'a Value> {
    let (section, name) = key.split_once('.')?;
    t.get(section)?.as_table()?.get(name)
}

fn remove_path(t: &mut Table, key: &str) {
    if let Some((section, name)) = key.split_once('.') {
        if let Some(Value::Table(s)) = t.get_mut(section) {
            s.remove(name);
        }
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Checks every key of every layer and merges the valid ones over the defaults: the pure
/// heart of configuration. Never fails: a bad key is a [`Problem`] and takes its default.
pub fn check(layers: &[Layer]) -> Checked {
    let defaults = defaults();
    let known_sections = sections();
    let mut problems = Vec::new();
    let mut clean: Vec<Layer> = Vec::new();
    for layer in layers {
        let first = problems.len();
        let mut table = Table::new();
        for (section, value) in &layer.table {
            let Value::Table(keys) = value else {
                let message = match KEYS.iter().find(|k| k.name == section.as_str()) {
                    Some(k) => format!("a key outside any section: it belongs in [{}] (ignored)", k.section),
                    None => format!("expected a [section], found {} (ignored)", describe(value)),
                };
                problems.push(layer.problem(section, message));
                continue;
            };
            if !known_sections.contains(&section.as_str()) {
                let hint = closest(section, known_sections.iter().copied())
                    .map(|m| format!(", did you mean [{m}]?"))
                    .unwrap_or_default();
                problems.push(layer.problem(section, format!("unknown section{hint} (ignored)")));
                continue;
            }
            for (name, v) in keys {
                let path = format!("{section}.{name}");
                let Some(spec) = KEYS.iter().find(|k| k.section == section.as_str() && k.name == name.as_str()) else {
                    problems.push(layer.problem(&path, unknown_key(section, name)));
                    continue;
                };
                let (keep, wrong) = validate(&spec.kind, v, get_path(&defaults, &path));
                for m in wrong {
                    problems.push(layer.problem(&path, m));
                }
                if let Some(v) = keep {
                    set(&mut table, section, name, v);
                }
            }
        }
        // In the file's order (the table is sorted by key).
        if let Some(mine) = problems.get_mut(first..) {
            mine.sort_by_key(|p| p.line);
        }
        clean.push(Layer { table, ..layer.clone() });
    }
    let merged_of = |clean: &[Layer]| {
        let mut merged = defaults.clone();
        for l in clean {
            deep_merge(&mut merged, &l.table);
        }
        merged
    };
    // Cross-key rules, on the merged values: both keys of a broken one take their defaults.
    for (a, b, strict) in ORDER {
        let merged = merged_of(&clean);
        let (Some(va), Some(vb)) = (get_path(&merged, a).and_then(as_f64), get_path(&merged, b).and_then(as_f64))
        else {
            continue;
        };
        if va < vb || (!strict && va <= vb) {
            continue;
        }
        // Said where the later of the two was set.
        let at = clean.iter().rev().find_map(|l| {
            [b, a].into_iter().find(|k| get_path(&l.table, k).is_some()).map(|k| l.problem(k, String::new()))
        });
        let (da, db) = (
            get_path(&defaults, a).map(ToString::to_string).unwrap_or_default(),
            get_path(&defaults, b).map(ToString::to_string).unwrap_or_default(),
        );
        let rel = if *strict { "below" } else { "at most" };
        let message = format!("{a} ({va}) must be {rel} {b} ({vb}); both take their defaults ({da}, {db})");
        problems.push(Problem {
            message,
            ..at.unwrap_or_else(|| Problem {
                origin: "config".into(),
                line: None,
                key: a.to_string(),
                message: String::new(),
            })
        });
        for l in &mut clean {
            remove_path(&mut l.table, a);
            remove_path(&mut l.table, b);
        }
    }
    let merged = merged_of(&clean);
    let config = match Value::Table(merged).try_into::<Config>() {
        Ok(c) => c,
        Err(e) => {
            // A key the table lets through but its struct refuses (a structured key checked by
            // its owner): everything takes its default rather than the agent stopping.
            problems.push(Problem {
                origin: layers.last().map(|l| l.origin.clone()).unwrap_or_default(),
                line: None,
                key: "config".into(),
                message: format!("{} (the defaults apply)", e.message().trim()),
            });
            clean.clear();
            merge(std::slice::from_ref(&defaults)).unwrap_or_else(|_| Config::from_defaults())
        }
    };
    let mut named = vec![("default".to_string(), defaults)];
    named.extend(clean.into_iter().map(|l| (l.name, l.table)));
    Checked { config, problems, explained: explain(&named) }
}

impl Config {
    /// The built-in defaults.
    pub fn from_defaults() -> Config {
        Config {
            capture: CaptureConfig {
                batch_max_events: 1000,
                batch_max_delay_ms: 50,
                spool_poll_secs: 1,
                fsync: Fsync::Batch,
            },
            agent: AgentConfig { log_level: "info".into(), max_connections: 512, idle_timeout_secs: 300 },
            score: Default::default(),
            model: Default::default(),
            learn: Default::default(),
            redact: Default::default(),
            rules: Default::default(),
        }
    }
}

/// Every key of the merged layers, its value, and the layer it came from (the last that set
/// it): `layers` are (name, layer) from lowest to highest precedence.
pub fn explain(layers: &[(String, Table)]) -> Vec<(String, String, String)> {
    let mut out: std::collections::BTreeMap<String, (String, String)> = Default::default();
    for (name, layer) in layers {
        for (section, v) in layer {
            if let Value::Table(t) = v {
                for (k, v) in t {
                    out.insert(format!("{section}.{k}"), (v.to_string(), name.clone()));
                }
            }
        }
    }
    out.into_iter().map(|(k, (v, src))| (k, v, src)).collect()
}

/// The layers above the defaults for `config_path`, the process environment and `flags`,
/// lowest first, with the file's syntax problems.
pub fn layers(config_path: &Path, flags: Table) -> (Vec<Layer>, Vec<Problem>) {
    let (file, problems) = match file_layer(config_path) {
        Ok(f) => f,
        Err(e) => {
            let origin = config_path
                .file_name()
                .map_or_else(|| config_path.display().to_string(), |n| n.to_string_lossy().into_owned());
            (
                Layer { name: config_path.display().to_string(), origin: origin.clone(), ..Layer::default() },
                vec![Problem { origin, line: None, key: "file".into(), message: format!("{e} (the defaults apply)") }],
            )
        }
    };
    let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("VIGIL_")).collect();
    let env = env_layer_placed(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut flag_layer = Layer { name: "flags".into(), origin: "flags".into(), table: flags, ..Layer::default() };
    if get_path(&flag_layer.table, "agent.log_level").is_some() {
        flag_layer.places.insert("agent.log_level".into(), ("--log-level".into(), None));
    }
    (vec![file, env, flag_layer], problems)
}

/// Loads and checks the configuration for `config_path`, the process environment and
/// `flags`: never fails (see [`check`]).
pub fn load(config_path: &Path, flags: Table) -> Checked {
    let (layers, mut problems) = layers(config_path, flags);
    let mut checked = check(&layers);
    problems.append(&mut checked.problems);
    checked.problems = problems;
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_alone_make_a_config() {
        let c = merge(&[defaults()]).unwrap();
        assert_eq!(c.capture.batch_max_events, 1000);
        assert_eq!(c.agent.log_level, "info");
        assert_eq!(c.score, crate::score::ScoreConfig::default());
        assert_eq!(c.model, crate::model::ModelParams::default());
        assert_eq!(c.learn, crate::learn::LearnConfig::default());
    }

    #[test]
    fn later_layers_win_key_by_key() {
        let file: Table = "[capture]\nbatch_max_events = 10\nbatch_max_delay_ms = 5".parse().unwrap();
        let env = env_layer([("VIGIL_BATCH_MAX_EVENTS", "20"), ("VIGIL_LOG", "debug"), ("UNRELATED", "x")]);
        let mut flags = Table::new();
        set(&mut flags, "agent", "log_level", Value::String("trace".into()));
        let c = merge(&[defaults(), file, env, flags]).unwrap();
        assert_eq!(c.capture.batch_max_events, 20, "env beats file");
        assert_eq!(c.capture.batch_max_delay_ms, 5, "file beats defaults");
        assert_eq!(c.agent.log_level, "trace", "flags beat env");
        assert_eq!(c.agent.max_connections, 512, "untouched keys keep their default");
    }

    #[test]
    fn explain_names_the_layer_each_value_came_from() {
        let file: Table = "[capture]\nbatch_max_events = 10".parse().unwrap();
        let env = env_layer([("VIGIL_LOG", "debug")]);
        let rows =
            explain(&[("default".into(), defaults()), ("config.toml".into(), file), ("environment".into(), env)]);
        let find = |k: &str| rows.iter().find(|r| r.0 == k).cloned().unwrap();
        assert_eq!(
            find("capture.batch_max_events"),
            ("capture.batch_max_events".into(), "10".into(), "config.toml".into())
        );
        assert_eq!(find("agent.log_level").2, "environment");
        assert_eq!(find("model.trees").2, "default");
    }

    #[test]
    fn the_strict_merge_still_refuses_unknown_keys_and_wrong_types() {
        let typo: Table = "[capture]\nbatch_max_event = 10".parse().unwrap();
        assert!(merge(&[defaults(), typo]).unwrap_err().to_string().contains("batch_max_event"));
        let wrong: Table = "[capture]\nbatch_max_events = \"many\"".parse().unwrap();
        assert!(merge(&[defaults(), wrong]).is_err());
    }

    #[test]
    fn missing_file_is_empty_and_a_bad_line_is_named_and_skipped() {
        let t = tempfile::tempdir().unwrap();
        let (layer, problems) = file_layer(&t.path().join("none.toml")).unwrap();
        assert!(layer.table.is_empty() && problems.is_empty());
        let bad = t.path().join("config.toml");
        std::fs::write(&bad, "[model]\ntrees = 50\nseed = 99999999999999999999999\n[score\nwarn = false\n").unwrap();
        let (layer, problems) = file_layer(&bad).unwrap();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("config.toml:3: syntax: "), "{shown:?}");
        assert!(shown[1].starts_with("config.toml:4: syntax: "), "{shown:?}");
        let c = check(&[layer]).config;
        assert_eq!(c.model.trees, 50, "the valid lines apply");
    }

    fn layer(text: &str) -> Layer {
        let (table, places, problems) = parse_file(text, "config.toml");
        assert!(problems.is_empty(), "{problems:?}");
        Layer { name: "/x/config.toml".into(), origin: "config.toml".into(), table, places }
    }

    fn shown(c: &Checked) -> Vec<String> {
        c.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn every_key_is_in_the_schema_the_defaults_and_the_struct() {
        let schema: Vec<String> = KEYS.iter().map(|k| format!("{}.{}", k.section, k.name)).collect();
        let from_defaults: Vec<String> = explain(&[("d".into(), defaults())]).into_iter().map(|r| r.0).collect();
        let config = toml::Table::try_from(Config::from_defaults()).unwrap();
        let from_struct: Vec<String> = explain(&[("d".into(), config)]).into_iter().map(|r| r.0).collect();
        let mut sorted = schema.clone();
        sorted.sort();
        assert_eq!(sorted, from_defaults, "KEYS and defaults() disagree");
        assert_eq!(sorted, from_struct, "KEYS and the structs disagree");
        assert_eq!(merge(&[defaults()]).unwrap(), Config::from_defaults());
        let clean = check(&[]);
        assert!(clean.problems.is_empty(), "{:?}", clean.problems);
        for (a, b, _) in ORDER {
            assert!(schema.contains(&a.to_string()) && schema.contains(&b.to_string()), "{a} {b}");
        }
    }

    #[test]
    fn a_typo_is_named_with_its_line_and_a_did_you_mean_and_the_rest_applies() {
        let c = check(&[layer("[score]\nwarn_att = 0.5\nwarn_at = 0.8\n\n[modle]\ntrees = 3\n[model]\ntree = 9\nmax_depth = 10\nbatch_max_events = 3\n")]);
        assert_eq!(
            shown(&c),
            vec![
                "config.toml:2: score.warn_att: unknown key, did you mean warn_at? (ignored)",
                "config.toml:5: modle: unknown section, did you mean [model]? (ignored)",
                "config.toml:8: model.tree: unknown key, did you mean trees? (ignored)",
                "config.toml:10: model.batch_max_events: unknown key in [model]: it belongs in [capture] (ignored)",
            ]
        );
        assert_eq!((c.config.score.warn_at, c.config.model.max_depth, c.config.model.trees), (0.8, 10, 100));
    }

    #[test]
    fn types_and_ranges_are_checked_and_bad_values_take_their_defaults() {
        let c = check(&[layer("[score]\nwarn_at = \"high\"\nwarn = 1\n[model]\ntrees = 0\nseed = -1\nmax_depth = 2.5\n[capture]\nfsync = \"alway\"\nbatch_max_events = 500\n[learn]\nguard_margin = nan\npersonal_weight = 2\n")]);
        let p = shown(&c);
        let expect = [
            "config.toml:2: score.warn_at: expected a number from 0 to 1, found the string \"high\" (the default, 0.65, applies)",
            "config.toml:3: score.warn: expected true or false, found the number 1 (the default, true, applies)",
            "config.toml:5: model.trees: 0 is out of range: use 1 to 10000 (the default, 100, applies)",
            "config.toml:6: model.seed: -1 is out of range: use 0 to 9223372036854775807 (the default, 7, applies)",
            "config.toml:7: model.max_depth: expected a whole number, found 2.5 (the default, 25, applies)",
            "config.toml:9: capture.fsync: expected one of \"batch\", \"always\", found the string \"alway\", did you mean \"always\"? (the default, \"batch\", applies)",
            "config.toml:12: learn.guard_margin: NaN is out of range: use -1 to 1 (the default, 0.05, applies)",
        ];
        assert_eq!(p, expect);
        assert_eq!(c.config.capture.batch_max_events, 500);
        assert_eq!(c.config.learn.personal_weight, 2.0, "an integer is a number");
        assert_eq!(c.config.model, crate::model::ModelParams::default());
        let where_from: Vec<_> = c.explained.iter().filter(|r| r.0 == "model.trees").collect();
        assert_eq!(where_from[0].2, "default", "a rejected value is not shown as in force");
    }

    #[test]
    fn thresholds_in_the_wrong_order_take_their_defaults() {
        let c = check(&[layer("[score]\nsafe_below = 0.9\nunsafe_above = 0.1\n")]);
        assert_eq!(shown(&c), vec!["config.toml:3: score.unsafe_above: score.safe_below (0.9) must be below score.unsafe_above (0.1); both take their defaults (0.35, 0.65)"]);
        assert_eq!(c.config.score, crate::score::ScoreConfig::default());
        let ok = check(&[layer("[score]\nsafe_below = 0.2\nunsafe_above = 0.9\nwarn_at = 0.5\n")]);
        assert!(ok.problems.is_empty(), "{:?}", ok.problems);
        assert_eq!(ok.config.score.safe_below, 0.2);
    }

    #[test]
    fn lists_keep_their_good_elements_and_env_problems_name_the_variable() {
        let c = check(&[layer("[redact]\nignore_commands = [\"^ok\", \"(\", 3]\n")]);
        let p = shown(&c);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].starts_with("config.toml:2: redact.ignore_commands: element 2: \"(\" is not a regular expression"),
            "{p:?}"
        );
        assert_eq!(c.config.redact.ignore_commands, vec!["^ok".to_string()]);
        let env = env_layer_placed([("VIGIL_MODEL_TREES", "lots"), ("VIGIL_BATCH_MAX_EVENTS", "0")]);
        let p = shown(&check(&[env]));
        assert_eq!(p, vec![
            "VIGIL_BATCH_MAX_EVENTS: capture.batch_max_events: 0 is out of range: use 1 to 100000 (the default, 1000, applies)",
            "VIGIL_MODEL_TREES: model.trees: expected a whole number from 1 to 10000, found the string \"lots\" (the default, 100, applies)",
        ]);
    }

    #[test]
    fn a_key_outside_any_section_is_pointed_to_its_section() {
        let c = check(&[layer("trees = 5\n")]);
        assert_eq!(shown(&c), vec!["config.toml:1: trees: a key outside any section: it belongs in [model] (ignored)"]);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("warn_att", "warn_at"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
