//! `vigil search` and `vigil forget`: finding recorded commands by text or regex and the
//! filters of [`crate::filter`], and deleting them from the store, counted and confirmed first.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use crate::manage::{ask, unexpected};
use crate::show::count;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;
use vigil::protocol::{EventFilter, ForgetReport, ForgetTarget, Request, Response};

/// Help for `vigil search`.
pub const SEARCH_USAGE: &str = concat!(
    "\
Usage: vigil search [FILTERS] [--regex] [-n N] [--json] [PATTERN]

Finds recorded commands that contain PATTERN (case-sensitive text; a regular expression with
--regex), newest first, and pass every filter given.
  -n N      how many at most (default 50)
  --regex   PATTERN is a regular expression
  --json    one JSON object per line, as `vigil recent --json`
",
    filter_help!(),
    "
Examples:
  vigil search docker
  vigil search --regex '^git (push|reset)' --since 3d
  vigil search --exit 1 --cwd ~/src/app
"
);

/// Help for `vigil forget`.
pub const FORGET_USAGE: &str = concat!(
    "\
Usage: vigil forget ID [--yes]
       vigil forget --command 'EXACT COMMAND' [--yes]
       vigil forget --pattern TEXT [--regex] [FILTERS] [--yes]

Deletes recorded commands from the store: the events, and the store's copy of their labels
when no other event has the command. It counts first and asks on a terminal; --yes answers
for scripts (without a terminal and without --yes it refuses). labels.txt is yours and is
never edited: a line there for a forgotten command comes back when the file changes.
  ID            an event's id (`vigil recent --json`, `vigil search --json`)
  --command C   every event of exactly this command
  --pattern P   every event whose command contains P (a regular expression with --regex)
  --yes         do not ask
",
    filter_help!(),
    "
Examples:
  vigil forget --pattern 'hunter2'
  vigil forget --command 'cat ~/.ssh/id_rsa' --yes
"
);

/// `vigil search`
pub fn search(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut limit, mut json) = (50u32, false);
    let mut filter = EventFilter::default();
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "-n" | "--limit" => limit = args.number(&o)?,
                "--json" => json = true,
                other if crate::filter::take(other, &mut args, &mut filter)? => {}
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            Arg::Value(v) if filter.pattern.is_none() => filter.pattern = Some(v),
            other => return Err(unknown_arg(other)),
        }
    }
    for t in args.trailing() {
        if filter.pattern.replace(t).is_some() {
            return Err(UsageError("one PATTERN (quote it if it has spaces)".into()));
        }
    }
    if filter.regex && filter.pattern.is_none() {
        return Err(UsageError("--regex needs a PATTERN".into()));
    }
    if let Some(p) = filter.pattern.as_deref().filter(|_| filter.regex) {
        if let Err(e) = regex::Regex::new(p) {
            return Err(UsageError(format!(
                "--regex {p:?}: {}",
                e.to_string().lines().last().unwrap_or("invalid").trim()
            )));
        }
    }
    match crate::show::fetch(&filter, limit) {
        Ok(events) => {
            crate::show::print_events(&events, json);
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

/// `vigil forget`
pub fn forget(mut args: Args) -> Result<ExitCode, UsageError> {
    let mut filter = EventFilter::default();
    let (mut id, mut command, mut yes) = (None, None, false);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) => match o.as_str() {
                "--yes" | "-y" => yes = true,
                "--command" => command = Some(args.any_value(&o)?),
                "--pattern" => filter.pattern = Some(args.any_value(&o)?),
                other if crate::filter::take(other, &mut args, &mut filter)? => {}
                _ => return Err(unknown_arg(Arg::Opt(o))),
            },
            Arg::Value(v) if id.is_none() => {
                id =
                    Some(v.parse::<i64>().map_err(|_| {
                        UsageError(format!("{v:?} is not an event id: give an id, --command or --pattern"))
                    })?)
            }
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    let filtered = filter != EventFilter::default();
    let target = match (id, command, filtered) {
        (Some(id), None, false) => ForgetTarget::Id(id),
        (None, Some(c), false) => ForgetTarget::Command(c),
        (None, None, true) if filter.pattern.is_some() => ForgetTarget::Filter(filter),
        (None, None, true) => return Err(UsageError("filters select what to forget with --pattern P".into())),
        (None, None, false) => return Err(UsageError("what to forget? an id, --command C or --pattern P".into())),
        _ => return Err(UsageError("one of: an id, --command C, --pattern P (with filters)".into())),
    };
    let counted = match run(&target, true) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    if counted.events == 0 {
        println!("nothing to forget: no recorded command matches");
        return Ok(ExitCode::SUCCESS);
    }
    let what = describe(&counted);
    if !yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            eprintln!("vigil forget: would delete {what}; not on a terminal: add --yes to confirm");
            return Ok(ExitCode::from(1));
        }
        eprint!("delete {what}? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = stdin.lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("nothing deleted");
            return Ok(ExitCode::from(1));
        }
    }
    match run(&target, false) {
        Ok(done) => {
            println!("forgot {}", describe(&done));
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

fn describe(r: &ForgetReport) -> String {
    let mut s = format!("{} ({} distinct)", count(r.events, "recorded command", "recorded commands"), r.commands);
    if r.labels > 0 {
        s.push_str(&format!(" and {} in the store", count(r.labels, "label", "labels")));
    }
    s
}

fn run(target: &ForgetTarget, dry_run: bool) -> Result<ForgetReport, ExitCode> {
    match ask(&Request::Forget { target: target.clone(), dry_run }, Duration::from_secs(120)) {
        Ok(Response::Forgotten(r)) => Ok(r),
        Ok(other) => Err(unexpected(&other)),
        Err(code) => Err(code),
    }
}
