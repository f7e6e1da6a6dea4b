//! The hard rules: the engine that runs the rule tables over parsed commands. A hit makes a
//! command `unsafe` with certainty, whatever the model or the person's labels say; only the
//! person's own configuration (`[rules] disable`) can turn a rule off.
//!
//! The built-in rules are data: `rules/*.toml`, one file per category, embedded at build
//! time, each rule beside the lines it must and must not catch (see `table` for the fields).
//! This file is the only code that decides, plus the few named `predicates`.
//!
//! Rules look at parsed commands (see `parse`), never at raw text, so that data is not taken
//! for a command: `echo "rm -rf /"` is an echo. The exceptions are the two line predicates
//! (the fork bomb, whose function definition the parser deliberately does not run, and
//! database statements typed at the prompt).
//!
//! Read-only, dry-run and help forms never hit: `--help`, `--version`, `--dry-run`,
//! `--no-act`, `--simulate`, a lone trailing `-h`, `help` as the subcommand, and what a rule
//! lists as `readonly` (`git clean -n`).
//!
//! Every rule is linear in the command it looks at, and what a rule needs from the commands
//! upstream of it in a pipeline is gathered once, as the pipeline is walked, so that checking
//! a pipeline of n commands is linear too, not quadratic.
#![deny(clippy::indexing_slicing)]

use crate::config::RulesConfig;
use crate::parse::{parse, Cmd, Parsed};
use crate::predicates::{self, Predicate};
use crate::table::{rules_from_text, Cond, Flag, Source, SqlKind, UpstreamKind};
use std::collections::HashMap;
use std::sync::OnceLock;

pub use crate::table::{Rule, Severity};

/// The built-in tables, in the order their rules are tried.
pub const TABLES: &[(&str, &str)] = &[
    ("fs.toml", include_str!("../rules/fs.toml")),
    ("disk.toml", include_str!("../rules/disk.toml")),
    ("shell.toml", include_str!("../rules/shell.toml")),
    ("sys.toml", include_str!("../rules/sys.toml")),
    ("history.toml", include_str!("../rules/history.toml")),
    ("logs.toml", include_str!("../rules/logs.toml")),
    ("cred.toml", include_str!("../rules/cred.toml")),
    ("users.toml", include_str!("../rules/users.toml")),
    ("git.toml", include_str!("../rules/git.toml")),
    ("github.toml", include_str!("../rules/github.toml")),
    ("db.toml", include_str!("../rules/db.toml")),
    ("docker.toml", include_str!("../rules/docker.toml")),
    ("k8s.toml", include_str!("../rules/k8s.toml")),
    ("helm.toml", include_str!("../rules/helm.toml")),
    ("iac.toml", include_str!("../rules/iac.toml")),
    ("aws.toml", include_str!("../rules/aws.toml")),
    ("gcp.toml", include_str!("../rules/gcp.toml")),
    ("azure.toml", include_str!("../rules/azure.toml")),
    ("paas.toml", include_str!("../rules/paas.toml")),
    ("npm.toml", include_str!("../rules/npm.toml")),
    ("net.toml", include_str!("../rules/net.toml")),
    ("pkg.toml", include_str!("../rules/pkg.toml")),
];

/// A set of rules, indexed by program name.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Rules whose entry names its programs exactly, by program.
    by_program: HashMap<String, Vec<usize>>,
    /// Rules that may hit any command.
    everywhere: Vec<usize>,
    /// Rules on the whole line.
    line: Vec<(usize, Predicate)>,
}

