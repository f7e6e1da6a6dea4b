//! `vigil hook start|end`: what the shell hooks exec around every command.
//!
//! The rules here are the shell's, not ours: never make the person wait more than a few
//! milliseconds, never print anything but the advisory warning (stderr) and the prompt segment
//! (stdout), and exit 0 from `start` only when the event is kept, live or in the spool.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use crate::show::printable;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;
use vigil::channel::{history_line_text, render_segment};
use vigil::connection::{spawn_agent, terminate_agent, ClientError, Connection};
use vigil::paths::Paths;
use vigil::privacy::is_recorded;
use vigil::protocol::{CommandEnd, CommandStart, Request, Response, PROTOCOL_VERSION};

/// Default deadline for connecting and for the reply, each.
const DEFAULT_TIMEOUT_MS: u64 = 20;

fn hook_timeout() -> Duration {
    let ms = std::env::var("VIGIL_HOOK_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_MS);
    Duration::from_millis(ms.clamp(1, 5_000))
}

/// Reads the command line the bash hook left in its in-memory scratch file, and empties the
/// file at once: the command line must not linger anywhere.
fn take_history_file(path: &str) -> Option<String> {
    let raw = std::fs::read(path).ok()?;
    let _ = std::fs::File::create(path);
    Some(String::from_utf8_lossy(&raw).into_owned())
}

/// Splits what the hook handed over at its first NUL byte, when `expected_follows`: before it
/// the command (or `history 1` output), after it the text the command must equal. A shell
/// string cannot hold a NUL, so the split is unambiguous.
fn split_expected(input: String, expected_follows: bool) -> (String, Option<String>) {
    if !expected_follows {
        return (input, None);
    }
    match input.split_once('\0') {
        Some((text, expected)) => (text.to_string(), Some(expected.to_string())),
        // The hook said an expected text follows and none came: record nothing rather
        // than a line history may have been told to drop.
        None => (input, Some(String::from("\0"))),
    }
}

/// `vigil hook start --shell S --session ID [--seq N] [--cwd DIR] --stdin`
///
/// The command line never travels in argv: any local user can read `/proc/PID/cmdline`. The
/// hooks hand it over on stdin (`--stdin`), or, for bash, as `history 1` output (`  NUMBER  LINE`)
/// in a private 0600 file on tmpfs (`--history-file F`, emptied at once) or on stdin
/// (`--history-stdin`). `--expected-follows`: after a NUL byte in that input comes the text the
/// line must equal to be recorded (bash did not add a new history entry: a repeat under
/// ignoredups is recorded, a command history was told to drop is not).
///
/// `--spool-only` keeps the event in the spool without trying the agent: the zsh hook's way
/// while its channel finds the agent frozen, so that a frozen agent costs a command no
/// deadline.
///
/// For compatibility only, and used by no hook: `-- COMMAND`, `--history-line L` and
/// `--only-if-equals S` take the same texts from argv.
pub fn start(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut shell, mut session, mut seq, mut cwd) = (None, None, None, None);
    let (mut from_stdin, mut history_file, mut history_line, mut history_stdin) = (false, None, None, false);
    let (mut expected_follows, mut only_if, mut spool_only) = (false, None, false);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "--shell" => shell = Some(args.value(&o)?),
                "--session" => session = Some(args.value(&o)?),
                "--seq" => seq = Some(args.number::<u64>(&o)?),
                "--cwd" => cwd = Some(args.value(&o)?),
                "--stdin" => from_stdin = true,
                "--history-file" => history_file = Some(args.value(&o)?),
                "--history-line" => history_line = Some(args.any_value(&o)?),
                "--history-stdin" => history_stdin = true,
                "--expected-follows" => expected_follows = true,
                "--only-if-equals" => only_if = Some(args.any_value(&o)?),
                "--spool-only" => spool_only = true,
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            other => return Err(unknown_arg(other)),
        }
    }
    let shell = shell.ok_or_else(|| UsageError("--shell is required".into()))?;
    let session = session.ok_or_else(|| UsageError("--session is required".into()))?;
    let trailing = args.trailing();
    let read_stdin = || {
        let mut buf = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    };
    let (input, from_history) = if let Some(f) = history_file {
        (take_history_file(&f).unwrap_or_default(), true)
    } else if let Some(raw) = history_line {
        (raw, true)
    } else if history_stdin {
        (read_stdin(), true)
    } else if from_stdin {
        (read_stdin(), false)
    } else {
        (trailing.join(" "), false)
    };
    let (text, expected) = split_expected(input, expected_follows);
    only_if = expected.or(only_if);
    let command = if from_history { history_line_text(&text).unwrap_or_default().to_string() } else { text };
    if !is_recorded(&command) || only_if.is_some_and(|s| s != command) {
        return Ok(ExitCode::SUCCESS);
    }
    let cwd = cwd.or_else(|| std::env::current_dir().ok().map(|d| d.display().to_string()));
    let req = Request::Start(CommandStart { session, seq, shell, command, cwd, started_at_ms: vigil::now_ms() });
    let Ok(paths) = Paths::from_env() else {
        // Without paths there is nowhere to keep the event, and nowhere to log: stay silent.
        return Ok(ExitCode::FAILURE);
    };
    let delivery = if spool_only { spool(&paths, &req) } else { deliver(&paths, &req, hook_timeout()) };
    let mut err = std::io::stderr();
    // Everything shown is escaped: the warning quotes the command (and may one day quote its
    // folder), so an escape sequence typed or pasted into a command cannot hide the warning,
    // rewrite the line or drive the terminal.
    if let Delivery::Live(Response::Started { notice: Some(n), .. }) = &delivery {
        // Once per shell: what is wrong in config.toml.
        let _ = writeln!(err, "{}", printable(n, usize::MAX));
    }
    if let Some(w) = warning(&req, &delivery, |c, cwd| vigil::offline::warning(&paths.config, c, cwd)) {
        let _ = writeln!(err, "{}", printable(&w, usize::MAX));
    }
    Ok(delivery.exit_code())
}

