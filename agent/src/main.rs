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
        let msg = payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::error!("internal error{at}: {msg}");
        eprintln!("vigild: internal error{at}: {msg}");
    }));
    // Everything the agent creates (database, journal, logs) is the user's alone.
    // SAFETY: umask has no preconditions.
    unsafe { libc::umask(0o077) };
    let mut quiet_if_running = false;
    let mut opts = StartOptions::default();
    let mut flags = toml::Table::new();
    let argv: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    match argv.first().map(String::as_str) {
        Some("train") => return tools::train(&argv[1..]),
        Some("gen-sample") => return tools::gen_sample(&argv[1..]),
        _ => {}
    }
    let mut args = argv.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quiet-if-running" => quiet_if_running = true,
            "--wait-lock" => opts.wait_lock = Some(Duration::from_secs(5)),
            "--log-level" => match args.next() {
                Some(level) => config::set(&mut flags, "agent", "log_level", toml::Value::String(level)),
                None => return usage_error("--log-level needs a value"),
            },
            "-V" | "--version" => {
                println!("vigild {}", vigil_agent::VERSION);
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&format!("unknown argument {other:?}")),
        }
    }
    let paths = match Paths::from_env() {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    let layers = match config::layers(&paths.config, flags) {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    let config = match config::merge(&layers.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>()) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    opts.explained = config::explain(&layers);
    let _log_guard = match init_logging(&paths, &config.agent.log_level) {
        Ok(g) => g,
        Err(e) => return fail(&format!("cannot open the log in {}: {e}", paths.log_dir.display())),
    };
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
    use vigil_agent::{config, dataset, learn};

    fn value(args: &[String], name: &str) -> Option<String> {
        args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone())
    }

    /// `vigild train --csv FILE [--json]`
    pub fn train(args: &[String]) -> ExitCode {
        let started = Instant::now();
        let Some(path) = value(args, "--csv") else { return usage_error("train needs --csv FILE") };
        let json = args.iter().any(|a| a == "--json");
        let data = match dataset::read_labelled(std::path::Path::new(&path)) {
            Ok(d) => d,
            Err(e) => return fail(&e.to_string()),
        };
        if data.malformed > 0 {
            eprintln!("vigild: {} malformed rows skipped (lines {:?}{})", data.malformed, data.malformed_lines, if data.malformed > data.malformed_lines.len() { ", ..." } else { "" });
        }
        // The model parameters of config.toml apply here too.
        let params = vigil::paths::Paths::from_env().ok().and_then(|p| config::load(&p.config, toml::Table::new()).ok()).map(|c| c.model).unwrap_or_default();
        let (_, report) = match learn::train_with_report(&data.examples, &params, 0) {
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
                println!("  {class:<7} precision {:.3}  recall {:.3}  F1 {:.3}  support {}", m.precision, m.recall, m.f1, m.support);
            }
            println!("confusion (rows: actual safe, unsafe; columns: predicted): {:?}", report.confusion);
        }
        ExitCode::SUCCESS
    }

    /// `vigild gen-sample --count N --out FILE`
    pub fn gen_sample(args: &[String]) -> ExitCode {
        let Some(count) = value(args, "--count").and_then(|c| c.parse::<usize>().ok()) else { return usage_error("gen-sample needs --count N") };
        let Some(out) = value(args, "--out") else { return usage_error("gen-sample needs --out FILE") };
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
    let filter = tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).init();
    Ok(guard)
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("vigild: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("vigild: {msg}");
    ExitCode::FAILURE
}
