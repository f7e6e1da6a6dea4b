//! The rule tables: what one entry of `rules/*.toml` (or of the person's `[[rules.custom]]`)
//! says, read and checked into a [`Rule`] that the engine (`rules`) runs.
//!
//! An entry holds its metadata (`id`, `severity`, `message`, `readonly`, `help_h`,
//! `must_catch`, `must_not_catch`) and match fields. Every match field given must hold; a
//! list field holds when any of its patterns does:
//!
//! | field | holds when |
//! |---|---|
//! | `program` | the command's name matches (globs: `mkfs*`) |
//! | `subcommand` | its first non-option words are this path (`"delete ns\|namespace"`; `*` is any word; a word `kind/name` also matches `kind`) |
//! | `verb` | some non-option word matches |
//! | `flag` | an option is given: `-f` (also inside `-rf`), `--force` (or `--force=x`; never `--force-with-lease`), `--delete*`, `-destroy` |
//! | `arg`, `arg_first`, `arg_last` | some (the first, the last) argument matches a value pattern |
//! | `arg_pair` | two adjacent arguments match (`"-exec rm\|shred"`, `"--pid host"`) |
//! | `operand`, `operand_first`, `operand_last`, `operand_rest` | some (the first, the last, one after the first) non-option argument matches |
//! | `redirect`, `truncate`, `input`, `redirect_any` | output is written to (a file is emptied by `>`; input is read from; any redirection names) a matching file |
//! | `upstream` | a command before it in its pipeline is a `downloader`, `history`, `credential-reader`, `network-tool`, `interactive-interpreter`, or says `flushall` |
//! | `wrapper` | it was run through this wrapper (`xargs`, `env`, ...) |
//! | `sql` | SQL given to a database client holds a `drop`, `truncate`, `delete-all`, `update-all` or `drop-column` statement |
//! | `text` | its words joined by spaces contain this text |
//! | `service` | it stops, disables or masks this service (`systemctl`, `service`, `rc-service`) |
//! | `substituted` | a command in its substitutions matches the sub-entry |
//! | `predicate` | the named predicate holds (see `predicates`) |
//! | `min_args`, `max_operands` | it has at least this many arguments, at most this many operands |
//! | `any`, `all`, `not` | any / all / none of the sub-entries match |
//!
//! Value patterns are `@class` or `prefix@class` (see `classes`), `/dir/**`, or globs.
#![deny(clippy::indexing_slicing)]

use crate::classes::Pattern;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// How bad a hit is (shown by `vigil rules`; every rule hit makes the command `unsafe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Destroys a machine, a disk or a home folder.
    Critical,
    /// Destroys data or access that is hard to get back.
    #[default]
    High,
    /// Damage that can be repaired with some work.
    Medium,
}

impl Severity {
    /// `critical`, `high` or `medium`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
        }
    }
}

/// The match fields of an entry, as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchSpec {
    pub program: Vec<String>,
    pub subcommand: Vec<String>,
    pub verb: Vec<String>,
    pub flag: Vec<String>,
    pub arg: Vec<String>,
    pub arg_last: Vec<String>,
    pub arg_first: Vec<String>,
    pub arg_pair: Vec<String>,
    pub operand: Vec<String>,
    pub operand_first: Vec<String>,
    pub operand_last: Vec<String>,
    pub operand_rest: Vec<String>,
    pub redirect: Vec<String>,
    pub truncate: Vec<String>,
    pub input: Vec<String>,
    pub redirect_any: Vec<String>,
    pub upstream: Vec<String>,
    pub wrapper: Vec<String>,
    pub sql: Vec<String>,
    pub text: Vec<String>,
    pub service: Vec<String>,
    pub substituted: Vec<MatchSpec>,
    pub predicate: Option<String>,
    pub min_args: Option<usize>,
    pub max_operands: Option<usize>,
    pub any: Vec<MatchSpec>,
    pub all: Vec<MatchSpec>,
    pub not: Vec<MatchSpec>,
}

