//! CSV datasets: every event with its label (`vigil export --csv`), a synthetic labelled
//! sample (`vigild gen-sample`), and reading a labelled CSV to train on (`vigild train --csv`).

use crate::model::Example;
use crate::store::{Store, StoreError};
use crate::training::bootstrap_examples;
use std::path::Path;

/// The columns of an exported CSV, in order. `label` is the person's label of the command
/// (empty if none); `predicted` is the label vigil gave it when it ran.
pub const COLUMNS: &[&str] = &[
    "id",
    "session",
    "shell",
    "command",
    "cwd",
    "hostname",
    "started_at",
    "duration_ms",
    "exit_code",
    "label",
    "predicted",
    "p_unsafe",
    "reason",
    "model_version",
];

/// CSV errors.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// Writing or reading the file failed.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: String,
        /// The error.
        source: csv::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CSV lacks a needed column.
    #[error("{path}: no {column:?} column in the header")]
    MissingColumn {
        /// The file.
        path: String,
        /// The column.
        column: &'static str,
    },
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> DatasetError + '_ {
    move |source| DatasetError::Csv { path: path.display().to_string(), source }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes every stored event, with the person's label of its command, to `out`. Returns the
/// number of rows.
pub fn export(store: &Store, out: &Path) -> Result<u64, DatasetError> {
    let mut w = csv::Writer::from_path(out).map_err(csv_err(out))?;
    w.write_record(COLUMNS).map_err(csv_err(out))?;
    let mut failed = None;
    let n = store.for_each_event(|e, person| {
        if failed.is_some() {
            return;
        }
        let row = [
            e.id.to_string(),
            e.session.clone(),
            e.shell.clone(),
            e.command.clone(),
            opt(e.cwd.clone()),
            opt(e.hostname.clone()),
            e.started_at.to_string(),
            opt(e.duration_ms),
            opt(e.exit_code),
            person.unwrap_or("").to_string(),
            opt(e.label.clone()),
            opt(e.p_unsafe),
            opt(e.reason.clone()),
            opt(e.model_version),
        ];
        if let Err(e) = w.write_record(&row) {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed {
        return Err(csv_err(out)(e));
    }
    w.flush().map_err(|e| csv_err(out)(e.into()))?;
    Ok(n)
}

/// Writes `count` realistic labelled commands to `out`, with the columns of [`export`]:
/// 50% `safe`, 30% `unsafe`, 20% `unknown` (commands of either kind left unlabelled).
/// Deterministic for a given count.
pub fn gen_sample(count: usize, out: &Path) -> Result<(), DatasetError> {
    let corpus = bootstrap_examples();
    let safe: Vec<&Example> = corpus.iter().filter(|e| !e.unsafe_).collect();
    let unsafe_: Vec<&Example> = corpus.iter().filter(|e| e.unsafe_).collect();
    let mut rng = 0x2545_F491_4F6C_DD1Du64 ^ count as u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut w = csv::Writer::from_path(out).map_err(csv_err(out))?;
    w.write_record(COLUMNS).map_err(csv_err(out))?;
    let shells = ["bash", "zsh", "fish"];
    let cwds = ["/home/dev/src/app", "/home/dev", "/srv/app", "/tmp", "/home/dev/work/infra"];
    let mut started_at: i64 = 1_760_000_000_000;
    // Exact class counts: the first half safe, then 30% unsafe, then the rest unknown,
    // shuffled by position.
    let n_safe = count / 2;
    let n_unsafe = count * 3 / 10;
    let mut classes: Vec<u8> = std::iter::repeat_n(0u8, n_safe)
        .chain(std::iter::repeat_n(1, n_unsafe))
        .chain(std::iter::repeat_n(2, count - n_safe - n_unsafe))
        .collect();
    for i in (1..classes.len()).rev() {
        classes.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    for (i, class) in classes.into_iter().enumerate() {
        let (command, label) = match class {
            0 => (&safe[(next() % safe.len() as u64) as usize].command, "safe"),
            1 => (&unsafe_[(next() % unsafe_.len() as u64) as usize].command, "unsafe"),
            _ => {
                let pool = if next() % 2 == 0 { &safe } else { &unsafe_ };
                (&pool[(next() % pool.len() as u64) as usize].command, "unknown")
            }
        };
        started_at += 1000 + (next() % 120_000) as i64;
        let exit = if next() % 10 == 0 { 1 } else { 0 };
        let row = [
            (i + 1).to_string(),
            format!("{}-{}", shells[i % 3], 1000 + i / 50),
            shells[i % 3].to_string(),
            command.clone(),
            cwds[(next() % cwds.len() as u64) as usize].to_string(),
            "devbox".to_string(),
            started_at.to_string(),
            (next() % 5000).to_string(),
            exit.to_string(),
            label.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        w.write_record(&row).map_err(csv_err(out))?;
    }
    w.flush().map_err(|e| csv_err(out)(e.into()))?;
    Ok(())
}

/// What reading a labelled CSV found.
#[derive(Debug, Default)]
pub struct Labelled {
    /// Rows labelled safe or unsafe.
    pub examples: Vec<Example>,
    /// Rows with an empty or `unknown` label (not training data).
    pub unlabelled: usize,
    /// Rows that could not be read (wrong field count, bad UTF-8, no command, a label that is
    /// not safe/unsafe/unknown), with their line numbers (the first few).
    pub malformed: usize,
    /// Line numbers of the first malformed rows.
    pub malformed_lines: Vec<u64>,
}

/// Reads a CSV with at least `command` and `label` columns (any others are ignored).
pub fn read_labelled(path: &Path) -> Result<Labelled, DatasetError> {
    let mut r = csv::ReaderBuilder::new().flexible(false).from_path(path).map_err(csv_err(path))?;
    let headers = r.byte_headers().map_err(csv_err(path))?.clone();
    let col = |name: &'static str| {
        headers
            .iter()
            .position(|h| h == name.as_bytes())
            .ok_or(DatasetError::MissingColumn { path: path.display().to_string(), column: name })
    };
    let (ci, li) = (col("command")?, col("label")?);
    let mut out = Labelled::default();
    let bad = |out: &mut Labelled, line: u64| {
        out.malformed += 1;
        if out.malformed_lines.len() < 10 {
            out.malformed_lines.push(line);
        }
    };
    for rec in r.byte_records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad(&mut out, line);
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let (Some(cmd), Some(label)) = (rec.get(ci), rec.get(li)) else {
            bad(&mut out, line);
            continue;
        };
        let (Ok(cmd), Ok(label)) = (std::str::from_utf8(cmd), std::str::from_utf8(label)) else {
            bad(&mut out, line);
            continue;
        };
        match label.trim() {
            "" | "unknown" => out.unlabelled += 1,
            l @ ("safe" | "unsafe") if !cmd.trim().is_empty() => {
                out.examples.push(Example { command: cmd.to_string(), unsafe_: l == "unsafe", weight: 1.0 })
            }
            _ => bad(&mut out, line),
        }
    }
    Ok(out)
}

/// `vigil export`: commits the queue first, then writes the CSV on the reading connection.
pub async fn apply_export(agent: &std::sync::Arc<crate::state::Agent>, path: String) -> vigil::protocol::Response {
    agent.capture.writer().flush(std::time::Duration::from_secs(5)).await;
    let out = std::path::PathBuf::from(path);
    match agent.read(move |s| export(s, &out).map_err(|e| crate::store::StoreError::Invalid(e.to_string()))).await {
        Ok(rows) => vigil::protocol::Response::Exported { rows },
        Err(e) => crate::state::internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_has_the_right_mix_and_reads_back() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("s.csv");
        gen_sample(1000, &path).unwrap();
        let back = read_labelled(&path).unwrap();
        assert_eq!(back.malformed, 0);
        assert_eq!(back.unlabelled, 200);
        assert_eq!(back.examples.iter().filter(|e| e.unsafe_).count(), 300);
        assert_eq!(back.examples.len(), 800);
    }

    #[test]
    fn quoting_and_malformed_rows() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("x.csv");
        std::fs::write(&path, "command,label,extra\n\"echo \"\"a,b\"\"\nls\",safe,1\nrm -rf ~,unsafe,2\nls,bogus,3\nonly-two,safe\n,safe,4\npwd,,5\ntop,unknown,6\n").unwrap();
        let r = read_labelled(&path).unwrap();
        assert_eq!(r.examples.len(), 2);
        assert_eq!(r.examples[0].command, "echo \"a,b\"\nls");
        assert_eq!(r.unlabelled, 2);
        assert_eq!(r.malformed, 3, "{:?}", r.malformed_lines);
        let missing = t.path().join("m.csv");
        std::fs::write(&missing, "cmd,label\nls,safe\n").unwrap();
        assert!(matches!(read_labelled(&missing), Err(DatasetError::MissingColumn { column: "command", .. })));
    }
}
