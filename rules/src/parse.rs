//! Shell-aware parsing: splits a command line into the simple commands that will actually run,
//! through separators, pipelines, substitutions, subshells, wrappers (`sudo`, `env`, `xargs`,
//! ...) and scripts handed to `bash -c` or `eval`, so that data (`echo "rm -rf /"`) is never
//! taken for a command while `rm -rf "$HOME"` is.
//!
//! This is not a shell: variables are not expanded (`$HOME` stays `$HOME`), globs are not
//! matched, and aliases are unknown. Quotes and escapes are removed as the shell would.
//!
//! Every line typed is parsed by the agent, so a hostile line must not cost more than a
//! normal one of its length: all the work of one [`parse`], nested scripts and substitutions
//! included, is paid from a budget proportional to the line's length (see [`Budget`]). A line
//! that exhausts it gets a truncated parse (its deepest parts are left out), never an unbounded
//! one. Nothing here indexes the input unchecked.
#![deny(clippy::indexing_slicing)]

use std::ops::Range;

/// How deep substitutions and `bash -c` scripts are followed (this also bounds recursion).
const MAX_DEPTH: usize = 16;

/// Work allowed per byte of the line (bytes scanned again in nested scripts, and bytes copied
/// into [`Cmd::substituted`]). A normal line uses a small fraction of it.
const WORK_PER_BYTE: usize = 64;

/// Work allowed on top of [`WORK_PER_BYTE`], so that short lines are never truncated.
const WORK_BASE: usize = 1 << 16;

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
    /// words, flattened: nested substitutions are in this list too, so the copies here have
    /// an empty `substituted` of their own (the full commands are in [`Parsed::pipelines`]).
    /// On a line that exhausts the parse's budget the list may be incomplete.
    pub substituted: Vec<Cmd>,
    /// What a here-document or here-string feeds it on standard input (`sh <<EOF`,
    /// `bash <<< "..."`), if anything.
    pub stdin: Option<String>,
}

impl Cmd {
    /// The command name without a path (`/usr/bin/rm` -> `rm`).
    pub fn name(&self) -> &str {
        basename(self.argv.first().map(String::as_str).unwrap_or(""))
    }

    /// The arguments after the name.
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }

    /// Bytes held by the command itself (its substitutions' copies aside): what a copy costs.
    fn size(&self) -> usize {
        let words: usize = self.argv.iter().chain(&self.wrappers).map(String::len).sum();
        let redirects: usize = self.redirects.iter().map(|(op, t)| op.len() + t.len()).sum();
        let stdin = self.stdin.as_ref().map_or(0, String::len);
        // Each string counts for a little too, so that empty words are not free.
        words + redirects + stdin + self.argv.len() + self.wrappers.len() + self.redirects.len() + 1
    }

    /// A copy without the copies of its own substitutions (see [`Cmd::substituted`]).
    fn shallow_copy(&self) -> Cmd {
        Cmd {
            argv: self.argv.clone(),
            redirects: self.redirects.clone(),
            wrappers: self.wrappers.clone(),
            substituted: Vec::new(),
            stdin: self.stdin.clone(),
        }
    }
}

/// A path's last component.
fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
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

/// The work one parse may still do, in bytes: each nested script or substitution pays for the
/// bytes it scans, and each copy into [`Cmd::substituted`] for the bytes it copies. Everything
/// else the parser does is linear in what was paid for, so a parse of `n` bytes does
/// O(`WORK_PER_BYTE` * n) work whatever the nesting (`bash -c "$(bash -c "$(...)")"` would
/// otherwise double at each level).
struct Budget(usize);

impl Budget {
    /// Takes `n` from the budget if it has that much; otherwise empties it, so that nothing
    /// more is followed or copied.
    fn spend(&mut self, n: usize) -> bool {
        match self.0.checked_sub(n) {
            Some(left) => {
                self.0 = left;
                true
            }
            None => {
                self.0 = 0;
                false
            }
        }
    }

    /// The longest prefix of `text` (on a character boundary) that the budget can pay for.
    fn affordable<'a>(&self, text: &'a str) -> &'a str {
        if text.len() <= self.0 {
            return text;
        }
        let mut end = self.0;
        while end > 0 && !text.is_char_boundary(end) {
            end -= 1;
        }
        text.get(..end).unwrap_or("")
    }
}

/// What one parse carries through its levels.
struct Cx {
    out: Parsed,
    budget: Budget,
}

/// Parses a command line.
pub fn parse(line: &str) -> Parsed {
    let budget = Budget(line.len().saturating_mul(WORK_PER_BYTE).saturating_add(WORK_BASE));
    let mut cx = Cx { out: Parsed::default(), budget };
    parse_into(line, 0, &mut cx);
    cx.out
}

