//! The schema, as the list of migrations that build it: version N of the database is the
//! first N entries applied in order (`PRAGMA user_version` holds N). Never edit an entry; add one.

use super::StoreError;
use rusqlite::Connection;

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

/// Brings a database at schema version `found` up to [`SCHEMA_VERSION`], one transaction per
/// migration; refuses a database newer than this binary (`name` is its path, for errors).
pub(super) fn migrate(conn: &Connection, name: &str, found: i64) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { path: name.to_string(), found });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let version = i as i64 + 1;
        let migrate = || -> rusqlite::Result<()> {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        migrate().map_err(|source| StoreError::Migration { path: name.to_string(), version, source })?;
    }
    Ok(())
}
