//! End-to-end: the person teaches vigil through the label file while the agent runs.

mod common;

use common::Env;
use serde_json::Value;
use std::time::Duration;

fn json(env: &Env, args: &[&str]) -> Value {
    let out = env.vigil(args);
    assert!(out.status.success(), "vigil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("vigil {args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn current_version(env: &Env) -> i64 {
    json(env, &["status", "--json"])["model_version"].as_i64().unwrap_or(0)
}

fn p_unsafe(env: &Env, command: &str) -> f64 {
    json(env, &["score", "--json", command])["p_unsafe"].as_f64().unwrap_or(-1.0)
}

/// Labels for a made-up in-house tool the corpus has never seen: `shipit` to production is
/// unsafe, to a sandbox safe.
fn tool_labels() -> String {
    let mut s = String::from("# my labels\n");
    for region in ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1", "sa-east-1"] {
        for svc in ["billing", "auth", "search"] {
            s.push_str(&format!("unsafe shipit --target production --region {region} {svc}\n"));
            s.push_str(&format!("safe shipit --target sandbox --region {region} {svc}\n"));
        }
    }
    s
}

#[test]
fn labels_retrain_the_model_and_versions_can_be_rolled_back() {
    let mut env = Env::new();
    std::fs::write(
        env.path("config.toml"),
        "[model]\ntrees = 40\n[learn]\nretrain_delay_secs = 0\nretrain_min_interval_secs = 0\n",
    )
    .unwrap();
    env.start_agent();
    env.wait_until(600, "model v1", || current_version(&env) == 1);

    // Edit the file directly (as an editor writing in place would).
    std::fs::write(env.path("labels.txt"), tool_labels()).unwrap();
    env.wait_until(600, "model v2 from the label file", || current_version(&env) == 2);
    let status = json(&env, &["status", "--json"]);
    assert_eq!(status["labels"], 36);
    // Unseen variants (another region, another service) are judged like the labelled ones.
    let prod = p_unsafe(&env, "shipit --target production --region ca-central-1 payments");
    let sandbox = p_unsafe(&env, "shipit --target sandbox --region ca-central-1 payments");
    assert!(prod > 0.5 && sandbox < 0.5, "production {prod}, sandbox {sandbox}");
    // The exact labelled command applies as the label, not as a guess.
    let exact = json(&env, &["score", "--json", "shipit --target sandbox --region us-east-1 auth"]);
    assert_eq!((exact["label"].as_str(), exact["reason"].as_str()), (Some("safe"), Some("label")));

    // Replace via rename (how most editors save), with a malformed line in it.
    let mut text = tool_labels();
    text.push_str("perhaps shipit --target qa\nunsafe make nuke-staging\n");
    let tmp = env.path(".labels.txt.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, env.path("labels.txt")).unwrap();
    env.wait_until(600, "model v3 after the rename", || current_version(&env) == 3);
    let status = json(&env, &["status", "--json"]);
    let errors = status["label_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 38);
    assert!(errors[0]["error"].as_str().unwrap().contains("perhaps"));
    assert_eq!(status["labels"], 37, "the other lines still apply");
    assert_eq!(json(&env, &["score", "--json", "make nuke-staging"])["label"], "unsafe");

    // `vigil label` appends, and the label applies before any retrain.
    let out = env.vigil(&["label", "unsafe", "make", "nuke-prod"]);
    assert!(out.status.success());
    assert!(std::fs::read_to_string(env.path("labels.txt")).unwrap().ends_with("unsafe make nuke-prod\n"));
    env.wait_until(120, "the label in force", || {
        json(&env, &["score", "--json", "make nuke-prod"])["reason"] == "label"
    });
    // A rule still wins over a label.
    env.vigil(&["label", "safe", "rm", "-rf", "~"]);
    env.wait_until(120, "label read", || json(&env, &["status", "--json"])["labels"] == 39);
    assert_eq!(json(&env, &["score", "--json", "rm -rf ~"])["reason"], "rule:fs:rm-home");

    // Rollback: version 1 is current again, until the next label change.
    env.wait_until(600, "the retrain that saw all 39 labels", || {
        json(&env, &["status", "--json"])["last_training"].as_str().is_some_and(|t| t.contains("39 personal labels"))
    });
    let newest = current_version(&env);
    assert!(env.vigil(&["rollback", "1"]).status.success());
    assert_eq!(current_version(&env), 1);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(current_version(&env), 1, "no retrain without a label change");
    let models = env.vigil(&["models", "--json"]);
    let models: Vec<Value> =
        String::from_utf8_lossy(&models.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(models.len() as i64, newest);
    assert!(models
        .iter()
        .all(|m| m["report"]["accuracy"].as_f64().is_some()
            && m["report"]["per_class"]["unsafe"]["f1"].as_f64().is_some()));
    assert_eq!(models.iter().filter(|m| m["current"] == true).count(), 1);

    // vigil train retrains now and prints its report.
    let report = json(&env, &["train", "--json"]);
    for key in
        ["model_version", "n_train", "n_test", "accuracy", "per_class", "confusion", "top_features", "train_seconds"]
    {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
    }
    assert_eq!(report["personal_labels"], 39);
    assert_eq!(current_version(&env), report["model_version"].as_i64().unwrap());
}

#[test]
fn the_guard_keeps_a_worse_model_out() {
    let mut env = Env::new();
    // A negative margin makes every new model "worse" than the current one: the guard's
    // mechanism, tested deterministically.
    std::fs::write(
        env.path("config.toml"),
        "[model]\ntrees = 20\n[learn]\nretrain_delay_secs = 0\nretrain_min_interval_secs = 0\nguard_margin = -1.0\n",
    )
    .unwrap();
    env.start_agent();
    env.wait_until(600, "model v1", || current_version(&env) == 1);
    std::fs::write(env.path("labels.txt"), "safe rm -rf ~/Documents\nsafe git push --force\n").unwrap();
    env.wait_until(600, "the guard's verdict on model v2", || {
        json(&env, &["status", "--json"])["last_training"].as_str().is_some_and(|t| t.contains("not made current"))
    });
    let status = json(&env, &["status", "--json"]);
    assert_eq!(status["model_version"], 1, "the worse model was made current");
    let out = env.vigil(&["models", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2, "the held-back model is stored");
}

#[test]
fn exported_csv_trains_unchanged() {
    let mut env = Env::new();
    env.start_agent();
    // A few events, with commas, quotes and newlines, some labelled.
    let commands = [
        "echo \"a,b\"",
        "printf 'x\ny'",
        "rm -rf ~",
        "ls -la",
        "git push --force",
        "make build",
        "cat \"it's\"",
        "docker ps",
    ];
    let mut conn = vigil::connection::Connection::connect(
        &vigil::paths::Paths::resolve(Some(env.home().to_path_buf()), None).unwrap(),
        Duration::from_secs(2),
    )
    .unwrap();
    for (i, c) in commands.iter().enumerate() {
        let r = conn
            .request(&vigil::protocol::Request::Start(vigil::protocol::CommandStart {
                session: "csv".into(),
                seq: Some(i as u64),
                shell: "bash".into(),
                command: c.to_string(),
                cwd: Some("/tmp".into()),
                started_at_ms: vigil::now_ms() + i as i64,
            }))
            .unwrap();
        assert!(matches!(r, vigil::protocol::Response::Started { recorded: true, .. }));
    }
    std::fs::write(
        env.path("labels.txt"),
        "unsafe rm -rf ~\nunsafe git push --force\nsafe ls -la\nsafe make build\nsafe echo \"a,b\"\n",
    )
    .unwrap();
    env.wait_until(120, "labels", || json(&env, &["status", "--json"])["labels"] == 5);
    let csv = env.path("export.csv");
    let out = env.vigil(&["export", "--csv", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("id,session,shell,command,cwd,hostname,started_at,duration_ms,exit_code,label,"));
    assert!(text.contains("\"echo \"\"a,b\"\"\""), "quotes and commas quoted: {text}");
    assert!(text.contains("\"printf 'x\ny'\""), "newline kept inside quotes");
    let trained = env.cmd("vigild").args(["train", "--csv", csv.to_str().unwrap(), "--json"]).output().unwrap();
    assert!(trained.status.success(), "{}", String::from_utf8_lossy(&trained.stderr));
    let report: Value = serde_json::from_slice(&trained.stdout).unwrap();
    assert_eq!(report["rows_malformed"], 0);
    assert_eq!(report["rows_unlabelled"], 3);
    assert_eq!(report["n_train"].as_u64().unwrap() + report["n_test"].as_u64().unwrap(), 5);
}

#[test]
fn a_model_of_an_older_format_is_replaced_at_start() {
    let mut env = Env::new();
    env.start_agent();
    env.wait_until(600, "model v1", || current_version(&env) == 1);
    let _ = env.vigil(&["agent", "stop"]);
    env.wait_until(120, "agent stopped", || env.agent_pid().is_none());
    // What an earlier vigil stored: format 1's mark ("vigilRF1", bincode) before a body.
    rusqlite::Connection::open(env.path("vigil.db"))
        .unwrap()
        .execute("UPDATE models SET blob = x'766967696c5246310102030405' WHERE version = 1", [])
        .unwrap();
    env.start_agent();
    env.wait_until(600, "a new model", || current_version(&env) == 2);
    assert!(p_unsafe(&env, "git status") < 0.5);
    let listed = env.vigil(&["rollback", "1"]);
    assert!(!listed.status.success());
    assert!(
        String::from_utf8_lossy(&listed.stderr).contains("older vigil"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    // A version that is not there is named, with the versions there are.
    let missing = env.vigil(&["rollback", "9"]);
    let said = String::from_utf8_lossy(&missing.stderr).into_owned();
    assert_eq!(missing.status.code(), Some(1), "{said}");
    assert!(said.contains("there is no model v9; the versions are v1, v2 (current)"), "{said}");
    // A version that cannot be read is never made current.
    assert_eq!(current_version(&env), 2);
    assert!(p_unsafe(&env, "git status") < 0.5);
    let status = json(&env, &["status", "--json"]);
    let problems = status["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| p.as_str().unwrap().contains("model v1 is unreadable")), "{problems:?}");
    let _ = env.vigil(&["agent", "stop"]);
}
