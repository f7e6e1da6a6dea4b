//! End-to-end: the bash hook lives with other prompt tools, PROMPT_COMMAND arrays, completion
//! functions and very long commands, and leaves the person's exit status alone.

mod common;

use common::{have_shell, Env, Shell};

/// A prompt tool that does what starship's bash init does: appends itself to PROMPT_COMMAND,
/// chains an existing DEBUG trap by its third `trap -p` field, rewrites PS1 at every prompt,
/// and reads $? and PIPESTATUS first thing. It writes what it saw to `seen`.
fn prompt_tool(seen: &std::path::Path) -> String {
    format!(
        r#"
tool_preexec() {{ local last=$1; TOOL_READY=false; : "$last"; }}
tool_precmd() {{
    local STATUS=$? PIPE="${{PIPESTATUS[*]}}"
    echo "status=$STATUS pipe=$PIPE" >> '{seen}'
    PS1='VT$ '
    TOOL_READY=true
}}
dbg_trap="$(trap -p DEBUG | cut -d' ' -f3 | tr -d \')"
if [[ -z "$dbg_trap" ]]; then
    trap 'tool_preexec "$_"' DEBUG
else
    tool_preexec_all() {{ local last=$1; $dbg_trap; tool_preexec; : "$last"; }}
    trap 'tool_preexec_all "$_"' DEBUG
fi
if [[ -z "$PROMPT_COMMAND" ]]; then
    PROMPT_COMMAND="tool_precmd"
elif [[ "$PROMPT_COMMAND" != *"tool_precmd" ]]; then
    PROMPT_COMMAND="${{PROMPT_COMMAND%;}};tool_precmd;"
fi
"#,
        seen = seen.display()
    )
}

const SEQUENCE: &[&str] = &["echo one", "(exit 3) | (exit 4) | true", "false", "echo two"];

/// Checks that the last events are exactly SEQUENCE, after `before` earlier ones.
fn check_sequence(env: &Env, label: &str, before: usize) {
    let total = before + SEQUENCE.len();
    // Starts and ends both: an end the agent missed comes in from the spool a moment later.
    env.wait_until(120, "events stored", || {
        env.try_count("SELECT COUNT(*) FROM events WHERE exit_code IS NOT NULL") >= Some(total as i64)
    });
    let events = env.recent(20);
    assert_eq!(events.len(), total, "{label}: {events:?}");
    let events = &events[before..];
    let commands: Vec<&str> = events.iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert_eq!(commands, SEQUENCE, "{label}: exactly the person's commands, once each");
    let exits: Vec<Option<i64>> = events.iter().map(|e| e["exit_code"].as_i64()).collect();
    assert_eq!(exits, vec![Some(0), Some(0), Some(1), Some(0)], "{label}: exit codes");
}

fn run_sequence(sh: &mut Shell) {
    for c in SEQUENCE {
        let out = sh.run(c);
        assert!(!out.contains("vigil"), "the hook printed into the shell: {out:?}");
    }
}

#[test]
fn prompt_tool_loaded_after_vigil() {
    if !have_shell("bash") {
        return;
    }
    let env = Env::new();
    let seen = env.path("seen");
    // The tool is appended after the hook in the rc file.
    let rc = env.path("after.sh");
    std::fs::write(&rc, prompt_tool(&seen)).unwrap();
    let mut sh = Shell::start(&env, "bash", &[("VIGIL_PROMPT", "0")], "");
    sh.run(&format!("source '{}'", rc.display()));
    std::fs::write(&seen, "").unwrap();
    run_sequence(&mut sh);
    let seen_text = std::fs::read_to_string(&seen).unwrap();
    assert!(seen_text.contains("status=0 pipe=3 4 0"), "tool saw the pipeline's PIPESTATUS: {seen_text}");
    assert!(seen_text.contains("status=1 pipe=1"), "tool saw false's status: {seen_text}");
    check_sequence(&env, "tool after vigil", 1);
    sh.exit();
}

#[test]
fn prompt_tool_loaded_before_vigil_and_prompt_command_array() {
    if !have_shell("bash") {
        return;
    }
    let env = Env::new();
    let seen = env.path("seen");
    let mut sh = Shell::start(&env, "bash", &[], &prompt_tool(&seen));
    std::fs::write(&seen, "").unwrap();
    run_sequence(&mut sh);
    let seen_text = std::fs::read_to_string(&seen).unwrap();
    assert!(seen_text.contains("status=0 pipe=3 4 0"), "{seen_text}");
    assert!(seen_text.contains("status=1 pipe=1"), "{seen_text}");
    check_sequence(&env, "tool before vigil", 0);
    sh.exit();

    // PROMPT_COMMAND as an array (bash >= 5.1), with an entry that reads the status.
    let env = Env::new();
    let seen = env.path("seen");
    let rc = format!("declare -a PROMPT_COMMAND=('echo \"pc=$? ${{PIPESTATUS[*]}}\" >> {}')", seen.display());
    let mut sh = Shell::start(&env, "bash", &[], &rc);
    std::fs::write(&seen, "").unwrap();
    run_sequence(&mut sh);
    check_sequence(&env, "array PROMPT_COMMAND", 0);
    let out = sh.run("declare -p PROMPT_COMMAND");
    assert!(out.contains("declare -a"), "still an array: {out}");
    let seen_text = std::fs::read_to_string(&seen).unwrap();
    assert!(seen_text.contains("pc=0 3 4 0") && seen_text.contains("pc=1 1"), "{seen_text}");
    sh.exit();
}

