//! End-to-end: the installer wires vigil into every shell idempotently and removes exactly
//! its own block; the shell scripts are shellcheck-clean.

mod common;

use common::{bin_dir, have_shell, Env};
use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn shell_scripts_are_shellcheck_clean() {
    if Command::new("shellcheck").arg("--version").output().is_err() {
        if std::env::var("VIGIL_REQUIRE_SHELLS").is_ok_and(|v| v == "1") {
            panic!("shellcheck is not installed and VIGIL_REQUIRE_SHELLS=1");
        }
        eprintln!("SKIPPED: shellcheck is not installed");
        return;
    }
    for script in ["shell-hooks/vigil.bash", "install.sh", ".ci/run"] {
        let out = Command::new("shellcheck").arg("-s").arg("bash").arg(repo().join(script)).output().unwrap();
        assert!(out.status.success(), "{script}:\n{}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn installer_is_idempotent_and_uninstall_removes_only_its_block() {
    if !have_shell("bash") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let bashrc = home.path().join(".bashrc");
    std::fs::write(&bashrc, "# my own settings\nalias ll='ls -l'\n").unwrap();
    let install = |extra: &[&str]| {
        let out = Command::new("bash")
            .arg(repo().join("install.sh"))
            .args(["--from", bin_dir().to_str().unwrap(), "--bin-dir"])
            .arg(home.path().join("bin dir"))
            .args(extra)
            .env("HOME", home.path())
            .env_remove("ZDOTDIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env("VIGIL_HOME", home.path().join("vh"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    install(&[]);
    let once = std::fs::read_to_string(&bashrc).unwrap();
    assert!(once.starts_with("# my own settings\nalias ll='ls -l'\n# >>> vigil >>>\n"), "{once}");
    assert!(home.path().join("bin dir/vigil").is_file() && home.path().join("bin dir/vigild").is_file());
    let again = install(&[]);
    assert!(again.contains("already set up"), "{again}");
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), once, "a second run changes nothing");
    // A new interactive bash loads the hook from the block.
    let out = Command::new("bash").arg("-ic").arg("type -t __vigil_precmd").env("HOME", home.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "function");
    install(&["--uninstall"]);
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "# my own settings\nalias ll='ls -l'\n");
    assert!(!home.path().join("bin dir/vigil").exists());
}

#[test]
fn doctor_finds_missing_hooks_and_label_errors() {
    let env = common::Env::new();
    let home = tempfile::tempdir().unwrap();
    let doctor = || {
        env.cmd("vigil")
            .arg("doctor")
            .env("HOME", home.path())
            .env_remove("VIGIL_PROMPT_SEGMENT")
            .env_remove("ZDOTDIR")
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap()
    };
    let out = doctor();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("does not load the hook"), "{text}");
    assert!(text.contains("note  the hook is not loaded in this process"), "from a script, a note: {text}");
    // After install.sh the rc files load it; a label-file error is named with its line.
    let installed = Command::new("bash")
        .arg(repo().join("install.sh"))
        .args(["--from", bin_dir().to_str().unwrap(), "--bin-dir"])
        .arg(home.path().join("bin"))
        .env("HOME", home.path())
        .env_remove("ZDOTDIR")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert!(installed.status.success());
    std::fs::write(env.path("labels.txt"), "safe ls\nperhaps rm x\n").unwrap();
    assert!(env.vigil(&["agent", "start"]).status.success());
    let out = doctor();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains("does not load the hook") && text.contains("loads the hook"), "{text}");
    assert!(text.contains("line 2: unknown label \"perhaps\""), "{text}");
    assert!(text.contains("agent and client versions match"), "{text}");
    let _ = env.vigil(&["agent", "stop"]);
}

#[test]
fn doctor_minds_the_hook_of_this_shell_only_on_a_terminal() {
    let env = Env::new();
    let home = tempfile::tempdir().unwrap();
    // Every rc file loads the hook (doctor looks for the line), no agent runs: nothing else to fix.
    for (rc, line) in [
        (".bashrc", "eval \"$(vigil init bash)\"\n"),
        (".zshrc", "eval \"$(vigil init zsh)\"\n"),
        (".config/fish/config.fish", "vigil init fish | source\n"),
    ] {
        let path = home.path().join(rc);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, line).unwrap();
    }
    let doctor = || {
        let mut c = Command::new(common::bin("vigil"));
        c.arg("doctor")
            .env("VIGIL_HOME", env.home())
            .env("HOME", home.path())
            .env("TERM", "dumb")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("VIGIL_PROMPT_SEGMENT")
            .env_remove("VIGIL_HOOK")
            .env_remove("ZDOTDIR")
            .env_remove("XDG_CONFIG_HOME");
        c
    };

    // From a script: a note, and the exit status says all is well.
    let out = doctor().output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("note  the hook is not loaded in this process") && text.contains("all good"), "{text}");
    assert!(!text.contains("FIX"), "{text}");

    // On a terminal, from a shell without the hook: a problem.
    let mut p = rexpect::session::spawn_command(doctor(), Some(30_000)).unwrap();
    let shown = p.exp_eof().unwrap();
    let status = format!("{:?}", p.process.wait());
    assert!(
        shown.contains("FIX   the hook is not loaded in this shell") && shown.contains("1 thing to fix"),
        "{shown}"
    );
    assert!(status.contains("Exited") && status.ends_with(", 1))"), "{status}: {shown}");
    assert!(env.agent_pid().is_none(), "doctor starts no agent");
}

