//! The spool: events that hooks keep while no agent answers, taken in by the agent once it
//! listens, and every second after.
//!
//! The spool is a folder with one file per event. A hook writes its record to a temporary name
//! and renames it into place, so the agent only ever sees whole files, and never one a hook is
//! still writing (with a single shared file, a hook could append to it just after the agent
//! had read it and removed it, and the event was lost). Names sort in the order events were
//! spooled. The agent claims a file (moves it into `claimed/`) before it processes it, so a
//! file that was being processed when the agent died is found there at the next start and
//! moved to `quarantine/`: a poison event is kept for the person, never retried into a crash
//! loop, and never deleted.
//!
//! Each file holds records in the spool's own format (see `disk`), read across upgrades.

#![deny(clippy::indexing_slicing)]

use crate::disk::{self, Decoded, Format};
use crate::protocol::{CommandEnd, CommandStart, Request};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The spool's format version: 1 was the protocol-5 wire frame, 2 the record of [`disk`].
pub const FORMAT: u16 = 2;

/// The spool holds at most this many events; past it a hook drops the event and logs why
/// (an agent that never comes back must not fill the disk).
pub const MAX_FILES: usize = 20_000;

/// Largest spool file read (a record of the largest command, with room).
const MAX_FILE_BYTES: u64 = 2 * disk::MAX_RECORD_LEN as u64;

/// One spooled event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    /// A command about to run.
    Start(CommandStart),
    /// The end of a session's running command.
    End(CommandEnd),
}

impl Entry {
    /// The request the agent handles for this entry.
    pub fn into_request(self) -> Request {
        match self {
            Entry::Start(s) => Request::Start(s),
            Entry::End(e) => Request::End(e),
        }
    }
}

impl Format for Entry {
    const CURRENT: u16 = FORMAT;

    fn decode(version: u16, payload: &[u8]) -> Result<Self, String> {
        match version {
            2 => disk::postcard_exact(payload),
            v => Err(format!("spool format {v} is newer than this vigil ({FORMAT})")),
        }
    }

    /// Protocol 5's `Request::Start` (variant 1) and `Request::End` (variant 2), in bincode.
    fn decode_legacy(payload: &[u8]) -> Result<Self, String> {
        disk::legacy::read(payload, |r| match r.varint()? {
            1 => Ok(Entry::Start(CommandStart {
                session: r.string()?,
                seq: r.option(|r| r.varint())?,
                shell: r.string()?,
                command: r.string()?,
                cwd: r.option(|r| r.string())?,
                started_at_ms: r.signed()?,
            })),
            2 => Ok(Entry::End(CommandEnd {
                session: r.string()?,
                seq: r.option(|r| r.varint())?,
                exit_code: r.i32()?,
                duration_ms: r.option(|r| r.signed())?,
                ended_at_ms: r.signed()?,
            })),
            v => Err(format!("request variant {v} does not belong in a spool")),
        })
    }
}

/// Why an event could not be spooled.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Only starts and ends are spooled.
    #[error("only command starts and ends are spooled")]
    NotAnEvent,
    /// The spool already holds [`MAX_FILES`] events.
    #[error("the spool is full ({MAX_FILES} events waiting for the agent)")]
    Full,
    /// The record could not be encoded.
    #[error(transparent)]
    Encode(#[from] disk::RecordError),
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// Keeps one start or end in the spool folder (created 0700; the file 0600).
pub fn append(dir: &Path, req: &Request) -> Result<(), SpoolError> {
    let entry = match req {
        Request::Start(s) => Entry::Start(s.clone()),
        Request::End(e) => Entry::End(e.clone()),
        _ => return Err(SpoolError::NotAnEvent),
    };
    let record = disk::encode(FORMAT, &entry)?;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    if count_events(dir, MAX_FILES) >= MAX_FILES {
        return Err(SpoolError::Full);
    }
    let name = format!("{:032}-{:010}", now_nanos(), std::process::id());
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = std::fs::OpenOptions::new().create_new(true).write(true).mode(0o600).open(&tmp)?;
        file.write_all(&record)?;
    }
    std::fs::rename(&tmp, dir.join(format!("{name}.event")))?;
    Ok(())
}

fn count_events(dir: &Path, stop_at: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".event")).take(stop_at).count()
}

/// Keeps an event the agent could not take, under the person's privacy policy: the
/// `[redact]` section of the configuration file at `config` (extra patterns, ignored commands
/// and folders) and the built-in redaction apply before anything reaches the disk, as they do
/// on the agent's side. A start the policy does not record is not kept (`Ok(false)`); its end,
/// which carries no command, is kept and later matches nothing.
pub fn keep(dir: &Path, config: &Path, req: &Request) -> Result<bool, SpoolError> {
    match req {
        Request::Start(s) => {
            let privacy = crate::privacy::Privacy::from_config_file(config);
            if !privacy.records(&s.command, s.cwd.as_deref()) {
                return Ok(false);
            }
            let mut s = s.clone();
            s.command = privacy.redact(&s.command);
            append(dir, &Request::Start(s))?;
        }
        other => append(dir, other)?,
    }
    Ok(true)
}

