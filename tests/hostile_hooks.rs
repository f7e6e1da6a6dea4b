//! End-to-end, as an attacker and as a person with strict shell options would meet the hooks:
//! the command line never appears in any process's argv (`/proc/PID/cmdline` is readable by
//! every local user; bash, with and without its scratch folder, zsh and fish), and the hooks survive `set -u` / `set -e` (and zsh's
//! nounset / errexit).

mod common;

use common::{have_shell, Env, Shell};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A stand-in for the client at the path the hook execs: logs its own argv (one line per run,
/// arguments NUL-separated), then execs the real client.
fn argv_logging_wrapper(env: &Env) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = env.path("argv.log");
    let wrapper = env.path("vigil-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" >> '{}'\necho >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            log.display(),
            common::bin("vigil").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(&log, "").unwrap();
    (wrapper, log)
}

/// The hook as `vigil init` prints it, but execing `wrapper`. Loaded from the rc file before
/// the harness's own `vigil init` line, whose hook then sees itself loaded and does nothing.
fn hook_with_bin(env: &Env, shell: &str, wrapper: &Path) -> PathBuf {
    let out = env.vigil(&["init", shell]);
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    let real = common::bin("vigil");
    let mut swapped = script.clone();
    for p in [real.clone(), real.canonicalize().unwrap()] {
        swapped = swapped.replace(&format!("'{}'", p.display()), &format!("'{}'", wrapper.display()));
    }
    assert_ne!(swapped, script, "{shell}: the client's path is not in the hook script");
    let file = env.path(&format!("hook.{shell}"));
    std::fs::write(&file, swapped).unwrap();
    file
}

/// Reads every process's argv, over and over, as any local user may: the attack itself.
struct ProcSpy {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl ProcSpy {
    fn start(markers: Vec<String>) -> ProcSpy {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, hits) = (stop.clone(), seen.clone());
        let me = std::process::id().to_string();
        let thread = std::thread::spawn(move || {
            let mut scans = 0u64;
            while !s.load(Ordering::Relaxed) {
                for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
                        continue;
                    }
                    let Ok(argv) = std::fs::read(e.path().join("cmdline")) else { continue };
                    let argv = String::from_utf8_lossy(&argv).replace('\0', " ");
                    if markers.iter().any(|m| argv.contains(m.as_str())) {
                        hits.lock().unwrap().push(format!("pid {name}: {argv}"));
                    }
                }
                scans += 1;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            scans
        });
        ProcSpy { stop, seen, thread: Some(thread) }
    }

    /// Stops and returns (scans made, argv lines that held a marker).
    fn finish(mut self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let scans = self.thread.take().unwrap().join().unwrap();
        let seen = self.seen.lock().unwrap().clone();
        (scans, seen)
    }
}

/// 20 distinct commands, each with its own marker, in the forms people type: builtins only,
/// so that no command of the person's own puts its words in an argv (`cat` gets none).
fn marked_commands(shell: &str) -> Vec<(String, String)> {
    let tag = format!("{:x}", vigil_now_nanos() & 0xffff_ffff);
    (0..20)
        .map(|i| {
            let m = format!("zq{tag}mk{i:02}");
            let cmd = match i % 5 {
                0 => format!("echo {m}"),
                1 => format!("true {m} --flag=x"),
                2 => format!("echo '{m} quoted' | cat"),
                3 if shell == "fish" => format!("set -l v {m}; echo $v"),
                3 => format!("v={m}; echo \"$v\""),
                _ => format!(": {m} && echo done-{i}"),
            };
            (m, cmd)
        })
        .collect()
}

fn vigil_now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

/// Runs the marked commands through `shell` with the wrapper in place of the client, and
/// checks that no marker reached any argv while every command was still recorded. Returns
/// the wrapper's log, for the caller to check which path the hook took.
fn no_command_line_in_argv(shell: &str, extra_env: &[(&str, &str)], extra_rc: &str, post_rc: &str) -> String {
    no_command_line_in_argv_with(Env::new(), shell, extra_env, extra_rc, post_rc)
}

