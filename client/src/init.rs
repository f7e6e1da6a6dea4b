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

/// The script for `shell` with `bin` and `socket` (empty: none known) substituted, or `None`
/// for an unknown shell.
pub fn script(shell: &str, bin: &str, socket: &str) -> Option<String> {
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
    Some(text.replace(BIN_PLACEHOLDER, &quote(bin)).replace(SOCKET_PLACEHOLDER, &quote(socket)))
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
        let bash = script("bash", bin, "").unwrap();
        assert!(bash.contains(r"'/opt/it'\''s here/vigil'"));
        assert!(!bash.contains(BIN_PLACEHOLDER));
        let fish = script("fish", r"/a\b'c", "").unwrap();
        assert!(fish.contains(r"'/a\\b\'c'"));
        let zsh = script("zsh", bin, "/run/user/1/vigil/it's.sock").unwrap_or_default();
        assert!(zsh.contains(r"'/run/user/1/vigil/it'\''s.sock'"));
        assert!(!zsh.contains(SOCKET_PLACEHOLDER));
        assert!(script("tcsh", bin, "").is_none());
    }
}