impl RuleSet {
    /// A set of the given rules, in order.
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let mut set = RuleSet { rules, ..Default::default() };
        for (i, r) in set.rules.iter().enumerate() {
            if let Some(p) = r.cond.predicate.filter(|p| p.is_line()) {
                set.line.push((i, p));
            } else if !r.cond.program.is_empty() && r.cond.program.iter().all(|p| !p.contains('*')) {
                for p in &r.cond.program {
                    set.by_program.entry(p.clone()).or_default().push(i);
                }
            } else {
                set.everywhere.push(i);
            }
        }
        set
    }

    /// The built-in rules.
    pub fn builtin() -> &'static RuleSet {
        static SET: OnceLock<RuleSet> = OnceLock::new();
        SET.get_or_init(|| RuleSet::new(builtin_rules().0))
    }

    /// The built-in rules less those `config` disables, plus its custom rules. What is wrong
    /// in `config` (an unknown id, a bad entry) is returned, one line each naming the entry;
    /// the rest of the set is built regardless.
    pub fn from_config(config: &RulesConfig) -> (RuleSet, Vec<String>) {
        let mut problems = Vec::new();
        let builtin = RuleSet::builtin();
        for id in &config.disable {
            if !builtin.rules.iter().any(|r| &r.id == id) {
                problems.push(format!("[rules] disable: no built-in rule is called {id:?} (see `vigil rules`)"));
            }
        }
        let mut rules: Vec<Rule> = builtin.rules.iter().filter(|r| !config.disable.contains(&r.id)).cloned().collect();
        for (i, entry) in config.custom.iter().enumerate() {
            let rule = match crate::table::rule_from_table(entry, Source::Config, i + 1) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("[[rules.custom]] {e}"));
                    continue;
                }
            };
            if rules.iter().any(|r| r.id == rule.id) {
                problems.push(format!("[[rules.custom]] rule {}: the id is already taken", rule.id));
                continue;
            }
            let failures = case_failures(&rule);
            if !failures.is_empty() {
                problems.push(format!("[[rules.custom]] rule {}: {}", rule.id, failures.join("; ")));
                continue;
            }
            rules.push(rule);
        }
        (RuleSet::new(rules), problems)
    }

    /// Every rule, in the order they are tried.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The first rule a command line hits, if any.
    pub fn check(&self, line: &str) -> Option<&Rule> {
        self.check_parsed(line, &parse(line))
    }

    /// Like [`RuleSet::check`], for a line already parsed.
    pub fn check_parsed(&self, line: &str, parsed: &Parsed) -> Option<&Rule> {
        if let Some((i, _)) = self.line.iter().find(|(_, p)| p.line(line)) {
            return self.rules.get(*i);
        }
        let mut candidates: Vec<usize> = Vec::new();
        find_in(parsed, |x| {
            candidates.clear();
            candidates.extend(self.by_program.get(x.cmd.name()).into_iter().flatten());
            candidates.extend(&self.everywhere);
            candidates.sort_unstable();
            candidates.iter().filter_map(|&i| self.rules.get(i)).find(|r| hits(r, x))
        })
    }

    /// Whether the rule `id` hits a line (for tests and reports).
    pub fn rule_hits(&self, id: &str, line: &str) -> bool {
        self.rules.iter().find(|r| r.id == id).is_some_and(|r| rule_hits_line(r, line))
    }
}

/// Whether `rule` hits `line`.
pub fn rule_hits_line(rule: &Rule, line: &str) -> bool {
    if let Some(p) = rule.cond.predicate.filter(|p| p.is_line()) {
        return p.line(line);
    }
    find_in(&parse(line), |x| hits(rule, x).then_some(())).is_some()
}

/// The cases of `rule` that do not come out as written.
pub fn case_failures(rule: &Rule) -> Vec<String> {
    let mut out = Vec::new();
    for line in &rule.must_catch {
        if !rule_hits_line(rule, line) {
            out.push(format!("must catch {line:?} but does not"));
        }
    }
    for line in &rule.must_not_catch {
        if rule_hits_line(rule, line) {
            out.push(format!("must not catch {line:?} but does"));
        }
    }
    out
}

/// The built-in rules, and what is wrong in the tables (nothing, as a test checks).
pub fn builtin_rules() -> (Vec<Rule>, Vec<String>) {
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in TABLES {
        match rules_from_text(text, name, Source::BuiltIn) {
            Ok(r) => rules.extend(r),
            Err(e) => problems.push(e),
        }
    }
    (rules, problems)
}