/// What the spool folder holds.
#[derive(Debug, Default)]
pub struct Listing {
    /// Spooled event files, oldest first.
    pub events: Vec<PathBuf>,
    /// Entries that are not regular files (a FIFO, a folder, a symlink, a device): never
    /// opened, reported.
    pub strange: Vec<PathBuf>,
}

/// Lists the spooled events, oldest first, without opening any of them. Temporary files of
/// hooks that died while writing are removed once they are a minute old.
pub fn list(dir: &Path) -> std::io::Result<Listing> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Listing::default()),
        Err(e) => return Err(e),
    };
    let mut out = Listing::default();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // The type of the entry itself (symlinks are not followed).
        let Ok(kind) = e.file_type() else { continue };
        if name.ends_with(".event") {
            if kind.is_file() {
                out.events.push(e.path());
            } else {
                out.strange.push(e.path());
            }
        } else if name.starts_with('.') && name.ends_with(".tmp") && kind.is_file() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 60);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    out.events.sort();
    Ok(out)
}

/// Reads one spooled (or claimed) file. Refuses anything that is not a regular file without
/// blocking on it (a FIFO put in its place), and files larger than any event.
pub fn read(file: &Path) -> std::io::Result<Decoded<Entry>> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(file)?;
    let meta = f.metadata()?;
    let ft = meta.file_type();
    if !ft.is_file() || ft.is_fifo() || ft.is_socket() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} bytes, larger than any event", meta.len()),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
    Ok(disk::decode_all(&bytes))
}

/// Whether anything waits in the spool.
pub fn is_empty(dir: &Path) -> bool {
    count_events(dir, 1) == 0
}

/// Moves `file` into the folder `to` (created 0700), keeping its name; returns the new path.
pub fn move_into(file: &Path, to: &Path) -> std::io::Result<PathBuf> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(to)?;
    let name = file.file_name().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let dest = to.join(name);
    std::fs::rename(file, &dest)?;
    Ok(dest)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn start(cmd: &str) -> Request {
        Request::Start(CommandStart {
            session: "s".into(),
            seq: Some(1),
            shell: "bash".into(),
            command: cmd.into(),
            cwd: None,
            started_at_ms: 5,
        })
    }

    fn take_all(dir: &Path) -> Vec<Request> {
        list(dir).unwrap().events.iter().flat_map(|f| read(f).unwrap().records).map(Entry::into_request).collect()
    }

    #[test]
    fn append_then_take_in_order() {
        let t = tempfile::tempdir().unwrap();
        let spool = t.path().join("spool");
        append(&spool, &start("a")).unwrap();
        append(&spool, &start("b")).unwrap();
        assert!(!is_empty(&spool));
        assert_eq!(take_all(&spool), vec![start("a"), start("b")]);
        assert!(matches!(append(&spool, &Request::Ping), Err(SpoolError::NotAnEvent)));
        use std::os::unix::fs::PermissionsExt;
        let files = list(&spool).unwrap().events;
        assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&spool).unwrap().permissions().mode() & 0o777, 0o700);
        // A hook that died mid-write leaves only a temporary file, which is never read.
        std::fs::write(spool.join(".123-1.tmp"), b"\0\0\0\x09\0").unwrap();
        assert_eq!(list(&spool).unwrap().events.len(), 2);
        let claimed = move_into(&files[0], &t.path().join("claimed")).unwrap();
        assert!(claimed.exists() && !files[0].exists());
    }

    #[test]
    fn a_fifo_or_folder_is_listed_as_strange_and_never_blocks() {
        let t = tempfile::tempdir().unwrap();
        let spool = t.path().join("spool");
        append(&spool, &start("a")).unwrap();
        let fifo = spool.join("00000000000000000000000000000000-0000000001.event");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        std::fs::create_dir(spool.join("dir.event")).unwrap();
        let l = list(&spool).unwrap();
        assert_eq!(l.events.len(), 1);
        assert_eq!(l.strange.len(), 2);
        // Even read directly, a FIFO is refused at once.
        assert!(read(&fifo).is_err());
    }

    #[test]
    fn format_one_files_are_read() {
        // Written by vigil with protocol 5 (tests/data/legacy/spool-v1).
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/legacy/spool-v1");
        let got = take_all(&dir);
        assert_eq!(got.len(), 2, "{got:?}");
        match &got[0] {
            Request::Start(s) => {
                assert_eq!(
                    (s.session.as_str(), s.seq, s.command.as_str(), s.cwd.as_deref()),
                    ("legacy-s", Some(1), "echo legacy-spool-start", Some("/tmp"))
                );
                assert_eq!(s.started_at_ms, 1_700_000_000_000);
            }
            other => panic!("{other:?}"),
        }
        match &got[1] {
            Request::End(e) => {
                assert_eq!((e.exit_code, e.duration_ms, e.ended_at_ms), (3, Some(42), 1_700_000_000_042))
            }
            other => panic!("{other:?}"),
        }
    }
}
