//! Shared harness of the end-to-end tests: a temporary vigil home, the real binaries, real
//! interactive shells in a pseudo-terminal, and read-back from the agent and the SQLite file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The folder holding the `vigil` and `vigild` executables, built if needed.
///
/// `cargo test` builds test harnesses, not the executables of the other packages, so the
/// first test to need them builds them (once per test binary, up to date, same profile).
/// `VIGIL_TEST_BINS=DIR` runs the tests against the binaries in DIR instead: CI points it at
/// `./install.sh --build-only`'s folder, the binaries exactly as they are installed.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VIGIL_TEST_BINS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    ensure_built();
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/capture-xxxx -> target/debug
    exe.parent().and_then(Path::parent).expect("target folder").to_path_buf()
}

fn ensure_built() {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        // The same profile as this test binary: `cargo test --release` tests release builds.
        let profile: &[&str] = if cfg!(debug_assertions) { &[] } else { &["--release"] };
        let out = Command::new(env!("CARGO"))
            .args(["build", "--bins", "-p", "vigil", "-p", "vigil-agent"])
            .args(profile)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    if let Err(e) = built {
        panic!("building vigil and vigild failed:\n{e}");
    }
}

/// Path of a built binary.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(p.is_file(), "{} is missing after cargo build", p.display());
    p
}

/// Whether `shell` can be run; with VIGIL_REQUIRE_SHELLS=1 a missing shell fails the test.
pub fn have_shell(shell: &str) -> bool {
    let found = Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("VIGIL_REQUIRE_SHELLS").is_ok_and(|v| v == "1") {
            panic!("{shell} is not installed and VIGIL_REQUIRE_SHELLS=1");
        }
        eprintln!("SKIPPED: {shell} is not installed (set VIGIL_REQUIRE_SHELLS=1 to make this a failure)");
    }
    found
}

/// A temporary vigil home; stops any agent running for it when dropped.
pub struct Env {
    pub dir: tempfile::TempDir,
    agents: Vec<Child>,
}

impl Env {
    pub fn new() -> Env {
        // Short paths: a Unix socket path must fit in 108 bytes.
        let dir = tempfile::Builder::new().prefix("vg").tempdir_in("/tmp").expect("temp dir");
        // vigil refuses a socket folder open to others, as it should.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
        // Every agent trains model v1 at its first start; a small forest keeps the many
        // short-lived test agents from competing with the shells for the CPU.
        std::fs::write(dir.path().join("config.toml"), "[model]\ntrees = 20\n").expect("config.toml");
        Env { dir, agents: Vec::new() }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home().join(name)
    }

