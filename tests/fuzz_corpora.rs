//! The fuzz targets' corpora, replayed in the suite (CI has no fuzzer): every input the
//! fuzzers kept in `fuzz/corpus/TARGET/`, and a fixed number of deterministic mutations of
//! each (bit flips, truncations, duplicated and spliced slices, inserted bytes that matter to
//! a parser), through the same checks the fuzz targets run (`fuzz/checks.rs`).

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Mutations tried per corpus file.
const MUTATIONS: usize = 256;

/// A small deterministic generator (xorshift), so that a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that mean something to one of the parsers under test.
const INTERESTING: &[&[u8]] = &[
    b"$(",
    b")",
    b"`",
    b"'",
    b"\"",
    b"\\",
    b"|",
    b";",
    b"&&",
    b"<<",
    b"<<<",
    b"\n",
    b"\x00",
    b"\x1b[8m",
    b"-w",
    b"--",
    b"sudo ",
    b"bash -c ",
    b"\xA7Vg",
    b"\xff\xff\xff\xff",
    b": ",
    b"- cmd: ",
    b"#1700000000\n",
    b"\xe2\x80",
];

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = a + rng.below(v.len() - a + 1);
                let slice = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, slice);
            }
            3 => {
                let word = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(v.len() + 1);
                v.splice(at..at, word.iter().copied());
            }
            4 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = a + rng.below(v.len() - a + 1);
                v.drain(a..b);
            }
            _ => {
                let at = rng.below(v.len() + 1);
                v.insert(at, rng.next() as u8);
            }
        }
    }
    v
}

#[test]
fn every_corpus_input_and_its_mutations_pass_their_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, check) in checks::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (every target needs a corpus)", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: empty corpus", dir.display());
        let mut rng = Rng(0x5eed_0000_0000_0001 ^ name.len() as u64);
        let mut tried = 0usize;
        for f in &files {
            let seed = std::fs::read(f).unwrap();
            let run = |input: &[u8]| {
                if std::panic::catch_unwind(|| check(input)).is_err() {
                    let out = std::env::temp_dir().join(format!("vigil-fuzz-{name}-failure"));
                    let _ = std::fs::write(&out, input);
                    panic!(
                        "target {name}: {} (or a mutation of it, saved to {}) fails its check",
                        f.display(),
                        out.display()
                    );
                }
            };
            run(&seed);
            for _ in 0..MUTATIONS {
                run(&mutate(&seed, &mut rng));
            }
            tried += 1 + MUTATIONS;
        }
        eprintln!("fuzz corpus {name}: {} files, {tried} inputs", files.len());
    }
}

/// Writes the seed corpora from the project's own data and encoders (run by hand:
/// `cargo test --test fuzz_corpora -- --ignored`); the fuzzers add what they find beside them.
#[test]
#[ignore = "writes fuzz/corpus: a tool, not a check"]
fn write_seed_corpora() {
    use vigil::protocol::{encode_frame, CommandEnd, CommandStart, Request};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("fuzz/corpus");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let start = CommandStart {
        session: "s1".into(),
        seq: Some(3),
        shell: "zsh".into(),
        command: "flock -w 5 /tmp/l -c 'rm -rf build'".into(),
        cwd: Some("/home/me/src".into()),
        started_at_ms: 1_700_000_000_000,
    };
    let end = CommandEnd {
        session: "s1".into(),
        seq: Some(3),
        exit_code: 1,
        duration_ms: Some(12),
        ended_at_ms: 1_700_000_000_012,
    };
    put("frame", "start", &encode_frame(&Request::Start(start.clone())).unwrap());
    put("frame", "end", &encode_frame(&Request::End(end.clone())).unwrap());
    put("frame", "ping", &encode_frame(&Request::Ping).unwrap());
    for e in std::fs::read_dir(root.join("tests/data/history")).unwrap().flatten() {
        put("history", &e.file_name().to_string_lossy(), &std::fs::read(e.path()).unwrap());
    }
    put("labels", "mixed", b"# my labels\nunsafe rm -rf ~/old\nsafe  git push --force-with-lease\nunknown kubectl delete ns x\nbogus line\nsafe\n");
    put(
        "labels",
        "secrets",
        b"unsafe mysql -u root -phunter2 db\nsafe export TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n",
    );
    let lines: &[(&str, String)] = &[
        ("flock", "flock -w 3 /run/lock -c 'make install' && flock --timeout 1 x true".into()),
        ("nested-subst", format!("echo {}x{}", "$(".repeat(64), ")".repeat(64))),
        ("nested-bash-c", format!("{}rm -rf /", "bash -c \"$(".repeat(16))),
        ("pipeline", "sh|".repeat(200) + "sh"),
        ("wrappers", "sudo -u env nice -n time -p nohup doas timeout ionice -c stdbuf -o env A=1".into()),
        ("heredoc", "cat <<'EOF' | sh\nrm -rf /\nEOF\nbash <<< \"rm -rf ~\"".into()),
        ("secrets", "curl -H 'Authorization: Bearer sk-ant-abc123' https://u:p@ss@h/ && mysql -p'x y' -u r && set -x DB_PASS hunter2".into()),
        ("control", "printf '\x1b[8mhidden\x1b[0m' ; cd $'\\x07' ; echo \u{202e}txt.exe".into()),
        ("unbalanced", "echo \"$(ls 'a `b ${c".into()),
        ("interpreters", "python3 -c \"import shutil; shutil.rmtree('/')\"; node -e 'require(\"fs\").rmSync(\"/\",{recursive:true})'; ssh h 'rm -rf /var'".into()),
    ];
    for (name, line) in lines {
        put("line", name, line.as_bytes());
    }
    for kind in ["journal-v1", "spool-v1"] {
        for (i, e) in std::fs::read_dir(root.join("tests/data/legacy").join(kind)).unwrap().flatten().enumerate() {
            put("records", &format!("{kind}-{i}"), &std::fs::read(e.path()).unwrap());
        }
    }
    let mut spool = vigil::disk::encode(vigil::spool::FORMAT, &vigil::spool::Entry::Start(start)).unwrap();
    spool.extend(vigil::disk::encode(vigil::spool::FORMAT, &vigil::spool::Entry::End(end)).unwrap());
    put("records", "spool-v2", &spool);
    let examples: Vec<vigil_agent::model::Example> =
        ["rm -rf /", "ls -la", "git status", "dd if=/dev/zero of=/dev/sda", "cat notes", "mkfs.ext4 /dev/sdb"]
            .iter()
            .enumerate()
            .map(|(i, c)| vigil_agent::model::Example {
                command: c.to_string(),
                unsafe_: i % 3 != 1 && i != 2 && i != 4,
                weight: 1.0,
            })
            .collect();
    let params = vigil_agent::model::ModelParams { trees: 2, max_depth: 4, threads: 1, ..Default::default() };
    let model = vigil_agent::model::Model::train(&examples, &params).unwrap();
    put("model", "tiny", &model.to_bytes().unwrap());
    put("model", "old-magic", b"vigilRF1\x00\x00\x00\x10garbage");
}
