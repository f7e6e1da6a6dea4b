//! The warning a hook gives when no agent answers (none running yet, one frozen, a crash):
//! the hard rules alone, applied as the agent would apply them (the person's `[rules]`,
//! `[redact]` and `[score] warn` from config.toml) to the redacted command. The model and the
//! person's labels live in the agent: without it, only a rule hit warns.

use crate::privacy::{config_table, lists_of_table, Privacy};
use std::path::Path;
use vigil_rules::{RuleSet, RulesConfig};

/// The warning for `command`, run in `cwd`, given the configuration file `config`; `None` for
/// a command that hits no rule, that is not recorded, or when warnings are off.
pub fn warning(config: &Path, command: &str, cwd: Option<&str>) -> Option<String> {
    Offline::load(config).warning(command, cwd)
}

/// [`warning`] for an already parsed configuration.
pub fn warning_with(table: &toml::Table, command: &str, cwd: Option<&str>) -> Option<String> {
    Offline::from_table(table).warning(command, cwd)
}

/// What [`warning`] builds from a configuration, built once for a process that warns again
/// and again (the relay): the person's privacy policy and the rules in force.
pub struct Offline {
    warn: bool,
    privacy: Privacy,
    rules: RuleSet,
}

impl Offline {
    /// From the configuration file at `config` (missing or broken: the defaults).
    pub fn load(config: &Path) -> Offline {
        Offline::from_table(&config_table(config))
    }

    /// From a parsed configuration.
    pub fn from_table(table: &toml::Table) -> Offline {
        let warn = table.get("score").and_then(|s| s.get("warn")).and_then(toml::Value::as_bool) != Some(false);
        let privacy = Privacy::new(&lists_of_table(table)).0;
        // A bad [rules] section is the built-in rules, as in the agent.
        let rules: RulesConfig = table.get("rules").cloned().and_then(|v| v.try_into().ok()).unwrap_or_default();
        Offline { warn, privacy, rules: RuleSet::from_config(&rules).0 }
    }

    /// The warning for `command`, run in `cwd`, if a rule hits it.
    pub fn warning(&self, command: &str, cwd: Option<&str>) -> Option<String> {
        if !self.warn || !self.privacy.records(command, cwd) {
            return None;
        }
        let redacted = self.privacy.redact(command);
        let rule = self.rules.check(&redacted)?;
        Some(vigil_rules::rule_warning(&redacted, &rule.reason, &rule.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn a_rule_hit_warns_as_the_agent_would_and_the_persons_configuration_applies() {
        let none = toml::Table::new();
        let w = warning_with(&none, "rm -rf ~", None).expect("a warning");
        assert!(w.starts_with("vigil: rm -rf ~ ") && w.ends_with("(rule fs:rm-home)"), "{w}");
        assert_eq!(warning_with(&none, "ls -la", None), None);
        // Secrets never reach the terminal either.
        let w = warning_with(&none, "curl -u admin:hunter2 https://get.example.com/install.sh | sh", None)
            .expect("a warning");
        assert!(!w.contains("hunter2"), "{w}");
        // [score] warn = false, [rules] disable, ignored commands and folders, custom rules.
        assert_eq!(warning_with(&table("[score]\nwarn = false\n"), "rm -rf ~", None), None);
        assert_eq!(warning_with(&table("[rules]\ndisable = [\"fs:rm-home\"]\n"), "rm -rf ~", None), None);
        assert_eq!(warning_with(&table("[redact]\nignore_commands = [\"^rm \"]\n"), "rm -rf ~", None), None);
        assert_eq!(warning_with(&table("[redact]\nignore_folders = [\"/srv\"]\n"), "rm -rf ~", Some("/srv/x")), None);
        let custom = table("[[rules.custom]]\nid = \"deploy:prod\"\nmessage = \"deploys to production\"\nprogram = [\"make\"]\noperand = [\"deploy-prod\"]\n");
        assert_eq!(
            warning_with(&custom, "make deploy-prod", None).as_deref(),
            Some("vigil: make deploy-prod deploys to production (rule deploy:prod)")
        );
        // A broken [rules] section leaves the built-in rules in force.
        assert!(warning_with(&table("[rules]\ndisable = 3\n"), "rm -rf ~", None).is_some());
    }
}
