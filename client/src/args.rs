//! The command line of one subcommand, read with `lexopt` (no start-up cost, pedantic about
//! values): an option that takes a value never swallows the next option (`--file --json` is
//! an error naming `--file`), and an unknown option is named, never ignored.

use std::ffi::OsString;

/// One argument: an option as typed (`--json`, `-n`) or a positional value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// An option, spelled with its dashes: `--json`, `-n`.
    Opt(String),
    /// A positional argument.
    Value(String),
}

/// The arguments of one subcommand, not yet consumed.
pub struct Args {
    parser: lexopt::Parser,
    /// A literal `--` was reached: the rest are taken with [`Args::trailing`].
    at_dashdash: bool,
}

/// A usage mistake: one line, shown with the command's name.
#[derive(Debug)]
pub struct UsageError(pub String);

fn lossy(v: OsString) -> String {
    // Lossy: a command line may hold bytes that are not UTF-8.
    v.to_string_lossy().into_owned()
}

fn from_lexopt(e: lexopt::Error) -> UsageError {
    UsageError(match e {
        lexopt::Error::MissingValue { option: Some(o) } => format!("{o} needs a value"),
        lexopt::Error::UnexpectedValue { option, .. } => format!("{option} takes no value"),
        other => other.to_string(),
    })
}

/// Whether `v` looks like an option rather than a value (`-` alone is a value: stdin/stdout).
fn looks_like_option(v: &str) -> bool {
    v.len() > 1 && v.starts_with('-')
}

impl Args {
    /// The arguments after the subcommand's name.
    pub fn new(args: impl IntoIterator<Item = String>) -> Args {
        Args { parser: lexopt::Parser::from_args(args), at_dashdash: false }
    }

    /// The next option or positional value; `None` at the end or at a literal `--`.
    pub fn next(&mut self) -> Result<Option<Arg>, UsageError> {
        if self.at_dashdash {
            return Ok(None);
        }
        // lexopt swallows `--` itself; the hooks and `score` need to know where it was.
        if let Some(raw) = self.parser.try_raw_args() {
            if raw.peek().is_some_and(|a| a == "--") {
                let mut raw = raw;
                raw.next();
                self.at_dashdash = true;
                return Ok(None);
            }
        }
        Ok(match self.parser.next().map_err(from_lexopt)? {
            None => None,
            Some(lexopt::Arg::Long(l)) => Some(Arg::Opt(format!("--{l}"))),
            Some(lexopt::Arg::Short(c)) => Some(Arg::Opt(format!("-{c}"))),
            Some(lexopt::Arg::Value(v)) => Some(Arg::Value(lossy(v))),
        })
    }

    /// The value of the option `opt` just returned by [`Args::next`]: `--opt VALUE`,
    /// `--opt=VALUE` or `-oVALUE`. A following option is not a value (write `--opt=-x` for
    /// a value that starts with a dash).
    pub fn value(&mut self, opt: &str) -> Result<String, UsageError> {
        if let Some(v) = self.parser.optional_value() {
            return Ok(lossy(v));
        }
        let mut raw = self.parser.raw_args().map_err(from_lexopt)?;
        match raw.peek().map(|v| v.to_string_lossy().into_owned()) {
            None => Err(UsageError(format!("{opt} needs a value"))),
            Some(v) if looks_like_option(&v) && v.parse::<f64>().is_err() => Err(UsageError(format!(
                "{opt} needs a value (found the option {v}; write {opt}={v} if that is the value)"
            ))),
            Some(_) => Ok(raw.next().map(lossy).unwrap_or_default()),
        }
    }

    /// The value of `opt` whatever it looks like, a leading dash included: for values that are
    /// texts of commands (`--only-if-equals -x`).
    pub fn any_value(&mut self, _opt: &str) -> Result<String, UsageError> {
        self.parser.value().map(lossy).map_err(from_lexopt)
    }

    /// The value of `opt` as a number.
    pub fn number<T: std::str::FromStr>(&mut self, opt: &str) -> Result<T, UsageError> {
        let v = self.value(opt)?;
        v.parse().map_err(|_| UsageError(format!("{opt}: {v:?} is not a number")))
    }

