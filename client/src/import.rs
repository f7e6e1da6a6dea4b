//! `vigil import`: brings bash, zsh and fish history files into the store, in batches, with a
//! progress bar on a terminal and a summary at the end.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use crate::manage::{fail, open};
use crate::show::{count, noun};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use vigil::history;
use vigil::protocol::{HistoryEntry, ImportSummary, Request, Response, MAX_FRAME_LEN};

/// Help for `vigil import`.
pub const IMPORT_USAGE: &str = "\
Usage: vigil import [bash|zsh|fish|auto] [--file PATH] [--json]

Brings your existing shell history into vigil: every command is scored, and commands already
stored (recorded live, or imported before) are skipped, so running it again adds only what is
new. `auto` (the default) imports every shell's history file that exists:
  bash  ~/.bash_history (with or without HISTTIMEFORMAT timestamps)
  zsh   ${ZDOTDIR:-~}/.zsh_history (plain or extended history)
  fish  ${XDG_DATA_HOME:-~/.local/share}/fish/fish_history
A history without timestamps is dated to the file's last change, in its order.

  --file PATH   read this file instead (needs the shell)
  --json        one JSON object per file: shell, file, entries, added, duplicates, ignored,
                risky, seconds

Examples:
  vigil import
  vigil import zsh --file ~/backup/.zsh_history
";

/// Commands per request, and bytes of command text per request: well inside a frame.
const BATCH_ENTRIES: usize = 2_000;
const BATCH_BYTES: usize = MAX_FRAME_LEN / 4;

/// `vigil import`
pub fn import(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut which, mut file, mut json) = (None, None, false);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "--file" | "-f" => file = Some(args.value(&o)?),
                "--json" => json = true,
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            Arg::Value(v) if which.is_none() => which = Some(v),
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    let which = which.unwrap_or_else(|| "auto".into());
    let sources: Vec<(&str, PathBuf)> = match (which.as_str(), file) {
        ("auto", Some(_)) => return Err(UsageError("--file needs the shell: vigil import zsh --file PATH".into())),
        ("auto", None) => history::SHELLS
            .iter()
            .filter_map(|s| default_file(s).map(|p| (*s, p)))
            .filter(|(_, p)| p.is_file())
            .collect(),
        (shell, file) => match history::SHELLS.iter().find(|s| **s == shell) {
            Some(s) => match file.map(PathBuf::from).or_else(|| default_file(s)) {
                Some(p) => vec![(*s, p)],
                None => return Ok(fail("cannot find your home folder: give --file PATH")),
            },
            None => return Err(UsageError(format!("unknown shell {shell:?}: use bash, zsh, fish or auto"))),
        },
    };
    if sources.is_empty() {
        return Ok(fail("found no history file of bash, zsh or fish; give one: vigil import zsh --file PATH"));
    }
    let mut conn = match open(Duration::from_secs(120)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    for (shell, path) in sources {
        let started = Instant::now();
        let (bytes, mtime_ms) = match read(&path) {
            Ok(x) => x,
            Err(e) => return Ok(fail(format!("cannot read {}: {e}", path.display()))),
        };
        let entries = history::parse(shell, &bytes, mtime_ms);
        let total = entries.len();
        let bar = ProgressBar::new(total as u64).with_prefix(format!("{shell}: {}", path.display()));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let (batches, too_long) = batches(entries);
        let mut sum = ImportSummary { ignored: too_long, ..ImportSummary::default() };
        bar.inc(too_long);
        for batch in batches {
            let n = batch.len() as u64;
            let reply = conn.request(&Request::Import { shell: shell.to_string(), entries: batch });
            match reply {
                Ok(Response::Imported(s)) => {
                    sum.added += s.added;
                    sum.duplicates += s.duplicates;
                    sum.ignored += s.ignored;
                    sum.risky += s.risky;
                }
                Ok(Response::Error(e)) => {
                    bar.abandon();
                    return Ok(fail(format!("importing {}: {}", path.display(), e.message)));
                }
                Ok(other) => return Ok(crate::manage::unexpected(&other)),
                Err(e) => {
                    bar.abandon();
                    return Ok(fail(format!("importing {}: {e}", path.display())));
                }
            }
            bar.inc(n);
        }
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        if json {
            let line = serde_json::json!({
                "shell": shell, "file": path.display().to_string(), "entries": total, "added": sum.added,
                "duplicates": sum.duplicates, "ignored": sum.ignored, "risky": sum.risky, "seconds": seconds,
            });
            println!("{line}");
        } else {
            println!(
                "{shell}: {} in {}: {} imported, {} already stored, {} not recorded; {} {} risky ({:.1} s)",
                count(total as u64, "command", "commands"),
                path.display(),
                sum.added,
                sum.duplicates,
                sum.ignored,
                sum.risky,
                noun(sum.risky, "looks", "look"),
                seconds
            );
        }
    }
    if !json {
        println!("`vigil stats` shows the riskiest; `vigil review` asks you about the ones the model is unsure of.");
    }
    Ok(ExitCode::SUCCESS)
}

fn default_file(shell: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let zdotdir = std::env::var_os("ZDOTDIR").map(PathBuf::from);
    let xdg_data = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from);
    history::default_file(shell, &home, zdotdir.as_deref(), xdg_data.as_deref())
}

fn read(path: &Path) -> std::io::Result<(Vec<u8>, i64)> {
    let bytes = std::fs::read(path)?;
    let mtime_ms = std::fs::metadata(path)?
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or_else(vigil::now_ms);
    Ok((bytes, mtime_ms))
}

/// Splits entries into requests of bounded count and size. A single command too long for a
/// frame is dropped here (the agent could not take it either) and counted.
fn batches(entries: Vec<HistoryEntry>) -> (Vec<Vec<HistoryEntry>>, u64) {
    let mut out = Vec::new();
    let mut dropped = 0;
    let mut current = Vec::new();
    let mut bytes = 0;
    for e in entries {
        let len = e.command.len() + 64;
        if len > BATCH_BYTES {
            dropped += 1;
            continue;
        }
        if current.len() == BATCH_ENTRIES || bytes + len > BATCH_BYTES {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += len;
        current.push(e);
    }
    if !current.is_empty() {
        out.push(current);
    }
    (out, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(command: String) -> HistoryEntry {
        HistoryEntry { command, started_at: 0, timed: false, duration_ms: None, occurrence: 1 }
    }

    #[test]
    fn batches_are_bounded_and_keep_order() {
        let entries: Vec<_> = (0..4_500).map(|i| entry(format!("echo {i}"))).collect();
        let (b, dropped) = batches(entries);
        assert_eq!(dropped, 0);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [2_000, 2_000, 500]);
        assert_eq!(b[2][499].command, "echo 4499");
        let big = vec![
            entry("x".repeat(BATCH_BYTES / 2)),
            entry("y".repeat(BATCH_BYTES / 2)),
            entry("z".repeat(BATCH_BYTES * 2)),
        ];
        let (b, dropped) = batches(big);
        assert_eq!((b.iter().map(Vec::len).collect::<Vec<_>>(), dropped), (vec![1, 1], 1));
    }
}