/// The first rule of the built-in set a command line hits, if any.
pub fn check(line: &str) -> Option<&'static Rule> {
    RuleSet::builtin().check(line)
}

/// Like [`check`], for a line already parsed.
pub fn check_parsed(line: &str, parsed: &Parsed) -> Option<&'static Rule> {
    RuleSet::builtin().check_parsed(line, parsed)
}

/// Whether the built-in rule `id` hits a line.
pub fn rule_hits(id: &str, line: &str) -> bool {
    RuleSet::builtin().rule_hits(id, line)
}

// ---------------------------------------------------------------------------------------
// The engine

/// What a rule looks at: one command, in its pipeline, with what the table asks of it
/// worked out once.
struct Ctx<'a> {
    cmd: &'a Cmd,
    /// The commands before it in its pipeline.
    upstream: &'a [Cmd],
    seen: Upstream,
    /// Non-option words, lower-cased, values of known options skipped.
    verbs: Vec<String>,
    /// Universal read-only markers (`--help`, `--dry-run`, ...).
    readonly: bool,
    /// A lone trailing `-h`.
    lone_h: bool,
}

impl<'a> Ctx<'a> {
    fn new(cmd: &'a Cmd, upstream: &'a [Cmd], seen: Upstream) -> Ctx<'a> {
        let args = cmd.args();
        let readonly = args.iter().take_while(|a| *a != "--").any(|a| {
            matches!(
                a.as_str(),
                "--help"
                    | "-help"
                    | "--usage"
                    | "--dry-run"
                    | "--dryrun"
                    | "--no-act"
                    | "--simulate"
                    | "--just-print"
                    | "--what-if"
            ) || a.strip_prefix("--dry-run=").is_some_and(|v| !matches!(v, "none" | "false" | "0"))
        });
        // `--version` alone asks for the version; `cargo yank --version 1.0.0` names one.
        let version = args.iter().enumerate().any(|(i, a)| a == "--version" && args.get(i + 1).is_none_or_option());
        let readonly = readonly || version;
        let lone_h = args.last().is_some_and(|a| a == "-h")
            && args.iter().rev().skip(1).all(|a| !a.starts_with('-'))
            && args.len() <= 3;
        Ctx { cmd, upstream, seen, verbs: verbs(cmd), readonly, lone_h }
    }

    fn args(&self) -> &'a [String] {
        self.cmd.args()
    }

    /// Arguments before a `--`.
    fn options(&self) -> impl Iterator<Item = &'a String> {
        self.args().iter().take_while(|a| *a != "--")
    }

    fn operands(&self) -> impl Iterator<Item = &'a str> {
        operands(self.cmd)
    }
}

/// The first `Some` that `f` gives for a command of the line, each in its pipeline.
fn find_in<T>(parsed: &Parsed, mut f: impl FnMut(&Ctx) -> Option<T>) -> Option<T> {
    for pipeline in &parsed.pipelines {
        let mut seen = Upstream::default();
        for (i, cmd) in pipeline.iter().enumerate() {
            let ctx = Ctx::new(cmd, pipeline.get(..i).unwrap_or(&[]), seen);
            if let Some(found) = f(&ctx) {
                return Some(found);
            }
            seen.add(cmd);
        }
    }
    None
}

fn hits(rule: &Rule, x: &Ctx) -> bool {
    if x.readonly || rule.help_h && x.lone_h {
        return false;
    }
    if !rule.readonly.is_empty() && x.options().any(|a| rule.readonly.iter().any(|f| f.given_by(a))) {
        return false;
    }
    if !rule.cond.subcommand.is_empty() && x.verbs.first().is_some_and(|v| v == "help") {
        return false;
    }
    holds(&rule.cond, x)
}

