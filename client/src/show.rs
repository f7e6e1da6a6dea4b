//! `vigil recent`, `vigil status`, `vigil config` and `vigil rules`: what the agent stored,
//! how it is doing and what it applies, and the small formatting helpers the other views
//! share.

use crate::args::{json_only, unknown_arg, Arg, Args, UsageError};
use crate::manage::{ask, unexpected};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
pub use vigil::printable::printable;
use vigil::protocol::{EventRecord, Request, Response, StatusReport};

/// Help for `vigil recent`.
pub const RECENT_USAGE: &str = concat!(
    "\
Usage: vigil recent [-n N] [FILTERS] [--json]

Shows the latest commands, newest first, one a row that fits the terminal (the command is cut
with … when it would wrap; --json gives it whole, up to 2000 bytes).
  -n N     how many (default 20)
  --json   one JSON object per line: id, session, shell, command, cwd, started_at (ms),
           duration_ms, exit_code, label, p_unsafe, reason, model_version
Filters (as `vigil search`):
",
    filter_help!(),
    "
Examples:
  vigil recent -n 5
  vigil recent --exit 1 --since 2h
"
);

/// Help for `vigil status`.
pub const STATUS_USAGE: &str = "\
Usage: vigil status [--json]

Shows the agent (starting it if needed), the store, the labels and the model.
Example:
  vigil status --json | jq .events
";

/// `vigil recent`
pub fn recent(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut limit, mut json) = (20u32, false);
    let mut filter = vigil::protocol::EventFilter::default();
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "-n" | "--limit" => limit = args.number(&o)?,
                "--json" => json = true,
                "--regex" => return Err(UsageError("--regex is for `vigil search PATTERN`".into())),
                other if crate::filter::take(other, &mut args, &mut filter)? => {}
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    match fetch(&filter, limit) {
        Ok(events) => {
            print_events(&events, json);
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

/// Up to `limit` events that pass `filter`, newest first, a page at a time (a page is
/// bounded in bytes, whatever the commands' length).
pub fn fetch(filter: &vigil::protocol::EventFilter, limit: u32) -> Result<Vec<EventRecord>, ExitCode> {
    let mut events: Vec<EventRecord> = Vec::new();
    let mut before = None;
    while events.len() < limit as usize {
        let want = limit - events.len() as u32;
        let page = match ask(&Request::Search { filter: filter.clone(), limit: want, before }, Duration::from_secs(60))
        {
            Ok(Response::Events(page)) => page,
            Ok(other) => return Err(unexpected(&other)),
            Err(code) => return Err(code),
        };
        let Some(last) = page.last() else { break };
        before = Some((last.started_at, last.id));
        events.extend(page);
    }
    Ok(events)
}

/// The columns of stdout's terminal, if it is one (`COLUMNS` wins).
fn terminal_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()).filter(|c| *c > 0) {
        return Some(c);
    }
    let ws = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

/// Prints events as JSON lines, or as a table with a header that fits the terminal.
pub fn print_events(events: &[EventRecord], json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        for e in events {
            if writeln!(out, "{}", serde_json::to_string(e).unwrap_or_default()).is_err() {
                return;
            }
        }
        return;
    }
    let color = color_wanted();
    let cwd_width = events.iter().map(|e| short_cwd(e.cwd.as_deref()).chars().count()).max().unwrap_or(1).max(6);
    // time 19, exit 4, duration 7, risk 11, folder, two spaces between.
    let before_command = 19 + 2 + 4 + 2 + 7 + 2 + 11 + 2 + cwd_width + 2;
    let room = terminal_width().map_or(usize::MAX, |w| w.saturating_sub(before_command).max(10));
    let header =
        format!("{:<19}  {:>4}  {:>7}  {:<11}  {:<cwd_width$}  COMMAND", "TIME", "EXIT", "TOOK", "RISK", "FOLDER");
    let header = if color { format!("\x1b[1m{header}\x1b[0m") } else { header };
    if events.is_empty() {
        let _ = writeln!(out, "no commands match");
        return;
    }
    if writeln!(out, "{header}").is_err() {
        return;
    }
    for e in events {
        if writeln!(out, "{}", human_event(e, cwd_width, color, room)).is_err() {
            break;
        }
    }
}

