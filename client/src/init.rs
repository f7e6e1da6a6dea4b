//! `vigil init <shell>`: prints the hook script for the person's rc file, with this binary's
//! path substituted, quoted for that shell.

/// The hook scripts, embedded at build time from `shell-hooks/`.
const BASH: &str = include_str!("../../shell-hooks/vigil.bash");
const ZSH: &str = include_str!("../../shell-hooks/vigil.zsh");
const FISH: &str = include_str!("../../shell-hooks/vigil.fish");

/// Placeholder in the scripts for the quoted path of the `vigil` binary.
const BIN_PLACEHOLDER: &str = "__VIGIL_BIN__";

/// The script for `shell` with `bin` substituted, or `None` for an unknown shell.
pub fn script(shell: &str, bin: &str) -> Option<String> {
    let (text, quoted) = match shell {
        "bash" => (BASH, posix_quote(bin)),
        "zsh" => (ZSH, posix_quote(bin)),
        "fish" => (FISH, fish_quote(bin)),
        _ => return None,
    };
    Some(text.replace(BIN_PLACEHOLDER, &quoted))
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
    fn path_is_quoted_per_shell() {
        let bin = "/opt/it's here/vigil";
        let bash = script("bash", bin).unwrap();
        assert!(bash.contains(r"'/opt/it'\''s here/vigil'"));
        assert!(!bash.contains(BIN_PLACEHOLDER));
        let fish = script("fish", r"/a\b'c").unwrap();
        assert!(fish.contains(r"'/a\\b\'c'"));
        assert!(script("zsh", bin).is_some());
        assert!(script("tcsh", bin).is_none());
    }
}