fn parse_into(line: &str, depth: usize, cx: &mut Cx) {
    if depth > MAX_DEPTH {
        return;
    }
    // The top level is always affordable (the budget is a multiple of its length); a nested
    // script the budget cannot pay for whole is parsed as far as it can.
    let line = cx.budget.affordable(line);
    cx.budget.spend(line.len());
    if line.is_empty() {
        return;
    }
    // `name() { ...; }` defines a function: `name` does not run.
    let tokens = drop_function_heads(tokenize(line, depth, cx));
    let mut pipeline: Pipeline = Vec::new();
    let mut words: Vec<Tok> = Vec::new();
    let flush_cmd = |words: &mut Vec<Tok>, pipeline: &mut Pipeline, cx: &mut Cx| {
        if !words.is_empty() {
            let raw = std::mem::take(words);
            if let Some(cmd) = build_cmd(raw, depth, cx) {
                // `echo "rm -rf /" | sh`: what echo prints is the shell's script.
                if let Some(prev) = pipeline.last().filter(|p| matches!(p.name(), "echo" | "printf")) {
                    let fed: Vec<&str> =
                        prev.args().iter().map(String::as_str).filter(|a| !matches!(*a, "-e" | "-n" | "-E")).collect();
                    feed(&cmd, &fed.join(" "), depth, cx);
                }
                pipeline.push(cmd);
            }
        }
    };
    for tok in tokens {
        match tok {
            Tok::Op(op) if op == "|" || op == "|&" => flush_cmd(&mut words, &mut pipeline, cx),
            Tok::Op(_) => {
                flush_cmd(&mut words, &mut pipeline, cx);
                if !pipeline.is_empty() {
                    cx.out.pipelines.push(std::mem::take(&mut pipeline));
                }
            }
            other => words.push(other),
        }
    }
    flush_cmd(&mut words, &mut pipeline, cx);
    if !pipeline.is_empty() {
        cx.out.pipelines.push(pipeline);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A word, unquoted, with the commands found in its substitutions.
    Word(String, Vec<Cmd>),
    /// A redirection operator and its target word; for a here-document, its body.
    Redirect(String, String, Vec<Cmd>, Option<String>),
    /// A separator: `;`, `&&`, `||`, `&`, `|`, `|&`, newline, `(`, `)`.
    Op(String),
}

fn is_op(tok: Option<&Tok>, op: &str) -> bool {
    matches!(tok, Some(Tok::Op(o)) if o == op)
}

/// Removes each `name ( )` (a function's head), scanning left to right, in one pass.
fn drop_function_heads(tokens: Vec<Tok>) -> Vec<Tok> {
    let mut keep = vec![true; tokens.len()];
    let mut i = 0;
    while i + 2 < tokens.len() {
        if matches!(tokens.get(i), Some(Tok::Word(..)))
            && is_op(tokens.get(i + 1), "(")
            && is_op(tokens.get(i + 2), ")")
        {
            keep.iter_mut().skip(i).take(3).for_each(|k| *k = false);
            i += 3;
        } else {
            i += 1;
        }
    }
    tokens.into_iter().zip(keep).filter_map(|(t, k)| k.then_some(t)).collect()
}

/// Words that start or continue compound commands rather than name a program: the POSIX
/// shells', and fish's (`false; and rm -rf x`, `not test -d x`, `begin; ...; end`).
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "esac", "in", "[[", "]]", "and",
    "or", "not", "begin", "end",
];

