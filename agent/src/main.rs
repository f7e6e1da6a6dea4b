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

Options:
  --quiet-if-running   exit 0 without a word if an agent already runs for this home
  --wait-lock          wait up to 5 s for a stopping agent to release the lock
  --log-level LEVEL    tracing filter for the log file (default from config.toml, or info)
  -V, --version        print the version

Files live under $VIGIL_HOME when set (see README.md).
Example:
  VIGIL_HOME=/tmp/v vigild --log-level debug
";

fn main() -> ExitCode {
    // Everything the agent creates (database, journal, logs) is the user's alone.
    // SAFETY: umask has no preconditions.
    unsafe { libc::umask(0o077) };
    let mut quiet_if_running = false;
    let mut opts = StartOptions::default();
    let mut flags = toml::Table::new();
    let mut args = std::env::args().skip(1);
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
    let config = match config::load(&paths.config, flags) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
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

fn init_logging(paths: &Paths, level: &str) -> std::io::Result<tracing_appender::non_blocking::WorkerGuard> {
    vigil::paths::ensure_private_dir(&paths.data_dir).map_err(std::io::Error::other)?;
    std::fs::create_dir_all(&paths.log_dir)?;
    let file = tracing_appender::rolling::never(&paths.log_dir, "vigild.log");
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
