//! End-to-end: history you control, through the real client, socket and store. Search with
//! filters, forget with its confirmation, and list replies that hold whatever was stored:
//! two commands of about 4 MB each must not break recent, stats, review, search or export.

mod common;

use common::Env;
use std::io::Write;
use std::process::{Command, Stdio};

/// Records `command` through `vigil hook start --stdin` and closes it with `exit`.
fn record(env: &Env, command: &str, cwd: &str, exit: i32) {
    let mut child = env
        .cmd("vigil")
        .args(["hook", "start", "--shell", "bash", "--session", "h1", "--cwd", cwd, "--stdin"])
        // A deadline of minutes for a 4 MB frame on a busy machine: it guards a hang only.
        .env("VIGIL_HOOK_TIMEOUT_MS", "120000")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(command.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let out = env
        .cmd("vigil")
        .args(["hook", "end", "--shell", "bash", "--session", "h1", "--exit", &exit.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
}

fn lines(out: &std::process::Output) -> Vec<String> {
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

fn commands(out: &std::process::Output) -> Vec<String> {
    lines(out)
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["command"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn search_filters_and_forget_removes_everywhere() {
    let mut env = Env::new();
    env.start_agent();
    record(&env, "ls -la", "/srv/app", 0);
    record(&env, "make deploy TOKEN_HINT=hunter2", "/srv/app/sub", 2);
    record(&env, "git status", "/srv/application", 0);
    record(&env, "echo hunter2", "/tmp", 0);

    assert_eq!(
        commands(&env.vigil(&["search", "hunter2", "--json"])),
        vec!["echo hunter2", "make deploy TOKEN_HINT=hunter2"]
    );
    assert_eq!(
        commands(&env.vigil(&["search", "--cwd", "/srv/app", "--json"])),
        vec!["make deploy TOKEN_HINT=hunter2", "ls -la"],
        "below the folder, not beside it"
    );
    assert_eq!(commands(&env.vigil(&["search", "--exit", "2", "--json"])), vec!["make deploy TOKEN_HINT=hunter2"]);
    assert_eq!(commands(&env.vigil(&["search", "--regex", "^(ls|git) ", "--json"])), vec!["git status", "ls -la"]);
    assert_eq!(commands(&env.vigil(&["search", "--since", "1h", "--shell", "zsh", "--json"])), Vec::<String>::new());
    assert_eq!(
        commands(&env.vigil(&["recent", "--exit", "0", "-n", "2", "--json"])),
        vec!["echo hunter2", "git status"]
    );
    let table = lines(&env.cmd("vigil").args(["recent"]).env("COLUMNS", "80").output().unwrap());
    assert!(table[0].starts_with("TIME") && table[0].ends_with("COMMAND"), "a header: {table:?}");
    assert!(table.iter().all(|l| l.chars().count() <= 80), "fits 80 columns: {table:#?}");

    // No terminal, no --yes: refused, nothing deleted.
    let out = env.cmd("vigil").args(["forget", "--pattern", "hunter2"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("would delete 2 recorded commands"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE command LIKE '%hunter2%'"), 2);
    let out = env.vigil(&["forget", "--pattern", "hunter2", "--yes"]);
    assert!(lines(&out)[0].starts_with("forgot 2 recorded commands"), "{:?}", lines(&out));
    assert_eq!(env.count("SELECT COUNT(*) FROM events WHERE command LIKE '%hunter2%'"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM events"), 2);
    let id = serde_json::from_str::<serde_json::Value>(&lines(&env.vigil(&["search", "ls", "--json"]))[0]).unwrap()
        ["id"]
        .as_i64()
        .unwrap();
    assert!(lines(&env.vigil(&["forget", &id.to_string(), "--yes"]))[0].starts_with("forgot 1 recorded command"));
    assert_eq!(commands(&env.vigil(&["recent", "--json"])), vec!["git status"]);
}

#[test]
fn two_huge_commands_never_break_the_lists() {
    let mut env = Env::new();
    env.start_agent();
    let a = format!("echo {}", "a".repeat(4_000_000));
    let b = format!("printf {}", "b".repeat(4_000_000));
    record(&env, &a, "/tmp", 0);
    record(&env, &b, "/tmp", 0);
    record(&env, "ls", "/tmp", 0);
    env.wait_until(120, "the three commands stored", || env.try_count("SELECT COUNT(*) FROM events") == Some(3));
    assert_eq!(env.count("SELECT MAX(length(command)) FROM events"), 4_000_007, "stored whole");

    let recent = commands(&env.vigil(&["recent", "--json"]));
    assert_eq!(recent.len(), 3);
    assert!(
        recent[1].starts_with("printf bbbb") && recent[1].ends_with("more bytes]") && recent[1].len() < 2100,
        "cut with a marker"
    );
    let found = commands(&env.vigil(&["search", "aaaa", "--json"]));
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("echo aaaa"));
    assert!(!lines(&env.vigil(&["stats", "--json"])).is_empty());
    assert!(env.vigil(&["review", "--list", "--json"]).status.success());
    let csv = env.path("out.csv");
    let out = env.vigil(&["export", "--csv", &csv.display().to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains(&a) && text.contains(&b), "export writes them whole");
    // And the table on a terminal-sized screen stays one row each.
    let table = lines(
        &Command::new(common::bin("vigil"))
            .args(["recent"])
            .env("VIGIL_HOME", env.home())
            .env("COLUMNS", "100")
            .output()
            .unwrap(),
    );
    assert_eq!(table.len(), 4);
}
