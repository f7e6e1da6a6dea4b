//! End-to-end: everyday use. Importing bash, zsh and fish history files (deduplicated against
//! what is stored, live or imported), the review queue driven by keys in a pseudo-terminal,
//! `vigil stats`, and `vigil uninstall`.

mod common;

use common::{bin, have_shell, Env, Shell};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/history").join(name)
}

/// `vigil import SHELL --file FIXTURE --json`, parsed.
fn import(env: &Env, shell: &str, file: &Path) -> serde_json::Value {
    let out = env.cmd("vigil").args(["import", shell, "--json", "--file"]).arg(file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "no progress bar into a pipe: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn summary(v: &serde_json::Value) -> [u64; 4] {
    ["added", "duplicates", "ignored", "risky"].map(|k| v[k].as_u64().unwrap_or_else(|| panic!("{k} missing in {v}")))
}

/// Stored commands of one import session, oldest first, with start and duration.
fn stored(env: &Env, shell: &str) -> Vec<(String, i64, Option<i64>, String)> {
    let db = env.db();
    let mut stmt = db
        .prepare(
            "SELECT command, started_at, duration_ms, label FROM events WHERE session = ?1 ORDER BY started_at, id",
        )
        .unwrap();
    let rows =
        stmt.query_map([format!("import:{shell}")], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn imports_every_history_format_once() {
    let mut env = Env::new();
    env.start_agent();

    // zsh extended history: durations, a metafied byte, a continued line, a rule hit.
    let zsh = import(&env, "zsh", &fixture("zsh_history_extended"));
    assert_eq!(summary(&zsh), [6, 0, 0, 1], "{zsh}");
    let rows = stored(&env, "zsh");
    let commands: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        commands,
        ["ls", "make test", "echo price: €5", "printf 'one\ntwo'", "dd if=/dev/zero of=/dev/sda bs=1M", "ls"]
    );
    assert_eq!((rows[1].1, rows[1].2), (1_764_310_005_000, Some(2_000)));
    assert_eq!(rows[4].3, "unsafe");

    // bash without timestamps: the leading-space line is not recorded, the token is redacted,
    // the repeated command is kept twice, and `make test` is not taken for zsh's.
    let plain = import(&env, "bash", &fixture("bash_history_plain"));
    assert_eq!(summary(&plain), [8, 0, 1, 1], "{plain}");
    let all = env.count("SELECT COUNT(*) FROM events WHERE command = 'git status'");
    assert_eq!(all, 2);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM events WHERE command LIKE '%ghp_%' OR command LIKE '%secret typed%'"),
        0
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE command = 'export GITHUB_TOKEN=<redacted>'"), 1);

    // bash with timestamps: a lithist multi-line command is one command.
    let stamped = import(&env, "bash", &fixture("bash_history_timestamps"));
    assert_eq!(summary(&stamped), [5, 0, 0, 1], "{stamped}");
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE command = 'for f in *.log; do\n  gzip \"$f\"\ndone' AND started_at = 1764300120000"), 1);

    // fish: escapes undone.
    let fish = import(&env, "fish", &fixture("fish_history"));
    assert_eq!(summary(&fish), [4, 0, 0, 1], "{fish}");
    let commands: Vec<String> = stored(&env, "fish").into_iter().map(|r| r.0).collect();
    assert_eq!(commands, ["git status", "echo \"a\\b\"", "kubectl delete namespace production", "echo one\ntwo"]);

    // Every file again: nothing new.
    let total = env.count("SELECT COUNT(*) FROM events");
    for (shell, file) in [
        ("zsh", "zsh_history_extended"),
        ("bash", "bash_history_plain"),
        ("bash", "bash_history_timestamps"),
        ("fish", "fish_history"),
    ] {
        let again = import(&env, shell, &fixture(file));
        assert_eq!(again["added"], 0, "{shell} {file}: {again}");
    }
    assert_eq!(env.count("SELECT COUNT(*) FROM events"), total);

    // A longer file adds only what is new: two more lines, one of them a third `git status`.
    let grown = env.path("grown_history");
    let mut text = std::fs::read_to_string(fixture("bash_history_plain")).unwrap();
    text.push_str("git status\nmake lint\n");
    std::fs::write(&grown, text).unwrap();
    assert_eq!(summary(&import(&env, "bash", &grown)), [2, 8, 1, 0]);
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE command = 'git status'"), 4);

    // The human summary and `auto` with nothing to find.
    let home = tempfile::tempdir().unwrap();
    let out = env
        .cmd("vigil")
        .args(["import"])
        .env("HOME", home.path())
        .env_remove("ZDOTDIR")
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("found no history file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(fixture("zsh_history_extended"), home.path().join(".zsh_history")).unwrap();
    let out = env
        .cmd("vigil")
        .args(["import"])
        .env("HOME", home.path())
        .env_remove("ZDOTDIR")
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("zsh: 6 commands in") && text.contains("0 imported, 6 already stored"),
        "{text}"
    );
}

#[test]
fn import_shows_a_progress_bar_on_a_terminal() {
    let mut env = Env::new();
    env.start_agent();
    let history: String = (0..30_000).map(|i| format!(": {}:0;make test-{}\n", 1_700_000_000 + i, i % 700)).collect();
    std::fs::write(env.path("big_history"), history).unwrap();
    let mut cmd = std::process::Command::new(bin("vigil"));
    cmd.args(["import", "zsh", "--file"])
        .arg(env.path("big_history"))
        .env("VIGIL_HOME", env.home())
        .env("TERM", "xterm")
        .env_remove("XDG_RUNTIME_DIR");
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    p.exp_string("/30000").unwrap();
    p.exp_string("30000 imported, 0 already stored").unwrap();
    p.exp_eof().unwrap();
    let _ = env.vigil(&["agent", "stop"]);
}

#[test]
fn commands_recorded_live_are_not_imported_again() {
    if !have_shell("zsh") {
        return;
    }
    let env = Env::new();
    let mut sh = Shell::start(&env, "zsh", &[], "SAVEHIST=1000\nsetopt EXTENDED_HISTORY INC_APPEND_HISTORY");
    for line in ["echo one", "echo two", "echo one", "true"] {
        sh.run(line);
    }
    sh.exit();
    // Four commands and `exit` (the first one may come through the spool: the hook started
    // the agent).
    env.wait_until(120, "5 live events", || env.try_count("SELECT COUNT(*) FROM events") == Some(5));
    let result = import(&env, "zsh", &env.path("zsh_history"));
    assert_eq!(result["entries"], 5, "{result}");
    assert_eq!(result["duplicates"], 5, "{result}");
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE command = 'echo one'"), 2);
    let _ = env.vigil(&["agent", "stop"]);
}

/// The queue as `vigil review --list --json` prints it.
fn queue(env: &Env) -> Vec<serde_json::Value> {
    let out = env.vigil(&["review", "--list", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn review_asks_with_single_keys_and_appends_each_answer() {
    let mut env = Env::new();
    std::fs::write(
        env.path("config.toml"),
        "[model]\ntrees = 20\n[learn]\nretrain_delay_secs = 0\nretrain_min_interval_secs = 0\n",
    )
    .unwrap();
    env.start_agent();
    import(&env, "zsh", &fixture("zsh_history_extended"));
    import(&env, "bash", &fixture("bash_history_plain"));
    let items = queue(&env);
    let commands: Vec<&str> = items.iter().map(|i| i["command"].as_str().unwrap()).collect();
    // Hard-rule hits and multi-line commands are not asked about; the rest are.
    assert!(!commands.iter().any(|c| c.starts_with("dd ") || c.contains("| sh") || c.contains('\n')), "{commands:?}");
    assert!(commands.contains(&"make test") && commands.contains(&"git status"), "{commands:?}");
    // Most instructive first: uncertainty (in tenths) never rises down the list.
    let tenths: Vec<i64> = items.iter().map(|i| (i["uncertainty"].as_f64().unwrap() * 10.0).round() as i64).collect();
    assert!(tenths.windows(2).all(|w| w[0] >= w[1]), "{tenths:?}");
    assert!(items.iter().all(|i| i["p_unsafe"].is_f64() && i["reason"] == "model"), "{items:?}");

    // Keys in a pseudo-terminal: unsafe, an ignored arrow key, safe, skip, quit.
    let mut cmd = std::process::Command::new(bin("vigil"));
    cmd.arg("review").env("VIGIL_HOME", env.home()).env("TERM", "xterm").env_remove("XDG_RUNTIME_DIR");
    let mut p = rexpect::session::spawn_command(cmd, Some(120_000)).unwrap();
    p.exp_string(&format!("[1/{}]", items.len())).unwrap();
    p.exp_string("[s/u/k/q]").unwrap();
    p.send("u").unwrap();
    p.flush().unwrap();
    p.exp_string("unsafe").unwrap();
    p.exp_string("[2/").unwrap();
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.send("s").unwrap();
    p.flush().unwrap();
    p.exp_string("safe").unwrap();
    p.exp_string("[3/").unwrap();
    p.send(" ").unwrap();
    p.flush().unwrap();
    p.exp_string("skipped").unwrap();
    p.send("q").unwrap();
    p.flush().unwrap();
    p.exp_string("2 labelled (1 safe, 1 unsafe), 1 skipped").unwrap();
    p.exp_eof().unwrap();

    let labels = std::fs::read_to_string(env.path("labels.txt")).unwrap();
    assert_eq!(labels, format!("unsafe {}\nsafe {}\n", commands[0], commands[1]));
    // The watcher takes them in: they leave the queue, and a retrain follows.
    env.wait_until(120, "labels in force", || {
        let q = queue(&env);
        !q.iter().any(|i| i["command"] == commands[0] || i["command"] == commands[1])
    });
    env.wait_until(600, "model v2", || env.try_count("SELECT MAX(version) FROM models") == Some(2));
    let _ = env.vigil(&["agent", "stop"]);
}

#[test]
fn stats_counts_charts_and_lists() {
    let mut env = Env::new();
    env.start_agent();
    import(&env, "bash", &fixture("bash_history_plain"));
    import(&env, "fish", &fixture("fish_history"));
    std::fs::write(env.path("labels.txt"), "safe make test\nunsafe rm -rf ./build\nsafe ls -la\n").unwrap();
    env.wait_until(120, "labels synced", || env.try_count("SELECT COUNT(*) FROM labels") == Some(3));

    let out = env.vigil(&["stats", "--json", "--days", "7", "--top", "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["events"], 12);
    assert_eq!(s["distinct"], 10);
    assert_eq!(s["per_day"].as_array().unwrap().len(), 7);
    // The plain history is dated to the file's last change: today, in the copy made now.
    assert_eq!(s["frequent"][0], serde_json::json!(["git status", 3]));
    assert_eq!(s["frequent"].as_array().unwrap().len(), 3);
    let risky: Vec<&str> = s["riskiest"].as_array().unwrap().iter().map(|r| r[0].as_str().unwrap()).collect();
    assert!(
        risky.contains(&"kubectl delete namespace production")
            && risky.contains(&"curl -s https://example.com/install.sh | sh"),
        "{risky:?}"
    );
    assert_eq!(s["labels"], serde_json::json!([["safe", 2], ["unsafe", 1]]));
    let models = s["models"].as_array().unwrap();
    assert_eq!(models.len(), 1);
    assert!(models[0][2].as_f64().unwrap() > 0.5 && models[0][3] == true, "{models:?}");

    let out = env.cmd("vigil").arg("stats").env("NO_COLOR", "1").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("12 commands stored, 10 distinct"), "{text}");
    assert!(text.contains("Commands per day (last 14 days)") && text.contains("<- current"), "{text}");
    assert!(!text.contains('\x1b'), "no colour into a pipe: {text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let _ = env.vigil(&["agent", "stop"]);
}

#[test]
fn uninstall_removes_its_blocks_and_binaries_and_keeps_the_data() {
    let mut env = Env::new();
    env.start_agent();
    let home = tempfile::tempdir().unwrap();
    let bin_dir = home.path().join(".local/bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    for b in ["vigil", "vigild"] {
        std::fs::copy(bin(b), bin_dir.join(b)).unwrap();
    }
    let block = "# >>> vigil >>>\nif [ -x '/x/vigil' ]; then eval \"$('/x/vigil' init bash)\"; fi\n# <<< vigil <<<\n";
    let bashrc = home.path().join(".bashrc");
    std::fs::write(&bashrc, format!("alias ll='ls -l'\n{block}export EDITOR=vi\n")).unwrap();
    let fish = home.path().join(".config/fish/config.fish");
    std::fs::create_dir_all(fish.parent().unwrap()).unwrap();
    std::fs::write(&fish, format!("set -g fish_greeting ''\n{block}")).unwrap();
    let uninstall = |args: &[&str]| {
        std::process::Command::new(bin_dir.join("vigil"))
            .arg("uninstall")
            .args(args)
            .env("HOME", home.path())
            .env("VIGIL_HOME", env.home())
            .env_remove("ZDOTDIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .unwrap()
    };
    let out = uninstall(&[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "alias ll='ls -l'\nexport EDITOR=vi\n");
    assert_eq!(std::fs::read_to_string(&fish).unwrap(), "set -g fish_greeting ''\n");
    assert!(!bin_dir.join("vigil").exists() && !bin_dir.join("vigild").exists(), "{text}");
    assert!(text.contains("stopped the agent") && text.contains("kept your data"), "{text}");
    env.wait_until(120, "agent gone", || env.agent_pid().is_none());
    assert!(env.path("vigil.db").is_file(), "the data stays");

    // A lone start marker: uninstall names the line and leaves the file as it is.
    let zshrc = home.path().join(".zshrc");
    let lone = "setopt x\n# >>> vigil >>>\neval x\nmy own line\n";
    std::fs::write(&zshrc, lone).unwrap();
    let out = env
        .cmd("vigil")
        .args(["uninstall", "--keep-binaries"])
        .env("HOME", home.path())
        .env_remove("ZDOTDIR")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&zshrc).unwrap(), lone);
    std::fs::remove_file(&zshrc).unwrap();

    // --purge, from a build folder: vigil's data goes, the build and what is not vigil's stay.
    std::fs::write(env.path("notes.txt"), "mine").unwrap();
    let out = env.cmd("vigil").args(["uninstall", "--purge"]).env("HOME", home.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("it is a build, not an installation"), "{text}");
    assert!(bin("vigil").is_file());
    assert!(!env.path("vigil.db").exists() && !env.path("logs").exists() && !env.path("journal").exists(), "{text}");
    assert_eq!(std::fs::read_to_string(env.path("notes.txt")).unwrap(), "mine", "a file vigil did not make is kept");
}

/// Temporary export files left in the runtime folder (the vigil home, in the tests).
fn runtime_leftovers(env: &Env) -> Vec<String> {
    let names = std::fs::read_dir(env.home()).into_iter().flatten().flatten();
    names.map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("export-")).collect()
}

#[test]
fn export_to_standard_output() {
    use std::os::unix::process::ExitStatusExt;
    let mut env = Env::new();
    env.start_agent();
    assert_eq!(import(&env, "bash", &fixture("bash_history_plain"))["added"], 8);

    let out = env.vigil(&["export", "--csv", "-"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("id,session,shell,command,"), "the CSV itself, no message: {text}");
    assert_eq!(text.lines().filter(|l| l.contains(",git status,")).count(), 2, "{text}");
    assert!(!env.home().join("-").exists(), "no file named -");
    assert!(!std::env::current_dir().unwrap().join("-").exists(), "no file named - in the folder vigil ran in either");
    assert_eq!(runtime_leftovers(&env), Vec::<String>::new());

    // A reader that is gone before the first byte: no error message, nothing left behind.
    let mut child = env
        .cmd("vigil")
        .args(["export", "--csv", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() || out.status.signal() == Some(libc::SIGPIPE), "{:?}", out.status);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(runtime_leftovers(&env), Vec::<String>::new());

    // A path is still a file, and the summary counts right.
    let out = env.cmd("vigil").args(["export", "--csv", "out.csv"]).current_dir(env.home()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("wrote 8 events to "), "{out:?}");
    assert_eq!(std::fs::read_to_string(env.path("out.csv")).unwrap(), text);
}
