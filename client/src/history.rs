//! Shell history files: where each shell keeps its history and how to read bash's, zsh's and
//! fish's formats into [`HistoryEntry`]s for `vigil import`.
//!
//! The files are read as they are, whatever bytes they hold: every reader is one pass over
//! the lines, never indexes unchecked, and does not overflow on odd times.
#![deny(clippy::indexing_slicing)]

use crate::protocol::HistoryEntry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The shells whose history can be imported.
pub const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// A command as read from a file, before occurrences are counted.
#[derive(Debug, Clone, PartialEq)]
struct Raw {
    command: String,
    /// Seconds since the epoch, when the file says.
    at: Option<i64>,
    duration_ms: Option<i64>,
}

/// Where `shell` keeps its history by default, for a person whose home is `home`.
/// `zdotdir` and `xdg_data` are `$ZDOTDIR` and `$XDG_DATA_HOME`.
pub fn default_file(shell: &str, home: &Path, zdotdir: Option<&Path>, xdg_data: Option<&Path>) -> Option<PathBuf> {
    match shell {
        "bash" => Some(home.join(".bash_history")),
        "zsh" => {
            let dir = zdotdir.unwrap_or(home);
            let first = dir.join(".zsh_history");
            let others = [dir.join(".histfile"), home.join(".zsh_history")];
            Some(std::iter::once(first.clone()).chain(others).find(|p| p.is_file()).unwrap_or(first))
        }
        "fish" => {
            Some(xdg_data.map(Path::to_path_buf).unwrap_or_else(|| home.join(".local/share")).join("fish/fish_history"))
        }
        _ => None,
    }
}

/// Reads a history file of `shell` (`bash`, `zsh` or `fish`). `mtime_ms` dates the entries
/// of a file without timestamps: they end at the file's last change, a millisecond apart,
/// in the file's order.
pub fn parse(shell: &str, bytes: &[u8], mtime_ms: i64) -> Vec<HistoryEntry> {
    let raw = match shell {
        "zsh" => parse_zsh(bytes),
        "fish" => parse_fish(bytes),
        _ => parse_bash(bytes),
    };
    number(raw, mtime_ms)
}

/// Dates untimed entries and counts occurrences (see [`HistoryEntry::occurrence`]).
fn number(raw: Vec<Raw>, mtime_ms: i64) -> Vec<HistoryEntry> {
    let n = raw.len() as i64;
    let mut seen: HashMap<(String, Option<i64>), u32> = HashMap::new();
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let count = seen.entry((r.command.clone(), r.at)).or_insert(0);
            *count = count.saturating_add(1);
            HistoryEntry {
                started_at: match r.at {
                    Some(secs) => secs.saturating_mul(1000),
                    None => mtime_ms.saturating_sub(n - i as i64),
                },
                timed: r.at.is_some(),
                duration_ms: r.duration_ms,
                occurrence: *count,
                command: r.command,
            }
        })
        .collect()
}

fn push(out: &mut Vec<Raw>, command: String, at: Option<i64>, duration_ms: Option<i64>) {
    if !command.trim().is_empty() {
        out.push(Raw { command, at, duration_ms });
    }
}

/// A bash timestamp line (`#1700000000`, written when `HISTTIMEFORMAT` is set). Only a
/// plausible time counts (2001 to 2286): a command typed as `#42` must not turn the lines
/// after it into one multi-line command.
fn bash_timestamp(line: &str) -> Option<i64> {
    let digits = line.strip_prefix('#')?;
    if !(10..=11).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|t| *t >= 1_000_000_000)
}

