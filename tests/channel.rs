//! End-to-end, in real interactive shells: the fork-free channel (zsh's socket, bash's relay)
//! and what happens when its other end goes away: a relay killed, an agent killed or frozen
//! under an open shell. Nothing typed is lost, the person's status is untouched, and `vigil
//! doctor` names the channel each shell uses.

mod common;

use common::{have_shell, Env, Shell};

/// The shell's channel as the hook names it in `VIGIL_CHANNEL`. The marker is split in the
/// typed line so that the line's echo never matches.
fn channel(sh: &mut Shell) -> String {
    let out = sh.run(r#"printf '%s%s\n' 'CHAN=' "${VIGIL_CHANNEL-unset}""#);
    out.lines()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix("CHAN=").map(str::to_string))
        .unwrap_or_else(|| panic!("{}: no channel in {out:?}", sh.name))
}

/// Waits until every one of `commands` is stored, then checks each was stored exactly once
/// (the same event reported live and from the spool must stay one).
fn all_recorded_once(env: &Env, shell: &str, commands: &[String]) {
    env.wait_until(120, "the commands", || {
        let stored: Vec<String> =
            env.recent(500).iter().filter_map(|e| e["command"].as_str().map(str::to_string)).collect();
        commands.iter().all(|c| stored.contains(c))
    });
    let stored: Vec<String> =
        env.recent(500).iter().filter_map(|e| e["command"].as_str().map(str::to_string)).collect();
    for c in commands {
        let n = stored.iter().filter(|s| *s == c).count();
        assert_eq!(n, 1, "{shell}: {c:?} stored {n} times: {stored:?}");
    }
}

/// Numbered commands with a tag, distinct per shell and phase.
fn typed(sh: &mut Shell, tag: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let c = format!("echo {tag}-{i}");
            let out = sh.run(&c);
            assert!(out.contains(&format!("{tag}-{i}")), "{}: {c:?} printed {out:?}", sh.name);
            c
        })
        .collect()
}

#[test]
fn bash_falls_back_when_its_relay_is_killed_and_starts_a_new_one() {
    let mut env = Env::new();
    env.start_agent();
    let mut sh = Shell::start(&env, "bash", &[], "");
    assert_eq!(channel(&mut sh), "coproc relay");
    let mut commands = typed(&mut sh, "before", 3);
    // The person's status survives the relay's death and the fallback.
    sh.run("kill -9 \"$__VIGIL_RELAY_PID\"");
    commands.push("kill -9 \"$__VIGIL_RELAY_PID\"".to_string());
    let out = sh.run("false; echo \"st=$?\"");
    assert!(out.contains("st=1"), "{out:?}");
    commands.push("false; echo \"st=$?\"".to_string());
    commands.extend(typed(&mut sh, "after", 4));
    assert_eq!(channel(&mut sh), "coproc relay", "a new relay took over");
    let jobs = sh.run("jobs; echo jobs-done");
    assert!(!jobs.contains("relay") && !jobs.contains("Running"), "the relay shows as a job: {jobs:?}");
    sh.exit();
    all_recorded_once(&env, "bash", &commands);
}

#[test]
fn an_agent_killed_under_an_open_shell_loses_nothing() {
    for shell in ["bash", "zsh"] {
        if !have_shell(shell) {
            continue;
        }
        let mut env = Env::new();
        env.start_agent();
        let mut sh = Shell::start(&env, shell, &[], "");
        let mut commands = typed(&mut sh, "live", 3);
        let want = if shell == "bash" { "coproc relay" } else { "zsocket to the agent" };
        assert_eq!(channel(&mut sh), want, "{shell}");
        env.kill_agent(libc::SIGKILL);
        // The next commands find the channel broken, start a new agent through the exec'd
        // client (or the relay) and spool what it does not take yet.
        commands.extend(typed(&mut sh, "orphan", 4));
        env.wait_agent_up();
        commands.extend(typed(&mut sh, "again", 3));
        assert_eq!(channel(&mut sh), want, "{shell}: the channel opened again");
        sh.exit();
        all_recorded_once(&env, shell, &commands);
    }
}

#[test]
fn a_frozen_agent_under_an_open_shell_still_warns_and_loses_nothing() {
    for shell in ["bash", "zsh"] {
        if !have_shell(shell) {
            continue;
        }
        let mut env = Env::new();
        env.start_agent();
        let mut sh = Shell::start(&env, shell, &[], "");
        let mut commands = typed(&mut sh, "warm", 2);
        env.signal_agent(libc::SIGSTOP);
        // A hard-rule hit is still warned about (the hook's rules, without the agent); the
        // command itself cannot run (`false &&`).
        let risky = "false && rm -rf ~/";
        let out = sh.run(risky);
        assert!(out.contains("vigil:") && out.contains("fs:rm-home"), "{shell}: no warning while frozen: {out:?}");
        commands.push(risky.to_string());
        commands.extend(typed(&mut sh, "frozen", 4));
        env.signal_agent(libc::SIGCONT);
        commands.extend(typed(&mut sh, "thawed", 2));
        sh.exit();
        all_recorded_once(&env, shell, &commands);
    }
}

#[test]
fn doctor_names_the_channel_of_each_shell() {
    for (shell, want) in
        [("bash", "channel: coproc relay"), ("zsh", "channel: zsocket to the agent"), ("fish", "channel: exec")]
    {
        if !have_shell(shell) {
            continue;
        }
        let mut env = Env::new();
        env.start_agent();
        let mut sh = Shell::start(&env, shell, &[], "");
        sh.run("echo warm");
        let vigil = common::bin("vigil");
        let out = sh.run(&format!("'{}' doctor", vigil.display()));
        assert!(out.contains(want), "{shell}: doctor says:\n{out}");
        sh.exit();
    }
}
