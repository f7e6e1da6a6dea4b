//! Code run by an interpreter (`python3 -c`, `node -e`, `deno eval`, `perl -e`, `ruby -e`,
//! `php -r`, or fed on standard input): the calls in it that run a shell command or delete a
//! path, turned into what the shell parser understands.
//!
//! This is not a parser of those languages: it looks for the names of the calls that matter
//! (`os.system`, `subprocess.run`, `child_process.execSync`, `system`, backticks,
//! `shutil.rmtree`, `fs.rmSync`, `FileUtils.rm_rf`, ...) and reads their first arguments
//! when they are string literals (or a list of them). One pass over the code, linear in its
//! length; nothing indexes the code unchecked.
#![deny(clippy::indexing_slicing)]

/// What a call in the code does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Runs a shell command line (`os.system("rm -rf /")`).
    Script(String),
    /// Runs a program with these arguments (`subprocess.run(["rm", "-rf", "/"])`).
    Argv(Vec<String>),
}

/// The language of the code, for the few calls that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    JavaScript,
    Perl,
    Ruby,
    Php,
}

impl Lang {
    /// The language an interpreter runs, by its name.
    pub fn of(program: &str) -> Option<Lang> {
        Some(match program {
            "python" | "python2" | "python3" | "pypy" | "pypy3" => Lang::Python,
            p if p.starts_with("python3.") => Lang::Python,
            "node" | "nodejs" | "deno" | "bun" => Lang::JavaScript,
            "perl" => Lang::Perl,
            "ruby" => Lang::Ruby,
            "php" => Lang::Php,
            _ => return None,
        })
    }
}

/// Calls whose first argument is a shell command line, or a program and its arguments.
const RUN_CALLS: &[&str] = &[
    // Python
    "os.system",
    "os.popen",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "commands.getoutput",
    "os.execvp",
    "os.execlp",
    "pty.spawn",
    // JavaScript
    "execSync",
    "exec",
    "execFile",
    "execFileSync",
    "spawn",
    "spawnSync",
    "Bun.spawn",
    "Bun.spawnSync",
    "Deno.Command",
    // Perl, Ruby, PHP
    "system",
    "shell_exec",
    "passthru",
    "popen",
    "proc_open",
    "IO.popen",
    "Open3.capture2",
    "Open3.capture2e",
    "Open3.capture3",
    "Open3.popen3",
    "qx",
    "%x",
];

/// Calls that delete a whole tree at their first argument.
const TREE_CALLS: &[&str] = &[
    "shutil.rmtree",
    "os.removedirs",
    "rmtree",
    "remove_tree",
    "FileUtils.rm_rf",
    "FileUtils.rm_r",
    "FileUtils.remove_dir",
    "FileUtils.remove_entry",
    "FileUtils.remove_entry_secure",
    "rimraf",
    "rimrafSync",
    "fs.removeSync",
    "fse.removeSync",
];

/// Names of delete calls distinctive enough to be known without their module.
const PATH_SHORT: &[&str] = &["rmSync", "rmdirSync", "unlinkSync", "removeSync"];

/// Calls that delete their first argument: recursively when the call says `recursive`.
const PATH_CALLS: &[&str] = &[
    "os.remove",
    "os.unlink",
    "os.rmdir",
    "fs.rmSync",
    "fs.rmdirSync",
    "fs.rm",
    "fs.rmdir",
    "fs.unlinkSync",
    "fs.unlink",
    "fsp.rm",
    "fs.promises.rm",
    "Deno.remove",
    "Deno.removeSync",
    "unlink",
    "rmdir",
    "File.delete",
    "FileUtils.rm",
    "Dir.rmdir",
];

