//! The write-ahead journal: every accepted event is appended here before the hook hears "kept",
//! and a segment is deleted only once its records are committed to the store.
//!
//! Segments are numbered files in the journal folder. The batch writer rotates to a new
//! segment each time it takes a batch, so a closed segment holds exactly records that are in
//! that batch or an earlier one, and can be deleted as soon as the batch commits. Records are
//! in the journal's own format (`vigil::disk`: a mark, a version, a checksum each), read across
//! upgrades; a torn tail (the agent killed mid-write) or a damaged record costs only itself.
//!
//! Durability: a record is written to the segment (one `write`) before the hook hears "kept",
//! so it survives the agent being killed at any moment (the kernel holds the page). Against a
//! power loss, the segment is flushed to the disk (`fdatasync`) before its batch is taken, and
//! SQLite commits with `synchronous = NORMAL` in WAL mode: what was acknowledged in the last
//! `batch_max_delay_ms` before the power went may be lost. With `[capture] fsync = "always"`
//! every record is flushed before its acknowledgement.

#![deny(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use vigil::disk::{self, Format, RecordError};

/// The journal's format version: 1 was the protocol-5 wire frame, 2 the record of `vigil::disk`.
pub const FORMAT: u16 = 2;

/// A change to the store, as journalled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// A new event.
    Start(EventRow),
    /// A running event ended.
    End {
        /// The event's key.
        key: String,
        /// Exit status.
        exit_code: i32,
        /// Wall time in milliseconds.
        duration_ms: Option<i64>,
    },
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    /// Unique identity (see `CommandStart::key`).
    pub key: String,
    /// Shell-session id.
    pub session: String,
    /// Shell name.
    pub shell: String,
    /// Command line (already redacted).
    pub command: String,
    /// Working folder.
    pub cwd: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// Start, ms since the epoch.
    pub started_at: i64,
    /// `safe`, `unsafe` or `unknown`.
    pub label: Option<String>,
    /// Probability of unsafe.
    pub p_unsafe: Option<f64>,
    /// Why.
    pub reason: Option<String>,
    /// Model version that scored it.
    pub model_version: Option<i64>,
}

