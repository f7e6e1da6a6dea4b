//! Shell-aware parsing: splits a command line into the simple commands that will actually run,
//! through separators, pipelines, substitutions, subshells, wrappers (`sudo`, `env`, `xargs`,
//! ...) and scripts handed to `bash -c` or `eval`, so that data (`echo "rm -rf /"`) is never
//! taken for a command while `rm -rf "$HOME"` is.
//!
//! This is not a shell: variables are not expanded (`$HOME` stays `$HOME`), globs are not
//! matched, and aliases are unknown. Quotes and escapes are removed as the shell would.

/// How deep substitutions and `bash -c` scripts are followed.
const MAX_DEPTH: usize = 16;

/// One simple command as it will run, after wrappers are unwrapped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cmd {
    /// The command name (first word) and its arguments, unquoted. Never empty.
    pub argv: Vec<String>,
    /// Redirections: operator (`>`, `>>`, `<`, `2>`, `&>`, `<<<`, ...) and target.
    pub redirects: Vec<(String, String)>,
    /// Wrappers that were peeled off (`sudo`, `env`, `xargs`, ...), outermost first.
    pub wrappers: Vec<String>,
    /// Commands run inside substitutions (`$(...)`, backquotes, `<(...)`) in this command's
    /// words, flattened.
    pub substituted: Vec<Cmd>,
}

impl Cmd {
    /// The command name without a path (`/usr/bin/rm` -> `rm`).
    pub fn name(&self) -> &str {
        let first = self.argv.first().map(String::as_str).unwrap_or("");
        first.rsplit('/').next().unwrap_or(first)
    }

    /// The arguments after the name.
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }
}

/// A pipeline: commands whose output feeds the next one.
pub type Pipeline = Vec<Cmd>;

/// Everything that runs for one command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// Every pipeline, including those inside substitutions and `bash -c` scripts.
    pub pipelines: Vec<Pipeline>,
}

impl Parsed {
    /// Every simple command, wherever it runs.
    pub fn commands(&self) -> impl Iterator<Item = &Cmd> {
        self.pipelines.iter().flatten()
    }
}

/// Parses a command line.
pub fn parse(line: &str) -> Parsed {
    let mut out = Parsed::default();
    parse_into(line, 0, &mut out);
    out
}

fn parse_into(line: &str, depth: usize, out: &mut Parsed) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut tokens = tokenize(line, depth, out);
    // `name() { ...; }` defines a function: `name` does not run.
    let mut i = 0;
    while i + 2 < tokens.len() {
        if matches!(&tokens[i], Tok::Word(..)) && tokens[i + 1] == Tok::Op("(".into()) && tokens[i + 2] == Tok::Op(")".into()) {
            tokens.drain(i..i + 3);
        } else {
            i += 1;
        }
    }
    let mut pipeline: Pipeline = Vec::new();
    let mut words: Vec<Tok> = Vec::new();
    let flush_cmd = |words: &mut Vec<Tok>, pipeline: &mut Pipeline, out: &mut Parsed| {
        if !words.is_empty() {
            let raw = std::mem::take(words);
            if let Some(cmd) = build_cmd(raw, depth, out) {
                pipeline.push(cmd);
            }
        }
    };
    for tok in tokens {
        match tok {
            Tok::Op(op) if op == "|" || op == "|&" => flush_cmd(&mut words, &mut pipeline, out),
            Tok::Op(_) => {
                flush_cmd(&mut words, &mut pipeline, out);
                if !pipeline.is_empty() {
                    out.pipelines.push(std::mem::take(&mut pipeline));
                }
            }
            other => words.push(other),
        }
    }
    flush_cmd(&mut words, &mut pipeline, out);
    if !pipeline.is_empty() {
        out.pipelines.push(pipeline);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A word, unquoted, with the commands found in its substitutions.
    Word(String, Vec<Cmd>),
    /// A redirection operator and its target word.
    Redirect(String, String, Vec<Cmd>),
    /// A separator: `;`, `&&`, `||`, `&`, `|`, `|&`, newline, `(`, `)`.
    Op(String),
}