/// The warning to show before a command, if any, unless `VIGIL_WARN=0`: the agent's, or, when
/// no agent answered, the hard rules' (`offline`, given the command and its folder; the event
/// went to the spool).
pub fn warning(
    req: &Request,
    delivery: &Delivery,
    offline: impl FnOnce(&str, Option<&str>) -> Option<String>,
) -> Option<String> {
    if std::env::var_os("VIGIL_WARN").is_some_and(|v| v == "0") {
        return None;
    }
    match (delivery, req) {
        (Delivery::Live(Response::Started { warning, .. }), _) => warning.clone(),
        (Delivery::Live(_), _) => None,
        (_, Request::Start(s)) => offline(&s.command, s.cwd.as_deref()),
        _ => None,
    }
}

/// `vigil hook end --shell S --session ID [--seq N] --exit CODE [--duration-ms N] [--spool-only]`
pub fn end(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut shell, mut session, mut seq, mut exit_code, mut duration_ms) = (None, None, None, None, None);
    let mut spool_only = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "--shell" => shell = Some(args.value(&o)?),
                "--session" => session = Some(args.value(&o)?),
                "--seq" => seq = Some(args.number::<u64>(&o)?),
                "--exit" => exit_code = Some(args.number::<i32>(&o)?),
                "--duration-ms" => duration_ms = Some(args.number::<i64>(&o)?),
                "--spool-only" => spool_only = true,
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    let shell = shell.ok_or_else(|| UsageError("--shell is required".into()))?;
    let session = session.ok_or_else(|| UsageError("--session is required".into()))?;
    let exit_code = exit_code.ok_or_else(|| UsageError("--exit is required".into()))?;
    let req = Request::End(CommandEnd { session, seq, exit_code, duration_ms, ended_at_ms: vigil::now_ms() });
    let Ok(paths) = Paths::from_env() else {
        return Ok(ExitCode::FAILURE);
    };
    let delivery = if spool_only { spool(&paths, &req) } else { deliver(&paths, &req, hook_timeout()) };
    if let Delivery::Live(Response::Ended { segment: Some(seg) }) = &delivery {
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let _ = std::io::stdout().write_all(render_segment(seg, &shell, color).as_bytes());
    }
    Ok(delivery.exit_code())
}

