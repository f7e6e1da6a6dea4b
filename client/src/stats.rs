//! `vigil stats`: commands per day as a small chart, the most frequent and the riskiest
//! commands, verdict and label counts, and the model versions with their F1 over time.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use crate::manage::{ask, unexpected};
use crate::show::{color_wanted, local_time, noun, printable};
use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use vigil::protocol::{Request, Response, StatsReport};

/// Help for `vigil stats`.
pub const STATS_USAGE: &str = "\
Usage: vigil stats [--days N] [--top N] [--json]

Commands per day (a bar chart of the last N days, default 14), your most frequent and your
riskiest commands (default 10 each), how the stored commands were judged, your labels, and
every model version with its held-out F1.
  --json   the same as one JSON object: events, distinct, per_day, frequent, riskiest,
           verdicts, labels, models

Example:
  vigil stats --days 30
";

/// Width of the longest bar.
const BAR: usize = 40;

/// `vigil stats`
pub fn stats(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut days, mut top, mut json) = (14u32, 10u32, false);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "--days" => days = args.number(&o)?,
                "--top" => top = args.number(&o)?,
                "--json" => json = true,
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    let (days, top) = (days.clamp(1, 366), top.clamp(1, 100));
    let report = match ask(&Request::Stats { days, top }, Duration::from_secs(120)) {
        Ok(Response::Stats(r)) => r,
        Ok(other) => return Ok(unexpected(&other)),
        Err(code) => return Ok(code),
    };
    let text =
        if json { serde_json::to_string(&report).unwrap_or_default() + "\n" } else { render(&report, color_wanted()) };
    // A closed pipe ends us quietly.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// 1234567 -> "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits.as_bytes().rchunks(3).rev().map(|g| std::str::from_utf8(g).unwrap_or("")).collect();
    groups.join(",")
}

/// A bar of `n` against `max`, in eighths of a cell.
fn bar(n: u64, max: u64) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    if max == 0 {
        return String::new();
    }
    let eighths = (n as u128 * (BAR as u128) * 8 / max as u128) as usize;
    let eighths = if n > 0 { eighths.max(1) } else { 0 };
    "█".repeat(eighths / 8) + PARTS[eighths % 8]
}

/// The report as text that fits 80 columns.
fn render(r: &StatsReport, color: bool) -> String {
    let dim = |s: &str| if color { format!("\x1b[2m{s}\x1b[0m") } else { s.to_string() };
    let bold = |s: &str| if color { format!("\x1b[1m{s}\x1b[0m") } else { s.to_string() };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} stored, {} distinct",
        thousands(r.events),
        noun(r.events, "command", "commands"),
        thousands(r.distinct)
    );

    let days = match r.per_day.len() {
        1 => "last day".to_string(),
        n => format!("last {n} days"),
    };
    let _ = writeln!(s, "\n{}", bold(&format!("Commands per day ({days})")));
    let max = r.per_day.iter().map(|d| d.1).max().unwrap_or(0);
    for (day, n) in &r.per_day {
        let _ = writeln!(s, "  {}  {:<w$} {}", day.get(5..).unwrap_or(day), bar(*n, max), thousands(*n), w = BAR);
    }

    let _ = writeln!(s, "\n{}", bold("Most frequent"));
    if r.frequent.is_empty() {
        let _ = writeln!(s, "  {}", dim("nothing recorded yet"));
    }
    for (command, n) in &r.frequent {
        let _ = writeln!(s, "  {:>9}  {}", thousands(*n), printable(command, 66));
    }

    let _ = writeln!(s, "\n{}", bold("Riskiest"));
    if r.riskiest.is_empty() {
        let _ = writeln!(s, "  {}", dim("nothing risky recorded"));
    }
    let count_width = r.riskiest.iter().map(|(_, _, n, _)| thousands(*n).len()).max().unwrap_or(1);
    // What is left of 80 columns for the reason.
    let why_width = 80 - (2 + 5 + 2 + count_width + 1 + 2 + 35 + 2);
    for (command, p, n, why) in &r.riskiest {
        let why = why.strip_prefix("rule:").map_or_else(|| why.clone(), |rule| format!("rule {rule}"));
        let _ = writeln!(
            s,
            "  {:>4.0}%  {:>count_width$}x  {:<35}  {}",
            p * 100.0,
            thousands(*n),
            printable(command, 35),
            dim(&printable(&why, why_width))
        );
    }

    let counts =
        |v: &[(String, u64)]| v.iter().map(|(k, n)| format!("{} {k}", thousands(*n))).collect::<Vec<_>>().join(" · ");
    let _ = writeln!(
        s,
        "\n{}  {}",
        bold("Verdicts"),
        if r.verdicts.is_empty() { dim("none yet") } else { counts(&r.verdicts) }
    );
    let _ = writeln!(
        s,
        "{}  {}",
        bold("Your labels"),
        if r.labels.is_empty() { dim("none yet: `vigil review` asks you") } else { counts(&r.labels) }
    );

    let _ = writeln!(s, "\n{}", bold("Models (held-out F1)"));
    if r.models.is_empty() {
        let _ = writeln!(s, "  {}", dim("none yet: rules only"));
    }
    for (version, at, f1, current) in &r.models {
        let f1_text = f1.map_or("   -".to_string(), |f| format!("{f:.3}"));
        let f1_bar = f1.map_or(String::new(), |f| bar((f * 1000.0) as u64, 1000).chars().take(BAR / 2).collect());
        let mark = if *current { "  <- current" } else { "" };
        let _ = writeln!(
            s,
            "  v{version:<4} {}  {f1_text}  {:<w$}{mark}",
            local_time(*at).get(..16).unwrap_or(""),
            f1_bar,
            w = BAR / 2
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_bars() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(bar(10, 10).chars().count(), BAR);
        assert_eq!(bar(0, 10), "");
        assert_eq!(bar(1, 1_000_000), "▏");
        assert_eq!(bar(5, 10), "█".repeat(BAR / 2));
    }

    #[test]
    fn renders_within_80_columns() {
        let r = StatsReport {
            events: 1_000_000,
            distinct: 42,
            per_day: vec![("2026-11-27".into(), 999_999), ("2026-11-28".into(), 1)],
            frequent: vec![("x".repeat(300), 7)],
            riskiest: vec![
                ("rm -rf /".into(), 1.0, 3, "rule:rm-root".into()),
                ("y".repeat(100), 0.5, 1_000_000, "z".repeat(100)),
            ],
            verdicts: vec![("safe".into(), 10)],
            labels: vec![],
            models: vec![(1, 0, Some(0.9), true)],
        };
        let text = render(&r, false);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line:?} is {} wide", line.chars().count());
        }
        assert!(text.contains("1,000,000 commands"), "{text}");
        assert!(text.contains("rule rm-root"), "{text}");
        assert!(text.contains("<- current"), "{text}");
        assert!(text.contains("Commands per day (last 2 days)"), "{text}");
    }

    #[test]
    fn one_is_singular() {
        let r = StatsReport {
            events: 1,
            distinct: 1,
            per_day: vec![("2026-11-28".into(), 1)],
            frequent: vec![],
            riskiest: vec![],
            verdicts: vec![],
            labels: vec![],
            models: vec![],
        };
        let text = render(&r, false);
        assert!(text.starts_with("1 command stored, 1 distinct\n"), "{text}");
        assert!(text.contains("Commands per day (last day)"), "{text}");
    }
}
