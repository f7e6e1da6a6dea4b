//! Writes to the store: journal records in one transaction each batch, imported history,
//! model versions and their promotion, and the label table.

use super::*;

/// One event row, kept once: a key already stored is left as it is.
const INSERT_EVENT: &str = "INSERT OR IGNORE INTO events
     (key, session, shell, command, cwd, hostname, started_at, duration_ms, label, p_unsafe, reason, model_version)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/// Runs [`INSERT_EVENT`] for `e`; returns 1 if it was added, 0 if its key was stored.
fn insert_event(
    insert: &mut rusqlite::CachedStatement<'_>,
    e: &crate::journal::EventRow,
    duration_ms: Option<i64>,
) -> rusqlite::Result<usize> {
    insert.execute(params![
        e.key,
        e.session,
        e.shell,
        e.command,
        e.cwd,
        e.hostname,
        e.started_at,
        duration_ms,
        e.label,
        e.p_unsafe,
        e.reason,
        e.model_version
    ])
}

impl Store {
    /// Applies journal records in one transaction. Replaying records is harmless: a start
    /// whose key is stored is ignored, and an end sets the same values again.
    pub fn apply(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(INSERT_EVENT)?;
            let mut end = tx.prepare_cached("UPDATE events SET exit_code = ?2, duration_ms = ?3 WHERE key = ?1")?;
            // An end can arrive before its start: the start went to the spool while the agent
            // was starting, and the end came live. Keep it until the start lands.
            let mut keep_early = tx.prepare_cached(
                "INSERT OR REPLACE INTO early_ends (key, exit_code, duration_ms) VALUES (?1, ?2, ?3)",
            )?;
            let mut apply_early = tx.prepare_cached(
                "UPDATE events SET exit_code = (SELECT exit_code FROM early_ends WHERE key = ?1),
                        duration_ms = (SELECT duration_ms FROM early_ends WHERE key = ?1)
                 WHERE key = ?1 AND exit_code IS NULL AND EXISTS (SELECT 1 FROM early_ends WHERE key = ?1)",
            )?;
            let mut drop_early = tx.prepare_cached("DELETE FROM early_ends WHERE key = ?1")?;
            for record in records {
                match record {
                    Record::Start(e) => {
                        // Live and journalled starts have no duration yet: their end brings it.
                        let inserted = insert_event(&mut insert, e, None)?;
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
            let mut insert = tx.prepare_cached(INSERT_EVENT)?;
            for row in rows {
                if Store::already_stored(&tx, row)? >= i64::from(row.occurrence) {
                    duplicates += 1;
                    continue;
                }
                let e = &row.event;
                let n = insert_event(&mut insert, e, row.duration_ms)? as u64;
                added += n;
                if e.label.as_deref() == Some("unsafe") {
                    risky += n;
                }
            }
        }
        tx.commit()?;
        Ok((added, duplicates, risky))
    }

    /// Stores a model with its report (JSON) and returns its version. With `make_current`, it
    /// becomes the one in use, in the same transaction.
    pub fn insert_model(
        &mut self,
        n_train: usize,
        metrics_json: &str,
        blob: &[u8],
        make_current: bool,
        note: Option<&str>,
        labels_fingerprint: Option<&str>,
    ) -> Result<i64, StoreError> {
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

    /// Makes `version` the model in use; returns its stored form, or `None` if there is no
    /// such version.
    pub fn set_current(&mut self, version: i64) -> Result<Option<StoredModel>, StoreError> {
        let tx = self.conn.transaction()?;
        let found: Option<StoredModel> = tx
            .query_row("SELECT version, created_at, metrics, blob FROM models WHERE version = ?1", [version], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
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
        tx.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming (command TEXT PRIMARY KEY, label TEXT, line INTEGER)",
            [],
        )?;
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
}
