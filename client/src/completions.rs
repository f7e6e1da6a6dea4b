//! `vigil completions bash|zsh|fish`: a completion script written from the command table of
//! main.rs (names, options, the words a command takes first), so that it cannot drift from
//! the commands themselves.

use std::fmt::Write as _;

/// What an option takes after it, for completing its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Nothing: a flag.
    Flag,
    /// A file.
    File,
    /// A folder.
    Dir,
    /// Free text or a number: nothing to offer.
    Text,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// An option of a command, spelled with its dashes (`--json`, `-n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt {
    /// As typed.
    pub name: &'static str,
    /// What follows it.
    pub value: Value,
}

/// An option that takes nothing.
pub const fn flag(name: &'static str) -> Opt {
    Opt { name, value: Value::Flag }
}

/// An option that takes a file.
pub const fn file(name: &'static str) -> Opt {
    Opt { name, value: Value::File }
}

/// An option that takes a folder.
pub const fn dir(name: &'static str) -> Opt {
    Opt { name, value: Value::Dir }
}

/// An option that takes text or a number.
pub const fn text(name: &'static str) -> Opt {
    Opt { name, value: Value::Text }
}

/// An option that takes one of `words`.
pub const fn one_of(name: &'static str, words: &'static [&'static str]) -> Opt {
    Opt { name, value: Value::OneOf(words) }
}

/// The shells vigil hooks into.
pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

/// The labels a person gives.
pub const LABELS: &[&str] = &["safe", "unsafe", "unknown"];

/// The filters of `search`, `recent` and `forget` (filter.rs), as its help lists them.
pub const FILTERS: &[Opt] = &[
    dir("--cwd"),
    text("--exit"),
    one_of("--shell", SHELLS),
    text("--session"),
    one_of("--label", LABELS),
    flag("--risky"),
    text("--since"),
    text("--until"),
];

/// One command as the completion scripts see it.
pub struct Entry {
    /// Its name.
    pub name: &'static str,
    /// One line about it, for shells that show one.
    pub about: &'static str,
    /// Its options.
    pub options: Vec<Opt>,
    /// The words it takes as its first argument (`init bash`), if any.
    pub words: &'static [&'static str],
}

/// The completion script for `shell`, or `None` for a shell vigil does not know.
pub fn script(shell: &str, commands: &[Entry]) -> Option<String> {
    match shell {
        "bash" => Some(bash(commands)),
        "zsh" => Some(zsh(commands)),
        "fish" => Some(fish(commands)),
        _ => None,
    }
}

/// Options of the command line itself (before any command).
const TOP: &[(&str, &str)] = &[("--help", "show the commands"), ("--version", "show the version")];

fn names_of(opts: &[Opt], pick: impl Fn(&Opt) -> bool) -> Vec<&'static str> {
    opts.iter().filter(|o| pick(o)).map(|o| o.name).collect()
}

fn bash(commands: &[Entry]) -> String {
    let mut s = String::from(
        "# bash completion for vigil: source <(vigil completions bash)\n\
         # (or save it as ~/.local/share/bash-completion/completions/vigil)\n\
         _vigil() {\n    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n\
         \x20   local words='' opts=''\n",
    );
    let top: Vec<&str> = commands.iter().map(|c| c.name).chain(TOP.iter().map(|t| t.0)).collect();
    let _ = writeln!(s, "    if (( COMP_CWORD == 1 )); then");
    let _ = writeln!(s, "        # shellcheck disable=SC2207");
    let _ = writeln!(s, "        COMPREPLY=($(compgen -W '{}' -- \"$cur\"))", top.join(" "));
    let _ = writeln!(s, "        return 0\n    fi");
    let _ = writeln!(s, "    case ${{COMP_WORDS[1]}} in");
    for c in commands {
        let _ = writeln!(s, "        {})", c.name);
        let valued: Vec<&Opt> = c.options.iter().filter(|o| o.value != Value::Flag).collect();
        if !valued.is_empty() {
            let _ = writeln!(s, "            case $prev in");
            for o in valued {
                let action = match o.value {
                    Value::Dir => "COMPREPLY=($(compgen -d -- \"$cur\"))".to_string(),
                    Value::OneOf(words) => format!("COMPREPLY=($(compgen -W '{}' -- \"$cur\"))", words.join(" ")),
                    // Files: bash's own file completion (-o default), slashes and all.
                    Value::File | Value::Text | Value::Flag => String::new(),
                };
                let action = if action.is_empty() { String::new() } else { format!("{action}; ") };
                let _ = writeln!(s, "                {}) {action}return 0 ;;", o.name);
            }
            let _ = writeln!(s, "            esac");
        }
        let _ = writeln!(
            s,
            "            words='{}' opts='{}' ;;",
            c.words.join(" "),
            names_of(&c.options, |_| true).join(" ")
        );
    }
    let _ = writeln!(s, "        *) return 0 ;;\n    esac");
    s.push_str(
        "    # shellcheck disable=SC2207\n\
         \x20   if (( COMP_CWORD == 2 )) && [[ $cur != -* && -n $words ]]; then\n\
         \x20       COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n\
         \x20   elif [[ $cur == -* ]]; then\n\
         \x20       COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n\
         \x20   fi\n\
         }\n\
         complete -o bashdefault -o default -F _vigil vigil\n",
    );
    s
}

/// `text` inside single quotes for zsh and bash.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `text` inside single quotes for fish.
fn fish_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
}