/// Whether every field given in `c` holds for the command.
fn holds(c: &Cond, x: &Ctx) -> bool {
    fn any_of<'w>(pats: &[crate::classes::Pattern], mut words: impl Iterator<Item = &'w str>) -> bool {
        pats.is_empty() || words.any(|w| pats.iter().any(|p| p.matches(w)))
    }
    let cmd = x.cmd;
    (c.program.is_empty() || c.program.iter().any(|p| crate::classes::glob(p, cmd.name())))
        && (c.subcommand.is_empty() || c.subcommand.iter().any(|path| subcommand_is(&x.verbs, path)))
        && (c.verb.is_empty() || x.verbs.iter().any(|v| c.verb.iter().any(|p| crate::classes::glob(p, v))))
        && (c.flag.is_empty() || x.options().any(|a| c.flag.iter().any(|f| f.given_by(a))))
        && any_of(&c.arg, x.args().iter().map(String::as_str))
        && any_of(&c.arg_last, x.args().last().map(String::as_str).into_iter())
        && any_of(&c.arg_first, x.args().first().map(String::as_str).into_iter())
        && (c.arg_pair.is_empty()
            || x.args().windows(2).any(|w| match w {
                [a, b] => c.arg_pair.iter().any(|(pa, pb)| {
                    pa.iter().any(|p| crate::classes::glob(p, a)) && pb.iter().any(|p| crate::classes::glob(p, b))
                }),
                _ => false,
            }))
        && any_of(&c.operand, x.operands())
        && any_of(&c.operand_first, x.operands().take(1))
        && any_of(&c.operand_last, x.operands().last().into_iter())
        && any_of(&c.operand_rest, x.operands().skip(1))
        && any_of(&c.redirect, cmd.redirects.iter().filter(|(op, _)| writes(op)).map(|(_, t)| t.as_str()))
        && any_of(&c.truncate, cmd.redirects.iter().filter(|(op, _)| truncates(op)).map(|(_, t)| t.as_str()))
        && any_of(&c.input, cmd.redirects.iter().filter(|(op, _)| op == "<").map(|(_, t)| t.as_str()))
        && any_of(&c.redirect_any, cmd.redirects.iter().map(|(_, t)| t.as_str()))
        && (c.upstream.is_empty() || c.upstream.iter().any(|u| x.seen.has(*u)))
        && (c.wrapper.is_empty() || cmd.wrappers.iter().any(|w| c.wrapper.contains(w)))
        && (c.sql.is_empty() || sql_has(x, &c.sql))
        && (c.text.is_empty() || {
            let t = cmd.argv.join(" ");
            c.text.iter().any(|s| t.contains(s.as_str()))
        })
        && (c.service.is_empty() || service_stop(x, &c.service))
        && (c.substituted.is_empty() || {
            cmd.substituted.iter().any(|s| {
                let sx = Ctx::new(s, &[], Upstream::default());
                c.substituted.iter().any(|sc| holds(sc, &sx))
            })
        })
        && c.predicate.iter().all(|p| p.cmd(cmd))
        && c.min_args.iter().all(|&n| x.args().len() >= n)
        && c.max_operands.iter().all(|&n| x.operands().nth(n).is_none())
        && (c.any.is_empty() || c.any.iter().any(|s| holds(s, x)))
        && c.all.iter().all(|s| holds(s, x))
        && !c.not.iter().any(|s| holds(s, x))
}

/// Whether the verbs start with `path` (each word one of its alternatives; `*` any word;
/// a verb `kind/name` also answers to `kind`).
fn subcommand_is(verbs: &[String], path: &[Vec<String>]) -> bool {
    verbs.len() >= path.len()
        && verbs.iter().zip(path).all(|(v, alts)| {
            let kind = v.split('/').next().unwrap_or(v);
            alts.iter().any(|a| a == "*" || crate::classes::glob(a, v) || !kind.is_empty() && a == kind)
        })
}

fn writes(op: &str) -> bool {
    (op.ends_with('>') || op.ends_with(">|") || op == "&>" || op.ends_with(">>")) && !op.ends_with(">&")
}

fn truncates(op: &str) -> bool {
    matches!(op, ">" | "1>" | ">|" | "&>" | "2>")
}

