//! The person's label file (`labels.txt`): `LABEL COMMAND` lines, parsed with a line number
//! for every problem. The file is the person's: the agent only ever reads it.

use std::collections::BTreeMap;
use std::path::Path;
use vigil::protocol::{Label, LabelError};

/// Largest label file read; a larger one is reported, not loaded.
pub const MAX_LABEL_FILE: u64 = 64 << 20;

/// What a label file says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSet {
    /// Command -> (label, line it came from): safe and unsafe only, the last line winning.
    pub labels: BTreeMap<String, (Label, u64)>,
    /// Problems, each with its line number.
    pub errors: Vec<LabelError>,
}

impl LabelSet {
    /// A fingerprint of the labels (not of comments or errors): a model trained with the same
    /// fingerprint has seen these labels.
    pub fn fingerprint(&self) -> String {
        // FNV-1a over command and label: stable across runs and platforms.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (cmd, (label, _)) in &self.labels {
            for b in cmd.bytes().chain([0]).chain(label.as_str().bytes()).chain([1]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{:016x}-{}", h, self.labels.len())
    }
}

/// Why the label file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LabelFileError {
    /// It exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// It is not a text file.
    #[error("{path} is not a text file (it holds NUL bytes or is not UTF-8); labels were not loaded")]
    Binary {
        /// The file.
        path: String,
    },
    /// It is too large to be a label file.
    #[error("{path} is {size} bytes, over the {MAX_LABEL_FILE}-byte limit; labels were not loaded")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
    },
}

/// Reads and parses the label file. A missing file is an empty set.
pub fn read(path: &Path) -> Result<LabelSet, LabelFileError> {
    let name = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LabelSet::default()),
        Err(source) => return Err(LabelFileError::Unreadable { path: name, source }),
    };
    if meta.len() > MAX_LABEL_FILE {
        return Err(LabelFileError::TooLarge { path: name, size: meta.len() });
    }
    let bytes = std::fs::read(path).map_err(|source| LabelFileError::Unreadable { path: name.clone(), source })?;
    if bytes.contains(&0) {
        return Err(LabelFileError::Binary { path: name });
    }
    let text = String::from_utf8(bytes).map_err(|_| LabelFileError::Binary { path: name })?;
    Ok(parse(&text))
}

/// Parses label-file text. Bad lines are reported and skipped; the rest applies.
pub fn parse(text: &str) -> LabelSet {
    let mut set = LabelSet::default();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // Errors are shown by `vigil status` and logged: a bad line may hold a secret.
        let mut error = |e: &str| {
            set.errors.push(LabelError {
                line: line_no,
                text: shorten(&vigil::redact::redact(line)),
                error: vigil::redact::redact(e),
            })
        };
        let (word, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim_start()),
            None => (trimmed, ""),
        };
        let label = match word {
            "safe" => Label::Safe,
            "unsafe" => Label::Unsafe,
            "unknown" => Label::Unknown,
            other => {
                error(&format!("unknown label {other:?}: use safe, unsafe or unknown"));
                continue;
            }
        };
        // Labelled as it is scored: commands are redacted before they are scored, journalled
        // or stored, and so are labels (a secret in the label file never reaches the store).
        let redacted = vigil::redact::redact(rest.trim_end());
        let command = redacted.as_str();
        if command.is_empty() {
            error("no command after the label");
            continue;
        }
        match label {
            Label::Unknown => {
                set.labels.remove(command);
            }
            l => {
                set.labels.insert(command.to_string(), (l, line_no));
            }
        }
    }
    set
}

fn shorten(line: &str) -> String {
    if line.chars().count() <= 200 {
        line.to_string()
    } else {
        format!("{}…", line.chars().take(199).collect::<String>())
    }
}

/// Watches the folder of the label file (so that editors that save by renaming a temporary
/// file over it, delete and re-create it, or create it for the first time are all seen) and
/// calls `on_change` once per burst of events, after `quiet` without any.
pub fn watch(
    path: &Path,
    quiet: std::time::Duration,
    on_change: impl Fn() + Send + 'static,
) -> Result<notify::RecommendedWatcher, notify::Error> {
    use notify::Watcher;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if event.paths.iter().any(|p| p.file_name() == Some(name.as_os_str())) && !event.kind.is_access() {
                let _ = tx.send(());
            }
        }
    })?;
    watcher.watch(&dir, notify::RecursiveMode::NonRecursive)?;
    std::thread::Builder::new()
        .name("vigil-labels".into())
        .spawn(move || {
            // Debounce: one reload per burst (an editor's save is several events).
            while rx.recv().is_ok() {
                while rx.recv_timeout(quiet).is_ok() {}
                on_change();
            }
        })
        .map_err(|e| notify::Error::generic(&e.to_string()))?;
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_label_lines_are_redacted_and_look_alikes_kept() {
        let set = parse("unsafe mysql -u root -pHunter2Secret db\nsafe mkdir -pv build\nghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 ls\n");
        assert!(
            set.labels.contains_key("mysql -u root -p<redacted> db"),
            "{:?}",
            set.labels.keys().collect::<Vec<_>>()
        );
        assert!(set.labels.contains_key("mkdir -pv build"));
        let e = &set.errors[0];
        assert!(!e.text.contains("ghp_") && !e.error.contains("ghp_"), "{e:?}");
    }

    #[test]
    fn lines_labels_comments_and_errors() {
        let text = "# my labels\n\nsafe   make deploy-staging\nunsafe make deploy-prod\nmaybe rm x\nunsafe\nsafe  ls -la  \nunsafe ls -la\nunsafe terraform apply\nunknown terraform apply\n\tunsafe  kubectl delete pod x\r\n";
        let set = parse(text);
        assert_eq!(set.labels.get("make deploy-staging"), Some(&(Label::Safe, 3)));
        assert_eq!(set.labels.get("make deploy-prod"), Some(&(Label::Unsafe, 4)));
        assert_eq!(set.labels.get("ls -la"), Some(&(Label::Unsafe, 8)), "the later line wins");
        assert_eq!(set.labels.get("terraform apply"), None, "unknown withdraws");
        assert_eq!(set.labels.get("kubectl delete pod x"), Some(&(Label::Unsafe, 11)));
        assert_eq!(set.errors.len(), 2);
        assert_eq!(set.errors[0].line, 5);
        assert!(set.errors[0].error.contains("maybe"));
        assert_eq!(set.errors[1].line, 6);
    }

    #[test]
    fn files_missing_binary_and_unicode() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(read(&t.path().join("none.txt")).unwrap(), LabelSet::default());
        let bin = t.path().join("bin.txt");
        std::fs::write(&bin, b"safe ls\n\0\x01\x02").unwrap();
        assert!(matches!(read(&bin), Err(LabelFileError::Binary { .. })));
        let bad_utf8 = t.path().join("latin1.txt");
        std::fs::write(&bad_utf8, b"safe caf\xe9\n").unwrap();
        assert!(matches!(read(&bad_utf8), Err(LabelFileError::Binary { .. })));
        let ok = t.path().join("labels.txt");
        std::fs::write(&ok, "unsafe rm -rf ~/Bilder/ü ✓\n").unwrap();
        assert_eq!(read(&ok).unwrap().labels.len(), 1);
    }

    #[test]
    fn fingerprint_follows_labels_only() {
        let a = parse("safe ls\n# c\nunsafe rm -rf x\n");
        let b = parse("unsafe rm -rf x\n\nsafe ls\nbogus\n");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), parse("safe ls\n").fingerprint());
    }
}