/// One option pattern of `flag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// `-f`: alone or inside a bundle (`-rf`).
    Short(char),
    /// `--force` or `-destroy`: exactly, or with `=value`.
    Long(String),
    /// `--delete*`: any option starting so.
    LongPrefix(String),
}

impl Flag {
    fn parse(text: &str) -> Result<Flag, String> {
        let mut chars = text.chars();
        match (chars.next(), chars.next(), chars.next()) {
            (Some('-'), Some(c), None) if c != '-' => Ok(Flag::Short(c)),
            (Some('-'), Some(_), Some(_)) => match text.strip_suffix('*') {
                Some(prefix) => Ok(Flag::LongPrefix(prefix.to_string())),
                None => Ok(Flag::Long(text.to_string())),
            },
            _ => Err(format!("{text:?} is not an option (write -x, --name, --name* or -name)")),
        }
    }

    /// Whether the argument `a` gives this option.
    pub fn given_by(&self, a: &str) -> bool {
        match self {
            Flag::Short(c) => !a.starts_with("--") && a.strip_prefix('-').is_some_and(|b| b.contains(*c)),
            Flag::Long(l) => a == l || a.strip_prefix(l.as_str()).is_some_and(|r| r.starts_with('=')),
            Flag::LongPrefix(p) => a.starts_with(p.as_str()),
        }
    }
}

/// What `upstream` can ask about the commands before one in its pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamKind {
    Downloader,
    History,
    CredentialReader,
    NetworkTool,
    InteractiveInterpreter,
    Flushall,
}

/// The statements `sql` can ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlKind {
    Drop,
    Truncate,
    DeleteAll,
    UpdateAll,
    DropColumn,
}

/// A checked entry's match fields, ready for the engine.
#[derive(Debug, Clone, Default)]
pub struct Cond {
    pub program: Vec<String>,
    /// Each path's words, each word's alternatives, lower-cased.
    pub subcommand: Vec<Vec<Vec<String>>>,
    pub verb: Vec<String>,
    pub flag: Vec<Flag>,
    pub arg: Vec<Pattern>,
    pub arg_last: Vec<Pattern>,
    pub arg_first: Vec<Pattern>,
    /// Two adjacent arguments: each side's alternatives.
    pub arg_pair: Vec<(Vec<String>, Vec<String>)>,
    pub operand: Vec<Pattern>,
    pub operand_first: Vec<Pattern>,
    pub operand_last: Vec<Pattern>,
    pub operand_rest: Vec<Pattern>,
    pub redirect: Vec<Pattern>,
    pub truncate: Vec<Pattern>,
    pub input: Vec<Pattern>,
    pub redirect_any: Vec<Pattern>,
    pub upstream: Vec<UpstreamKind>,
    pub wrapper: Vec<String>,
    pub sql: Vec<SqlKind>,
    pub text: Vec<String>,
    pub service: Vec<String>,
    pub substituted: Vec<Cond>,
    pub predicate: Option<crate::predicates::Predicate>,
    pub min_args: Option<usize>,
    pub max_operands: Option<usize>,
    pub any: Vec<Cond>,
    pub all: Vec<Cond>,
    pub not: Vec<Cond>,
}

impl Cond {
    /// Whether the entry says anything at all (an empty one would match every command).
    fn is_empty(&self) -> bool {
        self.program.is_empty()
            && self.subcommand.is_empty()
            && self.verb.is_empty()
            && self.flag.is_empty()
            && self.arg.is_empty()
            && self.arg_last.is_empty()
            && self.arg_first.is_empty()
            && self.arg_pair.is_empty()
            && self.operand.is_empty()
            && self.operand_first.is_empty()
            && self.operand_last.is_empty()
            && self.operand_rest.is_empty()
            && self.redirect.is_empty()
            && self.truncate.is_empty()
            && self.input.is_empty()
            && self.redirect_any.is_empty()
            && self.upstream.is_empty()
            && self.wrapper.is_empty()
            && self.sql.is_empty()
            && self.text.is_empty()
            && self.service.is_empty()
            && self.substituted.is_empty()
            && self.predicate.is_none()
            && self.any.is_empty()
            && self.all.is_empty()
            && self.not.is_empty()
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The reviewed tables built into vigil.
    BuiltIn,
    /// The person's `[[rules.custom]]`.
    Config,
}

impl Source {
    /// `built-in` or `config`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::BuiltIn => "built-in",
            Source::Config => "config",
        }
    }
}