/// Arguments that are not options.
fn operands(c: &Cmd) -> impl Iterator<Item = &str> {
    let mut after_dashes = false;
    c.args().iter().filter_map(move |a| {
        if after_dashes {
            return Some(a.as_str());
        }
        if a == "--" {
            after_dashes = true;
            return None;
        }
        (!a.starts_with('-') || a == "-").then_some(a.as_str())
    })
}

/// Global options of cloud, cluster and other multi-command tools that take a value
/// (`--profile prod`, `git -C dir`), so that the value is not taken for a subcommand.
const VALUE_OPTIONS: &[&str] = &[
    "--profile",
    "--region",
    "--output",
    "--endpoint-url",
    "--query",
    "--color",
    "--ca-bundle",
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "--cluster",
    "--user",
    "-s",
    "--server",
    "--project",
    "--account",
    "--configuration",
    "--subscription",
    "-g",
    "--resource-group",
    "-o",
    "-l",
    "--selector",
    "-c",
    "--container",
    "--app",
    "-a",
    "--remote",
    "-r",
    "--config",
    "--token",
    "--scope",
    "--team",
    "--site",
    "--filter",
    "-C",
    "--git-dir",
    "--work-tree",
    "-H",
    "--host",
    "--port",
    "-u",
    "--username",
    "--chdir",
    "--env",
    "-e",
];

/// Programs whose options differ from [`VALUE_OPTIONS`]: the options of theirs that take a
/// separate value.
const PROGRAM_VALUE_OPTIONS: &[(&str, &[&str])] = &[
    (
        "systemctl",
        &[
            "-H",
            "--host",
            "-M",
            "--machine",
            "-t",
            "--type",
            "-p",
            "--property",
            "-n",
            "--lines",
            "-o",
            "--output",
            "-s",
            "--signal",
            "--root",
            "--kill-whom",
        ],
    ),
    ("redis-cli", &["-h", "-p", "-a", "-n", "-u", "--user", "--pass", "-s", "-r", "-i"]),
    ("valkey-cli", &["-h", "-p", "-a", "-n", "-u", "--user", "--pass", "-s", "-r", "-i"]),
    ("keydb-cli", &["-h", "-p", "-a", "-n", "-u", "--user", "--pass", "-s", "-r", "-i"]),
    ("mysqladmin", &["-h", "-u", "-P", "-S", "--host", "--user", "--port", "--socket"]),
];

/// Non-option words, lower-cased, skipping the values of options that take one.
fn verbs(c: &Cmd) -> Vec<String> {
    let with_value = PROGRAM_VALUE_OPTIONS.iter().find(|(p, _)| *p == c.name()).map_or(VALUE_OPTIONS, |(_, v)| v);
    let mut out = Vec::new();
    let mut args = c.args().iter();
    while let Some(a) = args.next() {
        if a == "--" {
            out.extend(args.map(|w| w.to_ascii_lowercase()));
            break;
        }
        if a.starts_with('-') {
            if with_value.contains(&a.as_str()) {
                args.next();
            }
        } else {
            out.push(a.to_ascii_lowercase());
        }
    }
    out
}

/// What the commands before one in its pipeline do, as far as the rules care.
#[derive(Debug, Default, Clone, Copy)]
struct Upstream {
    downloader: bool,
    history: bool,
    credential_reader: bool,
    network_tool: bool,
    interactive_interpreter: bool,
    flushall: bool,
}

impl Upstream {
    fn has(&self, u: UpstreamKind) -> bool {
        match u {
            UpstreamKind::Downloader => self.downloader,
            UpstreamKind::History => self.history,
            UpstreamKind::CredentialReader => self.credential_reader,
            UpstreamKind::NetworkTool => self.network_tool,
            UpstreamKind::InteractiveInterpreter => self.interactive_interpreter,
            UpstreamKind::Flushall => self.flushall,
        }
    }