/// What became of an event handed to the agent. (Made once per command and matched at once:
/// boxing the reply would only add an allocation.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Delivery {
    /// The agent answered.
    Live(Response),
    /// No agent answered; the event is in the spool. `timed_out`: an agent was there and did
    /// not answer in time (frozen or swamped), rather than none at all.
    Spooled {
        /// Whether the agent timed out.
        timed_out: bool,
    },
    /// The event could not be kept (the reason is in the client log).
    Lost,
}

impl Delivery {
    /// The hook's exit code: 0 when the event is kept, live or in the spool.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Delivery::Lost => ExitCode::FAILURE,
            _ => ExitCode::SUCCESS,
        }
    }
}

/// Sends `req` live, waiting at most `timeout` to connect and as long for the reply, or keeps
/// it in the spool; starts or replaces the agent as needed.
pub fn deliver(paths: &Paths, req: &Request, timeout: Duration) -> Delivery {
    settle(paths, req, Connection::connect(paths, timeout).and_then(|mut c| c.request(req)))
}

/// What becomes of `req` given how asking the agent went: the reply, or the spool (starting or
/// replacing the agent as needed).
pub fn settle(paths: &Paths, req: &Request, live: Result<Response, ClientError>) -> Delivery {
    let mut timed_out = false;
    match live {
        Ok(reply) => return Delivery::Live(reply),
        Err(ClientError::NotRunning(_)) => {
            if let Err(e) = spawn_agent(paths, false) {
                log(paths, &format!("hook: {e}"));
            }
        }
        Err(ClientError::ProtocolMismatch { agent }) if agent < PROTOCOL_VERSION => {
            log(paths, &format!("hook: replacing an agent that speaks protocol {agent}"));
            terminate_agent(paths, Duration::ZERO);
            if let Err(e) = spawn_agent(paths, true) {
                log(paths, &format!("hook: {e}"));
            }
        }
        Err(e) => {
            timed_out = matches!(e, ClientError::Timeout);
            log(paths, &format!("hook: {e}; spooling the event"));
        }
    }
    match spool(paths, req) {
        Delivery::Spooled { .. } => Delivery::Spooled { timed_out },
        other => other,
    }
}

/// Keeps `req` in the spool without trying the agent. The agent may have taken the request
/// before timing out; events are keyed, so the spooled copy of the same event cannot become a
/// second one. The spool is on disk: the person's privacy policy applies before it
/// (`spool::keep`).
pub fn spool(paths: &Paths, req: &Request) -> Delivery {
    let spooled = vigil::paths::ensure_private_dir(&paths.data_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| vigil::spool::keep(&paths.spool, &paths.config, req).map(drop).map_err(|e| e.to_string()));
    match spooled {
        Ok(()) => Delivery::Spooled { timed_out: false },
        Err(e) => {
            log(paths, &format!("hook: cannot spool the event: {e}"));
            Delivery::Lost
        }
    }
}

/// The `scored` reply line for `text`, a line not run yet: the agent's, asked within
/// `timeout` (`None`: do not ask), or the hard rules' (`offline`: `rule` and the warning, or
/// `unknown`).
pub fn check_line(
    paths: &Paths,
    timeout: Option<Duration>,
    (session, seq, text): (&str, u64, &str),
    offline: impl FnOnce(&str) -> Option<String>,
) -> String {
    if let Some(timeout) = timeout {
        let message = vigil::channel::encode(&["check", session, &seq.to_string(), text]);
        if let Ok(line) = Connection::connect(paths, timeout).and_then(|mut c| c.channel_exchange(&message)) {
            return line;
        }
    }
    match offline(text) {
        Some(w) => vigil::channel::scored_line(seq, "rule", Some(&w)),
        None => vigil::channel::scored_line(seq, "unknown", None),
    }
}

