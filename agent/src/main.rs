//! `vigild`: the agent process. Parses its arguments, sets up logging, and runs the daemon.

use std::process::ExitCode;
use std::time::Duration;
use vigil::paths::Paths;
use vigil_agent::config;
use vigil_agent::daemon::{self, DaemonError, StartOptions};
use vigil_agent::lock::LockError;

const USAGE: &str = "\
vigild: the vigil agent (normally started on demand by `vigil`)

Usage:
  vigild [--quiet-if-running] [--wait-lock] [--log-level LEVEL]   run in the foreground
  vigild train --csv FILE [--json]      train from a labelled CSV (columns command, label),
                                        80/20 stratified split; print the report
  vigild gen-sample --count N --out F   write a synthetic labelled CSV (50% safe, 30% unsafe,
                                        20% unknown), with the columns of `vigil export --csv`
  vigild config-check [--json]          check config.toml and VIGIL_* as the agent would;
                                        exit 1 if anything is wrong (`vigil config check`)

Options:
  --quiet-if-running   exit 0 without a word if an agent already runs for this home
  --wait-lock          wait up to 5 s for a stopping agent to release the lock
  --log-level LEVEL    tracing filter for the log file (default from config.toml, or info)
  -V, --version        print the version

Files live under $VIGIL_HOME when set (see README.md).
Examples:
  VIGIL_HOME=/tmp/v vigild --log-level debug
  vigild gen-sample --count 6000 --out sample.csv && vigild train --csv sample.csv
";

fn main() -> ExitCode {
    // A panic is isolated to the request or event that caused it (see capture and server);
    // what it says goes to the log and, as one line naming the cause, to stderr, which the
    // client shows when a start-up fails.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!("internal error{at}: {msg}");
        eprintln!("vigild: internal error{at}: {msg}");
    }));
    // Everything the agent creates (database, journal, logs) is the user's alone.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let mut quiet_if_running = false;
    let mut opts = StartOptions::default();
    let mut flags = toml::Table::new();
    let mut args = lexopt::Parser::from_env();
    loop {
        let arg = match args.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => return usage_error(&e.to_string()),
        };
        match arg {
            lexopt::Arg::Value(v) if v == "train" => return tools::train(args),
            lexopt::Arg::Value(v) if v == "gen-sample" => return tools::gen_sample(args),
            lexopt::Arg::Value(v) if v == "config-check" => return tools::config_check(args),
            lexopt::Arg::Long("quiet-if-running") => quiet_if_running = true,
            lexopt::Arg::Long("wait-lock") => opts.wait_lock = Some(Duration::from_secs(5)),
            lexopt::Arg::Long("log-level") => match tools::value(&mut args, "--log-level") {
                Ok(level) => config::set(&mut flags, "agent", "log_level", toml::Value::String(level)),
                Err(e) => return usage_error(&e),
            },
            lexopt::Arg::Short('V') | lexopt::Arg::Long("version") => {
                println!("vigild {}", vigil_agent::VERSION);
                return ExitCode::SUCCESS;
            }
            lexopt::Arg::Short('h') | lexopt::Arg::Long("help") => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&other.unexpected().to_string()),
        }
    }
    let paths = match Paths::from_env() {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    // Never refuses to start over configuration: a bad key takes its default and is reported
    // (log, `vigil status`, `vigil doctor`, the first command of each shell).
    let checked = config::load(&paths.config, flags);
    let config = checked.config;
    opts.explained = checked.explained;
    opts.config_problems = checked.problems.iter().map(ToString::to_string).collect();
    let _log_guard = match init_logging(&paths, &config.agent.log_level) {
        Ok(g) => g,
        Err(e) => return fail(&format!("cannot open the log in {}: {e}", paths.log_dir.display())),
    };
    for p in &opts.config_problems {
        tracing::warn!("{p}");
    }
    match daemon::run(&paths, &config, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(DaemonError::Lock(LockError::Held { .. })) if quiet_if_running => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            fail(&e.to_string())
        }
    }
}

/// The offline tools of the original design.
mod tools {
    use super::{fail, usage_error};
    use std::process::ExitCode;
    use std::time::Instant;
    use vigil_agent::{config, dataset, training};

    /// The value of the option just read; a following option is not a value.
    pub fn value(args: &mut lexopt::Parser, opt: &str) -> Result<String, String> {
        if let Some(v) = args.optional_value() {
            return Ok(v.to_string_lossy().into_owned());
        }
        let mut raw = args.raw_args().map_err(|e| e.to_string())?;
        match raw.peek().map(|v| v.to_string_lossy().into_owned()) {
            None => Err(format!("{opt} needs a value")),
            Some(v) if v.len() > 1 && v.starts_with('-') => Err(format!("{opt} needs a value (found the option {v})")),
            Some(v) => {
                raw.next();
                Ok(v)
            }
        }
    }

    /// Reads a tool's options, `known` being (name, takes a value); returns what was given.
    fn options(
        mut args: lexopt::Parser,
        tool: &str,
        known: &[(&str, bool)],
    ) -> Result<Vec<(String, String)>, ExitCode> {
        let mut out = Vec::new();
        loop {
            let arg = match args.next() {
                Ok(Some(a)) => a,
                Ok(None) => return Ok(out),
                Err(e) => return Err(usage_error(&format!("{tool}: {e}"))),
            };
            let name = match &arg {
                lexopt::Arg::Long(l) => format!("--{l}"),
                lexopt::Arg::Short(c) => format!("-{c}"),
                lexopt::Arg::Value(_) => return Err(usage_error(&format!("{tool}: {}", arg.unexpected()))),
            };
            match known.iter().find(|(n, _)| *n == name) {
                Some((_, true)) => match value(&mut args, &name) {
                    Ok(v) => out.push((name, v)),
                    Err(e) => return Err(usage_error(&format!("{tool}: {e}"))),
                },
                Some((_, false)) => out.push((name, String::new())),
                None => return Err(usage_error(&format!("{tool}: unknown option {name}"))),
            }
        }
    }

