//! `vigil score`: scores commands without recording them.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use crate::manage::{fail, open};
use crate::show::printable;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;
use vigil::connection::{ClientError, Connection};
use vigil::protocol::{Label, Request, Response, ScoreRecord};

/// Help for `vigil score`.
pub const SCORE_USAGE: &str = "\
Usage: vigil score [--json] [--stdin] [COMMAND...]

Scores a command (the words after the options, as one command line) or, with --stdin, every
line of standard input, without recording anything. Exit code 0; one line per command.
  --json    one JSON object per line: command, label, p_unsafe, confidence,
            probabilities {safe, unsafe}, reason, model_version, explanation, and explain:
            what decided ({\"rule\": {\"id\", \"message\"}} or \"label\")
  --stdin   read commands from standard input, one a line (one connection for all);
            blank lines are skipped

Examples:
  vigil score 'rm -rf ~'
  history | cut -c8- | vigil score --stdin --json
";

/// Lines sent per request: large enough to amortise the round trip, small enough to keep a
/// frame far below the size limit.
const BATCH: usize = 2000;

/// `vigil score`
pub fn score(mut args: Args) -> Result<ExitCode, UsageError> {
    // vigil's own options come first; everything after them is the command, dashes and all.
    let mut json = false;
    let mut stdin = false;
    let mut words = Vec::new();
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) if o == "--json" => json = true,
            Arg::Opt(o) if o == "--stdin" => stdin = true,
            Arg::Value(first) => {
                words.push(first);
                break;
            }
            other => return Err(unknown_arg(other)),
        }
    }
    words.extend(args.rest());
    if stdin != words.is_empty() {
        return Err(UsageError("give a command, or --stdin (not both)".into()));
    }
    let mut conn = match open(Duration::from_secs(30)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut out = std::io::stdout().lock();
    let mut emit = |records: Vec<ScoreRecord>| -> bool {
        for r in records {
            let line = if json { serde_json::to_string(&r).unwrap_or_default() } else { human(&r) };
            if writeln!(out, "{line}").is_err() {
                return false;
            }
        }
        true
    };
    let send = |conn: &mut Connection, commands: Vec<String>| -> Result<Vec<ScoreRecord>, ClientError> {
        match conn.request(&Request::Score { commands })? {
            Response::Scores(r) => Ok(r),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    };
    if !stdin {
        return Ok(match send(&mut conn, vec![words.join(" ")]) {
            Ok(r) => {
                emit(r);
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        });
    }
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = std::io::stdin().lock().lines();
    loop {
        let next = lines.next();
        let done = next.is_none();
        if let Some(line) = next {
            match line {
                // A blank line is no command: nothing to score, nothing to print.
                Ok(l) if l.trim().is_empty() => {}
                Ok(l) => batch.push(l),
                Err(e) => return Ok(fail(format!("reading standard input: {e}"))),
            }
        }
        if batch.len() >= BATCH || done && !batch.is_empty() {
            match send(&mut conn, std::mem::take(&mut batch)) {
                Ok(r) => {
                    if !emit(r) {
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                Err(e) => return Ok(fail(e)),
            }
        }
        if done {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

fn human(r: &ScoreRecord) -> String {
    let pct = r.p_unsafe.map(|p| format!("{:>3.0}%", p * 100.0)).unwrap_or_else(|| "   -".into());
    let model_reasons = r.explain.as_ref().filter(|e| e.source == "model").map(|e| {
        e.contributions
            .iter()
            .take(3)
            .map(|c| format!("{} {:+.2}", printable(&c.feature, 40), c.weight))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let why = match (&r.explanation, r.label) {
        (Some(e), _) => format!("{} ({e})", r.reason),
        (None, _) if model_reasons.as_ref().is_some_and(|m| !m.is_empty()) => {
            format!("{} ({})", r.reason, model_reasons.unwrap_or_default())
        }
        (None, Label::Unknown) if r.p_unsafe.is_none() => "no model yet".to_string(),
        _ => r.reason.clone(),
    };
    format!("{:<7} {pct}  {:<40}  {why}", r.label.as_str(), r.command)
}
