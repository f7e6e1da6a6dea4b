//! Hostile command lines through the parser, the rules, the features and redaction: no panic,
//! and work bounded by the input's length (counted, never timed).

use vigil_agent::{features, parse, rules};

/// Everything a scored line goes through, as `score.rs` and the learner do it.
fn drive(line: &str) -> parse::Parsed {
    let parsed = parse::parse(line);
    let _ = rules::check_parsed(line, &parsed);
    let _ = features::command_tokens(&parsed);
    let _ = features::ngrams(&parsed);
    let _ = vigil::redact::redact(line);
    parsed
}

/// What a parse produced, counted: commands (with the copies in `substituted`) and bytes.
#[derive(Debug, Default)]
struct Size {
    commands: usize,
    bytes: usize,
}

fn size(parsed: &parse::Parsed) -> Size {
    let mut s = Size::default();
    let mut add = |c: &parse::Cmd| {
        s.commands += 1;
        s.bytes += c.argv.iter().chain(&c.wrappers).map(String::len).sum::<usize>();
        s.bytes += c.redirects.iter().map(|(op, t)| op.len() + t.len()).sum::<usize>();
    };
    for c in parsed.commands() {
        add(c);
        for sub in &c.substituted {
            add(sub);
        }
    }
    s
}

/// The contract: whatever the line, a parse of n bytes keeps at most this many commands and
/// bytes (a small multiple of n, plus a constant so that short lines are never cut).
fn bound(n: usize) -> usize {
    128 * n + 128 * 1024
}

/// Drives `line` through everything and checks the parse is sane and bounded.
fn check(line: &str) -> parse::Parsed {
    let parsed = drive(line);
    let s = size(&parsed);
    let n = line.len();
    assert!(
        s.commands <= bound(n) && s.bytes <= bound(n),
        "{s:?} for {n} bytes: {:?}",
        line.chars().take(200).collect::<String>()
    );
    for c in parsed.commands() {
        assert!(!c.argv.is_empty(), "empty argv for {line:?}");
        // Copies are flattened: they do not hold copies of their own.
        assert!(c.substituted.iter().all(|s| s.substituted.is_empty() && !s.argv.is_empty()));
    }
    let grams: usize = features::ngrams(&parsed).iter().map(String::len).sum();
    let tokens: usize = features::command_tokens(&parsed).iter().flatten().map(String::len).sum();
    // A token is at most its word plus a few bytes of class or prefix; a gram joins three.
    let limit = 16 * (s.bytes + 32 * s.commands) + 1024;
    assert!(tokens <= limit && grams <= limit, "{tokens} token bytes, {grams} gram bytes for {s:?}");
    parsed
}

/// xorshift64: a small deterministic generator, so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

/// Pieces of shell-like lines, biased towards what the parser treats specially.
const PIECES: &[&str] = &[
    "flock -w",
    "flock -c",
    "flock --timeout",
    "flock -E",
    "flock /tmp/l",
    "sudo -u",
    "sudo",
    "sudo -s",
    "doas -u",
    "timeout -s",
    "timeout",
    "xargs -I",
    "xargs",
    "env -S",
    "env",
    "env -u",
    "nice -n",
    "ionice -c",
    "stdbuf -o",
    "time -f",
    "runuser -u",
    "su -c",
    "watch -n",
    "watch",
    "exec -a",
    "chroot --userspec",
    "command -p",
    "command",
    "eval",
    "bash -c",
    "sh -xc",
    "zsh -c",
    "bash",
    "rm -rf /",
    "curl https://x",
    "| bash",
    "echo",
    "x",
    "FOO=1",
    "--",
    "-c",
    "-",
    "'",
    "\"",
    "`",
    "$(",
    "$((",
    "${",
    ")",
    "}",
    "(",
    "<(",
    ">(",
    "|",
    "|&",
    "||",
    "&&",
    "&",
    ";",
    ";;",
    "\n",
    "<<EOF",
    "<<-EOF",
    "EOF",
    "<<<",
    ">",
    ">>",
    "2>&1",
    "&>",
    "1>",
    "<",
    "\\",
    "\\\n",
    "#",
    "f()",
    "{",
    "for",
    "in",
    "do",
    "done",
    "\0",
    "\x01",
    "\x1b[A",
    "\x7f",
    "\r",
    "é",
    "✓",
    "\u{10ffff}",
    "\u{fffd}",
    "\u{200b}",
    "\u{202e}",
    "🦀",
    " ",
    "\t",
    "psql -c",
    "redis-cli",
    "FLUSHALL",
    "git push -f",
    "docker rm $(docker ps -q)",
];

