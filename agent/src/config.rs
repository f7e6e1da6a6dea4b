//! Configuration: built-in defaults, then `config.toml`, then `VIGIL_*` variables, then flags,
//! merged by one pure function.

use serde::{Deserialize, Serialize};
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

        [model]
        trees = 200
        max_depth = 25
        max_features = 500
        features_per_split = 40
        seed = 7
        threads = 0

        [redact]
        extra_patterns = []
        ignore_commands = []
        ignore_folders = []

        [learn]
        retrain_delay_secs = 30
        retrain_min_interval_secs = 300
        personal_weight = 5.0
        guard_margin = 0.05
    "#;
    text.parse().unwrap_or_default()
}

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

/// Why the configuration could not be built.
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
    /// A layer is not valid TOML.
    #[error("{origin}: {message}")]
    Syntax {
        /// Where the layer came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The merged layers do not make a valid configuration (unknown key, wrong type).
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Reads `config.toml` as a layer; a missing file is an empty layer.
pub fn file_layer(path: &Path) -> Result<Table, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.parse::<Table>().map_err(|e| ConfigError::Syntax { origin: path.display().to_string(), message: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Table::new()),
        Err(source) => Err(ConfigError::Read { path: path.display().to_string(), source }),
    }
}

/// Turns `VIGIL_*` variables into a layer. A value that parses as a TOML literal (number,
/// boolean) is taken as one; anything else is a string.
pub fn env_layer<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Table {
    let mut layer = Table::new();
    for (name, raw) in vars {
        let Some((_, section, key)) = ENV_KEYS.iter().find(|(n, _, _)| *n == name) else { continue };
        let value = format!("v = {raw}")
            .parse::<Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(raw.to_string()));
        set(&mut layer, section, key, value);
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

/// Merges layers, later ones winning key by key, into a [`Config`].
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

/// The layers for `config_path`, the process environment and `flags`, lowest first.
pub fn layers(config_path: &Path, flags: Table) -> Result<Vec<(String, Table)>, ConfigError> {
    let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("VIGIL_")).collect();
    let env = env_layer(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok(vec![
        ("default".to_string(), defaults()),
        (config_path.display().to_string(), file_layer(config_path)?),
        ("environment".to_string(), env),
        ("flags".to_string(), flags),
    ])
}

/// Loads the configuration for `config_path` from the process environment and `flags`.
pub fn load(config_path: &Path, flags: Table) -> Result<Config, ConfigError> {
    let layers = layers(config_path, flags)?;
    merge(&layers.into_iter().map(|(_, t)| t).collect::<Vec<_>>())
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
        let rows = explain(&[("default".into(), defaults()), ("config.toml".into(), file), ("environment".into(), env)]);
        let find = |k: &str| rows.iter().find(|r| r.0 == k).cloned().unwrap();
        assert_eq!(find("capture.batch_max_events"), ("capture.batch_max_events".into(), "10".into(), "config.toml".into()));
        assert_eq!(find("agent.log_level").2, "environment");
        assert_eq!(find("model.trees").2, "default");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors() {
        let typo: Table = "[capture]\nbatch_max_event = 10".parse().unwrap();
        assert!(merge(&[defaults(), typo]).unwrap_err().to_string().contains("batch_max_event"));
        let wrong: Table = "[capture]\nbatch_max_events = \"many\"".parse().unwrap();
        assert!(merge(&[defaults(), wrong]).is_err());
    }

    #[test]
    fn missing_file_is_empty_and_bad_file_is_named() {
        let t = tempfile::tempdir().unwrap();
        assert!(file_layer(&t.path().join("none.toml")).unwrap().is_empty());
        let bad = t.path().join("config.toml");
        std::fs::write(&bad, "[capture\n").unwrap();
        assert!(file_layer(&bad).unwrap_err().to_string().contains("config.toml"));
    }
}
