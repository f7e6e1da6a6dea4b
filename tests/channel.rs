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

/// Runs `f` in each of `shells` that is installed: a fresh home, its agent running, and the
/// shell started in it.
fn each_shell(shells: &[&str], f: impl FnMut(&mut Env, Shell, &str)) {
    each_shell_with(shells, &[], f);
}

/// [`each_shell`], the shells started with `extra_env` too.
fn each_shell_with(shells: &[&str], extra_env: &[(&str, &str)], mut f: impl FnMut(&mut Env, Shell, &str)) {
    for shell in shells {
        if !have_shell(shell) {
            continue;
        }
        let mut env = Env::new();
        env.start_agent();
        let sh = Shell::start(&env, shell, extra_env, "");
        f(&mut env, sh, shell);
    }
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
    each_shell(&["bash", "zsh"], |env, mut sh, shell| {
        let mut commands = typed(&mut sh, "live", 3);
        let want = if shell == "bash" { "coproc relay" } else { "zsocket to the agent" };
        assert_eq!(channel(&mut sh), want, "{shell}");
        env.kill_agent(libc::SIGKILL);
        // The next commands find the channel broken, start a new agent through the exec'd
        // client (or the relay) and spool what it does not take yet.
        commands.extend(typed(&mut sh, "orphan", 4));
        env.wait_agent_up();
        commands.extend(typed(&mut sh, "again", 3));
        // The channel opens again once the new agent answers in time (a busy machine may give
        // it a rest or two first: the relay meanwhile, nothing lost).
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let mut round = 0;
        while channel(&mut sh) != want {
            assert!(std::time::Instant::now() < until, "{shell}: the channel never opened again");
            std::thread::sleep(std::time::Duration::from_millis(500));
            commands.extend(typed(&mut sh, &format!("retry{round}"), 1));
            round += 1;
        }
        sh.exit();
        all_recorded_once(env, shell, &commands);
    });
}

#[test]
fn a_frozen_agent_under_an_open_shell_still_warns_and_loses_nothing() {
    each_shell(&["bash", "zsh"], |env, mut sh, shell| {
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
        all_recorded_once(env, shell, &commands);
    });
}

#[test]
fn an_end_written_to_an_agent_that_never_reads_it_is_handed_over_again() {
    // The hooks write a command's end without waiting for its answer. Here the agent takes the
    // start, is frozen while the command runs (so the end sits unread in its socket), and is
    // killed frozen: the end is only stored if the hook hands it over again.
    each_shell(&["bash", "zsh"], |env, mut sh, shell| {
        typed(&mut sh, "warm", 2);
        let running = env.path("running");
        let go = env.path("go");
        let line =
            format!("touch '{}'; while [ ! -e '{}' ]; do sleep 0.05; done; (exit 7)", running.display(), go.display());
        sh.session.send_line(&line).expect("send");
        env.wait_until(60, "the command to run", || running.exists());
        env.signal_agent(libc::SIGSTOP);
        std::fs::write(&go, "").expect("go");
        sh.session.exp_string(common::PROMPT).unwrap_or_else(|e| panic!("{shell}: no prompt: {e}"));
        env.kill_agent(libc::SIGKILL);
        let mut commands = vec![line.clone()];
        commands.extend(typed(&mut sh, "after", 3));
        sh.exit();
        all_recorded_once(env, shell, &commands);
        env.wait_until(60, "the end of the command", || {
            env.recent(500)
                .iter()
                .any(|e| e["command"].as_str() == Some(line.as_str()) && e["exit_code"].as_i64() == Some(7))
        });
    });
}