    fn get<'a>(opts: &'a [(String, String)], name: &str) -> Option<&'a str> {
        opts.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// `vigild train --csv FILE [--json]`
    pub fn train(args: lexopt::Parser) -> ExitCode {
        let started = Instant::now();
        let opts = match options(args, "train", &[("--csv", true), ("--json", false)]) {
            Ok(o) => o,
            Err(code) => return code,
        };
        let Some(path) = get(&opts, "--csv").map(str::to_string) else { return usage_error("train needs --csv FILE") };
        let json = get(&opts, "--json").is_some();
        let data = match dataset::read_labelled(std::path::Path::new(&path)) {
            Ok(d) => d,
            Err(e) => return fail(&e.to_string()),
        };
        if data.malformed > 0 {
            eprintln!(
                "vigild: {} malformed rows skipped (lines {:?}{})",
                data.malformed,
                data.malformed_lines,
                if data.malformed > data.malformed_lines.len() { ", ..." } else { "" }
            );
        }
        // The model parameters of config.toml apply here too.
        let params = vigil::paths::Paths::from_env()
            .ok()
            .map(|p| config::load(&p.config, toml::Table::new()).config.model)
            .unwrap_or_default();
        let (_, report) = match training::train_with_report(&data.examples, &params, 0) {
            Ok(r) => r,
            Err(e) => return fail(&e.to_string()),
        };
        let mut value = serde_json::to_value(&report).unwrap_or_default();
        value["rows_unlabelled"] = data.unlabelled.into();
        value["rows_malformed"] = data.malformed.into();
        value["process_seconds"] = started.elapsed().as_secs_f64().into();
        if json {
            println!("{value}");
        } else {
            println!("trained on {} rows, tested on {} ({} unlabelled, {} malformed): accuracy {:.3}, fit {:.2} s, whole process {:.2} s", report.n_train, report.n_test, data.unlabelled, data.malformed, report.accuracy, report.train_seconds, started.elapsed().as_secs_f64());
            for (class, m) in &report.per_class {
                println!(
                    "  {class:<7} precision {:.3}  recall {:.3}  F1 {:.3}  support {}",
                    m.precision, m.recall, m.f1, m.support
                );
            }
            println!("confusion (rows: actual safe, unsafe; columns: predicted): {:?}", report.confusion);
        }
        ExitCode::SUCCESS
    }

    /// `vigild config-check [--json]`: checks config.toml and the VIGIL_* variables as the
    /// agent would, without starting one; exit 1 if anything is wrong.
    pub fn config_check(args: lexopt::Parser) -> ExitCode {
        let opts = match options(args, "config-check", &[("--json", false)]) {
            Ok(o) => o,
            Err(code) => return code,
        };
        let paths = match vigil::paths::Paths::from_env() {
            Ok(p) => p,
            Err(e) => return fail(&e.to_string()),
        };
        let checked = config::load(&paths.config, toml::Table::new());
        let exists = paths.config.is_file();
        if get(&opts, "--json").is_some() {
            let problems: Vec<serde_json::Value> = checked
                .problems
                .iter()
                .map(|p| serde_json::json!({"origin": p.origin, "line": p.line, "key": p.key, "message": p.message, "text": p.to_string()}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"path": paths.config.display().to_string(), "exists": exists, "problems": problems})
            );
        } else {
            let note = if exists { "" } else { " (not found: the defaults apply)" };
            println!("config file  {}{note}", paths.config.display());
            for p in &checked.problems {
                println!("{p}");
            }
            if checked.problems.is_empty() {
                println!("no problems");
            }
        }
        if checked.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// `vigild gen-sample --count N --out FILE`
    pub fn gen_sample(args: lexopt::Parser) -> ExitCode {
        let opts = match options(args, "gen-sample", &[("--count", true), ("--out", true)]) {
            Ok(o) => o,
            Err(code) => return code,
        };
        let Some(count) = get(&opts, "--count").and_then(|c| c.parse::<usize>().ok()) else {
            return usage_error("gen-sample needs --count N");
        };
        let Some(out) = get(&opts, "--out").map(str::to_string) else {
            return usage_error("gen-sample needs --out FILE");
        };
        match dataset::gen_sample(count, std::path::Path::new(&out)) {
            Ok(()) => {
                println!("wrote {count} rows to {out}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        }
    }
}

fn init_logging(paths: &Paths, level: &str) -> std::io::Result<tracing_appender::non_blocking::WorkerGuard> {
    vigil::paths::ensure_private_dir(&paths.data_dir).map_err(std::io::Error::other)?;
    // The log folder is ours: create it 0700, and close one an older vigil left open.
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&paths.log_dir)?;
    let _ = std::fs::set_permissions(&paths.log_dir, std::fs::Permissions::from_mode(0o700));
    // 10 MB, then vigild.log.1: a flood of bad frames cannot fill the disk.
    let file = vigil::logfile::RotatingFile::open(&paths.log_dir.join("vigild.log"), 10 << 20)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter =
        tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).init();
    Ok(guard)
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("vigild: {msg} (see `vigild --help`)");
    ExitCode::from(2)
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("vigild: {msg}");
    ExitCode::FAILURE
}
