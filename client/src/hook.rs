//! `vigil hook start|end`: what the shell hooks exec around every command.
//!
//! The rules here are the shell's, not ours: never make the person wait more than a few
//! milliseconds, never print anything but the advisory warning (stderr) and the prompt segment
//! (stdout), and exit 0 from `start` only when the event is kept, live or in the spool.

use crate::args::{Args, UsageError};
use vigil::connection::{spawn_agent, terminate_agent, ClientError, Connection};
use vigil::paths::Paths;
use vigil::protocol::{is_recorded, CommandEnd, CommandStart, Request, Response, PROTOCOL_VERSION};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Default deadline for connecting and for the reply, each.
const DEFAULT_TIMEOUT_MS: u64 = 20;

fn hook_timeout() -> Duration {
    let ms = std::env::var("VIGIL_HOOK_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_MS);
    Duration::from_millis(ms.clamp(1, 5_000))
}

/// `vigil hook start --shell S --session ID [--seq N] [--cwd DIR] [--stdin] -- COMMAND`
pub fn start(mut args: Args) -> Result<ExitCode, UsageError> {
    let shell = args.required(&["--shell"])?;
    let session = args.required(&["--session"])?;
    let seq = args.number::<u64>(&["--seq"])?;
    let cwd = args.value(&["--cwd"])?;
    let from_stdin = args.flag(&["--stdin"]);
    let trailing = args.finish()?;
    let command = if from_stdin {
        // Commands too long for one argv entry (128 KiB on Linux) come on stdin.
        let mut buf = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    } else {
        trailing.join(" ")
    };
    if !is_recorded(&command) {
        return Ok(ExitCode::SUCCESS);
    }
    let cwd = cwd.or_else(|| std::env::current_dir().ok().map(|d| d.display().to_string()));
    let req = Request::Start(CommandStart { session, seq, shell, command, cwd, started_at_ms: vigil::now_ms() });
    Ok(deliver(&req, |reply| {
        if let Response::Started { warning: Some(w), .. } = reply {
            if std::env::var("VIGIL_WARN").map_or(true, |v| v != "0") {
                let _ = writeln!(std::io::stderr(), "{w}");
            }
        }
    }))
}

/// `vigil hook end --shell S --session ID [--seq N] --exit CODE [--duration-ms N]`
pub fn end(mut args: Args) -> Result<ExitCode, UsageError> {
    let _shell = args.required(&["--shell"])?;
    let session = args.required(&["--session"])?;
    let seq = args.number::<u64>(&["--seq"])?;
    let exit_code = args.number::<i32>(&["--exit"])?.ok_or_else(|| UsageError("--exit is required".into()))?;
    let duration_ms = args.number::<i64>(&["--duration-ms"])?;
    args.finish()?;
    let req = Request::End(CommandEnd { session, seq, exit_code, duration_ms, ended_at_ms: vigil::now_ms() });
    Ok(deliver(&req, |reply| {
        if let Response::Ended { prompt } = reply {
            let _ = std::io::stdout().write_all(prompt.as_bytes());
        }
    }))
}

/// Sends `req` live, or keeps it in the spool; starts or replaces the agent as needed.
fn deliver(req: &Request, on_reply: impl FnOnce(&Response)) -> ExitCode {
    let paths = match Paths::from_env() {
        Ok(p) => p,
        Err(e) => {
            // Nowhere to keep the event, and nowhere to log: stay silent in the shell.
            let _ = e;
            return ExitCode::FAILURE;
        }
    };
    let live = Connection::connect(&paths, hook_timeout()).and_then(|mut c| c.request(req));
    match live {
        Ok(reply) => {
            on_reply(&reply);
            return ExitCode::SUCCESS;
        }
        Err(ClientError::NotRunning(_)) => {
            if let Err(e) = spawn_agent(&paths, false) {
                log(&paths, &format!("hook: {e}"));
            }
        }
        Err(ClientError::ProtocolMismatch { agent }) if agent < PROTOCOL_VERSION => {
            log(&paths, &format!("hook: replacing an agent that speaks protocol {agent}"));
            terminate_agent(&paths, Duration::ZERO);
            if let Err(e) = spawn_agent(&paths, true) {
                log(&paths, &format!("hook: {e}"));
            }
        }
        Err(e) => log(&paths, &format!("hook: {e}; spooling the event")),
    }
    // The agent may have taken the request before timing out; events are keyed, so the
    // spooled copy of the same event cannot become a second one.
    let spooled = vigil::paths::ensure_private_dir(&paths.data_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| vigil::spool::append(&paths.spool, req).map_err(|e| e.to_string()));
    match spooled {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log(&paths, &format!("hook: cannot spool the event: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// Appends one line to the client log. The client does not carry a tracing subscriber: a
/// hook pays for every microsecond of start-up, and it logs only when something is wrong.
pub fn log(paths: &Paths, msg: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::DirBuilder::new().recursive(true).create(&paths.log_dir);
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(paths.log_dir.join("client.log")) {
        let _ = writeln!(f, "{} pid={} {msg}", vigil::now_ms(), std::process::id());
    }
}