/// Journal errors.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error("journal {path}: {source}")]
    Io {
        /// File or folder.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A record could not be encoded.
    #[error("journal record: {0}")]
    Encode(#[from] RecordError),
    /// Too many records wait for the store (it has refused writes for a long time).
    #[error("{0} events wait for the store; new ones are refused until it accepts writes")]
    Backlog(usize),
}

impl Format for Record {
    const CURRENT: u16 = FORMAT;

    fn decode(version: u16, payload: &[u8]) -> Result<Self, String> {
        match version {
            2 => disk::postcard_exact(payload),
            v => Err(format!("journal format {v} is newer than this vigil ({FORMAT})")),
        }
    }

    /// Protocol 5's records, in bincode: `Start(EventRow)` (variant 0), `End { .. }` (1).
    fn decode_legacy(payload: &[u8]) -> Result<Self, String> {
        disk::legacy::read(payload, |r| match r.varint()? {
            0 => Ok(Record::Start(EventRow {
                key: r.string()?,
                session: r.string()?,
                shell: r.string()?,
                command: r.string()?,
                cwd: r.option(|r| r.string())?,
                hostname: r.option(|r| r.string())?,
                started_at: r.signed()?,
                label: r.option(|r| r.string())?,
                p_unsafe: r.option(|r| r.f64())?,
                reason: r.option(|r| r.string())?,
                model_version: r.option(|r| r.signed())?,
            })),
            1 => Ok(Record::End { key: r.string()?, exit_code: r.i32()?, duration_ms: r.option(|r| r.signed())? }),
            v => Err(format!("journal record variant {v}")),
        })
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.display().to_string(), source }
}

/// The open journal: the segment being appended to.
pub struct Journal {
    dir: PathBuf,
    segment: u64,
    file: File,
    bytes: u64,
    /// Flush every record to the disk before it is acknowledged.
    sync_each: bool,
}

/// Records found at start, with the segments that hold them.
pub struct Replay {
    /// Records in journal order.
    pub records: Vec<Record>,
    /// Segments to delete once those records are committed.
    pub segments: Vec<PathBuf>,
    /// Problems met (torn tails, undecodable segments), for the log.
    pub problems: Vec<String>,
}

impl Journal {
    /// Opens the journal folder: reads every existing segment (for replay) and starts a new one
    /// after them.
    pub fn open(dir: &Path) -> Result<(Journal, Replay), JournalError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut segments: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name.strip_suffix(".wal")?.parse::<u64>().ok()?;
                Some((n, e.path()))
            })
            .collect();
        segments.sort();
        let mut replay = Replay { records: Vec::new(), segments: Vec::new(), problems: Vec::new() };
        for (_, path) in &segments {
            let bytes = match read_segment(path) {
                Ok(b) => b,
                Err(e) => {
                    // A FIFO or folder in place of a segment: never opened for long, never
                    // deleted (it is not ours), and it does not stop the agent.
                    replay.problems.push(format!("{}: {e}; skipped", path.display()));
                    continue;
                }
            };
            let decoded = disk::decode_all::<Record>(&bytes);
            for p in decoded.problems {
                replay.problems.push(format!("{}: {p}", path.display()));
            }
            if decoded.torn_tail {
                replay.problems.push(format!("{}: torn record at the end dropped", path.display()));
            }
            replay.records.extend(decoded.records);
            replay.segments.push(path.clone());
        }
        let next = segments.last().map_or(1, |(n, _)| n + 1);
        let journal = Journal::create(dir, next)?;
        Ok((journal, replay))
    }

    fn create(dir: &Path, segment: u64) -> Result<Journal, JournalError> {
        let path = segment_path(dir, segment);
        let file =
            std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(&path).map_err(io_err(&path))?;
        if let Err(e) = reserve(&file) {
            if e.raw_os_error() == Some(libc::ENOSPC) {
                // A segment without its reserve would refuse events on a full disk: keep
                // writing to the current one instead.
                let _ = std::fs::remove_file(&path);
                return Err(JournalError::Io { path: path.display().to_string(), source: e });
            }
        }
        Ok(Journal { dir: dir.to_path_buf(), segment, file, bytes: 0, sync_each: false })
    }

    /// Flushes every record to the disk before [`Journal::append`] returns (`fsync = "always"`).
    pub fn set_sync_each(&mut self, on: bool) {
        self.sync_each = on;
    }

    /// Appends one record with a single write.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        let frame = disk::encode(FORMAT, record)?;
        let path = segment_path(&self.dir, self.segment);
        self.file.write_all(&frame).map_err(io_err(&path))?;
        self.bytes += frame.len() as u64;
        if self.sync_each {
            self.file.sync_data().map_err(io_err(&path))?;
        }
        Ok(())
    }

    /// Starts a new segment and returns the one just closed: its path, and its file, which the
    /// caller flushes to the disk (outside any lock: a flush takes milliseconds) before the
    /// segment's records are committed.
    pub fn rotate(&mut self) -> Result<(PathBuf, File), JournalError> {
        let mut next = Journal::create(&self.dir, self.segment + 1)?;
        next.sync_each = self.sync_each;
        let old = std::mem::replace(self, next);
        Ok((segment_path(&old.dir, old.segment), old.file))
    }

    /// Whether every record is flushed as it is appended (then a closed segment needs no flush).
    pub fn syncs_each(&self) -> bool {
        self.sync_each
    }

    /// Bytes appended to the current segment.
    pub fn current_bytes(&self) -> u64 {
        self.bytes
    }
}

/// Space each segment reserves ahead: when the disk fills up, appends into the reservation
/// still succeed, so the agent keeps accepting events (this many bytes of them) while the
/// store cannot write.
pub const RESERVE: i64 = 1 << 20;

fn reserve(file: &File) -> std::io::Result<()> {
    // KEEP_SIZE: the blocks are allocated but the file's size stays what was written, so a
    // replay reads only real records. A filesystem without fallocate just gets no reserve.
    rustix::fs::fallocate(file, rustix::fs::FallocateFlags::KEEP_SIZE, 0, RESERVE as u64)?;
    Ok(())
}