fn no_command_line_in_argv_with(
    env: Env,
    shell: &str,
    extra_env: &[(&str, &str)],
    extra_rc: &str,
    post_rc: &str,
) -> String {
    let (wrapper, log) = argv_logging_wrapper(&env);
    let hook = hook_with_bin(&env, shell, &wrapper);
    let rc = format!("{extra_rc}\nsource '{}'\n{post_rc}", hook.display());
    let mut env_vars = vec![("VIGIL_HOOK_TIMEOUT_MS", "1000")];
    env_vars.extend_from_slice(extra_env);
    let mut sh = Shell::start(&env, shell, &env_vars, &rc);
    let commands = marked_commands(shell);
    let spy = ProcSpy::start(commands.iter().map(|(m, _)| m.clone()).collect());
    for (_, c) in &commands {
        sh.run(c);
    }
    // bash under ignoreboth takes no new history entry for a repeat: the hook hands over the
    // text the entry must equal, which must not travel in argv either.
    let repeat = &commands[19].1;
    sh.run(repeat);
    let (scans, spied) = spy.finish();
    let logged = std::fs::read_to_string(&log).unwrap();
    for (m, c) in &commands {
        assert!(
            !logged.contains(m.as_str()),
            "{shell}: {c:?} reached the client's argv:\n{}",
            logged.replace('\0', " ")
        );
    }
    assert!(spied.is_empty(), "{shell}: a command line was read from /proc/PID/cmdline: {spied:?}");
    assert!(scans > 10, "{shell}: the /proc reader barely ran ({scans} scans)");
    // And the commands were still recorded, whole.
    let want = commands.len() + 1;
    env.wait_until(120, "the marked commands", || env.try_count("SELECT COUNT(*) FROM events") >= Some(want as i64));
    let recorded: Vec<String> = env.recent(100).iter().map(|e| e["command"].as_str().unwrap().to_string()).collect();
    for (_, c) in &commands {
        assert!(recorded.contains(c), "{shell}: {c:?} was not recorded: {recorded:?}");
    }
    assert_eq!(
        recorded.iter().filter(|c| *c == repeat).count(),
        2,
        "{shell}: the repeat was not recorded: {recorded:?}"
    );
    sh.exit();
    logged
}

/// How many times the hook exec'd the client for a command (`hook start` and `hook end`).
fn exec_calls(logged: &str) -> usize {
    logged.lines().filter(|l| l.starts_with("hook\0start\0") || l.starts_with("hook\0end\0")).count()
}

/// The exec'd path, which every channel falls back to.
const EXEC: (&str, &str) = ("VIGIL_HOOK_CHANNEL", "exec");

#[test]
fn zsh_passes_no_command_line_in_argv() {
    if have_shell("zsh") {
        let logged = no_command_line_in_argv("zsh", &[EXEC], "", "");
        assert!(exec_calls(&logged) >= 42, "the wrapper was not used by the hook:\n{logged}");
    }
}

#[test]
fn zsh_and_bash_exec_nothing_per_command_on_their_channel() {
    // The same 21 commands, recorded whole, and not one exec of the client for them: zsh
    // speaks to the agent's socket (its relay, started with the shell, stands by), bash to
    // the one relay it started with the shell. (The
    // agent may be started on demand by the first command: that start goes through the
    // exec'd client once: a zsh may exec at most one command's two calls.)
    for shell in ["bash", "zsh"] {
        if !have_shell(shell) {
            continue;
        }
        // The agent runs already, as it does for every shell but the first after a boot.
        let mut env = Env::new();
        env.start_agent();
        let logged = no_command_line_in_argv_with(env, shell, &[], "", "");
        let shown = logged.replace('\0', " ");
        assert!(exec_calls(&logged) <= 2, "{shell}: the hook exec'd the client per command:\n{shown}");
        let relays = logged.lines().filter(|l| l.starts_with("hook\0relay")).count();
        assert_eq!(relays, 1, "{shell}: relays started:\n{shown}");
    }
}

#[test]
fn bash_passes_no_command_line_in_argv() {
    let logged = no_command_line_in_argv("bash", &[EXEC], "", "");
    assert!(exec_calls(&logged) >= 42, "the wrapper was not used by the hook:\n{logged}");
    assert!(logged.contains("--history-file"), "bash took its scratch file:\n{}", logged.replace('\0', " "));
}