/// The actions in `code`, in order.
pub fn actions(code: &str, lang: Lang) -> Vec<Action> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        // Strings are skipped whole, so that a name inside one is not taken for a call.
        if c == b'\'' || c == b'"' || c == b'`' && lang == Lang::JavaScript {
            let (_, next) = literal(b, i);
            i = next;
            continue;
        }
        if c == b'`' {
            // Backticks run a shell command in Perl, Ruby and PHP.
            let (text, next) = literal(b, i);
            out.push(Action::Script(text));
            i = next;
            continue;
        }
        if c == b'$' && b.get(i + 1) == Some(&b'`') && lang == Lang::JavaScript {
            // zx and Bun's shell: $`rm -rf ${dir}`.
            let (text, next) = literal(b, i + 1);
            out.push(Action::Script(text));
            i = next;
            continue;
        }
        // A name starts after anything but a letter, digit or `_` (after a `.` too, for
        // `require('fs').rmSync`); dotted names are read whole (`shutil.rmtree`).
        let starts_name = (c.is_ascii_alphabetic() || c == b'%' || c == b'_')
            && !i.checked_sub(1).and_then(|p| b.get(p)).is_some_and(|&p| p.is_ascii_alphanumeric() || p == b'_');
        if !starts_name {
            i += 1;
            continue;
        }
        let len = b
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&x| x.is_ascii_alphanumeric() || x == b'_' || x == b'.' || x == b'%')
            .count();
        let name = code.get(i..i + len).unwrap_or("");
        let after = i + len;
        // The last component decides for names called through a module (`child_process.exec`).
        let short = name.rsplit('.').next().unwrap_or(name);
        let run =
            (RUN_CALLS.contains(&name) || RUN_CALLS.contains(&short)) && !(lang == Lang::Python && short == "exec");
        let tree = TREE_CALLS.contains(&name) || TREE_CALLS.contains(&short);
        let path = PATH_CALLS.contains(&name) || PATH_SHORT.contains(&short);
        if !(run || tree || path) {
            i = after.max(i + 1);
            continue;
        }
        let (args, next) = arguments(b, after, lang);
        if let Some(args) = args {
            if name == "qx" || name == "%x" {
                // Perl's qx(...) and Ruby's %x(...) quote the command line itself.
                out.push(Action::Script(args.raw));
            } else if run {
                out.extend(run_action(&args));
            } else if let Some(p) = path_of(&args) {
                let flag = if tree || args.raw.contains("recursive") { "-rf" } else { "-f" };
                out.push(Action::Argv(vec!["rm".into(), flag.into(), p]));
            }
        }
        i = next.max(after);
    }
    out
}

/// A call's first arguments as far as they matter: its string literals in order, whether
/// the first argument is a list of them, and the raw text.
struct Args {
    strings: Vec<String>,
    list: bool,
    raw: String,
}

/// The arguments after a name, if a call follows: `(`...`)`, or for Perl and Ruby a string
/// after spaces (`system "ls"`). Returns the index after them.
fn arguments(b: &[u8], at: usize, lang: Lang) -> (Option<Args>, usize) {
    let mut i = at;
    while b.get(i).is_some_and(|c| *c == b' ' || *c == b'\t') {
        i += 1;
    }
    match b.get(i) {
        Some(b'(') | Some(b'{') => {
            let close = if b.get(i) == Some(&b'(') { b')' } else { b'}' };
            let (inner, next) = balanced(b, i + 1, close);
            (Some(read_args(inner, lang)), next)
        }
        Some(b'\'') | Some(b'"') if i > at && matches!(lang, Lang::Perl | Lang::Ruby) => {
            let (text, next) = literal(b, i);
            (Some(Args { strings: vec![text.clone()], list: false, raw: text }), next)
        }
        _ => (None, i),
    }
}

fn read_args(inner: &[u8], lang: Lang) -> Args {
    let raw = String::from_utf8_lossy(inner).into_owned();
    let mut strings = Vec::new();
    let mut i = 0;
    let first = inner.iter().position(|c| !c.is_ascii_whitespace());
    let list = first.and_then(|p| inner.get(p)) == Some(&b'[');
    while let Some(&c) = inner.get(i) {
        if c == b'\'' || c == b'"' || c == b'`' && lang == Lang::JavaScript {
            let (text, next) = literal(inner, i);
            strings.push(text);
            i = next;
        } else if c == b']' && list || c == b'{' && !strings.is_empty() {
            // The list ended, or the options object began (`{ recursive: true }`).
            break;
        } else {
            i += 1;
        }
    }
    Args { strings, list, raw }
}

/// What a run call does: a shell command line, or a program with arguments.
fn run_action(args: &Args) -> Option<Action> {
    let first = args.strings.first()?;
    if args.list || args.strings.len() > 1 && !args.raw.contains("shell") {
        return Some(Action::Argv(args.strings.clone()));
    }
    Some(Action::Script(first.clone()))
}

/// The path a delete call names: its first string, or `$HOME` when it names the home folder
/// (`os.path.expanduser("~")` gives `~` by itself; `Path.home()`, `os.homedir()`,
/// `os.environ["HOME"]`, `ENV["HOME"]`, `$ENV{HOME}` do not).
fn path_of(args: &Args) -> Option<String> {
    let home = ["home()", "homedir()", "Dir.home", "HOME"].iter().any(|h| args.raw.contains(h));
    match args.strings.first() {
        Some(s) if s == "HOME" => Some("$HOME".into()),
        Some(s) if home && s.starts_with('/') => Some(format!("$HOME{s}")),
        Some(s) => Some(s.clone()),
        None if home => Some("$HOME".into()),
        None => None,
    }
}

