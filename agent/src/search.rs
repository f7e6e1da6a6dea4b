//! Searching and forgetting recorded commands: one filter (text or regex, folder, exit code,
//! shell, session, verdict, risk, time) for `vigil search`, `vigil recent` and `vigil forget`,
//! and the deletion of events everywhere the store keeps their text.

use crate::store::{event_from_row, Store, StoreError, EVENT_COLUMNS};
use rusqlite::types::Value;
use vigil::protocol::{clip, EventFilter, EventRecord, ForgetReport, ForgetTarget, LIST_BUDGET};

/// The filter as SQL (everything but a regex) and a matcher for the rest.
struct Query {
    sql: String,
    params: Vec<Value>,
    regex: Option<regex::Regex>,
}

fn query(filter: &EventFilter) -> Result<Query, StoreError> {
    let mut sql = String::from(" WHERE 1");
    let mut params: Vec<Value> = Vec::new();
    let mut add = |clause: &str, values: Vec<Value>| {
        sql.push_str(" AND ");
        sql.push_str(clause);
        params.extend(values);
    };
    let mut regex = None;
    if let Some(p) = &filter.pattern {
        if filter.regex {
            regex = Some(
                regex::RegexBuilder::new(p)
                    .size_limit(10 << 20)
                    .build()
                    .map_err(|e| StoreError::Invalid(format!("--regex {p:?}: {e}")))?,
            );
        } else {
            add("instr(e.command, ?) > 0", vec![Value::Text(p.clone())]);
        }
    }
    if let Some(c) = &filter.cwd {
        let dir = c.trim_end_matches('/');
        let dir = if dir.is_empty() { "/" } else { dir };
        let below = if dir == "/" { "/".to_string() } else { format!("{dir}/") };
        add(
            "(e.cwd = ? OR substr(e.cwd, 1, ?) = ?)",
            vec![Value::Text(dir.to_string()), Value::Integer(below.len() as i64), Value::Text(below)],
        );
    }
    if let Some(x) = filter.exit_code {
        add("e.exit_code = ?", vec![Value::Integer(x.into())]);
    }
    if let Some(v) = &filter.shell {
        add("e.shell = ?", vec![Value::Text(v.clone())]);
    }
    if let Some(v) = &filter.session {
        add("e.session = ?", vec![Value::Text(v.clone())]);
    }
    if let Some(v) = &filter.label {
        add("e.label = ?", vec![Value::Text(v.clone())]);
    }
    if filter.risky {
        add("e.label = 'unsafe'", vec![]);
    }
    if let Some(t) = filter.since_ms {
        add("e.started_at >= ?", vec![Value::Integer(t)]);
    }
    if let Some(t) = filter.until_ms {
        add("e.started_at < ?", vec![Value::Integer(t)]);
    }
    Ok(Query { sql, params, regex })
}

/// One page of the events that pass `filter`, newest first, older than `before`: at most
/// `limit` events and about [`LIST_BUDGET`] bytes, commands and folders cut for display.
pub fn search(
    store: &Store,
    filter: &EventFilter,
    limit: u32,
    before: Option<(i64, i64)>,
) -> Result<Vec<EventRecord>, StoreError> {
    let Query { mut sql, mut params, regex } = query(filter)?;
    if let Some((at, id)) = before {
        sql.push_str(" AND (e.started_at < ? OR (e.started_at = ? AND e.id < ?))");
        params.extend([Value::Integer(at), Value::Integer(at), Value::Integer(id)]);
    }
    let mut stmt = store
        .conn()
        .prepare(&format!("SELECT {EVENT_COLUMNS} FROM events e{sql} ORDER BY e.started_at DESC, e.id DESC"))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while out.len() < limit as usize && bytes < LIST_BUDGET {
        let Some(row) = rows.next()? else { break };
        let mut e = event_from_row(row)?;
        if regex.as_ref().is_some_and(|r| !r.is_match(&e.command)) {
            continue;
        }
        bytes += clip(&mut e.command) + e.cwd.as_mut().map_or(0, clip) + e.session.len() + 128;
        out.push(e);
    }
    Ok(out)
}