/// The folder, at most 30 characters, keeping its end; escaped like a command: a folder's name may hold any byte but `/` and NUL.
fn short_cwd(cwd: Option<&str>) -> String {
    let cwd = printable(cwd.unwrap_or("-"), usize::MAX);
    let n = cwd.chars().count();
    if n <= 30 {
        cwd
    } else {
        format!("…{}", cwd.chars().skip(n - 29).collect::<String>())
    }
}

/// One row: time, exit code, duration, risk, folder, command; aligned, coloured on a terminal.
fn human_event(e: &EventRecord, cwd_width: usize, color: bool, room: usize) -> String {
    let paint = |code: &str, text: String| {
        if color && !code.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    };
    let exit = format!("{:>4}", e.exit_code.map_or("-".to_string(), |c| c.to_string()));
    let exit = paint(if e.exit_code.is_some_and(|c| c != 0) { "31" } else { "" }, exit);
    let dur = match e.duration_ms {
        Some(d) if d >= 60_000 => format!("{}m{:02}s", d / 60_000, d % 60_000 / 1000),
        Some(d) if d >= 1000 => format!("{:.1}s", d as f64 / 1000.0),
        Some(d) => format!("{d}ms"),
        None => "-".to_string(),
    };
    let (risk, code) = match (e.label.as_deref(), e.p_unsafe) {
        (Some("unsafe"), Some(p)) => (format!("unsafe {:>3.0}%", p * 100.0), "31"),
        (Some("unknown"), Some(p)) => (format!("?      {:>3.0}%", p * 100.0), "33"),
        (Some("safe"), Some(p)) => (format!("safe   {:>3.0}%", p * 100.0), "2"),
        _ => ("-".to_string(), ""),
    };
    let risk = paint(code, format!("{risk:<11}"));
    let cwd = paint("2", format!("{:<cwd_width$}", short_cwd(e.cwd.as_deref())));
    let command = printable(&e.command, room);
    format!("{}  {exit}  {dur:>7}  {risk}  {cwd}  {command}", local_time(e.started_at))
}

