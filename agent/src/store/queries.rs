//! Queries of the store for the views and the learner: recent events, commands and their
//! uses, per-day counts, label counts, models, metadata.

use super::*;

impl Store {
    /// How many events like `row` the store holds, by the rule of [`Store::import`].
    pub(super) fn already_stored(conn: &Connection, row: &ImportRow) -> rusqlite::Result<i64> {
        let e = &row.event;
        if row.timed {
            let second = e.started_at - e.started_at.rem_euclid(1000);
            let mut stmt = conn.prepare_cached(
                "SELECT COUNT(*) FROM events WHERE command = ?1 AND started_at >= ?2 AND started_at < ?2 + 2000",
            )?;
            stmt.query_row(params![e.command, second], |r| r.get(0))
        } else {
            let mut stmt = conn.prepare_cached("SELECT COUNT(*) FROM events WHERE command = ?1 AND shell = ?2")?;
            stmt.query_row([&e.command, &e.shell], |r| r.get(0))
        }
    }

    /// Which of `rows` are not stored yet (see [`Store::import`]); reads only, so that the
    /// new ones can be scored before the write transaction starts.
    pub fn not_stored(&self, rows: &[ImportRow]) -> Result<Vec<bool>, StoreError> {
        Ok(rows
            .iter()
            .map(|row| Store::already_stored(&self.conn, row).map(|n| n < i64::from(row.occurrence)))
            .collect::<Result<_, _>>()?)
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
            Ok(CommandUse {
                command: r.get(0)?,
                count: r.get::<_, i64>(1)? as u64,
                last_seen: r.get(2)?,
                p_unsafe: None,
                reason: None,
                verdicts: [0; 4],
            })
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
            let [safe, unsafe_, unknown] =
                [5, 6, 7].map(|i| r.get::<_, Option<i64>>(i).ok().flatten().unwrap_or(0) as u64);
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
            let (day, start, end): (String, i64, i64) = bounds
                .query_row([format!("{:+} days", -back), format!("{:+} days", 1 - back)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
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
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e ORDER BY e.started_at DESC, e.id DESC LIMIT ?1"
        ))?;
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

    /// The labels fingerprint of the model in use.
    pub fn current_labels_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT labels_fingerprint FROM models WHERE current = 1", [], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// The model in use.
    pub fn current_model(&self) -> Result<Option<StoredModel>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT version, created_at, metrics, blob FROM models WHERE current = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
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

    /// One stored model version: `(version, created_at, metrics, blob)`.
    pub fn model(&self, version: i64) -> Result<Option<StoredModel>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT version, created_at, metrics, blob FROM models WHERE version = ?1", [version], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?)
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
