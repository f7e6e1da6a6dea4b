//! `vigil label`, `vigil train`, `vigil models`, `vigil rollback`: teaching vigil and looking
//! after its model versions.

use crate::args::{json_only, unknown_arg, Arg, Args, UsageError};
use crate::manage::{ask, fail, open, paths, unexpected};
use crate::show::{count, local_time};
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
    let label = match args.next()? {
        Some(Arg::Value(v)) => v,
        Some(other) => return Err(unknown_arg(other)),
        None => return Err(UsageError("which label? safe, unsafe or unknown".into())),
    };
    if !matches!(label.as_str(), "safe" | "unsafe" | "unknown") {
        return Err(UsageError(format!("unknown label {label:?}: use safe, unsafe or unknown")));
    }
    let command = args.rest().join(" ");
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
/// rewritten. `command` must be one line. Folders it creates are the person's alone (0700):
/// the label file holds commands.
pub fn append_label(paths: &vigil::paths::Paths, label: &str, command: &str) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = paths.labels.parent().unwrap_or(&paths.config_dir);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
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
pub fn train(args: Args) -> Result<ExitCode, UsageError> {
    let json = json_only(args)?;
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
        "model v{}{}: trained on {} ({} of them from your labels) in {} s; tested on {}",
        r["model_version"],
        if current { " (current)" } else { " (NOT made current: worse than the current model)" },
        examples(&r["n_train"]),
        r["personal_labels"],
        f(&r["train_seconds"]),
        r["n_test"]
    );
    println!(
        "accuracy {}, F1 {} (on the {})",
        f(&r["accuracy"]),
        macro_f1(&r).map_or("-".into(), |x| format!("{x:.3}")),
        r["test_set"].as_str().filter(|t| !t.is_empty()).unwrap_or("held-out set")
    );
    if let Some(cv) = r["personal_cv"].as_object() {
        println!(
            "on your own labels ({}-fold cross-validation over {}): accuracy {}, F1 {}",
            cv["folds"],
            cv["n"],
            f(&cv["accuracy"]),
            f(&cv["macro_f1"])
        );
    }
    for class in ["safe", "unsafe"] {
        let c = &r["per_class"][class];
        println!(
            "  {class:<7} precision {}  recall {}  F1 {}  support {}",
            f(&c["precision"]),
            f(&c["recall"]),
            f(&c["f1"]),
            c["support"]
        );
    }
    println!("confusion (rows: actual safe, unsafe; columns: predicted safe, unsafe): {}", r["confusion"]);
    if let Some(top) = r["top_features"].as_array() {
        let names: Vec<String> =
            top.iter().take(8).filter_map(|p| Some(format!("{} ({:.3})", p[0].as_str()?, p[1].as_f64()?))).collect();
        println!("top features: {}", names.join(", "));
    }
}

/// A count of examples from a report, in words: `1 example`, `900 examples`.
fn examples(n: &serde_json::Value) -> String {
    match n.as_u64() {
        Some(n) => count(n, "example", "examples"),
        None => format!("{n} examples"),
    }
}

/// The report's macro-averaged F1 (the one F1 that `models`, `status`, `stats` and the guard
/// use): its `macro_f1`, or for a report of an earlier vigil the mean of its classes' F1.
fn macro_f1(report: &serde_json::Value) -> Option<f64> {
    report["macro_f1"].as_f64().filter(|f| *f > 0.0).or_else(|| {
        let f: Vec<f64> = ["safe", "unsafe"].iter().filter_map(|c| report["per_class"][c]["f1"].as_f64()).collect();
        (!f.is_empty()).then(|| f.iter().sum::<f64>() / f.len() as f64)
    })
}

/// Help for `vigil models`.
pub const MODELS_USAGE: &str = "\
Usage: vigil models [--json]

Lists every model version with its metrics; the current one is marked.
Example:
  vigil models
";