fn zsh(commands: &[Entry]) -> String {
    let mut s = String::from(
        "#compdef vigil\n\
         # zsh completion for vigil: source <(vigil completions zsh) after compinit,\n\
         # or save it as _vigil in a folder of $fpath\n\
         _vigil() {\n\
         \x20 local -a subcommands subwords subopts\n\
         \x20 if (( CURRENT == 2 )); then\n\
         \x20   subcommands=(\n",
    );
    for c in commands {
        let _ = writeln!(s, "      {}", sh_quote(&format!("{}:{}", c.name, c.about)));
    }
    s.push_str("    )\n    _describe -t commands 'vigil command' subcommands\n");
    let top: Vec<&str> = TOP.iter().map(|t| t.0).collect();
    let _ = writeln!(s, "    [[ $PREFIX == -* ]] && compadd -- {}", top.join(" "));
    s.push_str("    return\n  fi\n  case $words[2] in\n");
    for c in commands {
        let _ = writeln!(s, "    {})", c.name);
        let valued: Vec<&Opt> = c.options.iter().filter(|o| o.value != Value::Flag).collect();
        if !valued.is_empty() {
            let _ = writeln!(s, "      case $words[CURRENT-1] in");
            for o in valued {
                let action = match o.value {
                    Value::Dir => "_directories".to_string(),
                    Value::File => "_files".to_string(),
                    Value::OneOf(words) => format!("compadd -- {}", words.join(" ")),
                    Value::Text | Value::Flag => "_message value".to_string(),
                };
                let _ = writeln!(s, "        {}) {action}; return ;;", o.name);
            }
            let _ = writeln!(s, "      esac");
        }
        let _ = writeln!(
            s,
            "      subwords=({}) subopts=({}) ;;",
            c.words.join(" "),
            names_of(&c.options, |_| true).join(" ")
        );
    }
    s.push_str(
        "    *) _files; return ;;\n  esac\n\
         \x20 if (( CURRENT == 3 )) && [[ $PREFIX != -* ]] && (( $#subwords )); then\n\
         \x20   compadd -- $subwords\n\
         \x20 elif [[ $PREFIX == -* ]]; then\n\
         \x20   compadd -- $subopts\n\
         \x20 else\n\
         \x20   _files\n\
         \x20 fi\n\
         }\n\
         if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n\
         \x20 _vigil \"$@\"\n\
         elif (( $+functions[compdef] )); then\n\
         \x20 compdef _vigil vigil\n\
         fi\n",
    );
    s
}

fn fish(commands: &[Entry]) -> String {
    let mut s = String::from(
        "# fish completion for vigil: vigil completions fish | source\n\
         # (or save it as ~/.config/fish/completions/vigil.fish)\n\
         complete -c vigil -f\n",
    );
    for c in commands {
        let _ = writeln!(s, "complete -c vigil -n __fish_use_subcommand -a {} -d {}", c.name, fish_quote(c.about));
    }
    for (name, about) in TOP {
        let _ = writeln!(
            s,
            "complete -c vigil -n __fish_use_subcommand -l {} -d {}",
            name.trim_start_matches('-'),
            fish_quote(about)
        );
    }
    for c in commands {
        let seen = format!("__fish_seen_subcommand_from {}", c.name);
        if !c.words.is_empty() {
            let first = format!("{seen}; and test (count (commandline -opc)) -eq 2");
            let _ = writeln!(s, "complete -c vigil -n {} -a {}", fish_quote(&first), fish_quote(&c.words.join(" ")));
        }
        for o in &c.options {
            let spelled = match o.name.strip_prefix("--") {
                Some(long) => format!("-l {long}"),
                None => format!("-s {}", o.name.trim_start_matches('-')),
            };
            let takes = match o.value {
                Value::Flag => String::new(),
                Value::File => " -r -F".to_string(),
                Value::Dir => " -x -a '(__fish_complete_directories)'".to_string(),
                Value::Text => " -x".to_string(),
                Value::OneOf(words) => format!(" -x -a {}", fish_quote(&words.join(" "))),
            };
            let _ = writeln!(s, "complete -c vigil -n {} {spelled}{takes}", fish_quote(&seen));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<Entry> {
        vec![
            Entry {
                name: "init",
                about: "print the hook script: eval \"$(vigil init bash)\"",
                options: vec![],
                words: SHELLS,
            },
            Entry {
                name: "search",
                about: "search your history (it's quick)",
                options: [flag("--json"), text("-n")].into_iter().chain(FILTERS.iter().copied()).collect(),
                words: &[],
            },
            Entry { name: "export", about: "as CSV", options: vec![file("--csv")], words: &[] },
        ]
    }

    #[test]
    fn every_shell_gets_commands_options_and_values() {
        for shell in ["bash", "zsh", "fish"] {
            let s = script(shell, &table()).unwrap_or_default();
            for needle in ["init", "search", "export", "cwd", "risky", "unsafe", "zsh"] {
                assert!(s.contains(needle), "{shell}: {needle} missing:\n{s}");
            }
        }
        assert!(script("tcsh", &table()).is_none());
        let fish = script("fish", &table()).unwrap_or_default();
        assert!(fish.contains("-s n -x") && fish.contains("-l csv -r -F"), "{fish}");
        assert!(fish.contains(r"(it\'s quick)"), "quotes escaped for fish: {fish}");
        let zsh = script("zsh", &table()).unwrap_or_default();
        assert!(zsh.contains(r"'search:search your history (it'\''s quick)'"), "{zsh}");
        assert!(zsh.contains("--shell) compadd -- bash zsh fish; return ;;"), "{zsh}");
    }
}
