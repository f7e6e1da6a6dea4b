//! The SQLite store: the connection, its errors and row types. The schema and its migrations
//! are `schema`'s, the writes (journal records, imports, models, labels) `writes`', the
//! queries of the views `queries`'.
//!
//! Who writes: captured events only through the writer thread (`writer`), from the journal,
//! so that an acknowledged event is on disk before it is in SQLite. Four other writers each
//! keep a connection of their own, and WAL with a busy timeout orders them: imports (their
//! source, a history file, is still on disk, and an import is idempotent: a line already
//! stored is skipped, so the journal's durability would add a copy and nothing else), `forget`
//! (it must reach rows the journal no longer holds), and the learner's models and label table
//! (a few rows per training). Routing those through the writer thread would put a bulk
//! import's transactions in the queue that the hooks' replies wait on.

mod queries;
mod schema;
mod writes;

pub use schema::SCHEMA_VERSION;

use crate::journal::Record;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::Duration;
use vigil::protocol::EventRecord;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was written by a newer vigil.
    #[error("{path} has schema version {found}, newer than this vigild understands ({SCHEMA_VERSION}): upgrade vigil")]
    TooNew {
        /// The database.
        path: String,
        /// Its schema version.
        found: i64,
    },
    /// The file is not a usable SQLite database.
    #[error("{path} is not a usable vigil database ({source}); it was left untouched: move it aside to start afresh")]
    Corrupt {
        /// The database.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A migration failed.
    #[error("migrating {path} to schema {version}: {source}")]
    Migration {
        /// The database.
        path: String,
        /// The migration that failed.
        version: i64,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Any other SQLite failure.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A value could not be stored.
    #[error("cannot store: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether retrying later may succeed (another process holds a lock).
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    }
}

/// The columns [`event_from_row`] reads, from `events e`.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.session, e.shell, e.command, e.cwd, e.hostname, e.started_at, e.duration_ms, e.exit_code, e.label, e.p_unsafe, e.reason, e.model_version";

pub(crate) fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        id: r.get(0)?,
        session: r.get(1)?,
        shell: r.get(2)?,
        command: r.get(3)?,
        cwd: r.get(4)?,
        hostname: r.get(5)?,
        started_at: r.get(6)?,
        duration_ms: r.get(7)?,
        exit_code: r.get(8)?,
        label: r.get(9)?,
        p_unsafe: r.get(10)?,
        reason: r.get(11)?,
        model_version: r.get(12)?,
    })
}

/// A stored model: version, created_at (ms), report JSON, serialized model.
pub type StoredModel = (i64, i64, String, Vec<u8>);

/// A model version as listed (without its blob).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// Version.
    pub version: i64,
    /// When it was trained (ms).
    pub created_at: i64,
    /// Training examples.
    pub n_train: i64,
    /// Whether it is in use.
    pub current: bool,
    /// Why it was made, or why it was not made current.
    pub note: Option<String>,
    /// Its report, JSON.
    pub metrics: String,
    /// Fingerprint of the labels it was trained with.
    pub labels_fingerprint: Option<String>,
}

/// A command read from a history file, scored, ready to store (see `Store::import`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// The event; its key must be unique.
    pub event: crate::journal::EventRow,
    /// Whether `started_at` came from the history file.
    pub timed: bool,
    /// Wall time, when the file records it.
    pub duration_ms: Option<i64>,
    /// Which occurrence this is (see `vigil::protocol::HistoryEntry::occurrence`).
    pub occurrence: u32,
}

/// (name, count) pairs.
pub type Counts = Vec<(String, u64)>;

/// One distinct command with how often and when it last ran.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandUse {
    /// The command.
    pub command: String,
    /// Times stored.
    pub count: u64,
    /// Latest start (ms).
    pub last_seen: i64,
    /// Highest stored p_unsafe.
    pub p_unsafe: Option<f64>,
    /// The reason stored with that score.
    pub reason: Option<String>,
    /// Its events judged safe, unsafe, unknown, and not scored.
    pub verdicts: [u64; 4],
}

/// A connection to the store.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// The connection, for the queries of other modules (search, forget).
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, for writes of other modules (forget).
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Opens (creating if needed) the database for writing and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let corrupt = |source| StoreError::Corrupt { path: name.clone(), source };
        let conn = Connection::open(path).map_err(corrupt)?;
        conn.busy_timeout(Duration::from_millis(200))?;
        // Reading the schema version is the first real access: a file that is not a database fails here.
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(corrupt)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").map_err(corrupt)?;
        schema::migrate(&conn, &name, found)?;
        Ok(Store { conn })
    }

    /// Opens an existing database for reading only (queries beside the writer).
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(Duration::from_millis(500))?;
        Ok(Store { conn })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::EventRow;

    fn row(key: &str, at: i64) -> Record {
        Record::Start(EventRow {
            key: key.into(),
            session: "s".into(),
            shell: "zsh".into(),
            command: format!("echo {key}"),
            cwd: Some("/".into()),
            hostname: Some("h".into()),
            started_at: at,
            label: None,
            p_unsafe: None,
            reason: None,
            model_version: None,
        })
    }

    #[test]
    fn apply_is_idempotent() {
        let t = tempfile::tempdir().unwrap();
        let mut s = Store::open(&t.path().join("v.db")).unwrap();
        let batch = vec![row("a", 1), Record::End { key: "a".into(), exit_code: 2, duration_ms: Some(5) }, row("b", 2)];
        s.apply(&batch).unwrap();
        s.apply(&batch).unwrap();
        assert_eq!(s.count().unwrap(), 2);
        let recent = s.recent(10).unwrap();
        assert_eq!(recent[0].command, "echo b");
        assert_eq!(recent[1].exit_code, Some(2));
        assert_eq!(recent[1].duration_ms, Some(5));
        assert_eq!(s.open_events(0).unwrap(), vec![("s".to_string(), "b".to_string(), 2)]);
    }

    #[test]
    fn an_end_before_its_start_is_kept_until_the_start_lands() {
        let t = tempfile::tempdir().unwrap();
        let mut s = Store::open(&t.path().join("v.db")).unwrap();
        s.apply(&[Record::End { key: "a".into(), exit_code: 3, duration_ms: Some(9) }]).unwrap();
        s.apply(&[row("a", 1)]).unwrap();
        let e = &s.recent(1).unwrap()[0];
        assert_eq!((e.exit_code, e.duration_ms), (Some(3), Some(9)));
    }

    #[test]
    fn newer_schema_is_refused_and_garbage_is_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("v.db");
        drop(Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(c);
        let err = Store::open(&path).err().unwrap();
        assert!(err.to_string().contains("newer than this vigild"), "{err}");

        let junk = t.path().join("junk.db");
        std::fs::write(&junk, b"this is not a database, not at all, no sqlite header here").unwrap();
        let before = std::fs::read(&junk).unwrap();
        let err = Store::open(&junk).err().unwrap();
        assert!(err.to_string().contains("not a usable vigil database"), "{err}");
        assert_eq!(std::fs::read(&junk).unwrap(), before);
    }

    #[test]
    fn reopening_runs_no_migration_twice() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("v.db");
        let mut s = Store::open(&path).unwrap();
        s.apply(&[row("a", 1)]).unwrap();
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.count().unwrap(), 1);
        let reader = Store::open_reader(&path).unwrap();
        let id: i64 = reader.conn.query_row("SELECT id FROM events WHERE key = 'a'", [], |r| r.get(0)).unwrap();
        assert_eq!(id, 1);
    }
}
