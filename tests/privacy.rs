//! End-to-end: secrets in commands never reach the disk, whichever way the command travels.

mod common;

use common::{Env, Shell};
use std::process::Stdio;

const SECRETS: &[&str] = &[
    "hunter2-live",
    "AKIAIOSFODNN7EXAMPLE",
    "s3cr3t-spooled",
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "pa55-typed-in-shell",
    "corp-tok-7731",
];

/// Every file under the home, as bytes, searched for each secret.
fn assert_nowhere(env: &Env) {
    let mut hits = Vec::new();
    let mut stack = vec![env.home().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o700, "folder {} is {mode:o}, not 0700", p.display());
                stack.push(p);
                continue;
            }
            // The test's own rc files hold the commands it types.
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name == "bashrc" || name.ends_with("_history") || name == "labels.txt" {
                continue;
            }
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            if name != "config.toml" {
                assert_eq!(mode, 0o600, "{} is {mode:o}, not 0600", p.display());
            }
            let bytes = std::fs::read(&p).unwrap_or_default();
            for s in SECRETS {
                if bytes.windows(s.len()).any(|w| w == s.as_bytes()) {
                    hits.push(format!("{s} in {}", p.display()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "secrets on disk: {hits:?}");
}

fn hook(env: &Env, seq: u64, command: &str, extra: &[(&str, &str)]) {
    let mut c = env.cmd("vigil");
    c.args([
        "hook",
        "start",
        "--shell",
        "bash",
        "--session",
        "priv",
        "--seq",
        &seq.to_string(),
        "--cwd",
        "/tmp",
        "--",
        command,
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for (k, v) in extra {
        c.env(k, v);
    }
    assert!(c.status().unwrap().success());
}

#[test]
fn secrets_never_reach_the_disk() {
    let mut env = Env::new();
    std::fs::write(env.path("config.toml"), "[model]\ntrees = 20\n[redact]\nextra_patterns = ['corp-tok-[0-9]+']\nignore_commands = ['^vault ']\nignore_folders = ['/srv/secret']\n").unwrap();
    // Spooled while no agent can start: the hook applies the built-in redaction and the
    // person's [redact] policy before writing the spool.
    let away = [("VIGIL_AGENT_BIN", "/nonexistent")];
    hook(&env, 1, "mysql -u root -ps3cr3t-spooled shop", &away);
    hook(&env, 2, "deploy --key corp-tok-7731 --env staging", &away);
    hook(&env, 3, "vault kv get secret/spooled", &away);
    let mut c = env.cmd("vigil");
    c.args([
        "hook",
        "start",
        "--shell",
        "bash",
        "--session",
        "priv",
        "--seq",
        "4",
        "--cwd",
        "/srv/secret/app",
        "--",
        "cat spooled-in-secret-folder",
    ])
    .env("VIGIL_AGENT_BIN", "/nonexistent");
    assert!(c.status().unwrap().success());
    let files: Vec<_> = std::fs::read_dir(env.path("spool"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".event"))
        .collect();
    assert_eq!(files.len(), 2, "the two recorded commands are spooled, the two ignored ones are not");
    let spooled: Vec<u8> = files.iter().flat_map(|e| std::fs::read(e.path()).unwrap()).collect();
    let holds = |needle: &[u8]| spooled.windows(needle.len()).any(|w| w == needle);
    assert!(holds(b"deploy --key <redacted> --env staging"), "the extra pattern's command is spooled, redacted");
    assert!(!holds(b"s3cr3t-spooled") && !holds(b"corp-tok-7731"), "the spool holds a secret");
    assert!(!holds(b"vault kv") && !holds(b"spooled-in-secret-folder"), "the spool holds an ignored command");
    env.start_agent();
    hook(&env, 12, "export DB_PASSWORD=hunter2-live", &[]);
    hook(&env, 13, "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", &[]);
    hook(&env, 14, "git clone https://ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/acme/app.git", &[]);
    // Not recorded at all: an ignored command, and a command in an ignored folder.
    hook(&env, 15, "vault kv get secret/x", &[]);
    let mut c = env.cmd("vigil");
    c.args([
        "hook",
        "start",
        "--shell",
        "bash",
        "--session",
        "priv",
        "--seq",
        "16",
        "--cwd",
        "/srv/secret/app",
        "--",
        "ls -la",
    ]);
    assert!(c.status().unwrap().success());
    // Typed in a real shell.
    if common::have_shell("bash") {
        let mut sh = Shell::start(&env, "bash", &[], "");
        sh.run("curl -s -u admin:pa55-typed-in-shell http://127.0.0.1:9/ || true");
        sh.exit();
    }
    // Scoring judges the redacted text, and says so.
    let out = env.vigil(&["score", "--json", "export API_KEY=hunter2-live"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["command"], "export API_KEY=<redacted>");
    let events = env.recent(50);
    let commands: Vec<&str> = events.iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert!(commands.contains(&"mysql -u root -p<redacted> shop"), "{commands:?}");
    assert!(commands.contains(&"deploy --key <redacted> --env staging"), "{commands:?}");
    assert!(commands.contains(&"export DB_PASSWORD=<redacted>"), "{commands:?}");
    assert!(commands.contains(&"git clone https://<redacted>@github.com/acme/app.git"), "{commands:?}");
    assert!(
        !commands.iter().any(|c| c.starts_with("vault") || *c == "ls -la"),
        "ignored commands were recorded: {commands:?}"
    );
    let csv = env.path("export.csv");
    assert!(env.vigil(&["export", "--csv", csv.to_str().unwrap()]).status.success());
    // SIGTERM: flush and leave the files as a person would find them.
    env.kill_agent(libc::SIGTERM);
    assert_nowhere(&env);
}