/// Largest segment read at replay: a segment holds one batch's records at most.
const MAX_SEGMENT_BYTES: u64 = 1 << 30;

/// Reads a segment, refusing (without blocking) anything that is not a regular file.
fn read_segment(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a regular file"));
    }
    let mut bytes = Vec::new();
    f.take(MAX_SEGMENT_BYTES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:020}.wal"))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn start(key: &str) -> Record {
        Record::Start(EventRow {
            key: key.into(),
            session: "s".into(),
            shell: "bash".into(),
            command: "ls".into(),
            cwd: None,
            hostname: None,
            started_at: 1,
            label: None,
            p_unsafe: None,
            reason: None,
            model_version: None,
        })
    }

    #[test]
    fn replays_in_order_across_segments_and_drops_torn_tail() {
        let t = tempfile::tempdir().unwrap();
        {
            let (mut j, replay) = Journal::open(t.path()).unwrap();
            assert!(replay.records.is_empty());
            j.append(&start("a")).unwrap();
            let (closed, _) = j.rotate().unwrap();
            assert!(closed.exists());
            j.append(&start("b")).unwrap();
            j.append(&Record::End { key: "b".into(), exit_code: 1, duration_ms: Some(3) }).unwrap();
        }
        // A torn write at the tail of the newest segment.
        let newest = segment_path(t.path(), 2);
        let mut f = std::fs::OpenOptions::new().append(true).open(&newest).unwrap();
        f.write_all(&disk::encode(FORMAT, &start("torn")).unwrap()[..20]).unwrap();
        let (mut j, replay) = Journal::open(t.path()).unwrap();
        assert_eq!(replay.records.len(), 3);
        assert_eq!(replay.records[0], start("a"));
        assert_eq!(replay.segments.len(), 2);
        assert_eq!(replay.problems.len(), 1, "{:?}", replay.problems);
        j.append(&start("c")).unwrap();
        assert!(segment_path(t.path(), 3).exists(), "new segment after the replayed ones");
    }

    #[test]
    fn one_bad_record_costs_only_itself_and_strange_files_are_skipped() {
        let t = tempfile::tempdir().unwrap();
        {
            let (mut j, _) = Journal::open(t.path()).unwrap();
            for k in ["a", "b", "c"] {
                j.append(&start(k)).unwrap();
            }
        }
        // Flip a byte inside b's record.
        let seg = segment_path(t.path(), 1);
        let mut bytes = std::fs::read(&seg).unwrap();
        let one = disk::encode(FORMAT, &start("a")).unwrap().len();
        bytes[one + one / 2] ^= 0x5a;
        std::fs::write(&seg, &bytes).unwrap();
        // A folder where a segment should be.
        std::fs::create_dir(segment_path(t.path(), 2)).unwrap();
        let (_j, replay) = Journal::open(t.path()).unwrap();
        assert_eq!(replay.records, [start("a"), start("c")]);
        assert_eq!(replay.problems.len(), 2, "{:?}", replay.problems);
        assert_eq!(replay.segments, [seg], "only real segments are deleted after the commit");
    }

    #[test]
    fn format_one_segments_are_replayed() {
        // Written by vigil with protocol 5 (tests/data/legacy/journal-v1).
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/legacy/journal-v1");
        let t = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), t.path().join(e.file_name())).unwrap();
        }
        let (_j, replay) = Journal::open(t.path()).unwrap();
        assert!(replay.problems.is_empty(), "{:?}", replay.problems);
        assert_eq!(replay.records.len(), 2);
        match &replay.records[0] {
            Record::Start(row) => {
                assert_eq!(
                    (row.key.as_str(), row.command.as_str(), row.cwd.as_deref(), row.hostname.as_deref()),
                    ("legacy-j#1", "echo legacy-journal-start", Some("/home"), Some("h"))
                );
                assert_eq!((row.started_at, row.p_unsafe, row.model_version), (1_700_000_001_000, Some(0.1), Some(1)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(replay.records[1], Record::End { key: "legacy-j#1".into(), exit_code: 7, duration_ms: Some(5) });
    }
}
