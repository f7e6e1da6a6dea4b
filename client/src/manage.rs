//! `vigil agent start|stop|status`, and the connection that person-facing commands use: it
//! starts the agent on demand and replaces one older than this client.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use std::process::ExitCode;
use std::time::Duration;
use vigil::connection::{self, ClientError, Connection};
use vigil::paths::Paths;
use vigil::protocol::{AgentInfo, Request, Response, PROTOCOL_VERSION};

/// Help for `vigil agent`.
pub const AGENT_USAGE: &str = "\
Usage: vigil agent <start|stop|status>

  start    start the agent in the background (a no-op if it runs)
  stop     ask the agent to flush everything and exit
  status   say whether the agent runs, its pid, version and socket (exit 3 if not running)

Example:
  vigil agent stop && vigil agent start
";

/// How long a person-facing command waits for the agent.
const PATIENCE: Duration = Duration::from_secs(5);

/// Prints one error line and returns exit code 1.
pub fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("vigil: {msg}");
    ExitCode::FAILURE
}

/// Resolves the paths or explains why not.
pub fn paths() -> Result<Paths, ExitCode> {
    Paths::from_env().map_err(fail)
}

/// Whether version `a` (`x.y.z`) is older than `b`.
fn older(a: &str, b: &str) -> bool {
    let parse = |v: &str| v.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    parse(a) < parse(b)
}

/// Starts the agent and waits until it answers. A start-up failure is reported with the
/// agent's own last words.
pub fn start_and_wait(paths: &Paths, wait_lock: bool) -> Result<AgentInfo, ClientError> {
    connection::spawn_agent(paths, wait_lock)?;
    connection::wait_until_up(paths, PATIENCE).map_err(|e| match last_agent_error(paths) {
        Some(words) => ClientError::Spawn(words),
        None => e,
    })
}

fn last_agent_error(paths: &Paths) -> Option<String> {
    let text = std::fs::read_to_string(paths.log_dir.join("vigild.stderr")).ok()?;
    text.lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string)
}

/// Connects for a person-facing command: starts the agent if none runs, and replaces an
/// agent older than this client (by protocol or by version).
pub fn connect(paths: &Paths) -> Result<Connection, ClientError> {
    let mut conn = match Connection::connect(paths, Duration::from_secs(1)) {
        Ok(c) => c,
        Err(ClientError::NotRunning(_)) => {
            start_and_wait(paths, false)?;
            Connection::connect(paths, Duration::from_secs(1))?
        }
        Err(e) => return Err(e),
    };
    match conn.ping() {
        Ok(info) if !older(&info.version, vigil::VERSION) => {}
        Ok(_) | Err(ClientError::ProtocolMismatch { agent: ..PROTOCOL_VERSION }) => {
            connection::terminate_agent(paths, PATIENCE);
            start_and_wait(paths, true)?;
            conn = Connection::connect(paths, Duration::from_secs(1))?;
        }
        Err(e) => return Err(e),
    }
    conn.set_timeout(Some(Duration::from_secs(30)))?;
    Ok(conn)
}

/// Sends one request for a person-facing command: resolves the paths, connects (starting
/// the agent if needed), waits up to `timeout`, and turns any failure into one line on stderr
/// and exit code 1.
pub fn ask(request: &Request, timeout: Duration) -> Result<Response, ExitCode> {
    open(timeout)?.request(request).map_err(fail)
}

/// A connection for a person-facing command that sends several requests: resolves the
/// paths, connects (starting the agent if needed), and waits up to `timeout` per reply; any
/// failure is one line on stderr and exit code 1.
pub fn open(timeout: Duration) -> Result<Connection, ExitCode> {
    let paths = paths()?;
    let conn = connect(&paths).map_err(fail)?;
    conn.set_timeout(Some(timeout)).map_err(fail)?;
    Ok(conn)
}

/// Prints one line for a reply of the wrong kind (an agent of another build).
pub fn unexpected(reply: &Response) -> ExitCode {
    fail(format!("unexpected reply from the agent: {reply:?}"))
}

/// `vigil agent <start|stop|status>`
pub fn agent(mut args: Args) -> Result<ExitCode, UsageError> {
    let action = match args.next()? {
        Some(Arg::Value(v)) => v,
        Some(other) => return Err(unknown_arg(other)),
        None => return Err(UsageError("start, stop or status?".into())),
    };
    args.finish()?;
    let paths = match paths() {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    Ok(match action.as_str() {
        "start" => match connect(&paths).and_then(|mut c| c.ping()) {
            Ok(info) => {
                println!("vigild {} running, pid {}, socket {}", info.version, info.pid, paths.socket.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        "stop" => stop(&paths),
        "status" => match Connection::connect(&paths, Duration::from_secs(1)).and_then(|mut c| c.ping()) {
            Ok(info) => {
                println!(
                    "vigild {} running, pid {}, protocol {}, socket {}",
                    info.version,
                    info.pid,
                    info.protocol,
                    paths.socket.display()
                );
                if older(&info.version, vigil::VERSION) {
                    println!("note: the agent is older than this vigil ({}); `vigil agent stop && vigil agent start` replaces it", vigil::VERSION);
                }
                ExitCode::SUCCESS
            }
            Err(ClientError::NotRunning(_)) => {
                println!(
                    "vigild is not running (socket {}); it starts with the next command, or `vigil agent start`",
                    paths.socket.display()
                );
                ExitCode::from(3)
            }
            Err(e) => fail(e),
        },
        other => return Err(UsageError(format!("unknown action {other:?}"))),
    })
}

fn stop(paths: &Paths) -> ExitCode {
    let pid = connection::running_agent_pid(paths);
    match Connection::connect(paths, Duration::from_secs(1)).and_then(|mut c| c.request(&Request::Shutdown)) {
        Ok(_) => {}
        Err(ClientError::NotRunning(_)) if pid.is_none() => {
            println!("vigild is not running");
            return ExitCode::SUCCESS;
        }
        // Not answering (or another protocol): fall back to a signal.
        Err(_) => {
            connection::terminate_agent(paths, Duration::from_secs(10));
        }
    }
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while connection::running_agent_pid(paths).is_some() {
        if std::time::Instant::now() > until {
            return fail("the agent did not stop within 10 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("vigild stopped");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_order() {
        assert!(super::older("0.1.0", "0.2.0"));
        assert!(super::older("0.9.9", "0.10.0"));
        assert!(!super::older("0.1.0", "0.1.0"));
        assert!(!super::older("1.0.0", "0.9.0"));
    }
}
