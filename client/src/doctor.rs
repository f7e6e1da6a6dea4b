//! `vigil doctor`: checks the installation and explains each problem with its fix.

use crate::args::{Args, UsageError};
use crate::install::{rc_files, BEGIN};
use crate::manage::paths;
use crate::show::count;
use std::io::IsTerminal;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use vigil::connection::{ClientError, Connection};
use vigil::protocol::{Request, Response};

/// Help for `vigil doctor`.
pub const DOCTOR_USAGE: &str = "\
Usage: vigil doctor

Checks the hooks in your shells' rc files and in this shell, the agent, versions, the socket
and file permissions, the database, your label file and the last retrain, and says how to fix
what is wrong. Exit code 1 if anything is. Run from a script (neither standard input nor
output a terminal), a hook missing in that process is a note, not a problem.
Example:
  vigil doctor
";

struct Report {
    problems: usize,
}

impl Report {
    fn ok(&self, what: &str) {
        println!("  ok    {what}");
    }
    fn warn(&mut self, what: &str, fix: &str) {
        self.problems += 1;
        println!("  FIX   {what}\n        -> {fix}");
    }
    fn note(&self, what: &str) {
        println!("  note  {what}");
    }
}

fn shell_installed(shell: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(shell).is_file()))
}

fn private(path: &Path, want: u32) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let me = rustix::process::geteuid().as_raw();
    let mode = meta.permissions().mode() & 0o777;
    if meta.uid() != me {
        return Some(format!("{} is owned by uid {}", path.display(), meta.uid()));
    }
    (mode & !want != 0).then(|| format!("{} is {mode:o}, want {want:o}", path.display()))
}

/// The problems of config.toml and VIGIL_* as they are now, checked by the agent's binary.
fn file_problems() -> Result<Vec<String>, String> {
    let out = std::process::Command::new(vigil::connection::agent_binary())
        .args(["config-check", "--json"])
        .output()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|_| String::from_utf8_lossy(&out.stderr).trim().to_string())?;
    Ok(v["problems"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["text"].as_str().map(str::to_string)).collect())
        .unwrap_or_default())
}

/// Whether doctor runs where a person types: a terminal on standard input or output. Run
/// from a script (neither), the hook's absence in the process is no problem.
fn interactive(stdin_is_terminal: bool, stdout_is_terminal: bool) -> bool {
    stdin_is_terminal || stdout_is_terminal
}