/// bash: one command a line; with timestamps, each `#EPOCH` line dates the lines up to the
/// next one (several lines there are one multi-line command, as bash's `lithist` writes it).
fn parse_bash(bytes: &[u8]) -> Vec<Raw> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut current: Option<(i64, Vec<&str>)> = None;
    for line in text.lines() {
        if let Some(at) = bash_timestamp(line) {
            if let Some((t, lines)) = current.take() {
                push(&mut out, lines.join("\n"), Some(t), None);
            }
            current = Some((at, Vec::new()));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        } else {
            push(&mut out, line.to_string(), None, None);
        }
    }
    if let Some((t, lines)) = current {
        push(&mut out, lines.join("\n"), Some(t), None);
    }
    out
}

/// zsh stores bytes that are special to it "metafied": a Meta byte (0x83), then the byte
/// XOR 32. Restores the real bytes.
pub fn unmetafy(bytes: &[u8]) -> Vec<u8> {
    const META: u8 = 0x83;
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter();
    while let Some(&b) = iter.next() {
        if b == META {
            if let Some(&next) = iter.next() {
                out.push(next ^ 32);
            }
        } else {
            out.push(b);
        }
    }
    out
}

/// zsh: plain lines, or extended history (`: START:ELAPSED;COMMAND`); a line ending in a
/// single backslash continues on the next (an embedded newline).
fn parse_zsh(bytes: &[u8]) -> Vec<Raw> {
    let plain = unmetafy(bytes);
    let text = String::from_utf8_lossy(&plain);
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let whole = match pending.take() {
            Some(mut before) => {
                before.push('\n');
                before.push_str(line);
                before
            }
            None => line.to_string(),
        };
        if whole.ends_with('\\') && !whole.ends_with("\\\\") {
            let mut keep = whole;
            keep.pop();
            pending = Some(keep);
            continue;
        }
        let (command, at, duration_ms) = zsh_extended(&whole).unwrap_or((whole.as_str(), None, None));
        push(&mut out, command.to_string(), at, duration_ms);
    }
    if let Some(rest) = pending {
        let (command, at, duration_ms) = zsh_extended(&rest).unwrap_or((rest.as_str(), None, None));
        push(&mut out, command.to_string(), at, duration_ms);
    }
    out
}

/// Splits `: 1700000000:3;make test` into the command, its start and its duration.
fn zsh_extended(line: &str) -> Option<(&str, Option<i64>, Option<i64>)> {
    let rest = line.strip_prefix(": ")?;
    let (head, command) = rest.split_once(';')?;
    let (start, elapsed) = head.split_once(':')?;
    let start: i64 = start.trim().parse().ok()?;
    let elapsed: i64 = elapsed.trim().parse().ok()?;
    Some((command, Some(start), Some(elapsed.saturating_mul(1000))))
}

/// fish: a YAML-like list of `- cmd: COMMAND` with `when: EPOCH` below it; in the command a
/// newline is written `\n` and a backslash `\\`.
fn parse_fish(bytes: &[u8]) -> Vec<Raw> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut current: Option<(String, Option<i64>)> = None;
    for line in text.lines() {
        if let Some(cmd) = line.strip_prefix("- cmd: ") {
            if let Some((c, at)) = current.take() {
                push(&mut out, c, at, None);
            }
            current = Some((fish_unescape(cmd), None));
        } else if let Some(when) = line.trim_start().strip_prefix("when:") {
            if let Some((_, at)) = current.as_mut() {
                *at = when.trim().parse().ok();
            }
        }
    }
    if let Some((c, at)) = current {
        push(&mut out, c, at, None);
    }
    out
}

