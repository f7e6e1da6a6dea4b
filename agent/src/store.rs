//! The SQLite store: schema and migrations, batched writes of journal records, and queries.

use crate::journal::Record;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::Duration;
use vigil::protocol::EventRecord;

/// Migrations, in order; `PRAGMA user_version` counts how many have run. Never edit one that
/// has shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: events
    "CREATE TABLE events (
        id            INTEGER PRIMARY KEY,
        key           TEXT NOT NULL UNIQUE,
        session       TEXT NOT NULL,
        shell         TEXT NOT NULL,
        command       TEXT NOT NULL,
        cwd           TEXT,
        hostname      TEXT,
        started_at    INTEGER NOT NULL,
        duration_ms   INTEGER,
        exit_code     INTEGER,
        label         TEXT,
        p_unsafe      REAL,
        reason        TEXT,
        model_version INTEGER
    );
    CREATE INDEX events_started_at ON events(started_at);
    CREATE INDEX events_session ON events(session, started_at);",
    // 2: models, every version kept with its report
    "CREATE TABLE models (
        version    INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        n_train    INTEGER NOT NULL,
        metrics    TEXT NOT NULL,
        blob       BLOB NOT NULL,
        current    INTEGER NOT NULL DEFAULT 0,
        note       TEXT
    );",
    // 3: the person's labels, as last read from the label file; what each model was trained on
    "CREATE TABLE labels (
        command    TEXT PRIMARY KEY,
        label      TEXT NOT NULL,
        line       INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    ALTER TABLE models ADD COLUMN labels_fingerprint TEXT;",
    // 4: ends that arrived before their start (the start was in the spool)
    "CREATE TABLE early_ends (
        key         TEXT PRIMARY KEY,
        exit_code   INTEGER NOT NULL,
        duration_ms INTEGER
    );",
    // 5: looking commands up by text (import's dedupe, stats, the review queue)
    "CREATE INDEX events_command ON events(command, started_at);",
    // 6: the same index, covering what stats reads per command (one pass over the index
    // instead of a table lookup per event)
    "DROP INDEX events_command;
    CREATE INDEX events_by_command ON events(command, started_at, p_unsafe, label, reason);",
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

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
const EVENT_COLUMNS: &str = "e.id, e.session, e.shell, e.command, e.cwd, e.hostname, e.started_at, e.duration_ms, e.exit_code, e.label, e.p_unsafe, e.reason, e.model_version";

fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRecord> {
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
    /// Opens (creating if needed) the database for writing and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let corrupt = |source| StoreError::Corrupt { path: name.clone(), source };
        let conn = Connection::open(path).map_err(corrupt)?;
        conn.busy_timeout(Duration::from_millis(200))?;
        // Reading the schema version is the first real access: a file that is not a database fails here.
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(corrupt)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").map_err(corrupt)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: name, found });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let version = i as i64 + 1;
            let migrate = || -> rusqlite::Result<()> {
                let tx = conn.unchecked_transaction()?;
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", version)?;
                tx.commit()
            };
            migrate().map_err(|source| StoreError::Migration { path: name.clone(), version, source })?;
        }
        Ok(Store { conn })
    }

    /// Opens an existing database for reading only (queries beside the writer).
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(Duration::from_millis(500))?;
        Ok(Store { conn })
    }

    /// Applies journal records in one transaction. Replaying records is harmless: a start
    /// whose key is stored is ignored, and an end sets the same values again.
    pub fn apply(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events
                 (key, session, shell, command, cwd, hostname, started_at, label, p_unsafe, reason, model_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut end = tx.prepare_cached("UPDATE events SET exit_code = ?2, duration_ms = ?3 WHERE key = ?1")?;
            // An end can arrive before its start: the start went to the spool while the agent
            // was starting, and the end came live. Keep it until the start lands.
            let mut keep_early = tx.prepare_cached("INSERT OR REPLACE INTO early_ends (key, exit_code, duration_ms) VALUES (?1, ?2, ?3)")?;
            let mut apply_early = tx.prepare_cached(
                "UPDATE events SET exit_code = (SELECT exit_code FROM early_ends WHERE key = ?1),
                        duration_ms = (SELECT duration_ms FROM early_ends WHERE key = ?1)
                 WHERE key = ?1 AND exit_code IS NULL AND EXISTS (SELECT 1 FROM early_ends WHERE key = ?1)",
            )?;
            let mut drop_early = tx.prepare_cached("DELETE FROM early_ends WHERE key = ?1")?;
            for record in records {
                match record {
                    Record::Start(e) => {
                        let inserted = insert.execute(params![
                            e.key, e.session, e.shell, e.command, e.cwd, e.hostname, e.started_at, e.label, e.p_unsafe,
                            e.reason, e.model_version
                        ])?;
                        if inserted > 0 && apply_early.execute([&e.key])? > 0 {
                            drop_early.execute([&e.key])?;
                        }
                    }
                    Record::End { key, exit_code, duration_ms } => {
                        if end.execute(params![key, exit_code, duration_ms])? == 0 {
                            keep_early.execute(params![key, exit_code, duration_ms])?;
                        }
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many events like `row` the store holds, by the rule of [`Store::import`].
    fn already_stored(conn: &Connection, row: &ImportRow) -> rusqlite::Result<i64> {
        let e = &row.event;
        if row.timed {
            let second = e.started_at - e.started_at.rem_euclid(1000);
            let mut stmt = conn.prepare_cached("SELECT COUNT(*) FROM events WHERE command = ?1 AND started_at >= ?2 AND started_at < ?2 + 2000")?;
            stmt.query_row(params![e.command, second], |r| r.get(0))
        } else {
            let mut stmt = conn.prepare_cached("SELECT COUNT(*) FROM events WHERE command = ?1 AND shell = ?2")?;
            stmt.query_row([&e.command, &e.shell], |r| r.get(0))
        }
    }

    /// Which of `rows` are not stored yet (see [`Store::import`]); reads only, so that the
    /// new ones can be scored before the write transaction starts.
    pub fn not_stored(&self, rows: &[ImportRow]) -> Result<Vec<bool>, StoreError> {
        Ok(rows.iter().map(|row| Store::already_stored(&self.conn, row).map(|n| n < i64::from(row.occurrence))).collect::<Result<_, _>>()?)
    }

    /// Stores imported commands in one transaction, skipping duplicates, and returns
    /// (added, duplicates, added with the label `unsafe`). A timed row is a duplicate when the
    /// store already holds `occurrence` events of that command from its second or the next
    /// (a hook records a command a few milliseconds after the shell dated it, which may fall
    /// in the next second); an untimed one when it holds that many of the command from the
    /// same shell at all (without a date, a command cannot be told from an earlier run).
    pub fn import(&mut self, rows: &[ImportRow]) -> Result<(u64, u64, u64), StoreError> {
        let tx = self.conn.transaction()?;
        let (mut added, mut duplicates, mut risky) = (0, 0, 0);
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events
                 (key, session, shell, command, cwd, hostname, started_at, duration_ms, label, p_unsafe, reason, model_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for row in rows {
                if Store::already_stored(&tx, row)? >= i64::from(row.occurrence) {
                    duplicates += 1;
                    continue;
                }
                let e = &row.event;
                let n = insert.execute(params![
                    e.key, e.session, e.shell, e.command, e.cwd, e.hostname, e.started_at, row.duration_ms, e.label, e.p_unsafe, e.reason,
                    e.model_version
                ])? as u64;
                added += n;
                if e.label.as_deref() == Some("unsafe") {
                    risky += n;
                }
            }
        }
        tx.commit()?;
        Ok((added, duplicates, risky))
    }

    /// Distinct commands among the latest `window` events that have no label of the person's,
    /// with their counts; most recently run first.
    pub fn unlabelled_recent(&self, window: u32) -> Result<Vec<CommandUse>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.command, COUNT(*), MAX(e.started_at)
             FROM (SELECT command, started_at FROM events ORDER BY started_at DESC LIMIT ?1) e
             WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.command = e.command AND l.label IN ('safe', 'unsafe'))
             GROUP BY e.command ORDER BY MAX(e.started_at) DESC",
        )?;
        let rows = stmt.query_map([window], |r| {
            Ok(CommandUse { command: r.get(0)?, count: r.get::<_, i64>(1)? as u64, last_seen: r.get(2)?, p_unsafe: None, reason: None, verdicts: [0; 4] })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls `f` once per distinct stored command (with its count, highest stored score and
    /// verdicts), in one pass over the covering command index.
    pub fn for_each_command(&self, mut f: impl FnMut(CommandUse)) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT command, COUNT(*), MAX(started_at), MAX(p_unsafe), reason,
                    SUM(label = 'safe'), SUM(label = 'unsafe'), SUM(label = 'unknown')
             FROM events GROUP BY command",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let count = r.get::<_, i64>(1)? as u64;
            let [safe, unsafe_, unknown] = [5, 6, 7].map(|i| r.get::<_, Option<i64>>(i).ok().flatten().unwrap_or(0) as u64);
            f(CommandUse {
                command: r.get(0)?,
                count,
                last_seen: r.get(2)?,
                p_unsafe: r.get(3)?,
                reason: r.get(4)?,
                verdicts: [safe, unsafe_, unknown, count.saturating_sub(safe + unsafe_ + unknown)],
            });
        }
        Ok(())
    }

    /// Events per local day for the `days` days ending today, oldest first, empty days
    /// included: one range count on the time index per day.
    pub fn per_day(&self, days: u32) -> Result<Vec<(String, u64)>, StoreError> {
        let days = days.clamp(1, 3660) as i64;
        let mut bounds = self.conn.prepare(
            "SELECT date('now', 'localtime', ?1),
                    CAST(strftime('%s', date('now', 'localtime', ?1), 'utc') AS INTEGER) * 1000,
                    CAST(strftime('%s', date('now', 'localtime', ?2), 'utc') AS INTEGER) * 1000",
        )?;
        let mut count = self.conn.prepare("SELECT COUNT(*) FROM events WHERE started_at >= ?1 AND started_at < ?2")?;
        let mut out = Vec::with_capacity(days as usize);
        for back in (0..days).rev() {
            let (day, start, end): (String, i64, i64) =
                bounds.query_row([format!("{:+} days", -back), format!("{:+} days", 1 - back)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let n: i64 = count.query_row([start, end], |r| r.get(0))?;
            out.push((day, n as u64));
        }
        Ok(out)
    }

    /// The person's labels in force, by label.
    pub fn labels_by_kind(&self) -> Result<Counts, StoreError> {
        let mut stmt = self.conn.prepare("SELECT label, COUNT(*) FROM labels GROUP BY label ORDER BY label")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest `limit` events, newest first.
    pub fn recent(&self, limit: u32) -> Result<Vec<EventRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events e ORDER BY e.started_at DESC, e.id DESC LIMIT ?1"))?;
        let rows = stmt.query_map([limit], event_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of stored events.
    pub fn count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Events that started but never ended, newest per session, started after `since_ms`:
    /// the commands still running in open shells when the agent last stopped.
    pub fn open_events(&self, since_ms: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT session, key, MAX(started_at) FROM events
             WHERE exit_code IS NULL AND started_at > ?1 GROUP BY session",
        )?;
        let rows = stmt.query_map([since_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a model with its report (JSON) and returns its version. With `make_current`, it
    /// becomes the one in use, in the same transaction.
    pub fn insert_model(&mut self, n_train: usize, metrics_json: &str, blob: &[u8], make_current: bool, note: Option<&str>, labels_fingerprint: Option<&str>) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        if make_current {
            tx.execute("UPDATE models SET current = 0 WHERE current = 1", [])?;
        }
        tx.execute(
            "INSERT INTO models (created_at, n_train, metrics, blob, current, note, labels_fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![vigil::now_ms(), n_train as i64, metrics_json, blob, make_current, note, labels_fingerprint],
        )?;
        let version = tx.last_insert_rowid();
        tx.commit()?;
        Ok(version)
    }

    /// Replaces a model's stored report.
    pub fn update_model_metrics(&mut self, version: i64, metrics_json: &str) -> Result<(), StoreError> {
        self.conn.execute("UPDATE models SET metrics = ?2 WHERE version = ?1", params![version, metrics_json])?;
        Ok(())
    }

    /// The labels fingerprint of the model in use.
    pub fn current_labels_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT labels_fingerprint FROM models WHERE current = 1", [], |r| r.get(0)).optional()?.flatten())
    }

    /// The model in use.
    pub fn current_model(&self) -> Result<Option<StoredModel>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT version, created_at, metrics, blob FROM models WHERE current = 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?)
    }

    /// Every model version, newest first.
    pub fn list_models(&self) -> Result<Vec<ModelRow>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT version, created_at, n_train, current, note, metrics, labels_fingerprint FROM models ORDER BY version DESC")?;
        let rows = stmt.query_map([], |r| {
            Ok(ModelRow {
                version: r.get(0)?,
                created_at: r.get(1)?,
                n_train: r.get(2)?,
                current: r.get(3)?,
                note: r.get(4)?,
                metrics: r.get(5)?,
                labels_fingerprint: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Makes `version` the model in use; returns its stored form, or `None` if there is no
    /// such version.
    pub fn set_current(&mut self, version: i64) -> Result<Option<StoredModel>, StoreError> {
        let tx = self.conn.transaction()?;
        let found: Option<StoredModel> = tx
            .query_row("SELECT version, created_at, metrics, blob FROM models WHERE version = ?1", [version], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        if found.is_some() {
            tx.execute("UPDATE models SET current = (version = ?1)", [version])?;
        }
        tx.commit()?;
        Ok(found)
    }

    /// Replaces the stored labels with `labels` (command, label, line), in one transaction.
    pub fn sync_labels(&mut self, labels: &[(String, String, u64)], fingerprint: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let now = vigil::now_ms();
        tx.execute("CREATE TEMP TABLE IF NOT EXISTS incoming (command TEXT PRIMARY KEY, label TEXT, line INTEGER)", [])?;
        tx.execute("DELETE FROM incoming", [])?;
        {
            let mut ins = tx.prepare("INSERT OR REPLACE INTO incoming (command, label, line) VALUES (?1, ?2, ?3)")?;
            for (c, l, line) in labels {
                ins.execute(params![c, l, *line as i64])?;
            }
        }
        tx.execute("DELETE FROM labels WHERE command NOT IN (SELECT command FROM incoming)", [])?;
        // updated_at changes only where the label or its line did.
        tx.execute(
            "INSERT INTO labels (command, label, line, updated_at) SELECT command, label, line, ?1 FROM incoming WHERE true
             ON CONFLICT(command) DO UPDATE SET label = excluded.label, line = excluded.line,
               updated_at = CASE WHEN labels.label = excluded.label AND labels.line = excluded.line THEN labels.updated_at ELSE excluded.updated_at END",
            [now],
        )?;
        tx.execute("INSERT INTO meta (key, value) VALUES ('labels_fingerprint', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [fingerprint])?;
        tx.commit()?;
        Ok(())
    }

    /// A value of the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Number of stored labels.
    pub fn label_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM labels", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Every event, oldest first, with the stored label of its command (for CSV export).
    pub fn for_each_event(&self, mut f: impl FnMut(&EventRecord, Option<&str>)) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare(&format!("SELECT {EVENT_COLUMNS}, l.label FROM events e LEFT JOIN labels l ON l.command = e.command ORDER BY e.started_at, e.id"))?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let e = event_from_row(r)?;
            let person: Option<String> = r.get(13)?;
            f(&e, person.as_deref());
            n += 1;
        }
        Ok(n)
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
