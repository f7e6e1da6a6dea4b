//! Importing history files' commands (parsed by the client) into the store: the same privacy
//! rules as live capture, bulk scoring of each distinct command once, and dedupe.

use crate::capture::Capture;
use crate::journal::EventRow;
use crate::store::{ImportRow, Store, StoreError};
use std::collections::HashMap;
use vigil::protocol::{is_recorded, HistoryEntry, ImportSummary, ScoreRecord};

/// Redacts, scores and stores one batch of a history file of `shell`.
pub fn import(store: &mut Store, capture: &Capture, shell: &str, entries: Vec<HistoryEntry>) -> Result<ImportSummary, StoreError> {
    let mut summary = ImportSummary::default();
    // History repeats itself: score each distinct command once.
    let mut scores: HashMap<String, ScoreRecord> = HashMap::new();
    let batch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut rows = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        if !is_recorded(&entry.command) || capture.privacy().ignored(&entry.command, None) {
            summary.ignored += 1;
            continue;
        }
        let command = capture.privacy().redact(&entry.command);
        let score = scores.entry(command.clone()).or_insert_with(|| capture.scorer().score(&command));
        rows.push(ImportRow {
            event: EventRow {
                key: format!("import:{shell}:{batch}:{i}"),
                session: format!("import:{shell}"),
                shell: shell.to_string(),
                cwd: None,
                hostname: capture.hostname().map(str::to_string),
                started_at: entry.started_at,
                label: Some(score.label.as_str().to_string()),
                p_unsafe: score.p_unsafe,
                reason: Some(score.reason.clone()),
                model_version: score.model_version,
                command,
            },
            timed: entry.timed,
            duration_ms: entry.duration_ms,
            occurrence: entry.occurrence.max(1),
        });
    }
    (summary.added, summary.duplicates, summary.risky) = store.import(&rows)?;
    Ok(summary)
}
