//! A small argument reader: the hooks exec `vigil` twice per command, so it parses by hand
//! rather than pay for a full parser's start-up.

use std::collections::VecDeque;

/// Arguments not yet consumed.
pub struct Args {
    rest: VecDeque<String>,
    /// Everything after a literal `--`.
    pub trailing: Vec<String>,
}

/// A usage mistake, shown with the command's help.
#[derive(Debug)]
pub struct UsageError(pub String);

impl Args {
    /// Splits `args` at the first `--`.
    pub fn new(args: impl IntoIterator<Item = String>) -> Args {
        let mut rest = VecDeque::new();
        let mut trailing = Vec::new();
        let mut after = false;
        for a in args {
            if after {
                trailing.push(a);
            } else if a == "--" {
                after = true;
            } else {
                rest.push_back(a);
            }
        }
        Args { rest, trailing }
    }

    /// Takes the next positional argument (one not starting with `-`), if it comes next.
    pub fn positional(&mut self) -> Option<String> {
        match self.rest.front() {
            Some(a) if !a.starts_with('-') || a == "-" => self.rest.pop_front(),
            _ => None,
        }
    }

    /// Takes a boolean flag given under any of `names`.
    pub fn flag(&mut self, names: &[&str]) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| !names.contains(&a.as_str()));
        self.rest.len() != before
    }

    /// Takes `--name VALUE` or `--name=VALUE`.
    pub fn value(&mut self, names: &[&str]) -> Result<Option<String>, UsageError> {
        let mut found = None;
        let mut i = 0;
        while i < self.rest.len() {
            let a = &self.rest[i];
            if names.contains(&a.as_str()) {
                if i + 1 >= self.rest.len() {
                    return Err(UsageError(format!("{a} needs a value")));
                }
                self.rest.remove(i);
                found = self.rest.remove(i);
                continue;
            }
            if let Some((n, v)) = a.split_once('=') {
                if names.contains(&n) {
                    found = Some(v.to_string());
                    self.rest.remove(i);
                    continue;
                }
            }
            i += 1;
        }
        Ok(found)
    }

    /// Takes a value that must be present.
    pub fn required(&mut self, names: &[&str]) -> Result<String, UsageError> {
        self.value(names)?.ok_or_else(|| UsageError(format!("{} is required", names[0])))
    }

    /// Takes a numeric value.
    pub fn number<T: std::str::FromStr>(&mut self, names: &[&str]) -> Result<Option<T>, UsageError> {
        match self.value(names)? {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| UsageError(format!("{}: {v:?} is not a number", names[0]))),
        }
    }

    /// Everything not consumed yet, options included, then what followed `--`: the words of a
    /// command given on the command line (`vigil label safe rm -rf ./tmp`).
    pub fn remaining(self) -> Vec<String> {
        let mut out: Vec<String> = self.rest.into_iter().collect();
        out.extend(self.trailing);
        out
    }

    /// Fails if anything was left unconsumed.
    pub fn finish(self) -> Result<Vec<String>, UsageError> {
        match self.rest.front() {
            Some(a) => Err(UsageError(format!("unexpected argument {a:?}"))),
            None => Ok(self.trailing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Args {
        Args::new(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn values_flags_and_trailing() {
        let mut a = args(&["--shell", "bash", "--json", "--exit=3", "--", "rm", "--shell", "x"]);
        assert_eq!(a.value(&["--shell"]).unwrap().as_deref(), Some("bash"));
        assert!(a.flag(&["--json"]));
        assert_eq!(a.number::<i32>(&["--exit"]).unwrap(), Some(3));
        assert_eq!(a.finish().unwrap(), vec!["rm", "--shell", "x"]);
    }

    #[test]
    fn remaining_keeps_options_of_the_command() {
        let mut a = args(&["safe", "rm", "-rf", "~"]);
        assert_eq!(a.positional().as_deref(), Some("safe"));
        assert_eq!(a.remaining(), vec!["rm", "-rf", "~"]);
        let mut a = args(&["--json", "git", "push", "-f"]);
        assert!(a.flag(&["--json"]));
        assert_eq!(a.remaining(), vec!["git", "push", "-f"]);
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(args(&["--shell"]).value(&["--shell"]).is_err());
        assert!(args(&["--exit", "x"]).number::<i32>(&["--exit"]).is_err());
        assert!(args(&["--nope"]).finish().is_err());
        assert!(args(&[]).required(&["--session"]).is_err());
    }
}