#[test]
fn completion_scripts_load_in_their_shells() {
    let vigil = common::bin("vigil");
    let script = |shell: &str| {
        let out = Command::new(&vigil).args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    if have_shell("bash") {
        // Sourced in a real bash: registered, and it completes commands, options and values.
        let check = format!(
            "source <('{v}' completions bash) && complete -p vigil && \
             COMP_WORDS=(vigil re); COMP_CWORD=1; _vigil; echo \"1:${{COMPREPLY[*]}}\"; \
             COMP_WORDS=(vigil export --c); COMP_CWORD=2; _vigil; echo \"2:${{COMPREPLY[*]}}\"; \
             COMP_WORDS=(vigil search --label u); COMP_CWORD=3; _vigil; echo \"3:${{COMPREPLY[*]}}\"; \
             COMP_WORDS=(vigil completions ''); COMP_CWORD=2; _vigil; echo \"4:${{COMPREPLY[*]}}\"",
            v = vigil.display()
        );
        let out = Command::new("bash").arg("--norc").arg("-c").arg(&check).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        for line in ["-F _vigil vigil", "1:recent review", "2:--csv", "3:unsafe unknown", "4:bash zsh fish"] {
            assert!(text.contains(line), "{line:?} missing:\n{text}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [("zsh", &["-n"][..]), ("fish", &["--no-execute"][..])] {
        if !have_shell(shell) {
            continue;
        }
        let text = script(shell);
        assert!(text.contains("completions") && text.contains("keep-binaries"), "{shell}: {text}");
        let file = dir.path().join(shell);
        std::fs::write(&file, &text).unwrap();
        let out = Command::new(shell).args(check).arg(&file).output().unwrap();
        assert!(out.status.success(), "{shell} {check:?}: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    }
    if have_shell("fish") {
        // fish completes from the script as it is loaded.
        let check = format!("'{}' completions fish | source; complete -C 'vigil recent --shell '", vigil.display());
        let out = Command::new("fish").arg("--no-config").arg("-c").arg(&check).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(text.split_whitespace().collect::<Vec<_>>(), ["bash", "fish", "zsh"], "{text}");
    }
    let out = Command::new(&vigil).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_says_where_each_value_came_from() {
    let env = common::Env::new();
    std::fs::write(env.path("config.toml"), "[model]\ntrees = 20\n[score]\nwarn_at = 0.9\n").unwrap();
    let out = env.cmd("vigil").args(["config", "--json"]).env("VIGIL_LOG", "debug").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let find = |k: &str| rows.iter().find(|r| r["key"] == k).unwrap_or_else(|| panic!("{k} missing")).clone();
    assert_eq!(find("score.warn_at")["value"], "0.9");
    assert!(find("score.warn_at")["source"].as_str().unwrap().ends_with("config.toml"));
    assert_eq!(find("agent.log_level")["source"], "environment");
    assert_eq!(find("capture.batch_max_events")["source"], "default");
    let _ = env.vigil(&["agent", "stop"]);
}

#[test]
fn label_creates_private_folders() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    // No VIGIL_HOME: the label file goes to the XDG config folder, which does not exist yet.
    let home = env.path("person");
    std::fs::create_dir(&home).unwrap();
    let out = Command::new(common::bin("vigil"))
        .args(["label", "unsafe", "rm", "-rf", "/srv/data"])
        .env_remove("VIGIL_HOME")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("conf"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_RUNTIME_DIR", env.home())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let labels = home.join("conf/vigil/labels.txt");
    assert_eq!(std::fs::read_to_string(&labels).unwrap(), "unsafe rm -rf /srv/data\n");
    for dir in [home.join("conf"), home.join("conf/vigil")] {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", dir.display());
    }
    let mode = std::fs::metadata(&labels).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "labels.txt is {mode:o}");
}