/// Words that start or continue compound commands rather than name a program.
const KEYWORDS: &[&str] = &["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "esac", "in", "[[", "]]"];

fn build_cmd(toks: Vec<Tok>, depth: usize, out: &mut Parsed) -> Option<Cmd> {
    let mut cmd = Cmd::default();
    let mut words: Vec<String> = Vec::new();
    for t in toks {
        match t {
            Tok::Word(w, subs) => {
                words.push(w);
                cmd.substituted.extend(subs);
            }
            Tok::Redirect(op, target, subs) => {
                cmd.redirects.push((op, target));
                cmd.substituted.extend(subs);
            }
            Tok::Op(_) => {}
        }
    }
    // Leading keywords and assignments are not the command.
    let mut i = 0;
    while i < words.len() && (KEYWORDS.contains(&words[i].as_str()) || is_assignment(&words[i])) {
        i += 1;
    }
    let bare = words.is_empty();
    let mut words = words.split_off(i);
    if bare && !cmd.redirects.is_empty() {
        // `> file` alone truncates the file: the null command with its redirection.
        words.push(":".to_string());
    }
    let first = words.first()?;
    // `for x in ...`, `case ... in`, `select`, function definitions: no program runs here.
    if matches!(first.as_str(), "for" | "case" | "select" | "function") || first.ends_with("()") {
        return None;
    }
    cmd.argv = words;
    unwrap(&mut cmd, depth, out);
    if cmd.argv.is_empty() {
        return None;
    }
    Some(cmd)
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            let name = name.strip_suffix('+').unwrap_or(name);
            !name.is_empty()
                && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']')
        }
        None => false,
    }
}

/// Options of wrappers that take a value (so the value is not the wrapped command).
fn option_takes_value(wrapper: &str, opt: &str) -> bool {
    let with_value: &[&str] = match wrapper {
        "sudo" => &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U", "--user", "--group", "--chdir", "--host", "--prompt", "--role", "--type", "--close-from", "--other-user"],
        "doas" => &["-u", "-C"],
        "env" => &["-u", "-C", "--unset", "--chdir", "-S", "--split-string"],
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "-p", "-P", "-u"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "xargs" => &["-I", "-i", "-n", "-P", "-d", "-a", "-E", "-e", "-L", "-l", "-s", "--max-args", "--max-procs", "--delimiter", "--arg-file", "--replace", "--max-lines", "--max-chars", "--eof"],
        "watch" => &["-n", "--interval", "-d", "-q", "--equexit"],
        "exec" => &["-a"],
        "stdbuf" => &["-i", "-o", "-e"],
        "flock" => &["-w", "-E", "-c", "--timeout", "--conflict-exit-code"],
        "chroot" => &["--userspec", "--groups"],
        "time" => &["-f", "-o", "--format", "--output"],
        "runuser" | "su" => &["-u", "-g", "-G", "-s", "--user", "--group", "--shell"],
        _ => &[],
    };
    with_value.contains(&opt)
}

/// The index of the first argument after a wrapper's options (and their values), starting at
/// `from`; a `--` ends the options and is skipped.
fn options_end(argv: &[String], wrapper: &str, from: usize) -> usize {
    let mut i = from;
    while i < argv.len() && argv[i].starts_with('-') {
        if argv[i] == "--" {
            return i + 1;
        }
        if option_takes_value(wrapper, &argv[i]) {
            i += 1;
        }
        i += 1;
    }
    i
}

/// Shells whose `-c SCRIPT` runs SCRIPT.
const SHELLS: &[&str] = &["bash", "sh", "zsh", "dash", "ksh", "fish", "ash", "busybox"];

