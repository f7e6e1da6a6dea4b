//! The write-ahead journal: every accepted event is appended here before the hook hears "kept",
//! and a segment is deleted only once its records are committed to the store.
//!
//! Segments are numbered files in the journal folder. The batch writer rotates to a new
//! segment each time it takes a batch, so a closed segment holds exactly records that are in
//! that batch or an earlier one, and can be deleted as soon as the batch commits. Records are
//! framed like the wire protocol; a torn tail (the agent killed mid-write) is dropped at replay.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use vigil::protocol::{self, FrameError};

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
    Encode(#[from] FrameError),
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
            let bytes = std::fs::read(path).map_err(io_err(path))?;
            let (records, used, err) = protocol::decode_stream::<Record>(&bytes);
            if let Some(e) = err {
                replay.problems.push(format!("{}: {e} after {used} of {} bytes", path.display(), bytes.len()));
            }
            replay.records.extend(records);
            replay.segments.push(path.clone());
        }
        let next = segments.last().map_or(1, |(n, _)| n + 1);
        let journal = Journal::create(dir, next)?;
        Ok((journal, replay))
    }

    fn create(dir: &Path, segment: u64) -> Result<Journal, JournalError> {
        let path = segment_path(dir, segment);
        let file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(&path).map_err(io_err(&path))?;
        if let Err(e) = reserve(&file) {
            if e.raw_os_error() == Some(libc::ENOSPC) {
                // A segment without its reserve would refuse events on a full disk: keep
                // writing to the current one instead.
                let _ = std::fs::remove_file(&path);
                return Err(JournalError::Io { path: path.display().to_string(), source: e });
            }
        }
        Ok(Journal { dir: dir.to_path_buf(), segment, file, bytes: 0 })
    }

    /// Appends one record with a single write.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        let frame = protocol::encode_frame(record)?;
        let path = segment_path(&self.dir, self.segment);
        self.file.write_all(&frame).map_err(io_err(&path))?;
        self.bytes += frame.len() as u64;
        Ok(())
    }

    /// Starts a new segment and returns the path of the one just closed.
    pub fn rotate(&mut self) -> Result<PathBuf, JournalError> {
        let next = Journal::create(&self.dir, self.segment + 1)?;
        let old = std::mem::replace(self, next);
        Ok(segment_path(&old.dir, old.segment))
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
    use std::os::fd::AsRawFd;
    // KEEP_SIZE: the blocks are allocated but the file's size stays what was written, so a
    // replay reads only real records. A filesystem without fallocate just gets no reserve.
    // SAFETY: fallocate on a descriptor we own, with in-range arguments.
    if unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, RESERVE) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:020}.wal"))
}

#[cfg(test)]
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
            let closed = j.rotate().unwrap();
            assert!(closed.exists());
            j.append(&start("b")).unwrap();
            j.append(&Record::End { key: "b".into(), exit_code: 1, duration_ms: Some(3) }).unwrap();
        }
        // A torn write at the tail of the newest segment.
        let newest = segment_path(t.path(), 2);
        let mut f = std::fs::OpenOptions::new().append(true).open(&newest).unwrap();
        f.write_all(&[0, 0, 0, 40, 0]).unwrap();
        let (mut j, replay) = Journal::open(t.path()).unwrap();
        assert_eq!(replay.records.len(), 3);
        assert_eq!(replay.records[0], start("a"));
        assert_eq!(replay.segments.len(), 2);
        assert_eq!(replay.problems.len(), 1, "{:?}", replay.problems);
        j.append(&start("c")).unwrap();
        assert!(segment_path(t.path(), 3).exists(), "new segment after the replayed ones");
    }
}