#[test]
fn bash_without_its_scratch_folder_passes_no_command_line_in_argv() {
    // VIGIL_SCRATCH=0: no private in-memory folder, so the entry travels on a pipe.
    let logged = no_command_line_in_argv("bash", &[EXEC, ("VIGIL_SCRATCH", "0")], "", "");
    assert!(
        !logged.contains("--history-file"),
        "bash used a scratch file although told not to:\n{}",
        logged.replace('\0', " ")
    );
}

#[test]
fn fish_passes_no_command_line_in_argv() {
    if have_shell("fish") {
        no_command_line_in_argv("fish", &[], "", "");
    }
}

/// Error texts the shells print for a hook broken by the person's options.
const ERRORS: &[&str] =
    &["unbound variable", "parameter not set", "command not found", "bad substitution", "vigil:", "__vigil", "error"];

/// Runs a short session under strict options (`rc` before the hook, `after` typed once it is
/// loaded): nothing but the commands' own output on the terminal, `$?` as the person's
/// command left it, the shell alive, every command recorded.
fn strict_session(shell: &str, rc: &str, after: &str) {
    let env = Env::new();
    let mut sh = Shell::start(&env, shell, &[], rc);
    let mut typed = Vec::new();
    let mut out = String::new();
    if !after.is_empty() {
        out += &sh.run(after);
        typed.push(after.to_string());
    }
    // An && list is exempt from errexit: the status is 1 and the shell lives on.
    let lines = ["echo one", "false && true", "echo \"st=$?\"", "echo two | cat", "echo \"alive-$((6 * 7))\""];
    for l in lines {
        out += &sh.run(l);
        typed.push(l.to_string());
    }
    for bad in ERRORS {
        assert!(!out.contains(bad), "{shell} with {rc:?} / {after:?}: {bad:?} on the terminal:\n{out}");
    }
    assert!(out.contains("st=1"), "{shell} with {rc:?} / {after:?}: $? was not preserved:\n{out}");
    assert!(out.contains("alive-42"), "{shell} with {rc:?} / {after:?}: the shell died:\n{out}");
    env.wait_until(120, "events", || env.try_count("SELECT COUNT(*) FROM events") >= Some(typed.len() as i64));
    let recorded: Vec<String> = env.recent(50).iter().map(|e| e["command"].as_str().unwrap().to_string()).collect();
    assert_eq!(recorded, typed, "{shell} with {rc:?} / {after:?}");
    sh.exit();
}

#[test]
fn bash_under_set_u_and_set_e() {
    if !have_shell("bash") {
        return;
    }
    strict_session("bash", "set -u", "");
    strict_session("bash", "", "set -u");
    strict_session("bash", "set -e", "");
    strict_session("bash", "set -eu\nHISTCONTROL=ignoreboth", "");
    // An unset PROMPT_COMMAND under set -u was the reviewer's case.
    strict_session("bash", "unset PROMPT_COMMAND HISTCONTROL HISTIGNORE\nset -u", "");
    strict_session("bash", "set -e\nset -o pipefail", "");
}

#[test]
fn bash_under_set_e_when_the_client_fails() {
    if !have_shell("bash") {
        return;
    }
    // No agent can start and there is nowhere to spool (the home is under a file): every
    // hook call exits non-zero. The shell must not.
    let env = Env::new();
    let mut sh = Shell::start(
        &env,
        "bash",
        &[("VIGIL_AGENT_BIN", "/nonexistent")],
        "set -eu\nexport VIGIL_HOME=/dev/null/vigil",
    );
    let out =
        sh.run("echo one") + &sh.run("false && true") + &sh.run("echo \"st=$?\"") + &sh.run("echo alive-$((6 * 7))");
    assert!(out.contains("st=1") && out.contains("alive-42"), "{out}");
    for bad in ERRORS {
        assert!(!out.contains(bad), "{bad:?} on the terminal:\n{out}");
    }
    sh.exit();
}

#[test]
fn zsh_under_nounset_and_errexit() {
    if !have_shell("zsh") {
        return;
    }
    strict_session("zsh", "setopt nounset", "");
    strict_session("zsh", "setopt errexit", "");
    strict_session("zsh", "setopt nounset errexit pipefail", "");
    strict_session("zsh", "", "setopt nounset errexit");
}