/// `vigil doctor`
pub fn doctor(args: Args) -> Result<ExitCode, UsageError> {
    args.finish()?;
    let mut r = Report { problems: 0 };
    let paths = match paths() {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };

    println!("hooks");
    for (shell, rc) in rc_files() {
        if !shell_installed(shell) {
            continue;
        }
        let text = std::fs::read_to_string(&rc).unwrap_or_default();
        if text.contains("vigil init") || text.contains(BEGIN) {
            r.ok(&format!("{shell}: {} loads the hook", rc.display()));
        } else {
            let line = if shell == "fish" {
                "vigil init fish | source".to_string()
            } else {
                format!("eval \"$(vigil init {shell})\"")
            };
            r.warn(
                &format!("{shell}: {} does not load the hook", rc.display()),
                &format!("run ./install.sh, or add `{line}` to it"),
            );
        }
    }
    if std::env::var_os("VIGIL_PROMPT_SEGMENT").is_some() {
        let how = std::env::var("VIGIL_HOOK").map(|h| format!(" ({h})")).unwrap_or_default();
        r.ok(&format!("the hook is loaded in this shell{how}"));
        match std::env::var("VIGIL_CHANNEL") {
            Ok(c) if c.starts_with("exec") => r.note(&format!(
                "channel: {c}: each command execs the client (forks; the fork-free channel opens again by itself)"
            )),
            Ok(c) => r.ok(&format!("channel: {c} (no fork per command)")),
            Err(_) => r.note("channel: not named (a hook from an older vigil: open a new shell)"),
        }
    } else if interactive(std::io::stdin().is_terminal(), std::io::stdout().is_terminal()) {
        r.warn("the hook is not loaded in this shell", "open a new shell (or source your rc file)");
    } else {
        // A script, cron or CI job has no hook and needs none: only a shell a person types
        // into does.
        r.note("the hook is not loaded in this process (run from a script, not a terminal: not a problem)");
    }
    if std::env::var("SHELL").is_ok_and(|s| s.ends_with("bash"))
        && !std::env::var("VIGIL_HOOK").is_ok_and(|h| h.starts_with("bash"))
    {
        r.note("bash: the hook uses bash-preexec's arrays when bash-preexec is loaded before it, its own DEBUG trap otherwise");
    }

    println!("agent");
    match Connection::connect(&paths, Duration::from_secs(1)).and_then(|mut c| c.ping()) {
        Ok(info) => {
            r.ok(&format!("vigild {} answers (pid {}, socket {})", info.version, info.pid, paths.socket.display()));
            if info.version != vigil::VERSION {
                r.warn(
                    &format!("the agent is {} and this vigil is {}", info.version, vigil::VERSION),
                    "vigil agent stop && vigil agent start",
                );
            } else {
                r.ok("agent and client versions match");
            }
        }
        Err(ClientError::NotRunning(_)) => {
            r.note("the agent is not running; it starts with your next command (or `vigil agent start`)")
        }
        Err(e) => r.warn(
            &format!("the agent does not answer: {e}"),
            "vigil agent stop && vigil agent start; see the log in the logs folder",
        ),
    }

    println!("files");
    if let Some(note) = &paths.runtime_note {
        r.warn(note, "remove the folder named (it is not yours, or the path is too long) or set XDG_RUNTIME_DIR; capture goes on meanwhile");
    }
    let quarantined = std::fs::read_dir(&paths.quarantine).map(|d| d.flatten().count()).unwrap_or(0);
    if quarantined > 0 {
        r.warn(
            &format!(
                "{} in {} could not be taken in",
                count(quarantined as u64, "spool file", "spool files"),
                paths.quarantine.display()
            ),
            "`vigil status` says why; move a file back into the spool folder to retry it, or delete it",
        );
    }
    match vigil::paths::check_private_dir(&paths.runtime_dir) {
        Ok(()) => r.ok(&format!("{} is private (0700, yours)", paths.runtime_dir.display())),
        Err(e) if paths.runtime_dir.exists() => {
            r.warn(&e.to_string(), &format!("chmod 700 {}", paths.runtime_dir.display()))
        }
        Err(_) => r.note(&format!("{} does not exist yet", paths.runtime_dir.display())),
    }
    if paths.socket.exists() {
        match private(&paths.socket, 0o600) {
            None => r.ok("the socket is 0600"),
            Some(p) => r.warn(&p, &format!("chmod 600 {}", paths.socket.display())),
        }
    }
    for f in [&paths.db, &paths.log_dir.join("vigild.log")] {
        if let Some(p) = private(f, 0o600) {
            r.warn(&p, &format!("chmod 600 {}", f.display()));
        }
    }
    // The label file is the person's own (their editor made it): a note, not a problem.
    if let Some(p) = private(&paths.labels, 0o600) {
        r.note(&format!("{p}: others on this machine can read your labels (chmod 600 to stop that)"));
    }

    let status = Connection::connect(&paths, Duration::from_secs(1)).and_then(|mut c| {
        c.set_timeout(Some(Duration::from_secs(10)))?;
        c.request(&Request::Status)
    });
    println!("configuration");
    let in_force = match &status {
        Ok(Response::Status(s)) => Some(s.config_problems.clone()),
        _ => None,
    };
    match file_problems() {
        Ok(problems) => {
            if problems.is_empty() {
                r.ok(&format!("{}: no problems", paths.config.display()));
            }
            for p in &problems {
                r.warn(
                    &crate::show::printable(p, usize::MAX),
                    "fix that line (`vigil config check` checks again); meanwhile the key takes its default",
                );
            }
            if problems.is_empty() && in_force.is_some_and(|p| !p.is_empty()) {
                r.warn(
                    "the agent started with problems in its configuration that are fixed now",
                    "vigil agent stop && vigil agent start",
                );
            }
        }
        Err(e) => {
            r.warn(&format!("cannot check {}: {e}", paths.config.display()), "reinstall: vigild should be beside vigil")
        }
    }

    println!("store, labels, model");
    match status {
        Ok(Response::Status(s)) => {
            r.ok(&format!("database {}: {}", s.database, count(s.events, "event", "events")));
            match &s.storage_error {
                None => r.ok("the store is writing"),
                Some(e) => r.warn(
                    &format!("the store is failing: {e}"),
                    "free disk space, or end the process that locks the database; events wait in the journal meanwhile",
                ),
            }
            for p in &s.problems {
                r.warn(
                    &format!("the agent set something aside: {p}"),
                    "see the log; vigil never deletes what it quarantines",
                );
            }
            if s.label_errors.is_empty() {
                r.ok(&format!("{}, no errors in {}", count(s.labels, "label", "labels"), paths.labels.display()));
            }
            for e in &s.label_errors {
                r.warn(
                    &format!("{}: line {}: {}", paths.labels.display(), e.line, e.error),
                    "edit that line (LABEL COMMAND, LABEL one of safe, unsafe, unknown)",
                );
            }
            match (s.model_version, &s.last_training) {
                (Some(v), Some(t)) if t.contains("not made current") || t.contains("failed") => r.warn(
                    &format!("model v{v} is current; last training: {t}"),
                    "check your recent labels; `vigil models`, `vigil train`",
                ),
                (Some(v), t) => r.ok(&format!(
                    "model v{v} is current{}",
                    t.as_ref().map(|t| format!("; last training: {t}")).unwrap_or_default()
                )),
                (None, _) => {
                    r.note("no model yet: the first one trains in the background (scores are rules-only meanwhile)")
                }
            }
        }
        Ok(other) => r.warn(&format!("unexpected reply {other:?}"), "vigil agent stop && vigil agent start"),
        Err(_) => r.note("store, labels and model are checked when the agent runs"),
    }

    if r.problems == 0 {
        println!("all good");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} to fix", count(r.problems as u64, "thing", "things"));
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_terminal_needs_the_hook() {
        assert!(super::interactive(true, true));
        assert!(super::interactive(true, false), "vigil doctor | less");
        assert!(super::interactive(false, true), "vigil doctor < /dev/null");
        assert!(!super::interactive(false, false), "a script, cron, CI");
    }
}
