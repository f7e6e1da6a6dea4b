//! `vigil review`: the labelling queue. One key per answer; each answer is appended to the
//! label file at once, so the agent's watcher schedules a retrain.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use crate::learn::append_label;
use crate::manage::{ask, fail, paths, unexpected};
use crate::show::{ago, count, printable};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;
use vigil::protocol::{Request, Response, ReviewItem};

/// Help for `vigil review`.
pub const REVIEW_USAGE: &str = "\
Usage: vigil review [-n N] [--list] [--json]

Asks you about recent commands that have no label, the ones a label would teach the model most
about first (those it is least sure of, then those you run most). One key per answer:
  s  safe      u  unsafe      space or k  skip      q  quit
Each answer is appended to your label file at once; the agent retrains shortly after.

  -n N      how many commands at most (default 50)
  --list    print the queue instead of asking (with --json: one JSON object per line:
            command, count, last_seen, label, p_unsafe, uncertainty, reason)

Examples:
  vigil review
  vigil review --list --json | jq -r .command
";

/// What a key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Safe,
    Unsafe,
    Skip,
    Quit,
}

/// The answer a key gives; `None` for keys that mean nothing here (they are ignored, so that
/// arrow keys and stray bytes do not answer by accident).
fn answer(key: u8) -> Option<Answer> {
    match key {
        b's' | b'S' => Some(Answer::Safe),
        b'u' | b'U' => Some(Answer::Unsafe),
        b' ' | b'k' | b'K' => Some(Answer::Skip),
        // q, Ctrl-C, Ctrl-D
        b'q' | b'Q' | 3 | 4 => Some(Answer::Quit),
        _ => None,
    }
}

/// `vigil review`
pub fn review(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut limit, mut json, mut list) = (50u32, false, false);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "-n" | "--limit" => limit = args.number(&o)?,
                "--json" => json = true,
                "--list" => list = true,
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    let list = list || json;
    let items = match ask(&Request::Review { limit }, Duration::from_secs(60)) {
        Ok(Response::Review(items)) => items,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    if list {
        let mut out = std::io::stdout().lock();
        for item in &items {
            let line = if json {
                serde_json::to_string(item).unwrap_or_default()
            } else {
                format!("{}  {}", describe(item), printable(&item.command, 200))
            };
            if writeln!(out, "{line}").is_err() {
                break;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        println!("nothing to review: every recent command is labelled, or decided by a hard rule");
        return Ok(ExitCode::SUCCESS);
    }
    ask_each(&items)
}

/// Asks about each item in turn, reading single keys (raw mode on a terminal).
fn ask_each(items: &[ReviewItem]) -> Result<ExitCode, UsageError> {
    let paths = match paths() {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let _raw = RawMode::enter();
    let mut out = std::io::stdout().lock();
    let mut input = std::io::stdin().lock();
    let (mut safe, mut unsafe_, mut skipped) = (0, 0, 0);
    // Raw mode turns "\n" into a bare line feed: end lines with "\r\n".
    let _ = write!(
        out,
        "{} to review, the most instructive first (s safe, u unsafe, space skip, q quit)\r\n",
        count(items.len() as u64, "command", "commands")
    );
    'items: for (i, item) in items.iter().enumerate() {
        let _ = write!(
            out,
            "\r\n[{}/{}] {}\r\n  $ {}\r\n  safe, unsafe, skip or quit? [s/u/k/q] ",
            i + 1,
            items.len(),
            describe(item),
            printable(&item.command, 150)
        );
        let _ = out.flush();
        let choice = loop {
            let mut key = [0u8; 1];
            match input.read(&mut key) {
                Ok(0) | Err(_) => break Answer::Quit,
                Ok(_) => {
                    if let Some(a) = answer(key[0]) {
                        break a;
                    }
                }
            }
        };
        let label = match choice {
            Answer::Quit => {
                let _ = write!(out, "quit\r\n");
                break 'items;
            }
            Answer::Skip => {
                skipped += 1;
                let _ = write!(out, "skipped\r\n");
                continue;
            }
            Answer::Safe => "safe",
            Answer::Unsafe => "unsafe",
        };
        if let Err(e) = append_label(&paths, label, item.command.trim()) {
            drop(_raw);
            return Ok(fail(e));
        }
        if label == "safe" {
            safe += 1;
        } else {
            unsafe_ += 1;
        }
        let _ = write!(out, "{label}\r\n");
    }
    let _ = write!(
        out,
        "\r\n{} labelled ({safe} safe, {unsafe_} unsafe), {skipped} skipped; written to {}.\r\n",
        safe + unsafe_,
        paths.labels.display()
    );
    if safe + unsafe_ > 0 {
        let _ = write!(out, "Your labels apply at once; the model retrains shortly (`vigil models` shows it).\r\n");
    }
    Ok(ExitCode::SUCCESS)
}

/// Score, reason and use of a queued command, in one short line.
fn describe(item: &ReviewItem) -> String {
    let verdict = match item.p_unsafe {
        Some(p) => format!("model: {:>3.0}% unsafe", p * 100.0),
        None => "no model yet".to_string(),
    };
    let sure = if item.uncertainty >= 0.6 {
        "unsure"
    } else if item.uncertainty >= 0.3 {
        "fairly sure"
    } else {
        "sure"
    };
    let times = if item.count == 1 { "once".to_string() } else { format!("{} times", item.count) };
    format!("{verdict} ({sure}) · ran {times} · last {}", ago(item.last_seen))
}

/// The terminal in raw mode (keys arrive one at a time, unechoed) for as long as this lives;
/// nothing when stdin is not a terminal.
struct RawMode {
    saved: Option<rustix::termios::Termios>,
}

impl RawMode {
    fn enter() -> RawMode {
        use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, SpecialCodeIndex};
        use std::io::IsTerminal;
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return RawMode { saved: None };
        }
        let Ok(saved) = tcgetattr(&stdin) else { return RawMode { saved: None } };
        let mut t = saved.clone();
        // No line editing, no echo, and Ctrl-C arrives as a key (so the terminal is always
        // restored on the way out).
        t.local_modes.remove(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG);
        t.special_codes[SpecialCodeIndex::VMIN] = 1;
        t.special_codes[SpecialCodeIndex::VTIME] = 0;
        if tcsetattr(&stdin, OptionalActions::Now, &t).is_err() {
            return RawMode { saved: None };
        }
        RawMode { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(answer(b's'), Some(Answer::Safe));
        assert_eq!(answer(b'U'), Some(Answer::Unsafe));
        assert_eq!(answer(b' '), Some(Answer::Skip));
        assert_eq!(answer(3), Some(Answer::Quit));
        assert_eq!(answer(0x1b), None);
        assert_eq!(answer(b'\n'), None);
    }
}