    /// Adds one more command (once the rules have looked at it).
    fn add(&mut self, c: &Cmd) {
        let n = c.name();
        self.downloader = self.downloader || predicates::downloader(c);
        self.history = self.history || matches!(n, "history" | "fc");
        self.credential_reader = self.credential_reader
            || matches!(n, "cat" | "base64" | "tar" | "gpg" | "xxd")
                && operands(c).any(crate::classes::credential_path);
        self.network_tool = self.network_tool || matches!(n, "nc" | "ncat" | "netcat" | "telnet" | "socat");
        self.interactive_interpreter =
            self.interactive_interpreter || predicates::interpreter(c) && Flag::Short('i').given_by_any(c.args());
        // The words joined by spaces contain FLUSHALL exactly when one word does.
        self.flushall = self.flushall
            || c.argv.iter().any(|w| w.as_bytes().windows(8).any(|b| b.eq_ignore_ascii_case(b"FLUSHALL")));
    }
}

/// `None`, or an argument that is an option.
trait NoneOrOption {
    fn is_none_or_option(&self) -> bool;
}

impl NoneOrOption for Option<&String> {
    fn is_none_or_option(&self) -> bool {
        self.iter().all(|a| a.starts_with('-'))
    }
}

impl Flag {
    fn given_by_any(&self, args: &[String]) -> bool {
        args.iter().take_while(|a| *a != "--").any(|a| self.given_by(a))
    }
}

/// Whether the command stops, disables or masks one of `services` (a name matches itself,
/// `name-*`, `name@*`, with or without `.service`/`.socket`).
fn service_stop(x: &Ctx, services: &[String]) -> bool {
    let matches_service = |s: &str| {
        let s = s.trim_end_matches(".service").trim_end_matches(".socket");
        services.iter().any(|x| {
            let x = x.to_ascii_lowercase();
            s == x || s.strip_prefix(x.as_str()).is_some_and(|r| r.starts_with('-') || r.starts_with('@'))
        })
    };
    let w = &x.verbs;
    match x.cmd.name() {
        "systemctl" => {
            w.first().is_some_and(|v| matches!(v.as_str(), "stop" | "disable" | "mask" | "kill"))
                && w.iter().skip(1).any(|s| matches_service(s))
        }
        "service" | "rc-service" => {
            matches!(w.as_slice(), [service, verb, ..] if matches_service(service) && verb == "stop")
        }
        _ => false,
    }
}

/// SQL fed to a database client: as an argument, piped from echo/printf/cat, or in a
/// here-string.
fn sql_statements(x: &Ctx) -> Option<String> {
    let c = x.cmd;
    let flags: &[&str] = match c.name() {
        "psql" => &["-c", "--command"],
        "mysql" | "mariadb" => &["-e", "--execute"],
        "clickhouse-client" | "clickhouse" => &["-q", "--query"],
        "cockroach" => &["-e", "--execute"],
        "sqlcmd" => &["-Q", "-q"],
        "sqlite3" | "duckdb" => &[],
        _ => return None,
    };
    if flags.is_empty() {
        if let Some(s) = operands(c).nth(1) {
            return Some(s.to_string());
        }
    }
    let args = c.args();
    for (i, a) in args.iter().enumerate() {
        for f in flags {
            if a == f {
                if let Some(rest) = args.get(i + 1..).filter(|r| !r.is_empty()) {
                    // Unquoted SQL arrives as several words: take them up to the next option.
                    let words: Vec<&str> =
                        rest.iter().take_while(|w| !w.starts_with('-')).map(String::as_str).collect();
                    return Some(words.join(" "));
                }
            } else if let Some(v) = a.strip_prefix(&format!("{f}=")) {
                return Some(v.to_string());
            } else if let Some(v) = a.strip_prefix(f).filter(|v| f.len() == 2 && !v.is_empty() && !a.starts_with("--"))
            {
                return Some(v.to_string());
            }
        }
    }
    if let Some(up) = x.upstream.last() {
        if matches!(up.name(), "echo" | "printf" | "cat") {
            return Some(up.args().join(" "));
        }
    }
    c.redirects.iter().find(|(op, _)| op == "<<<").map(|(_, t)| t.clone())
}