/// Peels wrappers off `cmd.argv` until the real command is first; scripts given to shells and
/// `eval` are parsed in turn and added to `out`.
fn unwrap(cmd: &mut Cmd, depth: usize, out: &mut Parsed) {
    loop {
        let Some(first) = cmd.argv.first().cloned() else { return };
        let name = first.rsplit('/').next().unwrap_or(&first).to_string();
        match name.as_str() {
            "sudo" | "doas" | "nice" | "nohup" | "time" | "ionice" | "stdbuf" | "builtin" | "exec" | "chroot" | "setsid" | "unbuffer" | "caffeinate" | "torsocks" | "proxychains" | "proxychains4" => {
                let mut i = options_end(&cmd.argv, &name, 1);
                if name == "chroot" && i < cmd.argv.len() {
                    i += 1; // the new root
                }
                // `sudo -s` / `sudo -i` with no command is an interactive shell.
                strip(cmd, &name, i);
            }
            "command" => {
                // `command -v x` and `command -V x` look a name up; they run nothing.
                if cmd.argv.get(1).is_some_and(|a| a == "-v" || a == "-V") {
                    return;
                }
                let i = if cmd.argv.get(1).is_some_and(|a| a == "-p") { 2 } else { 1 };
                strip(cmd, &name, i);
            }
            "env" => {
                let mut i = 1;
                while i < cmd.argv.len() {
                    let a = &cmd.argv[i];
                    if a == "--" {
                        i += 1;
                        break;
                    }
                    if a == "-S" || a == "--split-string" {
                        // env -S 'cmd args': the string is a command line of its own.
                        if let Some(script) = cmd.argv.get(i + 1).cloned() {
                            let rest: Vec<String> = cmd.argv[i + 2..].to_vec();
                            let mut words: Vec<String> = script.split_whitespace().map(str::to_string).collect();
                            words.extend(rest);
                            cmd.wrappers.push(name.clone());
                            cmd.argv = words;
                        }
                        break;
                    }
                    if a.starts_with('-') {
                        if option_takes_value(&name, a) {
                            i += 1;
                        }
                        i += 1;
                    } else if is_assignment(a) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if cmd.argv.first().is_some_and(|f| f.rsplit('/').next() == Some("env")) {
                    strip(cmd, &name, i);
                }
            }
            "timeout" => {
                let i = options_end(&cmd.argv, &name, 1);
                strip(cmd, &name, i + 1); // the duration
            }
            "xargs" | "flock" | "runuser" => {
                let mut i = options_end(&cmd.argv, &name, 1);
                if name == "flock" {
                    // flock [opts] FILE -c SCRIPT (or -c among the options): the script is a
                    // command line of its own.
                    let is_c = |a: &String| a == "-c" || a == "--command";
                    let among_options = cmd.argv[1..i].iter().position(is_c).map(|p| p + 1);
                    let after_file = Some(i + 1).filter(|&p| cmd.argv.get(p).is_some_and(is_c));
                    if let Some(pos) = among_options.or(after_file) {
                        if let Some(script) = cmd.argv.get(pos + 1).cloned() {
                            parse_into(&script, depth + 1, out);
                        }
                        cmd.argv.clear();
                        return;
                    }
                    if i < cmd.argv.len() {
                        i += 1; // the lock file
                    }
                }
                if name == "xargs" && i >= cmd.argv.len() {
                    // Bare xargs runs echo.
                    return;
                }
                strip(cmd, &name, i);
            }
            "watch" => {
                let i = options_end(&cmd.argv, &name, 1);
                // watch runs its arguments joined, through sh -c.
                let script = cmd.argv.get(i..).unwrap_or(&[]).join(" ");
                parse_into(&script, depth + 1, out);
                cmd.argv.clear();
                return;
            }
            "eval" => {
                let script = cmd.args().join(" ");
                parse_into(&script, depth + 1, out);
                cmd.argv.clear();
                return;
            }
            "su" => {
                // su [user] -c SCRIPT
                if let Some(pos) = cmd.argv.iter().position(|a| a == "-c" || a == "--command") {
                    if let Some(script) = cmd.argv.get(pos + 1).cloned() {
                        parse_into(&script, depth + 1, out);
                    }
                }
                return;
            }
            s if SHELLS.contains(&s) => {
                // bash [opts] -c SCRIPT [name args...]; -c may be bundled (-xc, -ec).
                let pos = cmd.argv.iter().skip(1).position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'));
                if let Some(p) = pos {
                    if let Some(script) = cmd.argv.get(p + 2).cloned() {
                        parse_into(&script, depth + 1, out);
                    }
                }
                return;
            }
            _ => return,
        }
    }
}

fn strip(cmd: &mut Cmd, wrapper: &str, n: usize) {
    let n = n.min(cmd.argv.len());
    cmd.argv.drain(..n);
    cmd.wrappers.push(wrapper.to_string());
}

/// Splits a line into words, redirections and separators, removing quotes and parsing
/// substitutions (whose commands are attached to the word and also added to `out`).
fn tokenize(line: &str, depth: usize, out: &mut Parsed) -> Vec<Tok> {
    let chars: Vec<char> = line.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut word = String::new();
    let mut in_word = false;
    let mut subs: Vec<Cmd> = Vec::new();
    let mut pending_redirect: Option<String> = None;
    let mut heredocs: Vec<String> = Vec::new();

    macro_rules! end_word {
        () => {
            if in_word {
                let w = std::mem::take(&mut word);
                let s = std::mem::take(&mut subs);
                match pending_redirect.take() {
                    Some(op) => {
                        if op.starts_with("<<") && op != "<<<" {
                            heredocs.push(w.clone());
                        }
                        toks.push(Tok::Redirect(op, w, s))
                    }
                    None => toks.push(Tok::Word(w, s)),
                }
                in_word = false;
            }
        };
    }

    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                end_word!();
                i += 1;
            }
            '\n' => {
                end_word!();
                toks.push(Tok::Op("\n".into()));
                i += 1;
                // Here-document bodies are data: skip to each delimiter line.
                for delim in std::mem::take(&mut heredocs) {
                    loop {
                        let start = i;
                        while i < chars.len() && chars[i] != '\n' {
                            i += 1;
                        }
                        let line: String = chars[start..i].iter().collect();
                        i = (i + 1).min(chars.len());
                        if line.trim_start_matches('\t') == delim || i >= chars.len() {
                            break;
                        }
                    }
                }
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    if n != '\n' {
                        word.push(n);
                        in_word = true;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    match chars[i] {
                        '\\' if matches!(chars.get(i + 1), Some('$' | '`' | '"' | '\\' | '\n')) => {
                            if chars[i + 1] != '\n' {
                                word.push(chars[i + 1]);
                            }
                            i += 2;
                        }
                        '$' if chars.get(i + 1) == Some(&'(') && chars.get(i + 2) != Some(&'(') => {
                            let (inner, next) = balanced(&chars, i + 2, '(', ')');
                            word.push_str(&format!("$({inner})"));
                            subs.extend(substitution(&inner, depth, out));
                            i = next;
                        }
                        '`' => {
                            let (inner, next) = until(&chars, i + 1, '`');
                            word.push_str(&format!("`{inner}`"));
                            subs.extend(substitution(&inner, depth, out));
                            i = next;
                        }
                        ch => {
                            word.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                in_word = true;
                if chars.get(i + 2) == Some(&'(') {
                    // Arithmetic: text, no command.
                    let (inner, next) = balanced(&chars, i + 2, '(', ')');
                    word.push_str(&format!("$({inner})"));
                    i = next;
                } else {
                    let (inner, next) = balanced(&chars, i + 2, '(', ')');
                    word.push_str(&format!("$({inner})"));
                    subs.extend(substitution(&inner, depth, out));
                    i = next;
                }
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                in_word = true;
                let (inner, next) = balanced(&chars, i + 2, '{', '}');
                word.push_str(&format!("${{{inner}}}"));
                i = next;
            }
            '`' => {
                in_word = true;
                let (inner, next) = until(&chars, i + 1, '`');
                word.push_str(&format!("`{inner}`"));
                subs.extend(substitution(&inner, depth, out));
                i = next;
            }
            '<' | '>' if chars.get(i + 1) == Some(&'(') && !in_word => {
                // Process substitution: a word naming a file that a command writes or reads.
                in_word = true;
                let (inner, next) = balanced(&chars, i + 2, '(', ')');
                word.push_str(&format!("{c}({inner})"));
                subs.extend(substitution(&inner, depth, out));
                i = next;
            }
            ';' | '&' | '|' | '(' | ')' | '<' | '>' => {
                // A redirection may start with a file descriptor number: 2>, 1>&2.
                let fd_prefix = if (c == '<' || c == '>') && in_word && word.chars().all(|d| d.is_ascii_digit()) && !word.is_empty() {
                    in_word = false;
                    subs.clear();
                    std::mem::take(&mut word)
                } else {
                    end_word!();
                    String::new()
                };
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                let op = ["<<<", "<<-", ">>", "<<", "&&", "||", "|&", ";;", "&>>", "&>", ">&", "<&", ">|", "<>"]
                    .iter()
                    .find(|o| rest.starts_with(**o))
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| c.to_string());
                i += op.chars().count();
                if op.starts_with('<') || op.starts_with('>') || op.starts_with("&>") {
                    // The target (a file, or a descriptor after >&) is the next word.
                    pending_redirect = Some(format!("{fd_prefix}{op}"));
                } else {
                    toks.push(Tok::Op(op));
                }
            }
            _ => {
                word.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    end_word!();
    debug_assert!(!in_word);
    toks
}

/// Parses the inside of a substitution, adding its pipelines to `out`, and returns its
/// commands for the word that holds it.
fn substitution(inner: &str, depth: usize, out: &mut Parsed) -> Vec<Cmd> {
    let mut sub = Parsed::default();
    parse_into(inner, depth + 1, &mut sub);
    let cmds: Vec<Cmd> = sub.commands().cloned().collect();
    out.pipelines.extend(sub.pipelines);
    cmds
}

/// The text up to the parenthesis that closes one opened just before `start`, respecting
/// quotes and nesting; and the index after it.
fn balanced(chars: &[char], start: usize, open: char, close: char) -> (String, usize) {
    let mut level = 1;
    let mut i = start;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => i += 1,
            Some(_) => {}
            None if c == '\\' => i += 1,
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == open => level += 1,
            None if c == close => {
                level -= 1;
                if level == 0 {
                    return (chars[start..i].iter().collect(), i + 1);
                }
            }
            None => {}
        }
        i += 1;
    }
    (chars[start.min(chars.len())..].iter().collect(), chars.len())
}

fn until(chars: &[char], start: usize, end: char) -> (String, usize) {
    let mut i = start;
    while i < chars.len() && chars[i] != end {
        if chars[i] == '\\' {
            i += 1;
        }
        i += 1;
    }
    (chars[start.min(chars.len())..i.min(chars.len())].iter().collect(), (i + 1).min(chars.len() + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argvs(line: &str) -> Vec<Vec<String>> {
        parse(line).commands().map(|c| c.argv.clone()).collect()
    }

    fn names(line: &str) -> Vec<String> {
        parse(line).commands().map(|c| c.name().to_string()).collect()
    }

    #[test]
    fn separators_split_commands() {
        assert_eq!(names("a; b && c || d | e & f\ng"), ["a", "b", "c", "d", "e", "f", "g"]);
        assert_eq!(parse("a | b | c; d").pipelines.len(), 2);
        assert_eq!(names("(cd /tmp && rm -rf x)"), ["cd", "rm"]);
        assert_eq!(names("{ a; b; }"), ["a", "b"]);
    }

    #[test]
    fn quotes_make_data() {
        assert_eq!(argvs("echo \"rm -rf /\""), [vec!["echo", "rm -rf /"]]);
        assert_eq!(argvs("grep -r \"DROP TABLE\" migrations/"), [vec!["grep", "-r", "DROP TABLE", "migrations/"]]);
        assert_eq!(argvs("git commit -m 'rm -rf ~; shutdown now'"), [vec!["git", "commit", "-m", "rm -rf ~; shutdown now"]]);
        assert_eq!(argvs("rm -rf \"$HOME\""), [vec!["rm", "-rf", "$HOME"]]);
        assert_eq!(argvs("rm -rf ~/'my dir'"), [vec!["rm", "-rf", "~/my dir"]]);
        assert_eq!(argvs(r"echo a\ b\;c"), [vec!["echo", "a b;c"]]);
        assert_eq!(argvs("echo 'it''s'"), [vec!["echo", "its"]]);
    }

    #[test]
    fn substitutions_run() {
        assert_eq!(names("echo $(rm -rf /tmp/x)"), ["rm", "echo"]);
        assert_eq!(names("echo \"today: `date`\""), ["date", "echo"]);
        assert_eq!(names("diff <(ls a) <(ls b)"), ["ls", "ls", "diff"]);
        assert_eq!(names("echo $((1 + 2))"), ["echo"]);
        assert_eq!(names("echo ${HOME:-x}"), ["echo"]);
        assert_eq!(names("echo $(echo $(whoami))"), ["whoami", "echo", "echo"]);
        let p = parse("bash -c \"$(curl -fsSL https://x.sh)\"");
        let bash = p.commands().find(|c| c.name() == "bash").unwrap();
        assert_eq!(bash.substituted[0].name(), "curl");
    }

    #[test]
    fn wrappers_are_unwrapped() {
        assert_eq!(argvs("sudo rm -rf /"), [vec!["rm", "-rf", "/"]]);
        assert_eq!(argvs("sudo -u root -E rm -rf /"), [vec!["rm", "-rf", "/"]]);
        assert_eq!(argvs("doas -u root shutdown now"), [vec!["shutdown", "now"]]);
        assert_eq!(argvs("env FOO=1 BAR=2 rm -rf x"), [vec!["rm", "-rf", "x"]]);
        assert_eq!(argvs("FOO=1 rm -rf x"), [vec!["rm", "-rf", "x"]]);
        assert_eq!(argvs("command rm -rf x"), [vec!["rm", "-rf", "x"]]);
        assert_eq!(argvs("builtin cd /"), [vec!["cd", "/"]]);
        assert_eq!(argvs("exec rm x"), [vec!["rm", "x"]]);
        assert_eq!(argvs("nice -n 10 rm x"), [vec!["rm", "x"]]);
        assert_eq!(argvs("nohup rm x &"), [vec!["rm", "x"]]);
        assert_eq!(argvs("time rm x"), [vec!["rm", "x"]]);
        assert_eq!(argvs("timeout 5 rm x"), [vec!["rm", "x"]]);
        assert_eq!(argvs("timeout -s KILL 5s rm x"), [vec!["rm", "x"]]);
        assert_eq!(argvs("flock -w 5 /tmp/lock -c 'rm -rf x'"), [vec!["rm", "-rf", "x"]]);
        assert_eq!(argvs("flock /tmp/lock rm x"), [vec!["rm", "x"]]);
        assert_eq!(argvs("find . -name '*.o' | xargs -0 -n 5 rm -f"), [vec!["find", ".", "-name", "*.o"], vec!["rm", "-f"]]);
        assert_eq!(argvs("watch -n 1 'rm -rf /tmp/x'"), [vec!["rm", "-rf", "/tmp/x"]]);
        assert_eq!(argvs("sudo nice -n 5 env X=1 timeout 3 rm -rf /"), [vec!["rm", "-rf", "/"]]);
        let p = parse("sudo -u root rm x");
        assert_eq!(p.commands().next().unwrap().wrappers, ["sudo"]);
        // Looking a name up runs nothing.
        assert_eq!(argvs("command -v rm"), [vec!["command", "-v", "rm"]]);
    }

    #[test]
    fn scripts_given_to_shells_are_parsed() {
        // The script's commands run, and so does the shell that runs them.
        assert_eq!(names("bash -c 'rm -rf /'"), ["rm", "bash"]);
        assert_eq!(argvs("bash -c 'rm -rf /'")[0], ["rm", "-rf", "/"]);
        assert_eq!(argvs("sh -xc \"shutdown -h now\"")[0], ["shutdown", "-h", "now"]);
        assert_eq!(names("zsh -c 'a; b'"), ["a", "b", "zsh"]);
        // eval and watch only hand their script on.
        assert_eq!(argvs("eval \"rm -rf $HOME\""), [vec!["rm", "-rf", "$HOME"]]);
        assert_eq!(names("sudo su -c 'reboot'"), ["reboot", "su"]);
        assert_eq!(names("bash script.sh"), ["bash"]);
    }

    #[test]
    fn redirections_and_heredocs() {
        let p = parse("echo hi > /dev/sda 2>&1");
        let c = p.commands().next().unwrap();
        assert_eq!(c.argv, ["echo", "hi"]);
        assert_eq!(c.redirects, [(">".to_string(), "/dev/sda".to_string()), ("2>&".to_string(), "1".to_string())]);
        assert_eq!(names("cat <<EOF\nrm -rf /\nEOF\nls"), ["cat", "ls"]);
        assert_eq!(argvs("cat <<< 'rm -rf /'"), [vec!["cat"]]);
        let p = parse("> app.log");
        let c = p.commands().next().unwrap();
        assert_eq!((c.argv.clone(), c.redirects.clone()), (vec![":".to_string()], vec![(">".to_string(), "app.log".to_string())]));
    }

    #[test]
    fn compound_commands_and_comments() {
        assert_eq!(names("for f in *.log; do rm \"$f\"; done"), ["rm"]);
        assert_eq!(names("if true; then reboot; fi"), ["true", "reboot"]);
        assert_eq!(names("while read l; do echo $l; done < f"), ["read", "echo"]);
        assert_eq!(names("ls # rm -rf /"), ["ls"]);
        assert_eq!(names("f() { rm -rf x; }"), ["rm"]);
    }

    #[test]
    fn hostile_input_is_harmless() {
        let deep = format!("{}rm -rf /{}", "$(".repeat(5000), ")".repeat(5000));
        let _ = parse(&deep);
        let _ = parse("\"unterminated");
        let _ = parse("$(unterminated");
        let _ = parse("echo \0 \u{7f} é ✓");
        let long = "a ".repeat(500_000);
        assert_eq!(parse(&long).commands().next().unwrap().argv.len(), 500_000);
        let _ = parse("`");
        let _ = parse("\\");
        let _ = parse(">");
        let _ = parse("<<");
    }
}