/// One checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `category:name`, shown as `rule:<id>`.
    pub id: String,
    /// How bad a hit is.
    pub severity: Severity,
    /// One line for the person: what the command does.
    pub reason: String,
    /// Where it comes from.
    pub source: Source,
    /// Options that make the command read-only or a dry run for this rule (beyond the
    /// universal `--help`, `--version`, `--dry-run`, ...).
    pub readonly: Vec<Flag>,
    /// Whether a lone trailing `-h` means help for this program (false for `shutdown -h`).
    pub help_h: bool,
    /// Lines it must catch and lines it must not (run by the tests, and by the agent for a
    /// custom rule when it is loaded).
    pub must_catch: Vec<String>,
    pub must_not_catch: Vec<String>,
    pub(crate) cond: Cond,
}

impl Rule {
    /// The category, the part of the id before the colon.
    pub fn category(&self) -> &str {
        self.id.split(':').next().unwrap_or(&self.id)
    }
}

/// Keys of an entry that are not match fields.
const META: &[&str] = &["id", "severity", "message", "readonly", "help_h", "must_catch", "must_not_catch"];

/// Reads and checks one entry. The error names the entry (by id when it has one) and says
/// what is wrong.
pub fn rule_from_table(entry: &Table, source: Source, position: usize) -> Result<Rule, String> {
    let id = match entry.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(format!("rule #{position}: needs an id (\"category:name\")")),
    };
    let named = |m: String| format!("rule {id}: {m}");
    if !id.contains(':') || id.starts_with(':') || id.ends_with(':') || id.contains(char::is_whitespace) {
        return Err(named("the id must look like \"category:name\"".into()));
    }
    let message = match entry.get("message") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(named("needs a message (what the command does, in a few words)".into())),
    };
    let severity = match entry.get("severity") {
        None => Severity::default(),
        Some(v) => {
            v.clone().try_into::<Severity>().map_err(|_| named("severity must be critical, high or medium".into()))?
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, String> {
        match entry.get(key) {
            None => Ok(Vec::new()),
            Some(v) => {
                v.clone().try_into::<Vec<String>>().map_err(|_| named(format!("{key} must be a list of strings")))
            }
        }
    };
    let readonly =
        strings("readonly")?.iter().map(|f| Flag::parse(f)).collect::<Result<Vec<_>, _>>().map_err(&named)?;
    let help_h = match entry.get("help_h") {
        None => true,
        Some(Value::Boolean(b)) => *b,
        Some(_) => return Err(named("help_h must be true or false".into())),
    };
    let must_catch = strings("must_catch")?;
    let must_not_catch = strings("must_not_catch")?;
    let rest: Table =
        entry.iter().filter(|(k, _)| !META.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let spec: MatchSpec =
        Value::Table(rest).try_into().map_err(|e: toml::de::Error| named(e.message().trim().to_string()))?;
    let cond = compile(&spec).map_err(&named)?;
    if cond.is_empty() {
        return Err(named(
            "has no match fields (program, subcommand, flag, operand, ...): it would match every command".into(),
        ));
    }
    Ok(Rule { id, severity, reason: message, source, readonly, help_h, must_catch, must_not_catch, cond })
}

/// Checks the match fields of one entry (and of its sub-entries).
pub fn compile(spec: &MatchSpec) -> Result<Cond, String> {
    let patterns = |v: &[String]| v.iter().map(|p| Pattern::parse(p)).collect::<Result<Vec<_>, _>>();
    let subs = |v: &[MatchSpec]| v.iter().map(compile).collect::<Result<Vec<_>, _>>();
    let upstream = spec
        .upstream
        .iter()
        .map(|u| {
            Ok(match u.as_str() {
                "downloader" => UpstreamKind::Downloader,
                "history" => UpstreamKind::History,
                "credential-reader" => UpstreamKind::CredentialReader,
                "network-tool" => UpstreamKind::NetworkTool,
                "interactive-interpreter" => UpstreamKind::InteractiveInterpreter,
                "flushall" => UpstreamKind::Flushall,
                other => return Err(format!("unknown upstream condition {other:?}")),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let sql = spec
        .sql
        .iter()
        .map(|s| {
            Ok(match s.as_str() {
                "drop" => SqlKind::Drop,
                "truncate" => SqlKind::Truncate,
                "delete-all" => SqlKind::DeleteAll,
                "update-all" => SqlKind::UpdateAll,
                "drop-column" => SqlKind::DropColumn,
                other => return Err(format!("unknown sql check {other:?}")),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let predicate = match &spec.predicate {
        None => None,
        Some(name) => {
            Some(crate::predicates::Predicate::from_name(name).ok_or_else(|| format!("unknown predicate {name:?}"))?)
        }
    };
    let subcommand = spec
        .subcommand
        .iter()
        .map(|path| {
            let words: Vec<Vec<String>> = path
                .split_whitespace()
                .map(|w| w.to_ascii_lowercase().split('|').map(str::to_string).collect())
                .collect();
            if words.is_empty() {
                Err("an empty subcommand".to_string())
            } else {
                Ok(words)
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Cond {
        program: spec.program.clone(),
        subcommand,
        verb: spec.verb.iter().map(|v| v.to_ascii_lowercase()).collect(),
        flag: spec.flag.iter().map(|f| Flag::parse(f)).collect::<Result<_, _>>()?,
        arg: patterns(&spec.arg)?,
        arg_last: patterns(&spec.arg_last)?,
        arg_first: patterns(&spec.arg_first)?,
        arg_pair: spec
            .arg_pair
            .iter()
            .map(|pair| match pair.split_whitespace().collect::<Vec<_>>().as_slice() {
                [a, b] => Ok((a.split('|').map(str::to_string).collect(), b.split('|').map(str::to_string).collect())),
                _ => Err(format!("arg_pair {pair:?} must be two words (\"-exec rm|shred\")")),
            })
            .collect::<Result<_, String>>()?,
        operand: patterns(&spec.operand)?,
        operand_first: patterns(&spec.operand_first)?,
        operand_last: patterns(&spec.operand_last)?,
        operand_rest: patterns(&spec.operand_rest)?,
        redirect: patterns(&spec.redirect)?,
        truncate: patterns(&spec.truncate)?,
        input: patterns(&spec.input)?,
        redirect_any: patterns(&spec.redirect_any)?,
        upstream,
        wrapper: spec.wrapper.clone(),
        sql,
        text: spec.text.clone(),
        service: spec.service.clone(),
        substituted: subs(&spec.substituted)?,
        predicate,
        min_args: spec.min_args,
        max_operands: spec.max_operands,
        any: subs(&spec.any)?,
        all: subs(&spec.all)?,
        not: subs(&spec.not)?,
    })
}

/// Reads a table file (`[[rule]]` entries).
pub fn rules_from_text(text: &str, origin: &str, source: Source) -> Result<Vec<Rule>, String> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| format!("{origin}: {}", e.message().trim()))?;
    let mut out = Vec::new();
    for (key, v) in &table {
        if key != "rule" {
            return Err(format!("{origin}: unknown key {key:?} (a table holds [[rule]] entries)"));
        }
        let Value::Array(entries) = v else {
            return Err(format!("{origin}: rule must be [[rule]] entries"));
        };
        for (i, e) in entries.iter().enumerate() {
            let Value::Table(t) = e else {
                return Err(format!("{origin}: rule #{} is not a table", i + 1));
            };
            out.push(rule_from_table(t, source, i + 1).map_err(|m| format!("{origin}: {m}"))?);
        }
    }
    Ok(out)
}