/// The ids and commands of the events `target` selects.
fn selected(store: &Store, target: &ForgetTarget) -> Result<Vec<(i64, String, String)>, StoreError> {
    let (sql, params, regex) = match target {
        ForgetTarget::Id(id) => (" WHERE e.id = ?".to_string(), vec![Value::Integer(*id)], None),
        ForgetTarget::Command(c) => (" WHERE e.command = ?".to_string(), vec![Value::Text(c.clone())], None),
        ForgetTarget::Filter(f) => {
            let q = query(f)?;
            (q.sql, q.params, q.regex)
        }
    };
    let mut stmt = store.conn().prepare(&format!("SELECT e.id, e.key, e.command FROM events e{sql}"))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let command: String = r.get(2)?;
        if regex.as_ref().is_some_and(|re| !re.is_match(&command)) {
            continue;
        }
        out.push((r.get(0)?, r.get(1)?, command));
    }
    Ok(out)
}

/// Deletes the events `target` selects (or counts them, with `dry_run`), with what else
/// holds their text: their early ends, and the labels table's rows for commands no other
/// event still has. The label file is the person's and is not touched: a label line there
/// comes back into the table when the file changes.
pub fn forget(store: &mut Store, target: &ForgetTarget, dry_run: bool) -> Result<ForgetReport, StoreError> {
    if matches!(target, ForgetTarget::Filter(f) if f == &EventFilter::default()) {
        return Err(StoreError::Invalid("forget needs a pattern or a filter: it never deletes everything".into()));
    }
    let rows = selected(store, target)?;
    let mut commands: Vec<&str> = rows.iter().map(|(_, _, c)| c.as_str()).collect();
    commands.sort_unstable();
    commands.dedup();
    let mut report = ForgetReport { events: rows.len() as u64, commands: commands.len() as u64, labels: 0 };
    let tx = store.conn_mut().transaction()?;
    tx.execute("CREATE TEMP TABLE IF NOT EXISTS forget_ids (id INTEGER PRIMARY KEY, key TEXT)", [])?;
    tx.execute("CREATE TEMP TABLE IF NOT EXISTS forget_commands (command TEXT PRIMARY KEY)", [])?;
    tx.execute("DELETE FROM forget_ids", [])?;
    tx.execute("DELETE FROM forget_commands", [])?;
    {
        let mut ids = tx.prepare("INSERT OR IGNORE INTO forget_ids (id, key) VALUES (?1, ?2)")?;
        for (id, key, _) in &rows {
            ids.execute(rusqlite::params![id, key])?;
        }
        let mut cmds = tx.prepare("INSERT OR IGNORE INTO forget_commands (command) VALUES (?1)")?;
        for c in &commands {
            cmds.execute([c])?;
        }
    }
    let orphan_labels = "SELECT l.command FROM labels l JOIN forget_commands f ON f.command = l.command
         WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.command = l.command AND e.id NOT IN (SELECT id FROM forget_ids))";
    report.labels =
        tx.query_row(&format!("SELECT COUNT(*) FROM ({orphan_labels})"), [], |r| r.get::<_, i64>(0))? as u64;
    if dry_run {
        tx.rollback()?;
        return Ok(report);
    }
    tx.execute(&format!("DELETE FROM labels WHERE command IN ({orphan_labels})"), [])?;
    tx.execute("DELETE FROM early_ends WHERE key IN (SELECT key FROM forget_ids)", [])?;
    tx.execute("DELETE FROM events WHERE id IN (SELECT id FROM forget_ids)", [])?;
    tx.execute("DELETE FROM forget_ids", [])?;
    tx.execute("DELETE FROM forget_commands", [])?;
    tx.commit()?;
    Ok(report)
}

/// `Request::Search` (and `Recent`, with no filter): commits the queue first (bounded wait), so
/// that what was just run shows.
pub async fn apply_search(
    agent: &std::sync::Arc<crate::state::Agent>,
    filter: vigil::protocol::EventFilter,
    limit: u32,
    before: Option<(i64, i64)>,
) -> vigil::protocol::Response {
    agent.capture.writer().flush(std::time::Duration::from_secs(2)).await;
    match agent.read(move |s| search(s, &filter, limit, before)).await {
        Ok(events) => vigil::protocol::Response::Events(events),
        Err(e) => crate::state::internal(e),
    }
}