    /// A command for one of our binaries with this home.
    pub fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        c.env("VIGIL_HOME", self.home()).env_remove("VIGIL_WARN").env_remove("XDG_RUNTIME_DIR");
        c
    }

    /// Runs `vigil ARGS` and returns its output.
    pub fn vigil(&self, args: &[&str]) -> Output {
        self.cmd("vigil").args(args).output().expect("run vigil")
    }

    /// Starts `vigild` in the foreground as a child of the test, and waits until it answers.
    pub fn start_agent(&mut self) {
        let child = self
            .cmd("vigild")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn vigild");
        self.agents.push(child);
        self.wait_agent_up();
    }

    pub fn wait_agent_up(&self) {
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            let out = self.vigil(&["agent", "status"]);
            if out.status.success() {
                return;
            }
            assert!(Instant::now() < until, "agent did not come up: {}", String::from_utf8_lossy(&out.stdout));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pid in the lock file, if that agent is alive.
    pub fn agent_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.path("vigild.lock")).ok()?;
        let pid: i32 = text.trim().parse().ok()?;
        // SAFETY: signal 0 only probes.
        (unsafe { libc::kill(pid, 0) } == 0).then_some(pid)
    }

    /// Sends `signal` to the agent (SIGSTOP, SIGCONT), without waiting for anything.
    pub fn signal_agent(&self, signal: i32) {
        let pid = self.agent_pid().expect("an agent runs");
        // SAFETY: sending a signal.
        unsafe { libc::kill(pid, signal) };
    }

    /// Kills the agent with `signal` and waits for it to be gone.
    pub fn kill_agent(&mut self, signal: i32) {
        if let Some(pid) = self.agent_pid() {
            // SAFETY: sending a signal.
            unsafe { libc::kill(pid, signal) };
        }
        let until = Instant::now() + Duration::from_secs(15);
        for c in &mut self.agents {
            let _ = c.wait();
        }
        self.agents.clear();
        while let Some(pid) = self.agent_pid() {
            assert!(Instant::now() < until, "agent {pid} did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Events as `vigil recent --json` prints them, oldest first.
    pub fn recent(&self, n: usize) -> Vec<serde_json::Value> {
        let out = self.vigil(&["recent", "-n", &n.to_string(), "--json"]);
        assert!(out.status.success(), "vigil recent failed: {}", String::from_utf8_lossy(&out.stderr));
        let mut events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect();
        events.reverse();
        events
    }

    /// Opens the SQLite file read-only.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(self.path("vigil.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open db")
    }

    /// Counts rows of `sql` (a `SELECT COUNT(*) ...`).
    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    /// What is in the home and its logs, for failure messages.
    pub fn diagnostics(&self) -> String {
        let mut s = String::from("files:");
        for e in walk(self.home()) {
            s.push_str(&format!("\n  {}", e.display()));
        }
        for log in ["logs/client.log", "logs/vigild.stderr", "logs/vigild.log"] {
            if let Ok(text) = std::fs::read_to_string(self.path(log)) {
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                s.push_str(&format!("\n--- {log} (last lines, newest first):\n{}", tail.join("\n")));
            }
        }
        s
    }

    /// Like [`Env::count`], but `None` while the database or its tables do not exist yet.
    pub fn try_count(&self, sql: &str) -> Option<i64> {
        let db =
            rusqlite::Connection::open_with_flags(self.path("vigil.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        db.query_row(sql, [], |r| r.get(0)).ok()
    }

    /// Waits until the agent's log says `any` of these; the log writer is non-blocking, so on a
    /// busy machine a line lands a moment after the event it tells of.
    pub fn wait_log(&self, any: &[&str], what: &str) {
        let log = self.path("logs/vigild.log");
        self.wait_until(120, what, || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            any.iter().any(|s| text.contains(s))
        });
    }

    /// Polls `f` every 25 ms until it holds, failing with diagnostics after `secs`.
    pub fn wait_until(&self, secs: u64, what: &str, mut f: impl FnMut() -> bool) {
        let until = Instant::now() + Duration::from_secs(secs);
        while !f() {
            if Instant::now() >= until {
                panic!("timed out waiting for {what}\n{}", self.diagnostics());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(pid) = self.agent_pid() {
            // SAFETY: sending a signal.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        for c in &mut self.agents {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The prompt the test shells show, so that the harness knows a command has finished.
pub const PROMPT: &str = "VT$ ";

/// A real interactive shell in a pseudo-terminal with the vigil hook loaded from its rc file.
pub struct Shell {
    pub session: rexpect::session::PtySession,
    pub name: String,
}

impl Shell {
    /// Starts `shell` (bash, zsh or fish) with an rc file that sets the test prompt, then
    /// loads the hook as a person would. `extra_rc` goes before the hook.
    pub fn start(env: &Env, shell: &str, extra_env: &[(&str, &str)], extra_rc: &str) -> Shell {
        let home = env.home();
        let vigil = bin("vigil");
        let mut cmd;
        match shell {
            "bash" => {
                let rc = home.join("bashrc");
                std::fs::write(
                    &rc,
                    format!(
                        "PS1='{PROMPT}'\nPS2=''\nHISTFILE={h}/bash_history\n{extra_rc}\neval \"$('{v}' init bash)\"\n",
                        h = home.display(),
                        v = vigil.display()
                    ),
                )
                .unwrap();
                cmd = Command::new("bash");
                cmd.arg("--noprofile").arg("--rcfile").arg(&rc).arg("-i");
            }
            "zsh" => {
                std::fs::write(
                    home.join(".zshrc"),
                    format!(
                        "PROMPT='{PROMPT}'\nPS2=''\nHISTFILE={h}/zsh_history\n{extra_rc}\neval \"$('{v}' init zsh)\"\n",
                        h = home.display(),
                        v = vigil.display()
                    ),
                )
                .unwrap();
                cmd = Command::new("zsh");
                // -d: no global rc files, only $ZDOTDIR/.zshrc, as a clean user would have.
                cmd.arg("-d").arg("-i").env("ZDOTDIR", home);
            }
            "fish" => {
                let conf = home.join("config/fish");
                std::fs::create_dir_all(&conf).unwrap();
                std::fs::write(
                    conf.join("config.fish"),
                    format!(
                        "set -g fish_greeting ''\nfunction fish_prompt; printf '%s' '{PROMPT}'; end\n{extra_rc}\n'{v}' init fish | source\n",
                        v = vigil.display()
                    ),
                )
                .unwrap();
                // A fresh fish generates completions from every manual page with a python3 in
                // the background; the folder's presence tells it they exist (on a busy machine
                // that job outlived the test's shell).
                std::fs::create_dir_all(home.join("data/fish/generated_completions")).unwrap();
                cmd = Command::new("fish");
                cmd.arg("-i").env("XDG_CONFIG_HOME", home.join("config")).env("XDG_DATA_HOME", home.join("data"));
            }
            other => panic!("unknown shell {other}"),
        }
        cmd.env("VIGIL_HOME", home)
            .env("TERM", "xterm")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("VIGIL_PROMPT")
            .env_remove("VIGIL_WARN");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        // A shell started from a terminal has SIGHUP at its default; a test run under nohup
        // (or a CI runner) would hand its shells an ignored one, which fish keeps.
        // SAFETY: signal() is async-signal-safe, as what runs between fork and exec must be.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                libc::signal(libc::SIGHUP, libc::SIG_DFL);
                Ok(())
            });
        }
        let session = rexpect::session::spawn_command(cmd, Some(120_000)).expect("spawn shell");
        let mut sh = Shell { session, name: shell.to_string() };
        sh.session.exp_string(PROMPT).unwrap_or_else(|e| panic!("{shell} never showed its prompt: {e}"));
        sh
    }

    /// Types `line` (may hold newlines), waits for the next prompt, returns what came before.
    pub fn run(&mut self, line: &str) -> String {
        self.session.send_line(line).expect("send");
        self.session.exp_string(PROMPT).unwrap_or_else(|e| panic!("{}: no prompt after {line:?}: {e}", self.name))
    }

    /// Ends the shell: `exit`, then, if it is still there after a minute (a shell that refuses
    /// to leave, say with jobs running), it is killed. Never waits forever.
    pub fn exit(mut self) {
        let _ = self.session.send_line("exit");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if !matches!(self.session.process.status(), Some(rexpect::process::wait::WaitStatus::StillAlive)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.session.process.exit();
        panic!("{} did not exit within a minute of `exit`", self.name);
    }
}
