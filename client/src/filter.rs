//! The filters of `vigil search`, `vigil recent` and `vigil forget` (`--cwd`, `--exit`,
//! `--shell`, `--session`, `--label`, `--risky`, `--since`, `--until`, `--regex`), and the
//! times they take: a date (`2026-12-01`, `2026-12-01 14:30`) or an age (`90m`, `2h`, `3d`).

use crate::args::{Args, UsageError};
use vigil::protocol::EventFilter;

/// Help lines for the filters, shared by the commands that take them (a literal, for
/// `concat!` in their help texts).
macro_rules! filter_help {
    () => {
        "  --cwd DIR        run in DIR or below it (`.` is this folder)
  --exit CODE      ended with this exit code
  --shell S        bash, zsh or fish
  --session ID     one shell session
  --label L        the verdict: safe, unsafe or unknown
  --risky          only what looked risky (verdict unsafe, rule hits included)
  --since T        started at or after T: a date (2026-12-01, '2026-12-01 14:30')
                   or an age (90m, 2h, 3d, 1w)
  --until T        started before T (same forms)
"
    };
}

/// Takes the filter option `opt` (already read by [`Args::next`]) into `f`; false if `opt`
/// is not a filter option.
pub fn take(opt: &str, args: &mut Args, f: &mut EventFilter) -> Result<bool, UsageError> {
    match opt {
        "--cwd" => {
            let dir = args.value(opt)?;
            let path = std::path::Path::new(&dir);
            let abs = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
            };
            // `.` and `..` as the person means them, without resolving links (the hooks
            // record $PWD, which keeps them).
            let mut clean = std::path::PathBuf::new();
            for c in abs.components() {
                match c {
                    std::path::Component::CurDir => {}
                    std::path::Component::ParentDir => {
                        clean.pop();
                    }
                    other => clean.push(other),
                }
            }
            f.cwd = Some(clean.display().to_string());
        }
        "--exit" => f.exit_code = Some(args.number(opt)?),
        "--shell" => {
            let s = args.value(opt)?;
            if !vigil::history::SHELLS.contains(&s.as_str()) {
                return Err(UsageError(format!("--shell {s:?}: use bash, zsh or fish")));
            }
            f.shell = Some(s);
        }
        "--session" => f.session = Some(args.value(opt)?),
        "--label" => {
            let l = args.value(opt)?;
            if !matches!(l.as_str(), "safe" | "unsafe" | "unknown") {
                return Err(UsageError(format!("--label {l:?}: use safe, unsafe or unknown")));
            }
            f.label = Some(l);
        }
        "--risky" => f.risky = true,
        "--regex" => f.regex = true,
        "--since" => f.since_ms = Some(time(opt, &args.value(opt)?, vigil::now_ms())?),
        "--until" => f.until_ms = Some(time(opt, &args.value(opt)?, vigil::now_ms())?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// A time given on the command line, in ms since the epoch: an age before `now_ms` (`45s`,
/// `90m`, `2h`, `3d`, `1w`) or a local date and time (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`,
/// a `T` instead of the space).
pub fn time(opt: &str, text: &str, now_ms: i64) -> Result<i64, UsageError> {
    let bad = || {
        UsageError(format!("{opt} {text:?}: give a date (2026-12-01, '2026-12-01 14:30') or an age (90m, 2h, 3d, 1w)"))
    };
    let t = text.trim();
    if let Some(unit) = t.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let n: i64 = t.get(..t.len() - 1).and_then(|n| n.parse().ok()).filter(|n| *n >= 0).ok_or_else(bad)?;
        let secs = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        return Ok(now_ms.saturating_sub(n.saturating_mul(secs).saturating_mul(1000)));
    }
    let (date, clock) = match t.split_once([' ', 'T']) {
        Some((d, c)) => (d, Some(c)),
        None => (t, None),
    };
    let num = |s: Option<&str>| s.and_then(|s| s.parse::<i32>().ok()).ok_or_else(bad);
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next())?, num(d.next())?, num(d.next())?);
    let (mut hour, mut min, mut sec) = (0, 0, 0);
    if let Some(c) = clock {
        let mut p = c.split(':');
        hour = num(p.next())?;
        min = num(p.next())?;
        sec = p.next().map_or(Ok(0), |s| num(Some(s)))?;
    }
    if d.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&min)
        || !(0..=60).contains(&sec)
    {
        return Err(bad());
    }
    // SAFETY: mktime reads and normalises the tm we own.
    let secs = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        libc::mktime(&mut tm)
    };
    if secs == -1 {
        return Err(bad());
    }
    Ok(secs.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_dates() {
        let now = 1_800_000_000_000;
        assert_eq!(time("--since", "2h", now).unwrap(), now - 2 * 3_600_000);
        assert_eq!(time("--since", "3d", now).unwrap(), now - 3 * 86_400_000);
        assert_eq!(time("--since", "90m", now).unwrap(), now - 90 * 60_000);
        let day = time("--since", "2026-12-01", now).unwrap();
        assert_eq!(time("--since", "2026-12-01 01:30", now).unwrap() - day, 5_400_000);
        assert_eq!(time("--since", "2026-12-01T01:30:15", now).unwrap() - day, 5_415_000);
        for bad in ["yesterday", "2x", "-3d", "2026-13-01", "2026-12", "2026-12-01 25:00", ""] {
            assert!(time("--since", bad, now).is_err(), "{bad}");
        }
    }
}
