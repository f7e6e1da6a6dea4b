//! vigil's shell parser and hard rules, in a crate of their own: no store, no model and no
//! async runtime, so that the small hook client can link it and warn without an agent.

pub mod classes;
pub mod code;
pub mod config;
pub mod parse;
pub mod predicates;
pub mod rules;
pub mod table;

pub use config::RulesConfig;
pub use rules::{Rule, RuleSet, Severity};

/// A command as a warning quotes it: on one line, cut to `max` characters with an ellipsis.
pub fn shorten(command: &str, max: usize) -> String {
    let one_line = command.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max.saturating_sub(1)).collect::<String>())
    }
}

/// The hooks' warning for a command that hits a rule, the same with or without an agent:
/// `vigil: CMD MESSAGE (rule ID)`.
pub fn rule_warning(command: &str, message: &str, id: &str) -> String {
    format!("vigil: {} {message} (rule {id})", shorten(command, 60))
}