fn fish_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn commands(v: &[HistoryEntry]) -> Vec<&str> {
        v.iter().map(|e| e.command.as_str()).collect()
    }

    #[test]
    fn bash_without_timestamps_keeps_order_and_counts_repeats() {
        let v = parse("bash", b"ls\ncd /tmp\n\nls\n", 10_000);
        assert_eq!(commands(&v), ["ls", "cd /tmp", "ls"]);
        assert_eq!(v.iter().map(|e| e.occurrence).collect::<Vec<_>>(), [1, 1, 2]);
        assert_eq!(v.iter().map(|e| e.started_at).collect::<Vec<_>>(), [9_997, 9_998, 9_999]);
        assert!(v.iter().all(|e| !e.timed));
    }

    #[test]
    fn bash_with_timestamps_and_a_multi_line_command() {
        let v = parse(
            "bash",
            b"old line\n#1700000000\nls -la\n#1700000005\nfor i in 1 2; do\necho $i\ndone\n#not a stamp\n",
            0,
        );
        assert_eq!(commands(&v), ["old line", "ls -la", "for i in 1 2; do\necho $i\ndone\n#not a stamp"]);
        // A command typed as `#42` is a command, not a time.
        let typed = parse("bash", b"ls\n#42\npwd\n", 0);
        assert_eq!(commands(&typed), ["ls", "#42", "pwd"]);
        assert_eq!(v[1].started_at, 1_700_000_000_000);
        assert!(v[1].timed && !v[0].timed);
    }

    #[test]
    fn zsh_extended_metafied_and_continued() {
        // zsh metafies bytes 0x83..=0x9f: "€" (E2 82 AC) is written E2 83 A2 AC.
        let mut bytes = b": 1700000000:3;make test\n: 1700000010:0;echo ".to_vec();
        bytes.extend([0xe2, 0x83, 0xa2, 0xac]);
        bytes.extend(b"\n: 1700000020:1;printf 'a\\\nb'\nplain command\n");
        let v = parse("zsh", &bytes, 0);
        assert_eq!(commands(&v), ["make test", "echo €", "printf 'a\nb'", "plain command"]);
        assert_eq!(v[0].duration_ms, Some(3000));
        assert_eq!(v[2].started_at, 1_700_000_020_000);
        assert!(!v[3].timed);
    }

    #[test]
    fn zsh_double_backslash_does_not_continue() {
        let v = parse("zsh", b": 1:0;echo a\\\\\n: 2:0;ls\n", 0);
        assert_eq!(commands(&v), ["echo a\\\\", "ls"]);
    }

    #[test]
    fn fish_entries_with_escapes_and_paths() {
        let text = b"- cmd: git status\n  when: 1700000000\n- cmd: echo a\\nb \\\\ c\n  when: 1700000001\n  paths:\n    - a\n- cmd: ls\n";
        let v = parse("fish", text, 5);
        assert_eq!(commands(&v), ["git status", "echo a\nb \\ c", "ls"]);
        assert_eq!(v[1].started_at, 1_700_000_001_000);
        assert!(!v[2].timed);
    }

    #[test]
    fn timed_occurrences_count_within_the_same_second() {
        let v = parse("zsh", b": 5:0;ls\n: 5:0;ls\n: 6:0;ls\n", 0);
        assert_eq!(v.iter().map(|e| e.occurrence).collect::<Vec<_>>(), [1, 2, 1]);
    }

    #[test]
    fn any_bytes_are_read_without_a_panic() {
        // Random bytes, biased towards what the formats care about.
        let alphabet: &[u8] = b": ;#\\\n-cmdwhen01239\x83\xa2\xff\x00 ";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..20_000usize {
            let bytes: Vec<u8> = (0..len % 200)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            for shell in SHELLS {
                for e in parse(shell, &bytes, i64::MAX) {
                    assert!(!e.command.trim().is_empty() && e.occurrence >= 1);
                }
            }
        }
    }

    #[test]
    fn default_files() {
        let home = Path::new("/h");
        assert_eq!(default_file("bash", home, None, None), Some(PathBuf::from("/h/.bash_history")));
        assert_eq!(
            default_file("fish", home, None, Some(Path::new("/x"))),
            Some(PathBuf::from("/x/fish/fish_history"))
        );
        assert_eq!(default_file("zsh", home, Some(Path::new("/z")), None), Some(PathBuf::from("/z/.zsh_history")));
        assert_eq!(default_file("tcsh", home, None, None), None);
    }
}
