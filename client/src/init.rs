//! `vigil init <shell>`: prints the hook script for the person's rc file, with this binary's
//! path substituted, quoted for that shell.

/// The hook scripts, embedded at build time from `shell-hooks/`.
const BASH: &str = include_str!("../../shell-hooks/vigil.bash");
const ZSH: &str = include_str!("../../shell-hooks/vigil.zsh");
const FISH: &str = include_str!("../../shell-hooks/vigil.fish");

/// Placeholder in the scripts for the quoted path of the `vigil` binary.
const BIN_PLACEHOLDER: &str = "__VIGIL_BIN__";

/// Placeholder for the quoted path of the agent's socket, which the zsh hook connects to.
const SOCKET_PLACEHOLDER: &str = "__VIGIL_SOCKET__";

/// Placeholders for `[score] live` (`1` or `0`) and `[score] confirm` (`off`, `rules` or
/// `unsafe`), read once, when the shell starts.
const LIVE_PLACEHOLDER: &str = "__VIGIL_LIVE__";
const CONFIRM_PLACEHOLDER: &str = "__VIGIL_CONFIRM__";

/// What the hooks take from `[score]` in config.toml: the live mark (default on) and the
/// second Enter (default off). A bad value is the default here; the agent reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct HookSettings {
    /// `[score] live`.
    pub live: bool,
    /// `[score] confirm`: `off`, `rules` or `unsafe`.
    pub confirm: &'static str,
}

impl HookSettings {
    /// The settings in a parsed config.toml.
    pub fn from_table(table: &toml::Table) -> HookSettings {
        let score = table.get("score");
        let live = score.and_then(|s| s.get("live")).and_then(toml::Value::as_bool).unwrap_or(true);
        let confirm = match score.and_then(|s| s.get("confirm")).and_then(toml::Value::as_str) {
            Some("rules") => "rules",
            Some("unsafe") => "unsafe",
            _ => "off",
        };
        HookSettings { live, confirm }
    }

    /// The settings in the config file at `path` (missing or unreadable: the defaults).
    pub fn read(path: &std::path::Path) -> HookSettings {
        HookSettings::from_table(&vigil::privacy::config_table(path))
    }
}

impl Default for HookSettings {
    fn default() -> Self {
        HookSettings { live: true, confirm: "off" }
    }
}

/// The script for `shell` with `bin`, `socket` (empty: none known) and `settings`
/// substituted, or `None` for an unknown shell.
pub fn script(shell: &str, bin: &str, socket: &str, settings: &HookSettings) -> Option<String> {
    let quote = match shell {
        "bash" | "zsh" => posix_quote,
        "fish" => fish_quote,
        _ => return None,
    };
    let text = match shell {
        "bash" => BASH,
        "zsh" => ZSH,
        _ => FISH,
    };
    Some(
        text.replace(BIN_PLACEHOLDER, &quote(bin))
            .replace(SOCKET_PLACEHOLDER, &quote(socket))
            .replace(LIVE_PLACEHOLDER, if settings.live { "1" } else { "0" })
            .replace(CONFIRM_PLACEHOLDER, settings.confirm),
    )
}

/// Single-quotes for bash and zsh: `'` becomes `'\''`.
fn posix_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Single-quotes for fish, where `\` and `'` are escaped inside single quotes.
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_settings_come_from_score_and_fall_back_to_the_defaults() {
        let t = |s: &str| HookSettings::from_table(&s.parse().unwrap_or_default());
        assert_eq!(t(""), HookSettings::default());
        assert_eq!(t("[score]\nlive = false\nconfirm = \"rules\"\n"), HookSettings { live: false, confirm: "rules" });
        assert_eq!(t("[score]\nconfirm = \"unsafe\"\n").confirm, "unsafe");
        // A typo or a wrong type is the default (the agent names the problem).
        assert_eq!(t("[score]\nlive = \"no\"\nconfirm = \"allways\"\n"), HookSettings::default());
        let zsh = script("zsh", "/bin/vigil", "", &HookSettings { live: false, confirm: "unsafe" }).unwrap_or_default();
        assert!(!zsh.contains(LIVE_PLACEHOLDER) && !zsh.contains(CONFIRM_PLACEHOLDER));
    }

    #[test]
    fn path_is_quoted_per_shell() {
        let bin = "/opt/it's here/vigil";
        let bash = script("bash", bin, "", &HookSettings::default()).unwrap();
        assert!(bash.contains(r"'/opt/it'\''s here/vigil'"));
        assert!(!bash.contains(BIN_PLACEHOLDER));
        let fish = script("fish", r"/a\b'c", "", &HookSettings::default()).unwrap();
        assert!(fish.contains(r"'/a\\b\'c'"));
        let zsh = script("zsh", bin, "/run/user/1/vigil/it's.sock", &HookSettings::default()).unwrap_or_default();
        assert!(zsh.contains(r"'/run/user/1/vigil/it'\''s.sock'"));
        assert!(!zsh.contains(SOCKET_PLACEHOLDER));
        assert!(script("tcsh", bin, "", &HookSettings::default()).is_none());
    }
}
