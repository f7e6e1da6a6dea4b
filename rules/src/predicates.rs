//! The few checks the tables cannot say as data, each named so that an entry can use it
//! (`predicate = "name"`). Each is documented with why it is code.
#![deny(clippy::indexing_slicing)]

use crate::parse::Cmd;

/// A named predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    /// `fork-bomb` (whole line): `:(){ :|:& };:` under any name. Code because the parser
    /// deliberately does not run function definitions, so no parsed command shows it.
    ForkBomb,
    /// `console-statement` (whole line): SQL, Redis or MongoDB statements typed at the shell
    /// prompt. Code because it reads the raw line as SQL, not as a shell command.
    ConsoleStatement,
    /// `downloader`: the command fetches from the network (curl, wget, ..., and nc with a
    /// host). Code because it is shared with the upstream gathering.
    Downloader,
    /// `interpreter`: a shell or a language interpreter that runs what it reads.
    Interpreter,
    /// `runs-downloaded-code`: the command's code comes from a download in a substitution
    /// (`bash -c "$(curl ...)"`, `sh <(curl ...)`, `$(curl ...)` as the command itself).
    /// Code because it looks at the shape of the command word, not at a word's value.
    RunsDownloadedCode,
}

impl Predicate {
    /// The predicate a table calls `name`.
    pub fn from_name(name: &str) -> Option<Predicate> {
        Some(match name {
            "fork-bomb" => Predicate::ForkBomb,
            "console-statement" => Predicate::ConsoleStatement,
            "downloader" => Predicate::Downloader,
            "interpreter" => Predicate::Interpreter,
            "runs-downloaded-code" => Predicate::RunsDownloadedCode,
            _ => return None,
        })
    }

    /// Whether it looks at the whole line rather than at one command.
    pub fn is_line(self) -> bool {
        matches!(self, Predicate::ForkBomb | Predicate::ConsoleStatement)
    }

    /// For a line predicate: whether the line holds.
    pub fn line(self, line: &str) -> bool {
        match self {
            Predicate::ForkBomb => is_fork_bomb(line),
            Predicate::ConsoleStatement => console_statement(line),
            _ => false,
        }
    }

    /// For a command predicate: whether the command holds.
    pub fn cmd(self, c: &Cmd) -> bool {
        match self {
            Predicate::Downloader => downloader(c),
            Predicate::Interpreter => interpreter(c),
            Predicate::RunsDownloadedCode => runs_downloaded_code(c),
            Predicate::ForkBomb | Predicate::ConsoleStatement => false,
        }
    }
}

/// Fetches from the network.
pub fn downloader(c: &Cmd) -> bool {
    matches!(
        c.name(),
        "curl"
            | "wget"
            | "fetch"
            | "http"
            | "https"
            | "aria2c"
            | "lwp-request"
            | "GET"
            | "xh"
            | "curlie"
            | "iwr"
            | "Invoke-WebRequest"
    ) || matches!(c.name(), "nc" | "ncat") && !c.args().is_empty()
}

const INTERPRETERS: &[&str] = &[
    "bash",
    "sh",
    "zsh",
    "dash",
    "ksh",
    "fish",
    "ash",
    "csh",
    "tcsh",
    "python",
    "python2",
    "python3",
    "perl",
    "ruby",
    "node",
    "php",
    "lua",
    "pwsh",
    "powershell",
    "deno",
    "bun",
    "sudo",
    "source",
    ".",
    "busybox",
];

/// Runs what it reads.
pub fn interpreter(c: &Cmd) -> bool {
    let n = c.name();
    INTERPRETERS.contains(&n) || n.starts_with("python3.")
}

fn runs_downloaded_code(c: &Cmd) -> bool {
    c.substituted.iter().any(downloader)
        && (interpreter(c)
            || c.argv.first().is_some_and(|n| n.starts_with("$(") || n.starts_with('`'))
            || c.wrappers.iter().any(|w| w == "env"))
}

/// `:(){ :|:& };:` and its renamed forms.
fn is_fork_bomb(line: &str) -> bool {
    let s: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(open) = s.find("(){") {
        let name = s.get(..open).unwrap_or("");
        let name = name.rsplit([';', '&', '|']).next().unwrap_or(name);
        let name = name.strip_prefix("function").unwrap_or(name);
        if !name.is_empty() {
            let body = format!("(){{{name}|{name}&}};{name}");
            let body2 = format!("(){{{name}|{name}&;}};{name}");
            return s.contains(&body) || s.contains(&body2);
        }
    }
    false
}

/// A destructive database statement, upper-cased and trimmed.
pub fn destructive_statement(s: &str) -> bool {
    sql_drop(s) || sql_truncate(s) || sql_delete_all(s) || sql_update_all(s) || sql_drop_column(s)
}

/// `DROP DATABASE|SCHEMA|TABLE|USER|ROLE|OWNED`.
pub fn sql_drop(s: &str) -> bool {
    ["DROP DATABASE", "DROP SCHEMA", "DROP TABLE", "DROP USER", "DROP ROLE", "DROP OWNED"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// `TRUNCATE`.
pub fn sql_truncate(s: &str) -> bool {
    s.starts_with("TRUNCATE")
}

/// `DELETE ... FROM` without `WHERE`.
pub fn sql_delete_all(s: &str) -> bool {
    s.starts_with("DELETE") && s.contains("FROM ") && !s.contains(" WHERE ")
}

/// `UPDATE ... SET` without `WHERE`.
pub fn sql_update_all(s: &str) -> bool {
    s.starts_with("UPDATE ") && s.contains(" SET ") && !s.contains(" WHERE ")
}

/// `ALTER TABLE ... DROP`.
pub fn sql_drop_column(s: &str) -> bool {
    s.starts_with("ALTER TABLE") && s.contains(" DROP ")
}

/// Destructive statements typed at the shell prompt itself: SQL, MongoDB or Redis commands
/// meant for a database console. The shell will not run them, but they say the person
/// believes they are in one. A word that looks like an option (`truncate -s 0 f`) says it is
/// a program's command line, not SQL.
fn console_statement(line: &str) -> bool {
    let t = line.trim();
    let up = t.to_ascii_uppercase();
    let first = up.split_whitespace().next().unwrap_or("");
    let options = t.split_whitespace().any(|w| w.len() > 1 && w.starts_with('-') && w != "--" && !w.starts_with("--"))
        || t.split_whitespace()
            .any(|w| w.len() > 2 && w.starts_with("--") && w.as_bytes().get(2).is_some_and(u8::is_ascii_alphabetic));
    if matches!(first, "DROP" | "TRUNCATE" | "DELETE" | "UPDATE" | "ALTER") {
        return !options && up.split(';').any(|stmt| destructive_statement(stmt.trim()));
    }
    if matches!(
        up.as_str(),
        "FLUSHALL" | "FLUSHDB" | "SHUTDOWN" | "SHUTDOWN NOSAVE" | "FLUSHALL ASYNC" | "FLUSHDB ASYNC"
    ) {
        return true;
    }
    let mongo = up.starts_with("DB.") || up.starts_with("MONGO ") || up.starts_with("MONGOSH ");
    mongo
        && (up.contains(".DROP()")
            || up.contains("DROPDATABASE()")
            || up.contains("DELETEMANY({})")
            || up.contains(".REMOVE({})")
            || up.contains("DROPALLUSERS"))
}