fn sql_has(x: &Ctx, kinds: &[SqlKind]) -> bool {
    sql_statements(x).is_some_and(|s| {
        s.split(';').any(|stmt| {
            let stmt = stmt.trim().to_ascii_uppercase();
            kinds.iter().any(|k| match k {
                SqlKind::Drop => predicates::sql_drop(&stmt),
                SqlKind::Truncate => predicates::sql_truncate(&stmt),
                SqlKind::DeleteAll => predicates::sql_delete_all(&stmt),
                SqlKind::UpdateAll => predicates::sql_update_all(&stmt),
                SqlKind::DropColumn => predicates::sql_drop_column(&stmt),
            })
        })
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_valid_and_ids_unique() {
        let (rules, problems) = builtin_rules();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(rules.len() >= 104, "{} rules", rules.len());
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule ids");
    }

    #[test]
    fn every_rule_catches_its_cases_and_not_its_near_misses() {
        let mut failures = Vec::new();
        for r in RuleSet::builtin().rules() {
            assert!(!r.must_catch.is_empty(), "{} has no must_catch case", r.id);
            assert!(!r.must_not_catch.is_empty(), "{} has no must_not_catch case", r.id);
            failures.extend(case_failures(r).into_iter().map(|f| format!("{}: {f}", r.id)));
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn no_rule_hits_another_rules_near_misses() {
        // A must_not_catch line is a near miss for every rule, unless another rule means it.
        let set = RuleSet::builtin();
        let mut failures = Vec::new();
        for r in set.rules() {
            for line in &r.must_not_catch {
                if let Some(other) = set.check(line) {
                    if !other.must_catch.contains(line) {
                        failures.push(format!("{line:?} (near miss of {}) hits {}", r.id, other.id));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn everyday_commands_hit_no_rule() {
        let everyday = [
            "rm -rf target/",
            "rm -rf node_modules",
            "git push",
            "git reset --soft HEAD~1",
            "kubectl delete pod one-pod",
            "ls -la",
            "cargo build --release",
            "npm install",
            "docker compose up -d",
            "git status",
            "make -j8",
            "python3 -m pytest",
            "terraform plan",
            "kubectl get pods -A",
            "ssh prod-1 uptime",
            "echo \"rm -rf /\"",
            "grep -r \"DROP TABLE\" migrations/",
            "git commit -m \"reset --hard and force push\"",
            "cd ~ && ls",
            "vim /etc/hosts",
            "sudo apt update",
            "sudo apt upgrade -y",
            "curl -s https://api.github.com/repos/x/y | jq .stargazers_count",
            "docker build -t app .",
            "helm upgrade --install x ./chart",
            "aws s3 cp build/ s3://site/ --recursive",
            "find . -name '*.rs' | xargs wc -l",
            "rm -f *.pyc",
            "tar czf backup.tgz ~/docs",
            "rsync -av --delete ./site/ server:/var/www/site/",
            "chmod +x run.sh",
            "systemctl restart nginx",
            "journalctl -u api -f",
            "psql -c 'select * from users limit 5'",
            "redis-cli get session:1",
            "gcloud compute ssh vm-1",
            "az login",
            "git push --force-with-lease",
            "kubectl cordon node-1",
            "terraform plan -destroy",
            "npm unpublish --dry-run x",
            "wipefs /dev/sdb",
            "truncate -s 0 app.log",
            "rm -rf /tmp/build-cache",
            "rm -rf \"$TMPDIR/x\"",
            "mkfs.erofs image.erofs root/",
            "reboot -w",
            "vgremove --help",
            "sgdisk --backup=gpt.bak /dev/sda",
            "cargo owner --add alice",
        ];
        for line in everyday {
            assert!(check(line).is_none(), "{line:?} hit {:?}", check(line).map(|r| &r.id));
        }
    }
}