#[test]
fn preexec_framework_loaded_first_is_used() {
    if !have_shell("bash") {
        return;
    }
    // The interface of bash-preexec (its package is in none of the registries this project
    // can install from): preexec_functions get the command line, precmd_functions get $?.
    let framework = r#"
bash_preexec_imported=defined
declare -a preexec_functions precmd_functions
__fw_ready=
__fw_debug() {
    [[ -n $__fw_ready && -z ${COMP_LINE-} ]] || return 0
    [[ $BASH_COMMAND == __fw_precmd ]] && return 0
    __fw_ready=
    local cmd f
    cmd=$(HISTTIMEFORMAT= builtin history 1)
    cmd=${cmd#*[0-9]  }
    for f in "${preexec_functions[@]}"; do "$f" "$cmd"; done
}
__fw_precmd() {
    local s=$? f
    for f in "${precmd_functions[@]}"; do (exit "$s"); "$f"; done
    __fw_ready=1
}
trap '__fw_debug' DEBUG
PROMPT_COMMAND=__fw_precmd
"#;
    let env = Env::new();
    let mut sh = Shell::start(&env, "bash", &[], framework);
    let out = sh.run("echo \"${preexec_functions[*]} / $(trap -p DEBUG) / $VIGIL_HOOK\"");
    assert!(
        out.contains("__vigil_bp_preexec / trap -- '__fw_debug' DEBUG"),
        "vigil uses the framework, not a trap of its own: {out}"
    );
    assert!(out.contains("/ bash: bash-preexec's preexec_functions"), "and says so to `vigil doctor`: {out}");
    run_sequence(&mut sh);
    env.wait_until(120, "events", || env.try_count("SELECT COUNT(*) FROM events") == Some(SEQUENCE.len() as i64 + 1));
    let events = env.recent(20);
    let commands: Vec<&str> = events.iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert_eq!(&commands[1..], SEQUENCE);
    sh.exit();
}

#[test]
fn completion_functions_make_no_events_and_long_commands_arrive_whole() {
    if !have_shell("bash") {
        return;
    }
    let env = Env::new();
    let rc = "mycmd() { echo \"ran $*\"; }\n_mycomp() { COMPREPLY=($(compgen -W 'alpha beta' -- \"${COMP_WORDS[COMP_CWORD]}\")); }\ncomplete -F _mycomp mycmd";
    let mut sh = Shell::start(&env, "bash", &[], rc);
    sh.session.send("mycmd al\t").unwrap();
    sh.session.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = sh.run("");
    assert!(out.contains("ran alpha"), "{out}");
    // Longer than one argv entry may be (128 KiB): it goes over stdin.
    let long = format!("echo {}", "x".repeat(140_000));
    sh.session.send_line(&long).unwrap();
    sh.session.exp_regex("x{100}\r?\n").unwrap();
    sh.session.exp_string(common::PROMPT).unwrap();
    env.wait_until(120, "both events", || env.try_count("SELECT COUNT(*) FROM events") == Some(2));
    let db = env.db();
    let first: String =
        db.query_row("SELECT command FROM events ORDER BY started_at LIMIT 1", [], |r| r.get(0)).unwrap();
    // Readline's completion leaves a space after the word; the command is stored as run.
    assert_eq!(first, "mycmd alpha ", "completion ran compgen and friends, but only the command is an event");
    let len: i64 =
        db.query_row("SELECT length(command) FROM events WHERE command LIKE 'echo xxx%'", [], |r| r.get(0)).unwrap();
    assert_eq!(len, long.len() as i64, "the long command arrived whole");
    sh.exit();
}

#[test]
fn history_settings_decide_what_is_a_new_command() {
    if !have_shell("bash") {
        return;
    }
    // Debian's default: ignoreboth. A repeat is still a command run; a line history was told
    // to drop (leading space, HISTIGNORE) is not recorded.
    let env = Env::new();
    let mut sh = Shell::start(&env, "bash", &[], "HISTCONTROL=ignoreboth\nHISTIGNORE='secretcmd*'\nsecretcmd() { :; }");
    for c in ["echo one", "echo one", " echo spaced", "secretcmd x", "echo two | cat", "echo two | cat", "echo three"] {
        sh.run(c);
    }
    // The first command may come through the spool (read every second) after later ones.
    env.wait_until(120, "events", || env.try_count("SELECT COUNT(*) FROM events") == Some(4));
    let events = env.recent(20);
    let commands: Vec<&str> = events.iter().map(|e| e["command"].as_str().unwrap()).collect();
    // A repeated pipeline under ignoredups cannot be told from a dropped line by bash's
    // history alone; it is the one case not recorded twice.
    assert_eq!(commands, ["echo one", "echo one", "echo two | cat", "echo three"]);
    sh.exit();

    // No HISTCONTROL: the leading-space line is in history with its space, and still dropped;
    // every repeat is recorded.
    let env = Env::new();
    let mut sh = Shell::start(&env, "bash", &[], "unset HISTCONTROL HISTIGNORE");
    for c in ["echo a", " echo spaced", "echo b | cat", "echo b | cat"] {
        sh.run(c);
    }
    env.wait_until(120, "events", || env.try_count("SELECT COUNT(*) FROM events") >= Some(3));
    let events = env.recent(20);
    let commands: Vec<&str> = events.iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert_eq!(commands, ["echo a", "echo b | cat", "echo b | cat"]);
    sh.exit();
}

#[test]
fn each_shell_tells_doctor_how_it_is_hooked() {
    for (shell, how) in [("bash", "own DEBUG trap"), ("zsh", "add-zsh-hook"), ("fish", "fish_preexec")] {
        if !have_shell(shell) {
            continue;
        }
        let env = Env::new();
        let mut sh = Shell::start(&env, shell, &[], "");
        let out = sh.run(&format!("'{}' doctor", common::bin("vigil").display()));
        assert!(out.contains("the hook is loaded in this shell") && out.contains(how), "{shell}: {out}");
        sh.exit();
    }
}