/// Whether to colour what goes to stdout: a terminal, and no `NO_COLOR`.
pub fn color_wanted() -> bool {
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `one` when `n` is 1, `many` otherwise: the word that goes with a count (`1 command`,
/// `2 commands`, `1 looks`, `2 look`).
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `n` and its word: `1 command`, `2 commands`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

/// How long ago `ms` was, in a few characters: `just now`, `5 min ago`, `3 h ago`, `1 day ago`,
/// `4 days ago`.
pub fn ago(ms: i64) -> String {
    let secs = (vigil::now_ms() - ms).max(0) / 1000;
    match secs {
        0..=59 => "just now".to_string(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} ago", count((secs / 86_400) as u64, "day", "days")),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in local time.
pub fn local_time(ms: i64) -> String {
    let secs = (ms / 1000) as libc::time_t;
    // SAFETY: localtime_r writes only into the tm we pass it. (Neither std nor rustix converts
    // to local time; a crate for it would cost the hook client more than these lines.)
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return ms.to_string();
        }
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// `vigil status`
pub fn status(args: Args) -> Result<ExitCode, UsageError> {
    let json = json_only(args)?;
    let report = match ask(&Request::Status, Duration::from_secs(30)) {
        Ok(Response::Status(r)) => r,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        print!("{}", human_status(&report));
    }
    Ok(if report.storage_error.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn human_status(r: &StatusReport) -> String {
    let mut s = format!(
        "agent     vigild {} (pid {}, protocol {}, up {}s)\nsocket    {}\ndatabase  {}\nconfig    {}\nevents    {} stored, {} pending, journal {}\n",
        r.version,
        r.pid,
        r.protocol,
        r.uptime_secs,
        r.socket,
        r.database,
        r.config_path,
        r.events,
        r.pending,
        count(r.journal_bytes, "byte", "bytes")
    );
    for p in &r.config_problems {
        s.push_str(&format!("  PROBLEM {}\n", printable(p, usize::MAX)));
    }
    if let Some(e) = &r.storage_error {
        s.push_str(&format!("PROBLEM   the store is failing; events are kept in the journal until it recovers: {e}\n"));
    }
    s.push_str(&format!("labels    {}\n", r.labels));
    for e in &r.label_errors {
        if e.line == 0 {
            s.push_str(&format!("  PROBLEM {}\n", e.error));
        } else {
            s.push_str(&format!("  line {}: {} ({:?})\n", e.line, e.error, e.text));
        }
    }
    match r.model_version {
        Some(v) => s.push_str(&format!("model     v{v}, trained {}\n", r.trained_at.map_or("-".into(), local_time))),
        None => s.push_str("model     none yet (rules only)\n"),
    }
    if let Some(t) = &r.last_training {
        s.push_str(&format!("training  {t}\n"));
    }
    s
}

/// Help for `vigil config`.
pub const CONFIG_USAGE: &str = "\
Usage: vigil config [--json]
       vigil config check [--json]

Prints the configuration file's path, then the agent's effective configuration: every key,
its value, and where the value came from (default, config.toml, environment, flags).
README.md lists every key.

`check` reads config.toml and the VIGIL_* variables as the agent would, without one, and
prints each problem as `config.toml:LINE: KEY: what is wrong` (exit 1 if any). A bad key
never stops the agent: it takes its default.
Examples:
  vigil config | grep model
  vigil config check
";

/// `vigil config`
pub fn config(mut args: Args) -> Result<ExitCode, UsageError> {
    let mut json = false;
    let mut check = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) if o == "--json" => json = true,
            Arg::Value(v) if v == "check" && !check => check = true,
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    if check {
        return Ok(config_check(json));
    }
    let rows = match ask(&Request::Config, Duration::from_secs(30)) {
        Ok(Response::Config(rows)) => rows,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    let path = vigil::paths::Paths::from_env().map(|p| p.config.display().to_string()).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    if !json {
        let _ = writeln!(out, "# config file: {path}");
    }
    let width = rows.iter().map(|r| r.0.len() + r.1.len() + 3).max().unwrap_or(0);
    for (k, v, src) in rows {
        let line = if json {
            serde_json::json!({"key": k, "value": v, "source": src}).to_string()
        } else {
            format!("{:<width$} # {src}", format!("{k} = {v}"))
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Help for `vigil rules`.
pub const RULES_USAGE: &str = "\
Usage: vigil rules [--json]

Lists every hard rule in force, in the order they are tried: id, category, severity,
message, and source (built-in, or config for your [[rules.custom]] entries). A hit makes a
command unsafe whatever the model says; [rules] disable = [\"id\", ...] in config.toml turns
a built-in rule off.
  --json   one JSON object per line: id, category, severity, message, source
Example:
  vigil rules | grep git:
";

/// `vigil rules`
pub fn rules(args: Args) -> Result<ExitCode, UsageError> {
    let json = json_only(args)?;
    let rows = match ask(&Request::Rules, Duration::from_secs(30)) {
        Ok(Response::Rules(rows)) => rows,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    let mut out = std::io::stdout().lock();
    let width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rows {
        let line = if json {
            serde_json::json!({"id": r.id, "category": r.category, "severity": r.severity, "message": r.message, "source": r.source})
                .to_string()
        } else {
            format!("{:<width$}  {:<8}  {:<8}  {}", r.id, r.severity, r.source, r.message)
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vigil config check`: the agent binary checks, so that the rules are the agent's own.
fn config_check(json: bool) -> ExitCode {
    let mut cmd = std::process::Command::new(vigil::connection::agent_binary());
    cmd.arg("config-check");
    if json {
        cmd.arg("--json");
    }
    match cmd.status() {
        Ok(st) => match st.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
            None => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("vigil: cannot run {}: {e}", vigil::connection::agent_binary().display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_in_words() {
        let now = vigil::now_ms();
        assert_eq!(ago(now), "just now");
        assert_eq!(ago(now - 5 * 60_000), "5 min ago");
        assert_eq!(ago(now - 3 * 3_600_000), "3 h ago");
        assert_eq!(ago(now - 4 * 86_400_000), "4 days ago");
        assert_eq!(ago(now - 86_400_000 - 5_000), "1 day ago");
    }

    #[test]
    fn counts_take_the_right_word() {
        assert_eq!(count(0, "event", "events"), "0 events");
        assert_eq!(count(1, "event", "events"), "1 event");
        assert_eq!(count(2, "event", "events"), "2 events");
        assert_eq!(noun(1, "looks", "look"), "looks");
        assert_eq!(noun(3, "looks", "look"), "look");
    }
}
