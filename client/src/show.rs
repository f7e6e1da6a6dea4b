//! `vigil recent`, `vigil status` and `vigil config`: what the agent stored and how it is
//! doing, and the small formatting helpers the other views share.

use crate::args::{Args, UsageError};
use crate::manage::{ask, unexpected};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use vigil::protocol::{EventRecord, Request, Response, StatusReport};

/// Help for `vigil recent`.
pub const RECENT_USAGE: &str = "\
Usage: vigil recent [-n N] [--json]

Shows the latest commands, newest first.
  -n N     how many (default 20)
  --json   one JSON object per line: id, session, shell, command, cwd, started_at (ms),
           duration_ms, exit_code, label, p_unsafe, reason, model_version

Example:
  vigil recent -n 5
";

/// Help for `vigil status`.
pub const STATUS_USAGE: &str = "\
Usage: vigil status [--json]

Shows the agent (starting it if needed), the store, the labels and the model.
Example:
  vigil status --json | jq .events
";

/// `vigil recent`
pub fn recent(mut args: Args) -> Result<ExitCode, UsageError> {
    let limit = args.number::<u32>(&["-n", "--limit"])?.unwrap_or(20);
    let json = args.flag(&["--json"]);
    args.finish()?;
    let events = match ask(&Request::Recent { limit }, Duration::from_secs(30)) {
        Ok(Response::Events(events)) => events,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    let mut out = std::io::stdout().lock();
    let color = !json && color_wanted();
    let cwd_width = events.iter().map(|e| short_cwd(e.cwd.as_deref()).chars().count()).max().unwrap_or(1);
    for e in &events {
        let line = if json { serde_json::to_string(e).unwrap_or_default() } else { human_event(e, cwd_width, color) };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
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
fn human_event(e: &EventRecord, cwd_width: usize, color: bool) -> String {
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
    let command = printable(&e.command, usize::MAX);
    format!("{}  {exit}  {dur:>7}  {risk}  {cwd}  {command}", local_time(e.started_at))
}

/// Whether to colour what goes to stdout: a terminal, and no `NO_COLOR`.
pub fn color_wanted() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    let terminal = unsafe { libc::isatty(1) == 1 };
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `text` as one printable line of at most `max` characters, safe to write to a terminal.
///
/// Commands, folders and warnings are the person's (or an attacker's) bytes: an escape
/// sequence in them must not drive the terminal (`\e[8m` hides what follows, `\r` overwrites
/// the line, OSC sequences set the title or the clipboard). Every control character is shown
/// escaped instead, in one style: `\e`, `\r`, `\t`, `\x07` for the other C0 controls and DEL,
/// `\u{9b}` for C1 controls and for the invisible Unicode characters that reorder or hide text
/// (bidirectional overrides, zero-width characters, line separators). A newline is `⏎`, so
/// that a multi-line command stays one row. A backslash stays as it is: commands are full of
/// them, and the point is that the terminal cannot be driven, not that the text reads back
/// byte for byte. The text is cut whole escapes at a time, never inside one.
pub fn printable(text: &str, max: usize) -> String {
    let mut pieces = Vec::with_capacity(text.len());
    let mut width = 0usize;
    for c in text.chars() {
        let piece = escape_char(c);
        width += piece.as_ref().map_or(1, |p| p.chars().count());
        pieces.push((c, piece));
    }
    let mut s = String::with_capacity(text.len());
    if width <= max {
        for (c, piece) in &pieces {
            match piece {
                Some(p) => s.push_str(p),
                None => s.push(*c),
            }
        }
        return s;
    }
    let room = max.saturating_sub(1);
    let mut used = 0;
    for (c, piece) in &pieces {
        let n = piece.as_ref().map_or(1, |p| p.chars().count());
        if used + n > room {
            break;
        }
        used += n;
        match piece {
            Some(p) => s.push_str(p),
            None => s.push(*c),
        }
    }
    s.push('…');
    s
}

/// How [`printable`] shows `c`, or `None` when `c` is shown as itself.
fn escape_char(c: char) -> Option<String> {
    Some(match c {
        '\n' => "⏎".to_string(),
        '\x1b' => "\\e".to_string(),
        '\r' => "\\r".to_string(),
        '\t' => "\\t".to_string(),
        '\0'..='\x1f' | '\x7f' => format!("\\x{:02x}", c as u32),
        // C1 controls (U+0080..U+009F: U+009B is a one-character CSI on many terminals), and
        // the characters that reorder or hide text without showing themselves.
        '\u{80}'..='\u{9f}' | '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' => {
            format!("\\u{{{:x}}}", c as u32)
        }
        _ => return None,
    })
}

/// How long ago `ms` was, in a few characters: `just now`, `5 min ago`, `3 h ago`, `4 days ago`.
pub fn ago(ms: i64) -> String {
    let secs = (vigil::now_ms() - ms).max(0) / 1000;
    match secs {
        0..=59 => "just now".to_string(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in local time.
pub fn local_time(ms: i64) -> String {
    let secs = (ms / 1000) as libc::time_t;
    // SAFETY: localtime_r writes only into the tm we pass it.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return ms.to_string();
        }
        tm
    };
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// `vigil status`
pub fn status(mut args: Args) -> Result<ExitCode, UsageError> {
    let json = args.flag(&["--json"]);
    args.finish()?;
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
        "agent     vigild {} (pid {}, protocol {}, up {}s)\nsocket    {}\ndatabase  {}\nevents    {} stored, {} pending, journal {} bytes\n",
        r.version, r.pid, r.protocol, r.uptime_secs, r.socket, r.database, r.events, r.pending, r.journal_bytes
    );
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

Prints the agent's effective configuration: every key, its value, and where the value came
from (default, config.toml, environment, flags). README.md lists every key.
Example:
  vigil config | grep model
";

/// `vigil config`
pub fn config(mut args: Args) -> Result<ExitCode, UsageError> {
    let json = args.flag(&["--json"]);
    args.finish()?;
    let rows = match ask(&Request::Config, Duration::from_secs(30)) {
        Ok(Response::Config(rows)) => rows,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    let mut out = std::io::stdout().lock();
    let width = rows.iter().map(|r| r.0.len() + r.1.len() + 3).max().unwrap_or(0);
    for (k, v, src) in rows {
        let line =
            if json { serde_json::json!({"key": k, "value": v, "source": src}).to_string() } else { format!("{:<width$} # {src}", format!("{k} = {v}")) };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_and_shortens() {
        assert_eq!(printable("echo \x1b[31mred", 80), r"echo \e[31mred");
        assert_eq!(printable("abcdef", 4), "abc…");
        assert_eq!(printable("a\nb\tc", usize::MAX), r"a⏎b\tc");
        assert_eq!(printable("over\rwrite", 80), r"over\rwrite");
        assert_eq!(printable("bell\x07 nul\0 del\x7f us\x1f", 80), r"bell\x07 nul\x00 del\x7f us\x1f");
        // C1: U+009B is CSI by itself on terminals that take 8-bit controls.
        assert_eq!(printable("c1 \u{9b}2J \u{85}", 80), r"c1 \u{9b}2J \u{85}");
        // Text that reorders or hides itself: right-to-left override, zero-width space.
        assert_eq!(printable("ls \u{202e}txt.exe \u{200b}x \u{2066}", 80), r"ls \u{202e}txt.exe \u{200b}x \u{2066}");
        // What is printable stays as it is: backslashes, quotes, unicode text.
        assert_eq!(printable(r"printf 'a\n' 'ünïcødé ✓' \e", 80), r"printf 'a\n' 'ünïcødé ✓' \e");
    }

    #[test]
    fn printable_never_writes_a_raw_control_character() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        for max in [usize::MAX, 50, 7, 1, 0] {
            let shown = printable(&all, max);
            assert!(shown.chars().all(|c| escape_char(c).is_none()), "{max}: {shown:?}");
        }
    }

    #[test]
    fn printable_cuts_between_escapes() {
        // Room for "ab" and one 2-character escape, not for the 6-character one after it.
        assert_eq!(printable("ab\x1b\u{9b}cdef", 6), r"ab\e…");
        assert_eq!(printable("ab\x1b", 5), r"ab\e");
        assert_eq!(printable("\u{9b}\u{9b}", 7), r"\u{9b}…");
    }

    #[test]
    fn ago_in_words() {
        let now = vigil::now_ms();
        assert_eq!(ago(now), "just now");
        assert_eq!(ago(now - 5 * 60_000), "5 min ago");
        assert_eq!(ago(now - 3 * 3_600_000), "3 h ago");
        assert_eq!(ago(now - 4 * 86_400_000), "4 days ago");
    }
}
