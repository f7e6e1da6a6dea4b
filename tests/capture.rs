//! End-to-end: every command typed in real interactive bash, zsh and fish lands in the store
//! with its context, through an agent started on demand.

mod common;

use common::{have_shell, Env, Shell};
use serde_json::Value;

/// Types the standard sequence into `shell` and checks every field of what was stored.
fn records_a_session(shell: &str) {
    if !have_shell(shell) {
        return;
    }
    let env = Env::new();
    assert!(env.agent_pid().is_none());
    let mut sh = Shell::start(&env, shell, &[], "");
    let work = env.path("work dir");
    std::fs::create_dir(&work).unwrap();

    sh.run("echo first");
    // The first hook found no agent, started one and spooled the event.
    env.wait_until(120, "the agent started on demand", || env.agent_pid().is_some());
    sh.run("false");
    let multi = match shell {
        "fish" => "for i in 1 2\necho line $i\nend",
        _ => "for i in 1 2; do\necho line $i\ndone",
    };
    sh.run(multi);
    let quoted = "echo \"it's a \\\"quote\\\"\" 'ünïcødé ✓' | tr a-z A-Z";
    sh.run(quoted);
    sh.run(" echo not-recorded-secret");
    sh.run("printf 'a\\nb\\n' | grep b | wc -l");
    sh.run(&format!("cd '{}'", work.display()));
    sh.run("true");
    // The person's prompt still sees the real exit status.
    let status_probe = match shell {
        "fish" => "false; echo \"status=$status\"",
        _ => "false; echo \"status=$?\"",
    };
    let out = sh.run(status_probe);
    assert!(out.contains("status=1"), "{shell}: status seen by the shell was altered: {out:?}");

    // The first command's end may reach the agent through the spool (it was still starting),
    // which it reads every second: wait for every event to be closed.
    env.wait_until(120, "events to be stored and closed", || {
        let events = env.recent(50);
        events.len() >= 8 && events.iter().all(|e| e["exit_code"].is_i64())
    });
    let events = env.recent(50);
    let commands: Vec<&str> = events.iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert!(
        !commands.iter().any(|c| c.contains("not-recorded-secret")),
        "{shell}: leading-space command was recorded: {commands:?}"
    );
    assert_eq!(commands[0], "echo first", "{shell}: {commands:?}");
    assert_eq!(commands[1], "false");
    assert!(
        commands[2].starts_with("for i in 1 2") && commands[2].contains("echo line $i"),
        "{shell}: multi-line: {:?}",
        commands[2]
    );
    assert_eq!(commands[3], quoted, "{shell}: quotes and unicode must arrive intact");
    assert_eq!(commands[4], "printf 'a\\nb\\n' | grep b | wc -l", "{shell}: a pipeline is one event");
    assert_eq!(commands[5], format!("cd '{}'", work.display()));
    assert_eq!(commands[6], "true");
    assert_eq!(commands[7], status_probe);
    assert_eq!(commands.len(), 8, "{shell}: no other events (hook commands, completions): {commands:?}");

    let session = events[0]["session"].as_str().unwrap();
    for e in &events {
        assert_eq!(e["shell"], shell);
        assert_eq!(e["session"], session, "one session per shell");
        assert!(e["started_at"].as_i64().unwrap() > 1_600_000_000_000);
        assert!(e["duration_ms"].as_i64().is_some(), "{shell}: duration missing for {}", e["command"]);
        for key in ["id", "cwd", "exit_code", "label", "p_unsafe", "reason", "model_version"] {
            assert!(e.get(key).is_some(), "field {key} missing");
        }
    }
    let exit = |i: usize| events[i]["exit_code"].as_i64();
    assert_eq!(exit(0), Some(0));
    assert_eq!(exit(1), Some(1), "{shell}: failing command's exit code");
    assert_eq!(exit(4), Some(0));
    assert_eq!(exit(7), Some(0), "{shell}: status of `false; echo` is echo's");
    assert!(events.windows(2).all(|w| w[0]["started_at"].as_i64() <= w[1]["started_at"].as_i64()));
    let cwd = |i: usize| events[i]["cwd"].as_str().unwrap().to_string();
    assert_ne!(cwd(5), work.display().to_string(), "cd ran from the old folder");
    assert_eq!(cwd(6), work.display().to_string(), "{shell}: commands after cd carry the new folder");

    // The SQLite file says the same.
    let db = env.db();
    let (cmd, exit_code, host): (String, i64, Option<String>) = db
        .query_row("SELECT command, exit_code, hostname FROM events WHERE command = 'false'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((cmd.as_str(), exit_code), ("false", 1));
    assert!(host.is_some_and(|h| !h.is_empty()));
    assert_eq!(env.count("SELECT COUNT(*) FROM events"), 8);
    assert_eq!(env.count("SELECT COUNT(DISTINCT session) FROM events"), 1);

    // A nested shell of the same kind is a session of its own.
    let nested_rc = match shell {
        "bash" => format!("bash --noprofile --rcfile '{}' -i", env.path("bashrc").display()),
        "zsh" => "zsh -d -i".to_string(),
        _ => "fish -i".to_string(),
    };
    sh.run(&nested_rc);
    sh.run("echo nested");
    sh.run("exit");
    env.wait_until(120, "nested event", || env.recent(50).iter().any(|e| e["command"] == "echo nested"));
    let events = env.recent(50);
    let nested = events.iter().find(|e| e["command"] == "echo nested").unwrap();
    assert_ne!(nested["session"], Value::String(session.to_string()), "{shell}: nested shell must get its own session");

    // Closing the terminal (the pty goes away, the shell gets SIGHUP) leaves the agent that
    // the shell's hook started running: it lives in a session of its own.
    let agent = env.agent_pid().unwrap();
    let shell_pid = sh.session.process.child_pid.as_raw();
    // SAFETY: sending a signal, as a terminal emulator does when its window closes. A busy
    // fish has been seen to miss one that arrived while it ran its hooks (a terminal that
    // closes also ends its input): sent again every second, for a minute at most.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        unsafe { libc::kill(shell_pid, libc::SIGHUP) };
        std::thread::sleep(std::time::Duration::from_secs(1));
        let alive = matches!(sh.session.process.status(), Some(rexpect::process::wait::WaitStatus::StillAlive));
        if !alive {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{shell}: the shell outlived a minute of SIGHUP");
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(env.agent_pid(), Some(agent), "{shell}: the agent died with the terminal");
}

#[test]
fn bash_records_a_session() {
    records_a_session("bash");
}

#[test]
fn zsh_records_a_session() {
    records_a_session("zsh");
}

#[test]
fn fish_records_a_session() {
    records_a_session("fish");
}
