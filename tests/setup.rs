//! End-to-end: the installer wires vigil into every shell idempotently and removes exactly
//! its own block; the shell scripts are shellcheck-clean.

mod common;

use common::{bin_dir, have_shell};
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
        env.cmd("vigil").arg("doctor").env("HOME", home.path()).env_remove("VIGIL_PROMPT_SEGMENT").env_remove("ZDOTDIR").env_remove("XDG_CONFIG_HOME").output().unwrap()
    };
    let out = doctor();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("does not load the hook") && text.contains("the hook is not loaded in this shell"), "{text}");
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
fn config_says_where_each_value_came_from() {
    let env = common::Env::new();
    std::fs::write(env.path("config.toml"), "[model]\ntrees = 20\n[score]\nwarn_at = 0.9\n").unwrap();
    let out = env.cmd("vigil").args(["config", "--json"]).env("VIGIL_LOG", "debug").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let find = |k: &str| rows.iter().find(|r| r["key"] == k).unwrap_or_else(|| panic!("{k} missing")).clone();
    assert_eq!(find("score.warn_at")["value"], "0.9");
    assert!(find("score.warn_at")["source"].as_str().unwrap().ends_with("config.toml"));
    assert_eq!(find("agent.log_level")["source"], "environment");
    assert_eq!(find("capture.batch_max_events")["source"], "default");
    let _ = env.vigil(&["agent", "stop"]);
}