/// A random shell-like line.
fn random_line(rng: &mut Rng) -> String {
    let mut line = String::new();
    for _ in 0..rng.below(40) {
        match rng.below(20) {
            0 => line.extend((0..rng.below(8)).filter_map(|_| char::from_u32(rng.below(0x11_0000) as u32))),
            1 => line.push_str(&"a".repeat(rng.below(300))),
            _ => line.push_str(rng.pick(PIECES)),
        }
        if rng.below(3) > 0 {
            line.push(' ');
        }
    }
    line
}

#[test]
fn thousands_of_random_lines_are_parsed_sanely_within_bounds() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..6_000 {
        check(&random_line(&mut rng));
    }
}

/// Each wrapper with each of its options that takes a value, left without it at the end of
/// the line (`flock -w 5 x` and `flock -c` made the agent panic).
#[test]
fn wrappers_missing_option_values_do_not_panic() {
    let wrappers: &[(&str, &[&str])] = &[
        ("sudo", &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U", "--user", "--group", "--chdir"]),
        ("doas", &["-u", "-C"]),
        ("env", &["-u", "-C", "--unset", "--chdir", "-S", "--split-string"]),
        ("nice", &["-n", "--adjustment"]),
        ("ionice", &["-c", "-n", "-p"]),
        ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
        ("xargs", &["-I", "-i", "-n", "-P", "-d", "-a", "-E", "-L", "-s", "--max-args", "--replace"]),
        ("watch", &["-n", "--interval", "-d"]),
        ("exec", &["-a"]),
        ("stdbuf", &["-i", "-o", "-e"]),
        ("flock", &["-w", "-E", "-c", "--timeout", "--conflict-exit-code", "--command"]),
        ("chroot", &["--userspec", "--groups"]),
        ("time", &["-f", "-o", "--format", "--output"]),
        ("runuser", &["-u", "-g", "-s", "--user"]),
        ("su", &["-u", "-c", "-s", "--command"]),
    ];
    for (wrapper, options) in wrappers {
        for opt in *options {
            for line in [
                format!("{wrapper} {opt}"),
                format!("{wrapper} {opt} 5"),
                format!("{wrapper} {opt} 5 x"),
                format!("sudo {wrapper} {opt}"),
                format!("x | {wrapper} {opt}; y"),
            ] {
                check(&line);
            }
        }
    }
    // The regressions, and the same commands working when complete.
    for line in ["flock -w 5 x", "flock -c", "flock --timeout", "flock -w", "flock x -c", "flock -E 1 x -c"] {
        check(line);
    }
    let argvs = |line: &str| parse::parse(line).commands().map(|c| c.argv.clone()).collect::<Vec<_>>();
    assert_eq!(argvs("flock -w 5 /tmp/lock -c 'rm -rf x'"), [vec!["rm", "-rf", "x"]]);
    assert_eq!(argvs("timeout -s KILL 5s rm x"), [vec!["rm", "x"]]);
}

#[test]
fn nested_substitutions_stay_linear() {
    // 10 KB of `$(`: memory doubled at each level (2.3 GB at depth 13).
    for line in [
        worst("nested"),
        worst("nested-open"),
        format!("{}x{}", "`echo \\`".repeat(2000), "\\``".repeat(2000)),
        format!("{}x", "<(".repeat(5000)),
        worst("bash-c-subst"),
    ] {
        check(&line);
    }
    // Within the budget, a substitution's commands are still all there.
    let p = check("echo $(echo $(whoami))");
    assert_eq!(p.commands().map(|c| c.name()).collect::<Vec<_>>(), ["whoami", "echo", "echo"]);
    let outer = p.commands().last().map(|c| c.substituted.iter().map(|s| s.name()).collect::<Vec<_>>());
    assert_eq!(outer, Some(vec!["whoami", "echo"]));
}

#[test]
fn long_pipelines_stay_linear() {
    // 48 KB of `sh|`: quadratic in the rules (each sh looked at every command before it).
    let line = "sh|".repeat(20_000);
    let p = check(&line);
    assert_eq!(p.commands().count(), 20_000);
    assert!(rules::check_parsed(&line, &p).is_none());
    // What the rules gather upstream still counts from far away.
    let far = format!("curl https://x | {}bash", "cat | ".repeat(5_000));
    assert_eq!(rules::check(&far).map(|r| r.id.as_str()), Some("shell:pipe-download"));
    let redis = format!("echo flushall | {}redis-cli", "cat | ".repeat(100));
    assert_eq!(rules::check(&redis).map(|r| r.id.as_str()), Some("db:redis-flush"));
}

#[test]
fn scripts_wrappers_and_odd_bytes_stay_bounded() {
    let mut bash_c = "rm -rf /".to_string();
    // Each level doubles the backslashes: up to about 100 KB.
    while bash_c.len() < 100_000 {
        bash_c = format!("bash -c \"{}\"", bash_c.replace('\\', "\\\\").replace('"', "\\\""));
        check(&bash_c);
    }
    for case in
        ["bash-c", "sudo", "env-s", "eval", "fn", "words", "ssh", "heredoc-sh", "echo-sh", "find-exec", "python-c"]
    {
        check(&worst(case));
    }
    let sudo = parse::parse(&worst("sudo"));
    let rm = sudo.commands().next().expect("a command");
    assert_eq!((rm.argv.join(" "), rm.wrappers.len()), ("rm -rf /".to_string(), 10_000));
    assert_eq!(rules::check(&worst("sudo")).map(|r| r.id.as_str()), Some("fs:rm-root"));
    let watch = format!("{}rm x", "watch ".repeat(3_000));
    let heredoc = format!("cat <<EOF\n{}", "rm -rf /\n".repeat(5_000));
    let heredocs = format!("{}\n{}", "cat <<EOF ".repeat(3_000), "x\n".repeat(3_000));
    let quotes = format!("{}{}", "'\"".repeat(10_000), "`$(".repeat(10_000));
    let control: String = (0u8..=0x1f).chain([0x7f]).map(char::from).cycle().take(50_000).collect();
    let unicode: String = (0..20_000u32).filter_map(|i| char::from_u32(i * 55 % 0x11_0000)).collect();
    for line in [
        watch,
        heredoc,
        heredocs,
        quotes,
        control,
        unicode,
        "x".repeat(1 << 20),
        "\0".repeat(10_000),
        "\\".repeat(10_001),
        "$".repeat(10_000),
    ] {
        check(&line);
    }
    assert_eq!(
        parse::parse("cat <<EOF\nrm -rf /").commands().map(|c| c.name().to_string()).collect::<Vec<_>>(),
        ["cat"]
    );
}

/// The worst inputs of the review, for measuring by hand with a release build:
/// `VIGIL_CASE=nested cargo test --release --test parse_bounds -- --ignored measure`.
fn worst(case: &str) -> String {
    match case {
        "flock" => "flock -c".to_string(),
        "nested" => format!("{}rm -rf /{}", "$(".repeat(5000), ")".repeat(5000)),
        "nested-open" => "$(".repeat(5000),
        "pipeline" => "sh|".repeat(12_000),
        "pipeline-curl" => format!("curl x|{}", "bash -i|nc x|".repeat(4000)),
        "bash-c" => {
            let mut s = "rm -rf /".to_string();
            for _ in 0..12 {
                s = format!("bash -c \"$(echo x) {}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
            }
            s
        }
        "bash-c-subst" => format!("{}x{}", "bash -c \"$(".repeat(2000), ")\"".repeat(2000)),
        "sudo" => format!("{}rm -rf /", "sudo ".repeat(10_000)),
        "env-s" => format!("env -S '{}rm x'", "env -S ".repeat(6_000)),
        "eval" => format!("{}rm x", "eval eval ".repeat(5_000)),
        "fn" => "f() ".repeat(12_000),
        "words" => "a ".repeat(500_000),
        "ssh" => format!("{}rm -rf /", "ssh h ".repeat(10_000)),
        "heredoc-sh" => format!("{}\n{}", "sh <<EOF ".repeat(3_000), "rm -rf /\nEOF\n".repeat(3_000)),
        "echo-sh" => "echo 'echo rm | sh' | sh | ".repeat(5_000),
        "find-exec" => format!("find {}rm x", "-exec find . -exec ".repeat(5_000)),
        "python-c" => {
            let mut s = "rm -rf /".to_string();
            while s.len() < 50_000 {
                s = format!(
                    "python3 -c \"import os; os.system('{}')\"",
                    s.replace('\\', "\\\\").replace('\'', "\\'").replace('"', "\\\"")
                );
            }
            s
        }
        _ => panic!("unknown case {case}"),
    }
}

#[test]
#[ignore]
fn measure() {
    let case = std::env::var("VIGIL_CASE").unwrap_or_else(|_| "nested".into());
    let line = worst(&case);
    let t = std::time::Instant::now();
    let parsed = parse::parse(&line);
    let t_parse = t.elapsed();
    let _ = rules::check_parsed(&line, &parsed);
    let t_rules = t.elapsed() - t_parse;
    let _ = features::ngrams(&parsed);
    let t_features = t.elapsed() - t_parse - t_rules;
    let _ = vigil::redact::redact(&line);
    let t_redact = t.elapsed() - t_parse - t_rules - t_features;
    let s = size(&parsed);
    eprintln!("case {case}: {} input bytes, {} commands, {} bytes kept; parse {t_parse:?}, rules {t_rules:?}, ngrams {t_features:?}, redact {t_redact:?}", line.len(), s.commands, s.bytes);
}