/// `vigil hook check --session ID`: the verdict on the line on stdin, which is not run yet, as
/// the channel's `scored` reply line (fish's second Enter, which has no channel).
pub fn check(mut args: Args) -> Result<ExitCode, UsageError> {
    let mut session = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) if o == "--session" => session = Some(args.value(&o)?),
            other => return Err(unknown_arg(other)),
        }
    }
    let session = session.ok_or_else(|| UsageError("--session is required".into()))?;
    let mut text = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut text);
    let Ok(paths) = Paths::from_env() else {
        return Ok(ExitCode::FAILURE);
    };
    let text = String::from_utf8_lossy(&text);
    let line = check_line(&paths, Some(hook_timeout()), (&session, 0, &text), |t| {
        vigil::offline::warning(&paths.config, t, None)
    });
    let _ = std::io::stdout().write_all(line.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// `vigil hook scratch [--file NAME]`: prints a private folder in memory (tmpfs) where the
/// bash hook may keep the current command line for a moment, or nothing if there is none.
/// Reading a builtin's output through a file there costs the shell no fork; the folder is
/// checked like the socket's (0700, ours, no symlink) and is never on disk. With `--file`, the
/// file NAME is created there, 0600 (the shell would create it with the person's umask), and
/// its path printed instead.
///
/// `VIGIL_SCRATCH=0` turns the folder off: the hook then pipes `history 1` to the client's
/// stdin (one fork more per command), as it does wherever no tmpfs is at hand. For a person
/// who wants no file at all, and for the tests of that path.
pub fn scratch(mut args: Args) -> Result<ExitCode, UsageError> {
    let mut file = None;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) if o == "--file" => file = Some(args.value(&o)?),
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    if file.as_deref().is_some_and(|f| f.is_empty() || f.contains('/') || f == "." || f == "..") {
        return Err(UsageError("--file takes a file name, not a path".into()));
    }
    if std::env::var_os("VIGIL_SCRATCH").is_some_and(|v| v == "0") {
        return Ok(ExitCode::SUCCESS);
    }
    let candidates = [
        std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|v| !v.is_empty())
            .map(|d| std::path::PathBuf::from(d).join("vigil")),
        Some(std::path::PathBuf::from(format!("/dev/shm/vigil-{}", rustix::process::geteuid().as_raw()))),
    ];
    for dir in candidates.into_iter().flatten() {
        let on_tmpfs = dir.parent().is_some_and(is_tmpfs);
        if !on_tmpfs || vigil::paths::ensure_private_dir(&dir).is_err() {
            continue;
        }
        match &file {
            None => println!("{}", dir.display()),
            Some(name) => {
                let path = dir.join(name);
                if private_file(&path).is_err() {
                    continue;
                }
                println!("{}", path.display());
            }
        }
        break;
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `path` empty and 0600, or makes an existing regular file of ours so; never follows
/// a symlink.
fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() || meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(std::io::Error::other("not a file of ours"));
    }
    if meta.permissions().mode() & 0o777 != 0o600 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

// f_type is i64 here, i32 or u32 on other architectures.
#[allow(clippy::unnecessary_cast)]
fn is_tmpfs(dir: &std::path::Path) -> bool {
    rustix::fs::statfs(dir).is_ok_and(|st| st.f_type as i64 == libc::TMPFS_MAGIC)
}

/// Appends one line to the client log. The client does not carry a tracing subscriber: a
/// hook pays for every microsecond of start-up, and it logs only when something is wrong.
pub fn log(paths: &Paths, msg: &str) {
    use std::os::unix::fs::DirBuilderExt;
    let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&paths.log_dir);
    // 1 MB, then client.log.1: a hook that fails at every command must not fill the disk.
    let line = format!("{} pid={} {msg}", vigil::now_ms(), std::process::id());
    vigil::logfile::append_line(&paths.log_dir.join("client.log"), &line, 1 << 20);
}

#[cfg(test)]
mod tests {
    #[test]
    fn expected_text_follows_a_nul() {
        use super::split_expected;
        assert_eq!(split_expected("  3  ls\n".into(), false), ("  3  ls\n".to_string(), None));
        assert_eq!(split_expected("  3  ls\n\0ls".into(), true), ("  3  ls\n".to_string(), Some("ls".to_string())));
        assert_eq!(split_expected("  3  ls\n\0".into(), true), ("  3  ls\n".to_string(), Some(String::new())));
        // Announced and missing: an expected text no command can equal.
        let (_, none) = split_expected("  3  ls\n".into(), true);
        assert!(none.is_some_and(|e| e != "ls"));
    }
}