/// A string literal starting at `at` (a quote or backtick), with its escapes removed, and
/// the index after it. Triple quotes (`'''`, `"""`) are one literal. Unclosed, it runs to
/// the end.
fn literal(b: &[u8], at: usize) -> (String, usize) {
    let Some(&q) = b.get(at) else {
        return (String::new(), at + 1);
    };
    let triple = b.get(at + 1) == Some(&q) && b.get(at + 2) == Some(&q) && q != b'`';
    let mut i = if triple { at + 3 } else { at + 1 };
    let mut out = Vec::new();
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            if let Some(&n) = b.get(i + 1) {
                out.push(match n {
                    b'n' => b'\n',
                    b't' => b'\t',
                    other => other,
                });
            }
            i += 2;
            continue;
        }
        if c == q && (!triple || b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q)) {
            let end = if triple { i + 3 } else { i + 1 };
            return (String::from_utf8_lossy(&out).into_owned(), end);
        }
        out.push(c);
        i += 1;
    }
    (String::from_utf8_lossy(&out).into_owned(), b.len())
}

/// The bytes up to the `close` that balances an opening just before `start`, skipping
/// strings; and the index after it.
fn balanced(b: &[u8], start: usize, close: u8) -> (&[u8], usize) {
    let open = if close == b')' { b'(' } else { b'{' };
    let mut level = 1usize;
    let mut i = start;
    while let Some(&c) = b.get(i) {
        if c == b'\'' || c == b'"' || c == b'`' {
            let (_, next) = literal(b, i);
            i = next;
            continue;
        }
        if c == open {
            level += 1;
        } else if c == close {
            level -= 1;
            if level == 0 {
                return (b.get(start..i).unwrap_or(&[]), i + 1);
            }
        }
        i += 1;
    }
    (b.get(start..).unwrap_or(&[]), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(s: &str) -> Action {
        Action::Script(s.into())
    }

    fn argv(v: &[&str]) -> Action {
        Action::Argv(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn python_calls() {
        let py = |c: &str| actions(c, Lang::Python);
        assert_eq!(py("import shutil; shutil.rmtree('/')"), [argv(&["rm", "-rf", "/"])]);
        assert_eq!(py("import os; os.system(\"rm -rf ~\")"), [script("rm -rf ~")]);
        assert_eq!(py("import subprocess; subprocess.run(['rm', '-rf', '/etc'])"), [argv(&["rm", "-rf", "/etc"])]);
        assert_eq!(py("subprocess.run('reboot', shell=True)"), [script("reboot")]);
        assert_eq!(py("import os; os.remove('/etc/passwd')"), [argv(&["rm", "-f", "/etc/passwd"])]);
        assert_eq!(py("shutil.rmtree(os.path.expanduser('~'))"), [argv(&["rm", "-rf", "~"])]);
        assert_eq!(py("shutil.rmtree(Path.home())"), [argv(&["rm", "-rf", "$HOME"])]);
        assert_eq!(py("print('os.system(\"rm -rf /\")')"), []);
        assert_eq!(py("print(1 + 2)"), []);
    }

    #[test]
    fn other_languages() {
        assert_eq!(
            actions("require('fs').rmSync('/', { recursive: true, force: true })", Lang::JavaScript),
            [argv(&["rm", "-rf", "/"])]
        );
        assert_eq!(actions("require('child_process').execSync('rm -rf /')", Lang::JavaScript), [script("rm -rf /")]);
        assert_eq!(
            actions("await Deno.remove('/home/me', { recursive: true })", Lang::JavaScript),
            [argv(&["rm", "-rf", "/home/me"])]
        );
        assert_eq!(actions("system('rm -rf /')", Lang::Perl), [script("rm -rf /")]);
        assert_eq!(actions("system \"rm\", \"-rf\", \"/\"", Lang::Perl), [script("rm")]);
        assert_eq!(actions("print `ls /`", Lang::Perl), [script("ls /")]);
        assert_eq!(actions("use File::Path; rmtree('/var')", Lang::Perl), [argv(&["rm", "-rf", "/var"])]);
        assert_eq!(actions("require 'fileutils'; FileUtils.rm_rf('/')", Lang::Ruby), [argv(&["rm", "-rf", "/"])]);
        assert_eq!(actions("%x(shutdown -h now)", Lang::Ruby), [script("shutdown -h now")]);
        assert_eq!(actions("shell_exec('rm -rf /');", Lang::Php), [script("rm -rf /")]);
        assert_eq!(actions("echo 'hello';", Lang::Php), []);
    }

    #[test]
    fn hostile_code_is_harmless() {
        for code in ["(", "'", "\"\"\"", "system(", "shutil.rmtree(", "`", "$`", "os.system('\\", "%x"] {
            let _ = actions(code, Lang::Python);
            let _ = actions(code, Lang::Ruby);
            let _ = actions(code, Lang::JavaScript);
        }
        let deep = "(".repeat(100_000);
        assert!(actions(&deep, Lang::Python).is_empty());
    }
}
