//! `[rules]` in config.toml: the person's say over the hard rules. `disable` turns built-in
//! rules off by id; each `[[rules.custom]]` entry adds a rule, written like the built-in
//! tables' entries (id, severity, message, match fields; see `table`), checked when the
//! agent loads it (see `RuleSet::from_config`).

use serde::{Deserialize, Serialize};

/// `[rules]`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Ids of built-in rules that do not apply.
    pub disable: Vec<String>,
    /// The person's own rules, as written (a bad entry is reported and skipped, never a
    /// reason to drop the whole configuration).
    pub custom: Vec<toml::Table>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;
    use crate::table::Source;

    fn config(text: &str) -> RulesConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn disable_turns_a_built_in_rule_off_and_names_unknown_ids() {
        let (set, problems) = RuleSet::from_config(&config("disable = [\"fs:rm-home\", \"fs:no-such\"]"));
        assert!(set.check("rm -rf ~").is_none());
        assert_eq!(set.check("rm -rf /").map(|r| r.id.as_str()), Some("fs:rm-root"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("fs:no-such"), "{problems:?}");
        assert_eq!(set.rules().len(), RuleSet::builtin().rules().len() - 1);
    }

    #[test]
    fn custom_rules_are_added_and_listed_as_config() {
        let text = r#"
            [[custom]]
            id = "deploy:prod"
            severity = "critical"
            message = "deploys to production"
            program = ["make"]
            operand = ["deploy-prod"]
            must_catch = ["make deploy-prod", "sudo make -j4 deploy-prod"]
            must_not_catch = ["make deploy-staging"]
        "#;
        let (set, problems) = RuleSet::from_config(&config(text));
        assert!(problems.is_empty(), "{problems:?}");
        let hit = set.check("cd app && make deploy-prod").expect("a hit");
        assert_eq!(
            (hit.id.as_str(), hit.source, hit.reason.as_str()),
            ("deploy:prod", Source::Config, "deploys to production")
        );
        assert!(set.check("make deploy-prod --dry-run").is_none());
        assert!(set.check("make test").is_none());
    }

    #[test]
    fn bad_custom_rules_are_named_and_skipped() {
        let text = r#"
            [[custom]]
            message = "no id"
            program = ["x"]

            [[custom]]
            id = "a:unknown-field"
            message = "m"
            programs = ["x"]

            [[custom]]
            id = "a:bad-class"
            message = "m"
            operand = ["@nowhere"]

            [[custom]]
            id = "a:empty"
            message = "matches everything"

            [[custom]]
            id = "fs:rm-root"
            message = "taken"
            program = ["rm"]

            [[custom]]
            id = "a:wrong-case"
            message = "m"
            program = ["make"]
            must_catch = ["make test"]
            must_not_catch = ["make"]

            [[custom]]
            id = "a:bad-severity"
            severity = "extreme"
            message = "m"
            program = ["x"]

            [[custom]]
            id = "a:good"
            message = "m"
            program = ["frobnicate"]
        "#;
        let (set, problems) = RuleSet::from_config(&config(text));
        let expect = [
            ("rule #1", "needs an id"),
            ("a:unknown-field", "programs"),
            ("a:bad-class", "@nowhere"),
            ("a:empty", "no match fields"),
            ("fs:rm-root", "already taken"),
            ("a:wrong-case", "must not catch \"make\""),
            ("a:bad-severity", "severity"),
        ];
        assert_eq!(problems.len(), expect.len(), "{problems:#?}");
        for ((who, what), p) in expect.iter().zip(&problems) {
            assert!(p.contains(who) && p.contains(what), "{p:?} should name {who} and say {what}");
        }
        assert!(set.check("frobnicate").is_some_and(|r| r.id == "a:good"));
        assert_eq!(set.rules().len(), RuleSet::builtin().rules().len() + 1);
    }
}