/// `Request::Forget`, on the editing connection.
pub async fn apply_forget(
    agent: &std::sync::Arc<crate::state::Agent>,
    target: vigil::protocol::ForgetTarget,
    dry_run: bool,
) -> vigil::protocol::Response {
    // What the journal holds goes to the store first, so that it is forgotten too.
    agent.capture.writer().flush(std::time::Duration::from_secs(5)).await;
    let agent = agent.clone();
    let run = move || {
        crate::state::with_connection(&agent.editor, || Store::open(&agent.db), |store| forget(store, &target, dry_run))
    };
    match tokio::task::spawn_blocking(run).await {
        Ok(Ok(report)) => vigil::protocol::Response::Forgotten(report),
        Ok(Err(e)) => crate::state::internal(e),
        Err(e) => crate::state::internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{EventRow, Record};

    fn store_with(commands: &[(&str, &str, i32)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("v.db")).unwrap();
        let records: Vec<Record> = commands
            .iter()
            .enumerate()
            .flat_map(|(i, (cmd, cwd, exit))| {
                let key = format!("k{i}");
                [
                    Record::Start(EventRow {
                        key: key.clone(),
                        session: "s".into(),
                        shell: if i % 2 == 0 { "bash".into() } else { "zsh".into() },
                        command: cmd.to_string(),
                        cwd: Some(cwd.to_string()),
                        hostname: None,
                        started_at: 1000 + i as i64,
                        label: Some("safe".into()),
                        p_unsafe: Some(0.1),
                        reason: None,
                        model_version: None,
                    }),
                    Record::End { key, exit_code: *exit, duration_ms: Some(1) },
                ]
            })
            .collect();
        store.apply(&records).unwrap();
        (dir, store)
    }

    #[test]
    fn filters_combine_and_pages_follow_each_other() {
        let (_d, store) = store_with(&[
            ("ls -la", "/home/a", 0),
            ("git push", "/home/a/proj", 1),
            ("ls /tmp", "/home/ab", 0),
            ("make", "/srv", 2),
        ]);
        let f = |filter: EventFilter| {
            search(&store, &filter, 100, None).unwrap().into_iter().map(|e| e.command).collect::<Vec<_>>()
        };
        assert_eq!(f(EventFilter { pattern: Some("ls".into()), ..Default::default() }), vec!["ls /tmp", "ls -la"]);
        assert_eq!(
            f(EventFilter { cwd: Some("/home/a/".into()), ..Default::default() }),
            vec!["git push", "ls -la"],
            "below, not a prefix of a name"
        );
        assert_eq!(f(EventFilter { exit_code: Some(2), ..Default::default() }), vec!["make"]);
        assert_eq!(f(EventFilter { shell: Some("zsh".into()), ..Default::default() }), vec!["make", "git push"]);
        assert_eq!(
            f(EventFilter { pattern: Some("^(ls|make)$|^git".into()), regex: true, ..Default::default() }),
            vec!["make", "git push"]
        );
        assert_eq!(
            f(EventFilter { since_ms: Some(1001), until_ms: Some(1003), ..Default::default() }),
            vec!["ls /tmp", "git push"]
        );
        let first = search(&store, &EventFilter::default(), 2, None).unwrap();
        let last = first.last().map(|e| (e.started_at, e.id));
        let next: Vec<String> =
            search(&store, &EventFilter::default(), 2, last).unwrap().into_iter().map(|e| e.command).collect();
        assert_eq!(next, vec!["git push", "ls -la"]);
    }

    #[test]
    fn forget_counts_then_deletes_events_and_orphaned_labels() {
        let (_d, mut store) = store_with(&[("secret-thing", "/a", 0), ("ls", "/a", 0), ("secret-thing", "/b", 0)]);
        store.sync_labels(&[("secret-thing".into(), "safe".into(), 1), ("ls".into(), "safe".into(), 2)], "f").unwrap();
        let target = ForgetTarget::Filter(EventFilter { pattern: Some("secret".into()), ..Default::default() });
        let dry = forget(&mut store, &target, true).unwrap();
        assert_eq!(dry, ForgetReport { events: 2, commands: 1, labels: 1 });
        assert_eq!(store.count().unwrap(), 3, "a dry run deletes nothing");
        assert_eq!(forget(&mut store, &target, false).unwrap(), dry);
        assert_eq!(store.count().unwrap(), 1);
        assert_eq!(store.label_count().unwrap(), 1);
        assert!(forget(&mut store, &ForgetTarget::Filter(EventFilter::default()), false).is_err(), "never everything");
        let id = store.recent(1).unwrap()[0].id;
        assert_eq!(forget(&mut store, &ForgetTarget::Id(id), false).unwrap().events, 1);
        assert_eq!(store.count().unwrap(), 0);
    }

    #[test]
    fn huge_commands_are_cut_for_lists() {
        let big = "x".repeat(3_600_000);
        let (_d, store) = store_with(&[(&big, "/a", 0), (&big, "/a", 0)]);
        let page = search(&store, &EventFilter::default(), 10, None).unwrap();
        assert_eq!(page.len(), 2);
        assert!(page.iter().all(|e| e.command.len() < 2100 && e.command.ends_with(" more bytes]")));
    }
}
