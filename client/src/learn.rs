//! `vigil label`, `vigil train`, `vigil models`, `vigil rollback`: teaching vigil and looking
//! after its model versions.

use crate::args::{Args, UsageError};
use crate::manage::{ask, fail, paths, unexpected};
use crate::show::local_time;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;
use std::time::Duration;
use vigil::protocol::{Request, Response};

/// Help for `vigil label`.
pub const LABEL_USAGE: &str = "\
Usage: vigil label <safe|unsafe|unknown> COMMAND...

Appends `LABEL COMMAND` to your label file (labels.txt; see README.md), creating it if needed.
The label applies to that exact command at once, and the model learns from it at the next
retrain. `unknown` withdraws an earlier label. The file is yours: edit it freely.

Examples:
  vigil label unsafe make deploy-prod
  vigil label safe 'rm -rf ./tmp'
";

/// `vigil label`
pub fn label(mut args: Args) -> Result<ExitCode, UsageError> {
    let label = args.positional().ok_or_else(|| UsageError("which label? safe, unsafe or unknown".into()))?;
    if !matches!(label.as_str(), "safe" | "unsafe" | "unknown") {
        return Err(UsageError(format!("unknown label {label:?}: use safe, unsafe or unknown")));
    }
    let command = args.remaining().join(" ");
    let command = command.trim();
    if command.is_empty() {
        return Err(UsageError("which command?".into()));
    }
    if command.contains('\n') || command.contains('\r') {
        return Err(UsageError("a label line holds one line: label multi-line commands by editing the file".into()));
    }
    let paths = match paths() {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    match append_label(&paths, &label, command) {
        Ok(()) => {
            println!("{label} {command}  (in {})", paths.labels.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(e)),
    }
}

/// Appends `LABEL COMMAND` to the label file with one `O_APPEND` write, creating the folder
/// and the file if needed: concurrent appends never interleave, and the file is never
/// rewritten. `command` must be one line.
pub fn append_label(paths: &vigil::paths::Paths, label: &str, command: &str) -> Result<(), String> {
    std::fs::DirBuilder::new().recursive(true).create(&paths.config_dir).map_err(|e| format!("cannot create {}: {e}", paths.config_dir.display()))?;
    let line = format!("{label} {command}\n");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&paths.labels)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", paths.labels.display()))
}

/// Help for `vigil train`.
pub const TRAIN_USAGE: &str = "\
Usage: vigil train [--json]

Retrains the model now on the bootstrap corpus and your labels, waits, and prints the report:
held-out accuracy, per-class precision/recall/F1, confusion matrix, top features. The new
model becomes current unless it is worse than the current one (see `vigil models`).

Example:
  vigil train --json | jq .accuracy
";

/// `vigil train`
pub fn train(mut args: Args) -> Result<ExitCode, UsageError> {
    let json = args.flag(&["--json"]);
    args.finish()?;
    match ask(&Request::Train, Duration::from_secs(3600)) {
        Ok(Response::Report { json: report, current }) => {
            if json {
                println!("{report}");
            } else {
                print_report(&report, current);
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(other) => Ok(unexpected(&other)),
        Err(code) => Ok(code),
    }
}

fn print_report(json: &str, current: bool) {
    let Ok(r) = serde_json::from_str::<serde_json::Value>(json) else {
        println!("{json}");
        return;
    };
    let f = |v: &serde_json::Value| v.as_f64().map_or("-".into(), |x| format!("{x:.3}"));
    println!(
        "model v{}{}: trained on {} examples ({} of them your labels) in {} s; tested on {}",
        r["model_version"],
        if current { " (current)" } else { " (NOT made current: worse than the current model)" },
        r["n_train"],
        r["personal_labels"],
        f(&r["train_seconds"]),
        r["n_test"]
    );
    println!("accuracy {}", f(&r["accuracy"]));
    for class in ["safe", "unsafe"] {
        let c = &r["per_class"][class];
        println!("  {class:<7} precision {}  recall {}  F1 {}  support {}", f(&c["precision"]), f(&c["recall"]), f(&c["f1"]), c["support"]);
    }
    println!("confusion (rows: actual safe, unsafe; columns: predicted safe, unsafe): {}", r["confusion"]);
    if let Some(top) = r["top_features"].as_array() {
        let names: Vec<String> = top.iter().take(8).filter_map(|p| Some(format!("{} ({:.3})", p[0].as_str()?, p[1].as_f64()?))).collect();
        println!("top features: {}", names.join(", "));
    }
}

/// Help for `vigil models`.
pub const MODELS_USAGE: &str = "\
Usage: vigil models [--json]

Lists every model version with its metrics; the current one is marked.
Example:
  vigil models
";

/// `vigil models`
pub fn models(mut args: Args) -> Result<ExitCode, UsageError> {
    let json = args.flag(&["--json"]);
    args.finish()?;
    let list = match ask(&Request::Models, Duration::from_secs(30)) {
        Ok(Response::Models(list)) => list,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    let mut out = std::io::stdout().lock();
    for m in list {
        let report: serde_json::Value = serde_json::from_str(&m.report).unwrap_or(serde_json::Value::Null);
        let line = if json {
            serde_json::json!({"version": m.version, "created_at": m.created_at, "n_train": m.n_train, "current": m.current, "note": m.note, "report": report}).to_string()
        } else {
            format!(
                "{} v{:<3} {}  n_train {:<5} accuracy {:<6} F1(unsafe) {:<6} {}",
                if m.current { "*" } else { " " },
                m.version,
                local_time(m.created_at),
                m.n_train,
                report["accuracy"].as_f64().map_or("-".into(), |x| format!("{x:.3}")),
                report["per_class"]["unsafe"]["f1"].as_f64().map_or("-".into(), |x| format!("{x:.3}")),
                m.note.unwrap_or_default()
            )
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Help for `vigil rollback`.
pub const ROLLBACK_USAGE: &str = "\
Usage: vigil rollback VERSION

Makes an earlier model version current. It stays current until the next change to your label
file triggers a retrain.
Example:
  vigil rollback 3
";

/// `vigil rollback`
pub fn rollback(mut args: Args) -> Result<ExitCode, UsageError> {
    let v = args.positional().ok_or_else(|| UsageError("which version?".into()))?;
    args.finish()?;
    let version: i64 = v.trim_start_matches('v').parse().map_err(|_| UsageError(format!("{v:?} is not a version number")))?;
    match ask(&Request::Rollback { version }, Duration::from_secs(60)) {
        Ok(_) => {
            println!("model v{version} is current");
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

/// Help for `vigil export`.
pub const EXPORT_USAGE: &str = "\
Usage: vigil export --csv PATH

Writes every recorded command, with your label of it (empty if none), to a CSV file:
id, session, shell, command, cwd, hostname, started_at, duration_ms, exit_code, label,
predicted, p_unsafe, reason, model_version. `vigild train --csv PATH` trains on it as it is.
Example:
  vigil export --csv ~/vigil-history.csv
";

/// `vigil export --csv PATH`
pub fn export(mut args: Args) -> Result<ExitCode, UsageError> {
    let path = args.required(&["--csv"])?;
    args.finish()?;
    let path = std::path::Path::new(&path);
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf()) };
    match ask(&Request::Export { path: absolute.display().to_string() }, Duration::from_secs(600)) {
        Ok(Response::Exported { rows }) => {
            println!("wrote {rows} events to {}", absolute.display());
            Ok(ExitCode::SUCCESS)
        }
        Ok(other) => Ok(unexpected(&other)),
        Err(code) => Ok(code),
    }
}
