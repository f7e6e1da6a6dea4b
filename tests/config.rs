//! End-to-end: a configuration that cannot switch vigil off. A config.toml with a typo, a
//! wrong type, a value out of range and thresholds in the wrong order: the agent starts with
//! the rest, `vigil status`, `vigil doctor` and `vigil config check` name each problem with
//! its line, a real shell hears of it once, and the arguments of the commands are read strictly.

mod common;

use common::{have_shell, Env, Shell};

const BAD: &str = "[model]\ntrees = 0\n\n[score]\nwarn_att = 0.5\nwarn_at = \"high\"\nsafe_below = 0.9\nunsafe_above = 0.1\n[capture]\nbatch_max_events = 50\n";

const EXPECTED: &[&str] = &[
    "config.toml:2: model.trees: 0 is out of range",
    "config.toml:5: score.warn_att: unknown key, did you mean warn_at?",
    "config.toml:6: score.warn_at: expected a number from 0 to 1, found the string \"high\"",
    "config.toml:8: score.unsafe_above: score.safe_below (0.9) must be below score.unsafe_above (0.1)",
];

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_all(shown: &str) {
    for e in EXPECTED {
        assert!(shown.contains(e), "missing {e:?} in:\n{shown}");
    }
}

#[test]
fn a_bad_config_is_reported_everywhere_and_the_agent_runs_on_the_rest() {
    let mut env = Env::new();
    std::fs::write(env.path("config.toml"), BAD).unwrap();

    // Without an agent.
    let out = env.vigil(&["config", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_all(&text(&out));
    assert!(text(&out).contains(&env.path("config.toml").display().to_string()), "the path is shown: {}", text(&out));
    let out = env.vigil(&["config", "check", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(EXPECTED.len()), "{v}");
    assert_eq!(v["problems"][0]["line"], 2);

    // The agent starts, and the valid key applies.
    env.start_agent();
    let out = env.vigil(&["config"]);
    let shown = text(&out);
    assert!(shown.contains(&format!("# config file: {}", env.path("config.toml").display())), "{shown}");
    assert!(shown.lines().any(|l| l.starts_with("capture.batch_max_events = 50 ")), "{shown}");
    assert!(
        shown.lines().any(|l| l.starts_with("model.trees = 100 ") && l.ends_with("# default")),
        "a rejected value is not in force: {shown}"
    );
    let out = env.vigil(&["status"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_all(&text(&out));
    assert!(text(&out).contains(&format!("config    {}", env.path("config.toml").display())), "{}", text(&out));
    let out = env.vigil(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["config_problems"].as_array().map(Vec::len), Some(EXPECTED.len()), "{v}");
    assert_eq!(v["config_path"], env.path("config.toml").display().to_string());

    let out = env.vigil(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_all(&text(&out));

    // Fixed: check is clean, and doctor says the running agent needs a restart.
    std::fs::write(env.path("config.toml"), "[model]\ntrees = 20\n").unwrap();
    let out = env.vigil(&["config", "check"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no problems"), "{}", text(&out));
    let out = env.vigil(&["doctor"]);
    assert!(text(&out).contains("fixed now"), "{}", text(&out));
}

#[test]
fn a_shell_hears_of_config_problems_once() {
    if !have_shell("bash") {
        return;
    }
    let mut env = Env::new();
    std::fs::write(env.path("config.toml"), BAD).unwrap();
    env.start_agent();
    let mut sh = Shell::start(&env, "bash", &[], "");
    // The first reply may come after the hook gave up (it then spools the command): the
    // notice waits for the next command that hears back.
    let mut seen = 0;
    let mut tries = 0;
    while seen == 0 && tries < 30 {
        seen += sh.run("true").matches("vigil: config.toml:").count();
        tries += 1;
    }
    assert_eq!(seen, 1, "the notice after {tries} commands");
    for _ in 0..5 {
        let out = sh.run("echo hi");
        assert!(!out.contains("config.toml"), "said again: {out}");
    }
    sh.exit();
    let line = {
        let out = env.vigil(&["status", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["config_problems"][0].as_str().unwrap_or_default().to_string()
    };
    assert!(line.starts_with("config.toml:2: model.trees"), "{line}");
}

#[test]
fn arguments_are_read_strictly() {
    let env = Env::new();
    let out = env.vigil(&["import", "bash", "--file", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("vigil import: --file needs a value (found the option --json"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    let out = env.vigil(&["recent", "--colour"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("vigil recent: unknown option --colour"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let out = env.cmd("vigild").args(["gen-sample", "--count", "--out", "x.csv"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--count needs a value"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = env.vigil(&["config", "check", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("vigil config: unknown option --bogus"));
}