#[test]
fn a_command_that_kills_the_agent_or_the_relay_does_not_end_the_shell() {
    // The command's end is then written to a peer that is gone, and bash ends itself on a
    // SIGPIPE (zsh on a terminal goes on); without the live mark zsh has no watcher to notice
    // the closed socket first. The relay is killed by the command twice, each time with no
    // pause before its end is written (bash may not have reaped it yet).
    each_shell_with(&["bash", "zsh"], &[("VIGIL_LIVE", "0")], |env, mut sh, shell| {
        typed(&mut sh, "warm", 2);
        let pid = env.agent_pid().expect("an agent runs");
        sh.run(&format!("kill -9 {pid}; sleep 0.3"));
        let out = sh.run("echo still-$((40 + 2))");
        assert!(out.contains("still-42"), "{shell}: {out:?}");
        if shell == "bash" {
            for round in 0..2 {
                sh.run("kill -9 \"$__VIGIL_RELAY_PID\"");
                let out = sh.run("echo again-$((40 + 2))");
                assert!(out.contains("again-42"), "{shell}, round {round}: {out:?}");
            }
        }
        sh.exit();
    });
}

#[test]
fn doctor_names_the_channel_of_each_shell() {
    each_shell(&["bash", "zsh", "fish"], |_, mut sh, shell| {
        let want = match shell {
            "bash" => "channel: coproc relay",
            "zsh" => "channel: zsocket to the agent",
            _ => "channel: exec",
        };
        sh.run("echo warm");
        let vigil = common::bin("vigil");
        let out = sh.run(&format!("'{}' doctor", vigil.display()));
        assert!(out.contains(want), "{shell}: doctor says:\n{out}");
        sh.exit();
    });
}

/// A line that hits a hard rule and does no harm: `false &&` keeps `rm` from running, and the
/// output `RAN-42` (computed, so that the echo of the typed line never shows it) tells whether
/// the line ran.
fn held_line(shell: &str) -> &'static str {
    match shell {
        "fish" => "false; and rm -rf ~/; echo RAN-(math 40 + 2)",
        _ => "false && rm -rf ~/; echo RAN-$((40+2))",
    }
}

/// Types `text` without Enter.
fn keys(sh: &mut Shell, text: &str) {
    sh.session.send(text).unwrap();
    sh.session.flush().unwrap();
}

/// What the session printed until `what` appeared (a minute's guard against a hang).
fn until(sh: &mut Shell, what: &str) -> String {
    sh.session.exp_string(what).unwrap_or_else(|e| panic!("{}: {what:?} never came: {e}", sh.name))
}