fn build_cmd(toks: Vec<Tok>, depth: usize, cx: &mut Cx) -> Option<Cmd> {
    let mut cmd = Cmd::default();
    let mut words: Vec<String> = Vec::new();
    for t in toks {
        match t {
            Tok::Word(w, subs) => {
                words.push(w);
                cmd.substituted.extend(subs);
            }
            Tok::Redirect(op, target, subs, body) => {
                if op == "<<<" {
                    cmd.stdin = Some(target.clone());
                } else if body.is_some() {
                    cmd.stdin = body;
                }
                cmd.redirects.push((op, target));
                cmd.substituted.extend(subs);
            }
            Tok::Op(_) => {}
        }
    }
    // Leading keywords and assignments are not the command.
    let skip = words.iter().take_while(|w| KEYWORDS.contains(&w.as_str()) || is_assignment(w)).count();
    let bare = words.is_empty();
    words.drain(..skip);
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
    unwrap(&mut cmd, depth, cx);
    if cmd.name() == "find" {
        find_exec(&cmd, depth, cx);
    }
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
        "sudo" => &[
            "-u",
            "-g",
            "-C",
            "-D",
            "-h",
            "-p",
            "-r",
            "-t",
            "-T",
            "-U",
            "--user",
            "--group",
            "--chdir",
            "--host",
            "--prompt",
            "--role",
            "--type",
            "--close-from",
            "--other-user",
        ],
        "doas" => &["-u", "-C"],
        "env" => &["-u", "-C", "--unset", "--chdir", "-S", "--split-string"],
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "-p", "-P", "-u"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "xargs" => &[
            "-I",
            "-i",
            "-n",
            "-P",
            "-d",
            "-a",
            "-E",
            "-e",
            "-L",
            "-l",
            "-s",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
            "--replace",
            "--max-lines",
            "--max-chars",
            "--eof",
        ],
        "watch" => &["-n", "--interval", "-d", "-q", "--equexit"],
        "ssh" => &[
            "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o", "-p", "-Q", "-R", "-S",
            "-W", "-w", "-B",
        ],
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
/// `from`; a `--` ends the options and is skipped. Never past the end of `argv`, even when the
/// last option lacks its value (`flock -w`).
fn options_end(argv: &[String], wrapper: &str, from: usize) -> usize {
    let mut i = from;
    while let Some(a) = argv.get(i).filter(|a| a.starts_with('-')) {
        if a == "--" {
            return i + 1;
        }
        if option_takes_value(wrapper, a) {
            i += 1;
        }
        i += 1;
    }
    i.min(argv.len())
}

/// Shells whose `-c SCRIPT` runs SCRIPT.
const SHELLS: &[&str] = &["bash", "sh", "zsh", "dash", "ksh", "fish", "ash", "busybox"];

/// Wrappers that run the rest of their arguments after their options.
const PLAIN_WRAPPERS: &[&str] = &[
    "sudo",
    "doas",
    "nice",
    "nohup",
    "time",
    "ionice",
    "stdbuf",
    "builtin",
    "exec",
    "chroot",
    "setsid",
    "unbuffer",
    "caffeinate",
    "torsocks",
    "proxychains",
    "proxychains4",
];

/// Peels wrappers off `cmd.argv` until the real command is first; scripts given to shells and
/// `eval` are parsed in turn and added to `cx.out`.
///
/// The peeled words are only counted (`start`) and removed once at the end, so that
/// `sudo sudo sudo ...` is linear.
fn unwrap(cmd: &mut Cmd, depth: usize, cx: &mut Cx) {
    let mut start = 0;
    loop {
        let argv = cmd.argv.get(start..).unwrap_or(&[]);
        let Some(first) = argv.first() else { break };
        let name = basename(first);
        if let Some(&wrapper) = PLAIN_WRAPPERS.iter().find(|w| **w == name) {
            let mut i = options_end(argv, wrapper, 1);
            if wrapper == "chroot" && i < argv.len() {
                i += 1; // the new root
            }
            if wrapper == "sudo" {
                // sudo [opts] VAR=value... command: the assignments are the command's environment.
                while argv.get(i).is_some_and(|a| is_assignment(a)) {
                    i += 1;
                }
            }
            // `sudo -s` / `sudo -i` with no command is an interactive shell.
            start += i;
            cmd.wrappers.push(wrapper.to_string());
            continue;
        }
        match name {
            "command" => {
                // `command -v x` and `command -V x` look a name up; they run nothing.
                if argv.get(1).is_some_and(|a| a == "-v" || a == "-V") {
                    break;
                }
                let i = if argv.get(1).is_some_and(|a| a == "-p") { 2 } else { 1 };
                start += i.min(argv.len());
                cmd.wrappers.push("command".to_string());
            }
            "env" => {
                let mut i = 1;
                let mut split = None;
                while let Some(a) = argv.get(i) {
                    if a == "--" {
                        i += 1;
                        break;
                    }
                    if a == "-S" || a == "--split-string" {
                        if argv.get(i + 1).is_some() {
                            split = Some(i);
                        }
                        break;
                    }
                    if a.starts_with('-') {
                        if option_takes_value("env", a) {
                            i += 1;
                        }
                        i += 1;
                    } else if is_assignment(a) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                let Some(i) = split else {
                    start += i.min(argv.len());
                    cmd.wrappers.push("env".to_string());
                    continue;
                };
                // env -S 'cmd args': the string is a command line of its own, whose words
                // replace `env ... -S 'cmd args'`. That moves the words after it: paid for,
                // so that `env -S env -S ...` cannot be quadratic.
                let end = (start + i + 2).min(cmd.argv.len());
                let script = cmd.argv.get_mut(end.saturating_sub(1)).map(std::mem::take).unwrap_or_default();
                if !cx.budget.spend(script.len() + cmd.argv.len() - end + 1) {
                    break;
                }
                let words: Vec<String> = script.split_whitespace().map(str::to_string).collect();
                cmd.argv.splice(start..end, words);
                cmd.wrappers.push("env".to_string());
                if cmd.argv.get(start).is_some_and(|f| basename(f) == "env") {
                    start += i.min(cmd.argv.len() - start);
                    cmd.wrappers.push("env".to_string());
                }
            }
            "timeout" => {
                let i = options_end(argv, "timeout", 1);
                start += (i + 1).min(argv.len()); // and the duration
                cmd.wrappers.push("timeout".to_string());
            }
            "runuser" if argv.iter().any(|a| a == "-c" || a == "--command") => {
                if let Some(pos) = argv.iter().position(|a| a == "-c" || a == "--command") {
                    if let Some(script) = argv.get(pos + 1) {
                        parse_into(script, depth + 1, cx);
                    }
                }
                break;
            }
            "xargs" | "flock" | "runuser" => {
                let wrapper = if name == "xargs" {
                    "xargs"
                } else if name == "flock" {
                    "flock"
                } else {
                    "runuser"
                };
                let mut i = options_end(argv, wrapper, 1);
                if wrapper == "flock" {
                    // flock [opts] FILE -c SCRIPT (or -c among the options): the script is a
                    // command line of its own.
                    let is_c = |a: &String| a == "-c" || a == "--command";
                    let among_options = argv.get(1..i).and_then(|o| o.iter().position(is_c)).map(|p| p + 1);
                    let after_file = Some(i + 1).filter(|&p| argv.get(p).is_some_and(is_c));
                    if let Some(pos) = among_options.or(after_file) {
                        if let Some(script) = argv.get(pos + 1) {
                            parse_into(script, depth + 1, cx);
                        }
                        cmd.argv.clear();
                        return;
                    }
                    if i < argv.len() {
                        i += 1; // the lock file
                    }
                }
                if wrapper == "xargs" && i >= argv.len() {
                    // Bare xargs runs echo.
                    break;
                }
                start += i;
                cmd.wrappers.push(wrapper.to_string());
            }
            "watch" => {
                // watch runs its arguments joined, through sh -c.
                let i = options_end(argv, "watch", 1);
                let script = argv.get(i..).unwrap_or(&[]).join(" ");
                parse_into(&script, depth + 1, cx);
                cmd.argv.clear();
                return;
            }
            "eval" => {
                let script = argv.get(1..).unwrap_or(&[]).join(" ");
                parse_into(&script, depth + 1, cx);
                cmd.argv.clear();
                return;
            }
            "su" => {
                // su [user] -c SCRIPT
                if let Some(pos) = argv.iter().position(|a| a == "-c" || a == "--command") {
                    if let Some(script) = argv.get(pos + 1) {
                        parse_into(script, depth + 1, cx);
                    }
                }
                break;
            }
            s if SHELLS.contains(&s) => {
                // bash [opts] -c SCRIPT [name args...]; -c may be bundled (-xc, -ec).
                let pos =
                    argv.iter().skip(1).position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'));
                if let Some(script) = pos.and_then(|p| argv.get(p + 2)) {
                    parse_into(script, depth + 1, cx);
                } else if let Some(script) = cmd.stdin.as_deref().filter(|_| reads_stdin(argv)) {
                    // `bash <<< "..."`, `sh <<EOF`: the shell runs what it is fed.
                    parse_into(script, depth + 1, cx);
                }
                break;
            }
            "script" => {
                // script [opts] -c COMMAND [file]; with --help or --version anywhere (getopt
                // permutes), script prints and runs nothing.
                if let Some(pos) = argv.iter().position(|a| a == "-c" || a == "--command") {
                    let asks = |(j, a): (usize, &String)| {
                        j != pos + 1 && matches!(a.as_str(), "--help" | "-h" | "--version" | "-V")
                    };
                    if argv.iter().enumerate().any(asks) {
                        break;
                    }
                    if let Some(script) = argv.get(pos + 1) {
                        parse_into(script, depth + 1, cx);
                    }
                }
                break;
            }
            "ssh" => {
                // ssh [opts] HOST [COMMAND...]: the remote shell runs the words joined.
                let i = options_end(argv, "ssh", 1);
                let remote = argv.get(i + 1..).unwrap_or(&[]);
                if !remote.is_empty() {
                    let script = remote.join(" ");
                    parse_into(&script, depth + 1, cx);
                }
                break;
            }
            n if crate::code::Lang::of(n).is_some() => {
                if let Some(lang) = crate::code::Lang::of(n) {
                    let name = n.to_string();
                    for code in interpreter_code(argv, cmd.stdin.as_deref()) {
                        run_code(code, lang, &name, depth, cx);
                    }
                }
                break;
            }
            _ => break,
        }
    }
    cmd.argv.drain(..start.min(cmd.argv.len()));
}

/// Parses what a pipe feeds a shell or an interpreter that reads its script from standard
/// input.
fn feed(cmd: &Cmd, text: &str, depth: usize, cx: &mut Cx) {
    let name = cmd.name();
    if SHELLS.contains(&name) {
        let has_c = cmd.args().iter().any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'));
        if !has_c && reads_stdin(&cmd.argv) {
            parse_into(text, depth + 1, cx);
        }
    } else if let Some(lang) = crate::code::Lang::of(name) {
        if interpreter_code(&cmd.argv, None).is_empty() && interpreter_code(&cmd.argv, Some(text)).len() == 1 {
            run_code(text, lang, name, depth, cx);
        }
    }
}

/// Whether a shell's arguments leave it reading its script from standard input: no script
/// file operand before `-s` (`bash`, `sh -s -- args`, `bash -x -`).
fn reads_stdin(argv: &[String]) -> bool {
    for a in argv.iter().skip(1) {
        if a == "-s" || a == "-" || a == "--" {
            return true;
        }
        if !a.starts_with('-') && !a.starts_with('+') {
            return false;
        }
    }
    true
}

/// The code an interpreter runs from its arguments (`python3 -c`, `node -e`/`-p`,
/// `deno eval`, `bun -e`, `perl -e`/`-E` and bundles like `-ne`, `ruby -e`, `php -r`), or
/// from standard input when no script file is named.
fn interpreter_code<'a>(argv: &'a [String], stdin: Option<&'a str>) -> Vec<&'a str> {
    let name = argv.first().map_or("", |n| basename(n));
    let mut out = Vec::new();
    let mut script_file = false;
    let mut args = argv.iter().skip(1).peekable();
    if name == "deno" || name == "bun" {
        // deno eval [opts] CODE
        if args.peek().is_some_and(|a| *a == "eval") {
            args.next();
            if let Some(code) = args.find(|a| !a.starts_with('-')) {
                out.push(code.as_str());
            }
            return out;
        }
    }
    while let Some(a) = args.next() {
        let takes_code = match crate::code::Lang::of(name) {
            Some(crate::code::Lang::Python) => {
                a == "-c" || a.len() > 2 && a.starts_with('-') && !a.starts_with("--") && a.ends_with('c')
            }
            Some(crate::code::Lang::JavaScript) => {
                matches!(a.as_str(), "-e" | "--eval" | "-p" | "--print")
            }
            Some(crate::code::Lang::Perl) | Some(crate::code::Lang::Ruby) => {
                a.starts_with('-') && !a.starts_with("--") && (a.ends_with('e') || a.ends_with('E')) && a.len() <= 5
            }
            Some(crate::code::Lang::Php) => a == "-r",
            None => false,
        };
        if takes_code {
            if let Some(code) = args.next() {
                out.push(code.as_str());
            }
            if name.starts_with("python") {
                return out; // the rest are the script's arguments
            }
        } else if let Some(code) = a.strip_prefix("--eval=") {
            out.push(code);
        } else if a == "-m" && name.starts_with("python") {
            return out; // python -m module: the module runs, not a file
        } else if !a.starts_with('-') {
            script_file = true;
            break;
        }
    }
    if out.is_empty() && !script_file {
        out.extend(stdin);
    }
    out
}

/// Runs what code calls: shell command lines are parsed as scripts, programs with their
/// arguments become commands of their own (after their wrappers, so that
/// `subprocess.run(["bash", "-c", "..."])` is followed too). The code's bytes are paid for.
fn run_code(code: &str, lang: crate::code::Lang, interpreter: &str, depth: usize, cx: &mut Cx) {
    if depth >= MAX_DEPTH || !cx.budget.spend(code.len()) {
        return;
    }
    for action in crate::code::actions(code, lang) {
        match action {
            crate::code::Action::Script(script) => parse_into(&script, depth + 1, cx),
            crate::code::Action::Argv(argv) => run_argv(argv, interpreter, depth, cx),
        }
    }
}

/// A command given as its words (by code, or by `find -exec`), added as a pipeline of its
/// own. Its words are paid for.
fn run_argv(argv: Vec<String>, by: &str, depth: usize, cx: &mut Cx) {
    let size: usize = argv.iter().map(|w| w.len() + 1).sum();
    if argv.is_empty() || depth >= MAX_DEPTH || !cx.budget.spend(size) {
        return;
    }
    let mut cmd = Cmd { argv, wrappers: vec![by.to_string()], ..Cmd::default() };
    unwrap(&mut cmd, depth + 1, cx);
    if !cmd.argv.is_empty() {
        cx.out.pipelines.push(vec![cmd]);
    }
}

/// The commands `find -exec`, `-execdir`, `-ok` and `-okdir` run, each up to its `;` or `+`.
fn find_exec(cmd: &Cmd, depth: usize, cx: &mut Cx) {
    let mut args = cmd.args().iter();
    while let Some(a) = args.next() {
        if matches!(a.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
            let words: Vec<String> = args.by_ref().take_while(|w| *w != ";" && *w != "+").cloned().collect();
            run_argv(words, "find", depth, cx);
        }
    }
}

/// Operators of more than one character, longest first.
const OPERATORS: &[&str] = &["<<<", "<<-", ">>", "<<", "&&", "||", "|&", ";;", "&>>", "&>", ">&", "<&", ">|", "<>"];

/// The text of a word. The tokenizer only ever drops ASCII bytes from the line, so the bytes
/// are UTF-8; should they not be, the word is still read, lossily, rather than refused.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Splits a line into words, redirections and separators, removing quotes and parsing
/// substitutions (whose commands are attached to the word and also added to `cx.out`).
///
/// It works on the line's bytes: every character the shell treats specially is ASCII, and
/// in UTF-8 an ASCII byte is never part of another character.
fn tokenize(line: &str, depth: usize, cx: &mut Cx) -> Vec<Tok> {
    let b = line.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let inner_text = |r: Range<usize>| line.get(r).unwrap_or("");
    let mut toks = Vec::new();
    let mut i = 0;
    let mut word: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut subs: Vec<Cmd> = Vec::new();
    let mut pending_redirect: Option<String> = None;
    // Delimiters of the here-documents whose bodies start after the next newline, with the
    // index of their redirection among `toks` (which gets the body).
    let mut heredocs: Vec<(String, usize)> = Vec::new();

    macro_rules! end_word {
        () => {
            if in_word {
                let w = text(std::mem::take(&mut word));
                let s = std::mem::take(&mut subs);
                match pending_redirect.take() {
                    Some(op) => {
                        if op.starts_with("<<") && op != "<<<" {
                            heredocs.push((w.clone(), toks.len()));
                        }
                        toks.push(Tok::Redirect(op, w, s, None))
                    }
                    None => toks.push(Tok::Word(w, s)),
                }
                in_word = false;
            }
        };
    }

    // `open` then the inner text then `close`, onto the word.
    macro_rules! push_wrapped {
        ($open:expr, $inner:expr, $close:expr) => {
            word.extend_from_slice($open);
            word.extend_from_slice(b.get($inner.clone()).unwrap_or(&[]));
            word.extend_from_slice($close);
        };
    }

    while let Some(c) = at(i) {
        match c {
            b' ' | b'\t' => {
                end_word!();
                i += 1;
            }
            b'\n' => {
                end_word!();
                toks.push(Tok::Op("\n".into()));
                i += 1;
                // Here-document bodies are data to the shell: skip to each delimiter line,
                // keeping the body for its command (a shell fed one runs it).
                for (delim, at) in std::mem::take(&mut heredocs) {
                    let start = i;
                    let mut end = b.len();
                    while i < b.len() {
                        let rest = b.get(i..).unwrap_or(&[]);
                        let len = rest.iter().position(|&x| x == b'\n').unwrap_or(rest.len());
                        let body = rest.get(..len).unwrap_or(&[]);
                        let tabs = body.iter().take_while(|&&x| x == b'\t').count();
                        let line_start = i;
                        i = (i + len + 1).min(b.len());
                        if body.get(tabs..) == Some(delim.as_bytes()) {
                            end = line_start;
                            break;
                        }
                    }
                    if let Some(Tok::Redirect(_, _, _, slot)) = toks.get_mut(at) {
                        *slot = line.get(start..end.max(start)).map(str::to_string);
                    }
                }
            }
            b'#' if !in_word => {
                let rest = b.get(i..).unwrap_or(&[]);
                i += rest.iter().position(|&x| x == b'\n').unwrap_or(rest.len());
            }
            b'\\' => {
                if let Some(n) = at(i + 1) {
                    if n != b'\n' {
                        word.push(n);
                        in_word = true;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            b'\'' => {
                in_word = true;
                i += 1;
                let rest = b.get(i..).unwrap_or(&[]);
                let len = rest.iter().position(|&x| x == b'\'').unwrap_or(rest.len());
                word.extend_from_slice(rest.get(..len).unwrap_or(&[]));
                i += len + 1;
            }
            b'"' => {
                in_word = true;
                i += 1;
                while let Some(ch) = at(i).filter(|&ch| ch != b'"') {
                    match ch {
                        b'\\' if matches!(at(i + 1), Some(b'$' | b'`' | b'"' | b'\\' | b'\n')) => {
                            if let Some(n) = at(i + 1).filter(|&n| n != b'\n') {
                                word.push(n);
                            }
                            i += 2;
                        }
                        b'$' if at(i + 1) == Some(b'(') && at(i + 2) != Some(b'(') => {
                            let (inner, next) = balanced(b, i + 2, b'(', b')');
                            push_wrapped!(b"$(", inner, b")");
                            subs.extend(substitution(inner_text(inner), depth, cx));
                            i = next;
                        }
                        b'`' => {
                            let (inner, next) = until(b, i + 1, b'`');
                            push_wrapped!(b"`", inner, b"`");
                            subs.extend(substitution(inner_text(inner), depth, cx));
                            i = next;
                        }
                        _ => {
                            word.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            b'$' if at(i + 1) == Some(b'(') => {
                in_word = true;
                let (inner, next) = balanced(b, i + 2, b'(', b')');
                push_wrapped!(b"$(", inner, b")");
                // $((...)) is arithmetic: text, no command.
                if at(i + 2) != Some(b'(') {
                    subs.extend(substitution(inner_text(inner), depth, cx));
                }
                i = next;
            }
            b'$' if at(i + 1) == Some(b'{') => {
                in_word = true;
                let (inner, next) = balanced(b, i + 2, b'{', b'}');
                push_wrapped!(b"${", inner, b"}");
                i = next;
            }
            b'`' => {
                in_word = true;
                let (inner, next) = until(b, i + 1, b'`');
                push_wrapped!(b"`", inner, b"`");
                subs.extend(substitution(inner_text(inner), depth, cx));
                i = next;
            }
            b'<' | b'>' if at(i + 1) == Some(b'(') && !in_word => {
                // Process substitution: a word naming a file that a command writes or reads.
                in_word = true;
                let (inner, next) = balanced(b, i + 2, b'(', b')');
                push_wrapped!(&[c, b'('], inner, b")");
                subs.extend(substitution(inner_text(inner), depth, cx));
                i = next;
            }
            b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                // A redirection may start with a file descriptor number: 2>, 1>&2.
                let fd_prefix =
                    if (c == b'<' || c == b'>') && in_word && !word.is_empty() && word.iter().all(u8::is_ascii_digit) {
                        in_word = false;
                        subs.clear();
                        text(std::mem::take(&mut word))
                    } else {
                        end_word!();
                        String::new()
                    };
                let rest = b.get(i..).unwrap_or(&[]);
                let op = OPERATORS
                    .iter()
                    .find(|o| rest.starts_with(o.as_bytes()))
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| char::from(c).to_string());
                i += op.len();
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

/// Parses the inside of a substitution, adding its pipelines to `cx.out`, and returns copies
/// of its commands for the word that holds it (shallow, and paid for: see [`Cmd::substituted`]).
fn substitution(inner: &str, depth: usize, cx: &mut Cx) -> Vec<Cmd> {
    let first = cx.out.pipelines.len();
    parse_into(inner, depth + 1, cx);
    let Cx { out, budget } = cx;
    let mut copies = Vec::new();
    for cmd in out.pipelines.get(first..).unwrap_or(&[]).iter().flatten() {
        if !budget.spend(cmd.size()) {
            break;
        }
        copies.push(cmd.shallow_copy());
    }
    copies
}

/// The byte range up to the parenthesis that closes one opened just before `start`,
/// respecting quotes and nesting; and the index after it. Unclosed, the range runs to the end.
fn balanced(b: &[u8], start: usize, open: u8, close: u8) -> (Range<usize>, usize) {
    let mut level = 1usize;
    let mut i = start;
    let mut quote: Option<u8> = None;
    while let Some(&c) = b.get(i) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(b'"') if c == b'\\' => i += 1,
            Some(_) => {}
            None if c == b'\\' => i += 1,
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == open => level += 1,
            None if c == close => {
                level -= 1;
                if level == 0 {
                    return (start..i, i + 1);
                }
            }
            None => {}
        }
        i += 1;
    }
    (start.min(b.len())..b.len(), b.len())
}

/// The byte range up to the next unescaped `end`, and the index after it.
fn until(b: &[u8], start: usize, end: u8) -> (Range<usize>, usize) {
    let mut i = start;
    while let Some(&c) = b.get(i).filter(|&&c| c != end) {
        if c == b'\\' {
            i += 1;
        }
        i += 1;
    }
    let stop = i.min(b.len());
    (start.min(stop)..stop, (i + 1).min(b.len() + 1))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
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
        assert_eq!(
            argvs("git commit -m 'rm -rf ~; shutdown now'"),
            [vec!["git", "commit", "-m", "rm -rf ~; shutdown now"]]
        );
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
        assert_eq!(
            argvs("find . -name '*.o' | xargs -0 -n 5 rm -f"),
            [vec!["find", ".", "-name", "*.o"], vec!["rm", "-f"]]
        );
        assert_eq!(argvs("watch -n 1 'rm -rf /tmp/x'"), [vec!["rm", "-rf", "/tmp/x"]]);
        assert_eq!(argvs("sudo nice -n 5 env X=1 timeout 3 rm -rf /"), [vec!["rm", "-rf", "/"]]);
        let p = parse("sudo -u root rm x");
        assert_eq!(p.commands().next().unwrap().wrappers, ["sudo"]);
        // Looking a name up runs nothing.
        assert_eq!(argvs("command -v rm"), [vec!["command", "-v", "rm"]]);
        // fish's command words are no programs.
        assert_eq!(argvs("false; and rm -rf ~/; or not ls"), [vec!["false"], vec!["rm", "-rf", "~/"], vec!["ls"]]);
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
    fn code_that_other_programs_run_is_parsed() {
        let has = |line: &str, argv: &[&str]| parse(line).commands().any(|c| c.argv == argv);
        // Interpreters' code: shell command lines and deleted paths.
        assert!(has("python3 -c \"import shutil; shutil.rmtree('/')\"", &["rm", "-rf", "/"]));
        assert!(has("python -c 'import os; os.system(\"rm -rf ~\")'", &["rm", "-rf", "~"]));
        assert!(has("python3 -c 'import subprocess; subprocess.run([\"bash\", \"-c\", \"reboot\"])'", &["reboot"]));
        assert!(has("node -e \"require('fs').rmSync('/', {recursive: true})\"", &["rm", "-rf", "/"]));
        assert!(has("node -e \"require('child_process').execSync('shutdown now')\"", &["shutdown", "now"]));
        assert!(has("deno eval \"await Deno.remove('/etc', {recursive: true})\"", &["rm", "-rf", "/etc"]));
        assert!(has("perl -e \"system('rm -rf /')\"", &["rm", "-rf", "/"]));
        assert!(has("perl -ne 'print `reboot`' x", &["reboot"]));
        assert!(has("ruby -e \"require 'fileutils'; FileUtils.rm_rf('/')\"", &["rm", "-rf", "/"]));
        assert!(has("php -r \"system('rm -rf /');\"", &["rm", "-rf", "/"]));
        assert!(has("python3 - <<EOF\nimport shutil\nshutil.rmtree('/')\nEOF", &["rm", "-rf", "/"]));
        // A script file's code is not on the line; printing is not running.
        assert!(!has("python3 app.py -c 'rm -rf /'", &["rm", "-rf", "/"]));
        assert_eq!(names("python3 -c 'print(\"rm -rf /\")'"), ["python3"]);
        // Shells fed a script: here-strings, here-documents, pipes from echo.
        assert!(has("bash <<< \"rm -rf /\"", &["rm", "-rf", "/"]));
        assert!(has("sh <<EOF\nrm -rf /\nEOF", &["rm", "-rf", "/"]));
        assert!(has("sudo bash -s <<'END'\nreboot\nEND", &["reboot"]));
        assert!(has("echo 'rm -rf /' | sh", &["rm", "-rf", "/"]));
        assert!(!has("bash script.sh <<< 'rm -rf /'", &["rm", "-rf", "/"]));
        assert!(!has("cat <<< 'rm -rf /'", &["rm", "-rf", "/"]));
        // Remote commands, find -exec, script -c, runuser -c.
        assert!(has("ssh -p 2222 -i key.pem admin@host 'rm -rf /var/log'", &["rm", "-rf", "/var/log"]));
        assert!(has("ssh host sudo reboot", &["reboot"]));
        assert_eq!(names("ssh host"), ["ssh"]);
        assert!(has("find / -name x -exec sh -c 'rm -rf /' \\;", &["rm", "-rf", "/"]));
        assert!(has("find . -exec rm -f {} +", &["rm", "-f", "{}"]));
        assert!(has("script -q -c 'shutdown now' /dev/null", &["shutdown", "now"]));
        assert!(!has("script -c 'rm -rf ~/*' /dev/null --help", &["rm", "-rf", "~/*"]));
        assert!(has("runuser -l bob -c 'rm -rf ~'", &["rm", "-rf", "~"]));
        // sudo's own VAR=value words are the command's environment, not the command.
        assert_eq!(names("sudo -E AWS_REGION=eu-west-1 awk 1 x"), ["awk"]);
        assert!(has("xargs -I{} sh -c 'rm -rf /'", &["rm", "-rf", "/"]));
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
        assert_eq!(
            (c.argv.clone(), c.redirects.clone()),
            (vec![":".to_string()], vec![(">".to_string(), "app.log".to_string())])
        );
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
