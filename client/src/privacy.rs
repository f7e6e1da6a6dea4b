//! What is recorded, and how it is redacted: the policy every path that keeps a command
//! applies (the agent before it journals or stores, the client before it spools).
//!
//! The person's `[redact]` section of `config.toml` is read here too, so that a command kept
//! while no agent answers obeys the same extra patterns and do-not-record rules as one the
//! agent takes live: a secret the person named must not reach the spool because the agent
//! happened to be down.

use std::path::Path;

use crate::redact::{self, Extra};

/// Whether a command line is recorded at all: a command typed with a leading space is the
/// person's way of saying "not this one", and a blank line is nothing.
pub fn is_recorded(command: &str) -> bool {
    !command.starts_with([' ', '\t']) && !command.trim().is_empty()
}

/// The `[redact]` lists as written by the person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactLists {
    /// Extra regular expressions whose matches are replaced with `<redacted>`.
    pub extra_patterns: Vec<String>,
    /// Commands matching any of these regular expressions are not recorded at all.
    pub ignore_commands: Vec<String>,
    /// Commands run in these folders (or below them) are not recorded at all.
    pub ignore_folders: Vec<String>,
}

/// Redaction and the person's do-not-record rules, compiled.
#[derive(Default)]
pub struct Privacy {
    extra: Extra,
    ignore_commands: Vec<regex::Regex>,
    ignore_folders: Vec<String>,
}

impl Privacy {
    /// Compiles the lists; each pattern that does not compile is skipped and described in
    /// the second value (`redact.KEY: pattern: error`).
    pub fn new(lists: &RedactLists) -> (Privacy, Vec<String>) {
        let (extra, bad) = Extra::new(&lists.extra_patterns);
        let mut problems: Vec<String> = bad.into_iter().map(|b| format!("redact.extra_patterns: {b}")).collect();
        let mut ignore_commands = Vec::new();
        for p in &lists.ignore_commands {
            match regex::Regex::new(p) {
                Ok(re) => ignore_commands.push(re),
                Err(e) => problems.push(format!("redact.ignore_commands: {p}: {e}")),
            }
        }
        let ignore_folders = lists
            .ignore_folders
            .iter()
            .map(|f| f.trim_end_matches('/').to_string())
            .filter(|f| !f.is_empty())
            .collect();
        (Privacy { extra, ignore_commands, ignore_folders }, problems)
    }

    /// The policy of the `[redact]` section of the configuration file at `path`. A missing
    /// file means the defaults; a file that cannot be read or parsed gives the defaults too
    /// (built-in redaction still applies), and the agent reports what is wrong with it.
    pub fn from_config_file(path: &Path) -> Privacy {
        Privacy::new(&lists_of_table(&config_table(path))).0
    }

    /// The command with its secrets replaced: built-in shapes, then the person's patterns.
    pub fn redact(&self, command: &str) -> String {
        redact::redact_with(command, &self.extra)
    }

    /// Whether this command, run in `cwd`, is recorded at all: not typed with a leading space
    /// nor blank ([`is_recorded`]), and not matched by the person's ignored commands or folders.
    pub fn records(&self, command: &str, cwd: Option<&str>) -> bool {
        is_recorded(command)
            && !self.ignore_commands.iter().any(|re| re.is_match(command))
            && !cwd.is_some_and(|d| self.ignore_folders.iter().any(|f| in_folder(d, f)))
    }
}

/// `dir` is `folder` or below it.
fn in_folder(dir: &str, folder: &str) -> bool {
    dir.strip_prefix(folder).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The configuration file at `path` as a table, for the client's readers of it (privacy, the
/// offline rules, the hook settings): a missing, unreadable or unparsable file is an empty one,
/// so each section takes its defaults (the agent's configuration check names what is wrong).
pub fn config_table(path: &Path) -> toml::Table {
    std::fs::read_to_string(path).ok().and_then(|t| t.parse::<toml::Table>().ok()).unwrap_or_default()
}

/// The `[redact]` lists of a parsed configuration; what is not a list of strings is left out
/// (the agent's configuration check names it).
pub fn lists_of_table(table: &toml::Table) -> RedactLists {
    let Some(redact) = table.get("redact").and_then(toml::Value::as_table) else { return RedactLists::default() };
    let strings = |key: &str| -> Vec<String> {
        redact
            .get(key)
            .and_then(toml::Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    RedactLists {
        extra_patterns: strings("extra_patterns"),
        ignore_commands: strings("ignore_commands"),
        ignore_folders: strings("ignore_folders"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_space_and_blank_are_not_recorded() {
        assert!(is_recorded("ls -la"));
        assert!(is_recorded("ls\n  two"));
        assert!(!is_recorded(" ls"));
        assert!(!is_recorded("\tls"));
        assert!(!is_recorded("   "));
        assert!(!is_recorded(""));
    }

    #[test]
    fn the_redact_section_is_read_from_toml() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let lists_in = |text: &str| {
            std::fs::write(&file, text).unwrap();
            lists_of_table(&config_table(&file))
        };
        let lists = lists_in(
            "[score]\nwarn_at = 0.5\n[redact]\nextra_patterns = ['corp-[0-9]+']\nignore_commands = [\"^secret-tool\"]\nignore_folders = ['/home/me/vault/', 3]\n",
        );
        assert_eq!(lists.extra_patterns, vec!["corp-[0-9]+"]);
        assert_eq!(lists.ignore_commands, vec!["^secret-tool"]);
        assert_eq!(lists.ignore_folders, vec!["/home/me/vault/"]);
        assert_eq!(lists_in("not = [toml"), RedactLists::default());
        assert_eq!(lists_of_table(&config_table(&dir.path().join("missing.toml"))), RedactLists::default());
    }

    #[test]
    fn the_policy_redacts_and_ignores() {
        let lists = RedactLists {
            extra_patterns: vec!["corp-[0-9]+".into(), "(".into()],
            ignore_commands: vec!["^secret-tool".into()],
            ignore_folders: vec!["/home/me/vault/".into()],
        };
        let (p, problems) = Privacy::new(&lists);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("redact.extra_patterns: "), "{problems:?}");
        assert_eq!(p.redact("curl -d corp-12345 x"), "curl -d <redacted> x");
        assert!(!p.records("secret-tool lookup x", None));
        assert!(!p.records("ls", Some("/home/me/vault")));
        assert!(!p.records("ls", Some("/home/me/vault/sub")));
        assert!(p.records("ls", Some("/home/me/vaults")));
        assert!(p.records("ls", None));
        assert!(!p.records(" ls", None));
        assert!(!p.records("  ", None));
    }
}