    /// Everything left, verbatim, `--` included: the words of a command given on the command
    /// line after its first word (`vigil label safe rm -rf ./tmp`).
    pub fn rest(&mut self) -> Vec<String> {
        if self.at_dashdash {
            return self.trailing();
        }
        match self.parser.raw_args() {
            Ok(raw) => raw.map(lossy).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// What followed a literal `--` (empty if [`Args::next`] has not reached one).
    pub fn trailing(&mut self) -> Vec<String> {
        if !self.at_dashdash {
            return Vec::new();
        }
        match self.parser.raw_args() {
            Ok(raw) => raw.map(lossy).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Fails if any argument is left (for commands that take none after their options).
    pub fn finish(mut self) -> Result<(), UsageError> {
        match self.next()? {
            Some(a) => Err(unknown_arg(a)),
            None if !self.trailing().is_empty() => Err(UsageError("unexpected arguments after --".into())),
            None => Ok(()),
        }
    }
}

/// The error for an argument the command does not take.
pub fn unknown_arg(arg: Arg) -> UsageError {
    match arg {
        Arg::Opt(o) => UsageError(format!("unknown option {o}")),
        Arg::Value(v) => UsageError(format!("unexpected argument {v:?}")),
    }
}

/// Reads the options of a command that takes only `--json`.
pub fn json_only(mut args: Args) -> Result<bool, UsageError> {
    let mut json = false;
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) if o == "--json" => json = true,
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Args {
        Args::new(v.iter().map(|s| s.to_string()))
    }

    fn opt(s: &str) -> Option<Arg> {
        Some(Arg::Opt(s.into()))
    }

    #[test]
    fn values_flags_and_trailing() {
        let mut a = args(&["--shell", "bash", "--json", "--exit=3", "-n5", "--", "rm", "--shell", "x"]);
        assert_eq!(a.next().unwrap(), opt("--shell"));
        assert_eq!(a.value("--shell").unwrap(), "bash");
        assert_eq!(a.next().unwrap(), opt("--json"));
        assert_eq!(a.next().unwrap(), opt("--exit"));
        assert_eq!(a.number::<i32>("--exit").unwrap(), 3);
        assert_eq!(a.next().unwrap(), opt("-n"));
        assert_eq!(a.number::<u32>("-n").unwrap(), 5);
        assert_eq!(a.next().unwrap(), None);
        assert_eq!(a.trailing(), vec!["rm", "--shell", "x"]);
    }

    #[test]
    fn an_option_is_never_taken_as_the_value_of_another() {
        let mut a = args(&["--file", "--json"]);
        assert_eq!(a.next().unwrap(), opt("--file"));
        let e = a.value("--file").unwrap_err().0;
        assert!(e.starts_with("--file needs a value") && e.contains("--json"), "{e}");
        let mut a = args(&["--file=--json"]);
        a.next().unwrap();
        assert_eq!(a.value("--file").unwrap(), "--json", "the = form takes anything");
        let mut a = args(&["--exit", "-1", "--csv", "-"]);
        a.next().unwrap();
        assert_eq!(a.number::<i32>("--exit").unwrap(), -1, "a negative number is a value");
        a.next().unwrap();
        assert_eq!(a.value("--csv").unwrap(), "-", "- alone is a value");
        let mut a = args(&["--file"]);
        a.next().unwrap();
        assert_eq!(a.value("--file").unwrap_err().0, "--file needs a value");
    }

    #[test]
    fn rest_keeps_options_of_the_command() {
        let mut a = args(&["safe", "rm", "-rf", "~"]);
        assert_eq!(a.next().unwrap(), Some(Arg::Value("safe".into())));
        assert_eq!(a.rest(), vec!["rm", "-rf", "~"]);
        let mut a = args(&["--json", "git", "push", "-f", "--", "x"]);
        assert_eq!(a.next().unwrap(), opt("--json"));
        assert_eq!(a.next().unwrap(), Some(Arg::Value("git".into())));
        assert_eq!(a.rest(), vec!["push", "-f", "--", "x"]);
    }

    #[test]
    fn mistakes_are_reported() {
        let mut a = args(&["--exit", "x"]);
        a.next().unwrap();
        assert!(a.number::<i32>("--exit").unwrap_err().0.contains("not a number"));
        assert_eq!(args(&["--nope"]).finish().unwrap_err().0, "unknown option --nope");
        assert_eq!(json_only(args(&["--json=1"])).unwrap_err().0, "--json takes no value");
        assert!(json_only(args(&["--json"])).unwrap());
        assert!(json_only(args(&["x"])).is_err());
    }
}