#[test]
fn a_second_enter_runs_a_held_line_and_an_edit_or_ctrl_c_starts_over() {
    for shell in ["bash", "zsh", "fish"] {
        if !have_shell(shell) {
            continue;
        }
        let mut env = Env::new();
        let config = std::fs::read_to_string(env.path("config.toml")).unwrap_or_default();
        std::fs::write(env.path("config.toml"), format!("{config}[score]\nconfirm = \"rules\"\n")).unwrap();
        env.start_agent();
        // set -u: the person's strict options hold on this path too.
        let strict = if shell == "fish" { "" } else { "set -u" };
        let mut sh = Shell::start(&env, shell, &[], strict);
        sh.run("echo warm");
        let line = held_line(shell);
        // Enter holds the line and says why. (fish runs the check in a key binding and repaints
        // the prompt when it returns; keys sent before that reach the binding, not the line
        // editor, so with fish the test waits for the repaint.)
        let held_again = |sh: &mut Shell| {
            let out = until(sh, "press Enter again to run");
            if shell == "fish" {
                until(sh, common::PROMPT);
            }
            out
        };
        sh.session.send_line(line).unwrap();
        let held = held_again(&mut sh);
        assert!(held.contains("fs:rm-home") && !held.contains("RAN-42"), "{shell}: {held:?}");
        // An edit starts over: held again.
        keys(&mut sh, " ");
        sh.session.send_line("").unwrap();
        let again = held_again(&mut sh);
        assert!(!again.contains("RAN-42"), "{shell}: the edited line ran: {again:?}");
        // The second Enter runs it, unchanged.
        sh.session.send_line("").unwrap();
        let ran = until(&mut sh, "RAN-42");
        assert!(!ran.contains("press Enter again"), "{shell}: {ran:?}");
        until(&mut sh, common::PROMPT);
        // Ctrl-C cancels a held line; typed again, it is held again.
        sh.session.send_line(line).unwrap();
        held_again(&mut sh);
        sh.session.send_control('c').unwrap();
        until(&mut sh, common::PROMPT);
        sh.session.send_line(line).unwrap();
        let after_c = held_again(&mut sh);
        assert!(!after_c.contains("RAN-42"), "{shell}: a line held before Ctrl-C ran: {after_c:?}");
        sh.session.send_control('c').unwrap();
        until(&mut sh, common::PROMPT);
        // A safe line runs at the first Enter.
        let out = sh.run(
            "echo SAFE-$((1+1))"
                .replace("$((1+1))", if shell == "fish" { "(math 1 + 1)" } else { "$((1+1))" })
                .as_str(),
        );
        assert!(out.contains("SAFE-2") && !out.contains("press Enter"), "{shell}: {out:?}");
        sh.exit();
        // The held line ran once (the edited copy, with its trailing space).
        env.wait_until(60, "the line that ran", || {
            env.recent(50).iter().any(|e| e["command"].as_str().is_some_and(|c| c.starts_with(line)))
        });
        let ran: Vec<_> = env
            .recent(50)
            .iter()
            .filter_map(|e| e["command"].as_str().map(str::to_string))
            .filter(|c| c.starts_with(line))
            .collect();
        assert_eq!(ran.len(), 1, "{shell}: {ran:?}");
    }
}

#[test]
fn zsh_marks_an_unsafe_line_while_it_is_typed_and_nothing_for_a_safe_one() {
    if !have_shell("zsh") {
        return;
    }
    let mut env = Env::new();
    env.start_agent();
    let mut sh = Shell::start(&env, "zsh", &[], "");
    sh.run("echo warm");
    // Typed, not run: the mark comes after a pause in typing.
    keys(&mut sh, "false && rm -rf ~/");
    let marked = until(&mut sh, "fs:rm-home)");
    assert!(marked.contains("vigil: "), "{marked:?}");
    // Cleared, then a safe line: it is answered (the hook keeps the last answer) and no mark
    // comes. The pause before Enter grows until the answer came in it.
    sh.session.send_control('u').unwrap();
    let mut pause = 200;
    loop {
        keys(&mut sh, &format!("echo nothing-to-see-{pause}"));
        std::thread::sleep(std::time::Duration::from_millis(pause));
        sh.session.send_line("").unwrap();
        let safe = until(&mut sh, common::PROMPT);
        assert!(!safe.contains("vigil:"), "a safe line was marked: {safe:?}");
        let seen = sh.run(r#"print -r -- "SEEN=[$__vigil_live_seen]""#);
        if seen.contains(&format!("SEEN=[safe: echo nothing-to-see-{pause}]")) {
            break;
        }
        assert!(pause < 20_000, "the safe line was never answered: {seen:?}");
        pause *= 2;
    }
    // VIGIL_LIVE=0 turns it off in a shell.
    sh.run("VIGIL_LIVE=0");
    keys(&mut sh, "false && rm -rf ~/");
    std::thread::sleep(std::time::Duration::from_millis(600));
    sh.session.send_control('c').unwrap();
    let off = until(&mut sh, common::PROMPT);
    assert!(!off.contains("fs:rm-home"), "VIGIL_LIVE=0 still marked: {off:?}");
    // Nothing typed was recorded: only the commands that ran.
    let stored: Vec<String> = env.recent(50).iter().filter_map(|e| e["command"].as_str().map(str::to_string)).collect();
    assert!(!stored.iter().any(|c| c.contains("rm -rf")), "{stored:?}");
    sh.exit();
}