/// `vigil models`
pub fn models(args: Args) -> Result<ExitCode, UsageError> {
    let json = json_only(args)?;
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
                "{} v{:<3} {}  n_train {:<5} accuracy {:<6} F1 {:<6} {}",
                if m.current { "*" } else { " " },
                m.version,
                local_time(m.created_at),
                m.n_train,
                report["accuracy"].as_f64().map_or("-".into(), |x| format!("{x:.3}")),
                macro_f1(&report).map_or("-".into(), |x| format!("{x:.3}")),
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
    let v = match args.next()? {
        Some(Arg::Value(v)) => v,
        Some(other) => return Err(unknown_arg(other)),
        None => return Err(UsageError("which version?".into())),
    };
    args.finish()?;
    let version: i64 =
        v.trim_start_matches('v').parse().map_err(|_| UsageError(format!("{v:?} is not a version number")))?;
    let mut conn = match open(Duration::from_secs(60)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    // Asked first so that a version that is not there is named with the ones that are.
    let versions = match conn.request(&Request::Models) {
        Ok(Response::Models(list)) => list,
        Ok(other) => return Ok(unexpected(&other)),
        Err(e) => return Ok(fail(e)),
    };
    if !versions.iter().any(|m| m.version == version) {
        return Ok(fail(no_such_version(version, &versions)));
    }
    match conn.request(&Request::Rollback { version }) {
        Ok(Response::Ok) => {
            println!("model v{version} is current");
            Ok(ExitCode::SUCCESS)
        }
        Ok(other) => Ok(unexpected(&other)),
        Err(e) => Ok(fail(e)),
    }
}

/// What to say when `version` is not among `versions`: the versions there are, oldest first.
fn no_such_version(version: i64, versions: &[vigil::protocol::ModelInfo]) -> String {
    if versions.is_empty() {
        return format!(
            "there is no model v{version}: there are no models yet (the first one trains in the background)"
        );
    }
    let mut sorted: Vec<&vigil::protocol::ModelInfo> = versions.iter().collect();
    sorted.sort_by_key(|m| m.version);
    let listed: Vec<String> = sorted
        .iter()
        .map(|m| if m.current { format!("v{} (current)", m.version) } else { format!("v{}", m.version) })
        .collect();
    format!("there is no model v{version}; the versions are {} (see `vigil models`)", listed.join(", "))
}

/// Help for `vigil export`.
pub const EXPORT_USAGE: &str = "\
Usage: vigil export --csv PATH

Writes every recorded command, with your label of it (empty if none), to a CSV file:
id, session, shell, command, cwd, hostname, started_at, duration_ms, exit_code, label,
predicted, p_unsafe, reason, model_version. `vigild train --csv PATH` trains on it as it is.
  --csv PATH   the file to write; `-` writes the CSV to standard output
Examples:
  vigil export --csv ~/vigil-history.csv
  vigil export --csv - | grep ',unsafe,'
";

/// `vigil export --csv PATH`
pub fn export(mut args: Args) -> Result<ExitCode, UsageError> {
    let mut path = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) if o == "--csv" => path = Some(args.value(&o)?),
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    let path = path.ok_or_else(|| UsageError("--csv PATH is required".into()))?;
    if path == "-" {
        return Ok(export_to_stdout());
    }
    let path = std::path::Path::new(&path);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    match ask(&Request::Export { path: absolute.display().to_string() }, Duration::from_secs(600)) {
        Ok(Response::Exported { rows }) => {
            println!("wrote {} to {}", count(rows, "event", "events"), absolute.display());
            Ok(ExitCode::SUCCESS)
        }
        Ok(other) => Ok(unexpected(&other)),
        Err(code) => Ok(code),
    }
}

/// `vigil export --csv -`: the agent writes the CSV where it is told, so it is told a file of
/// ours alone (created 0600 in the private runtime folder before it writes), which is removed
/// as soon as it answers and then copied from the open handle to standard output: a closed
/// pipe (`| head`) leaves nothing behind.
fn export_to_stdout() -> ExitCode {
    let paths = match paths() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut conn = match open(Duration::from_secs(600)) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let tmp = paths.runtime_dir.join(format!("export-{}-{}.csv", std::process::id(), vigil::now_ms()));
    let mut file = match std::fs::OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&tmp) {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot create {}: {e}", tmp.display())),
    };
    let removed = Removed(&tmp);
    match conn.request(&Request::Export { path: tmp.display().to_string() }) {
        Ok(Response::Exported { .. }) => {}
        Ok(other) => return unexpected(&other),
        Err(e) => return fail(e),
    }
    drop(removed);
    let mut out = std::io::stdout().lock();
    match std::io::copy(&mut file, &mut out).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(format!("copying the export to standard output: {e}")),
    }
}

/// Removes its file when dropped.
struct Removed<'a>(&'a std::path::Path);

impl Drop for Removed<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil::protocol::ModelInfo;

    fn model(version: i64, current: bool) -> ModelInfo {
        ModelInfo { version, created_at: 0, n_train: 10, current, note: None, report: String::new() }
    }

    #[test]
    fn a_missing_version_is_named_with_the_ones_there_are() {
        let versions = [model(3, false), model(2, true), model(1, false)];
        assert_eq!(
            no_such_version(7, &versions),
            "there is no model v7; the versions are v1, v2 (current), v3 (see `vigil models`)"
        );
        assert!(no_such_version(1, &[]).contains("no models yet"), "{}", no_such_version(1, &[]));
    }
}
