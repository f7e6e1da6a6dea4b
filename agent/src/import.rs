//! Importing history files' commands (parsed by the client) into the store: the same privacy
//! rules as live capture, dedupe against what is stored, and bulk scoring of each new
//! distinct command once, on every core.

use crate::capture::Capture;
use crate::journal::EventRow;
use crate::score::Scorer;
use crate::store::{ImportRow, Store, StoreError};
use std::collections::HashMap;
use std::path::Path;
use vigil::protocol::{HistoryEntry, ImportSummary, ScoreRecord};

/// Scores kept between batches at most (a history repeats itself across a whole file).
const CACHE_LIMIT: usize = 200_000;

/// A writing connection for imports, with the scores of commands seen in earlier batches.
pub struct Importer {
    store: Store,
    scores: HashMap<String, ScoreRecord>,
    /// The scorer generation the cached scores belong to.
    generation: u64,
}

impl Importer {
    /// Opens its own connection to the store at `db` (the batch writer keeps another).
    pub fn open(db: &Path) -> Result<Importer, StoreError> {
        Ok(Importer { store: Store::open(db)?, scores: HashMap::new(), generation: u64::MAX })
    }

    /// Redacts, dedupes, scores and stores one batch of a history file of `shell`.
    pub fn import(
        &mut self,
        capture: &Capture,
        shell: &str,
        entries: Vec<HistoryEntry>,
    ) -> Result<ImportSummary, StoreError> {
        let mut summary = ImportSummary::default();
        let batch =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut rows = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            if !capture.privacy().records(&entry.command, None) {
                summary.ignored += 1;
                continue;
            }
            rows.push(ImportRow {
                event: EventRow {
                    key: format!("import:{shell}:{batch}:{i}"),
                    session: format!("import:{shell}"),
                    shell: shell.to_string(),
                    command: capture.privacy().redact(&entry.command),
                    cwd: None,
                    hostname: capture.hostname().map(str::to_string),
                    started_at: entry.started_at,
                    label: None,
                    p_unsafe: None,
                    reason: None,
                    model_version: None,
                },
                timed: entry.timed,
                duration_ms: entry.duration_ms,
                occurrence: entry.occurrence.max(1),
            });
        }
        // Score only what will be stored: a second import of a file costs lookups, not scores.
        let fresh = self.store.not_stored(&rows)?;
        let total = rows.len() as u64;
        let mut rows: Vec<ImportRow> = rows.into_iter().zip(fresh).filter_map(|(r, f)| f.then_some(r)).collect();
        summary.duplicates = total - rows.len() as u64;
        self.score(capture.scorer(), &mut rows);
        let (added, late_duplicates, risky) = self.store.import(&rows)?;
        summary.added = added;
        summary.duplicates += late_duplicates;
        summary.risky = risky;
        Ok(summary)
    }

    /// Fills in each row's score, scoring the commands not cached yet in parallel.
    fn score(&mut self, scorer: &Scorer, rows: &mut [ImportRow]) {
        let generation = scorer.generation();
        if generation != self.generation || self.scores.len() > CACHE_LIMIT {
            self.scores.clear();
            self.generation = generation;
        }
        let mut missing: Vec<&str> =
            rows.iter().map(|r| r.event.command.as_str()).filter(|c| !self.scores.contains_key(*c)).collect();
        missing.sort_unstable();
        missing.dedup();
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
        let chunk = missing.len().div_ceil(threads).max(1);
        let scored: Vec<ScoreRecord> = std::thread::scope(|s| {
            let workers: Vec<_> = missing
                .chunks(chunk)
                .map(|part| s.spawn(move || part.iter().map(|c| scorer.score(c)).collect::<Vec<_>>()))
                .collect();
            // A worker that panicked loses its scores; those rows are stored unscored.
            workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
        });
        for record in scored {
            self.scores.insert(record.command.clone(), record);
        }
        for row in rows.iter_mut() {
            if let Some(s) = self.scores.get(&row.event.command) {
                row.event.label = Some(s.label.as_str().to_string());
                row.event.p_unsafe = s.p_unsafe;
                row.event.reason = Some(s.reason.clone());
                row.event.model_version = s.model_version;
            }
        }
    }
}

/// `vigil import`: on the importer's own connection, once the first model is ready (imported
/// commands are scored as they are stored).
pub async fn apply(
    agent: &std::sync::Arc<crate::state::Agent>,
    shell: String,
    entries: Vec<vigil::protocol::HistoryEntry>,
) -> vigil::protocol::Response {
    let agent = agent.clone();
    let run = move || {
        agent.learner.wait_ready(std::time::Duration::from_secs(120));
        crate::state::with_connection(
            &agent.importer,
            || Importer::open(&agent.db),
            |importer| importer.import(&agent.capture, &shell, entries),
        )
    };
    match tokio::task::spawn_blocking(run).await {
        Ok(Ok(summary)) => vigil::protocol::Response::Imported(summary),
        Ok(Err(e)) => crate::state::internal(e),
        Err(e) => crate::state::internal(e.to_string()),
    }
}
