//! Turning hook requests into journal records: which commands are recorded, which running
//! event an end closes, and taking in the spool.

use crate::journal::{EventRow, JournalError, Record};
use crate::score::Scorer;
use crate::writer::Writer;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use vigil::protocol::{is_recorded, CommandEnd, CommandStart, ErrorKind, ErrorReply, Request, Response, Segment};

/// At most this many shells are remembered as having a command running; older entries are
/// dropped first (a shell that was killed never sends its end).
const MAX_OPEN_SESSIONS: usize = 10_000;

/// The command currently running in a session.
#[derive(Debug, Clone)]
struct Running {
    key: String,
    started_at: i64,
    segment: Option<Segment>,
}

/// Capture state shared by every connection.
pub struct Capture {
    writer: Arc<Writer>,
    scorer: Arc<Scorer>,
    privacy: Privacy,
    hostname: Option<String>,
    running: Mutex<HashMap<String, Running>>,
}

impl Capture {
    /// Capture state over a writer. `open` lists commands left running when the agent last
    /// stopped, (session, key, started_at), so their ends still find them.
    pub fn new(writer: Arc<Writer>, scorer: Arc<Scorer>, privacy: Privacy, hostname: Option<String>, open: Vec<(String, String, i64)>) -> Capture {
        let running = open.into_iter().map(|(session, key, started_at)| (session, Running { key, started_at, segment: None })).collect();
        Capture { writer, scorer, privacy, hostname, running: Mutex::new(running) }
    }

    /// What is redacted and what is not recorded.
    pub fn privacy(&self) -> &Privacy {
        &self.privacy
    }

    /// The scorer behind this capture.
    pub fn scorer(&self) -> &Arc<Scorer> {
        &self.scorer
    }

    /// The host name stored with events.
    pub fn hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }

    /// The writer behind this capture.
    pub fn writer(&self) -> &Arc<Writer> {
        &self.writer
    }

    /// Records a command about to run.
    pub fn start(&self, mut start: CommandStart) -> Response {
        if !self.privacy.records(&start.command, start.cwd.as_deref()) {
            return Response::Started { recorded: false, warning: None };
        }
        // Before anything else sees it: what is scored, journalled and stored is the
        // redacted text.
        start.command = self.privacy.redact(&start.command);
        let key = start.key();
        let score = self.scorer.score(&start.command);
        let warning = self.scorer.warning(&score);
        let segment = Scorer::segment(&score);
        let row = EventRow {
            key: key.clone(),
            session: start.session.clone(),
            shell: start.shell,
            command: start.command,
            cwd: start.cwd,
            hostname: self.hostname.clone(),
            started_at: start.started_at_ms,
            label: Some(score.label.as_str().to_string()),
            p_unsafe: score.p_unsafe,
            reason: Some(score.reason),
            model_version: score.model_version,
        };
        if let Err(e) = self.writer.submit(Record::Start(row)) {
            return storage_error(e);
        }
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.len() >= MAX_OPEN_SESSIONS {
            let cutoff = start.started_at_ms - 24 * 3600 * 1000;
            running.retain(|_, r| r.started_at > cutoff);
            if running.len() >= MAX_OPEN_SESSIONS {
                running.clear();
            }
        }
        running.insert(start.session, Running { key, started_at: start.started_at_ms, segment });
        Response::Started { recorded: true, warning }
    }

    /// Closes the command running in a session. With a sequence number the event is found by
    /// its key; without, it is the session's latest started command.
    pub fn end(&self, end: CommandEnd) -> Response {
        let found = {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            match end.seq {
                Some(seq) => {
                    let key = format!("{}#{}", end.session, seq);
                    let (started_at, segment) = match running.get(&end.session) {
                        Some(r) if r.key == key => match running.remove(&end.session) {
                            Some(r) => (Some(r.started_at), r.segment),
                            None => (None, None),
                        },
                        _ => (None, None),
                    };
                    Some((key, started_at, segment))
                }
                None => running.remove(&end.session).map(|r| (r.key, Some(r.started_at), r.segment)),
            }
        };
        let Some((key, started_at, segment)) = found else {
            // Nothing is running there (a leading-space command, or an end seen twice).
            return Response::Ended { segment: None };
        };
        let duration_ms = end.duration_ms.or_else(|| started_at.map(|s| (end.ended_at_ms - s).max(0)));
        match self.writer.submit(Record::End { key, exit_code: end.exit_code, duration_ms }) {
            Ok(_) => Response::Ended { segment },
            Err(e) => storage_error(e),
        }
    }

    /// Takes in events that hooks spooled while no agent answered. Returns how many requests
    /// were taken; each spooled file is deleted once its event is journalled.
    pub fn ingest_spool(&self, spool: &Path) -> usize {
        let taken = match vigil::spool::take(spool) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("cannot read the spool {}: {e}", spool.display());
                return 0;
            }
        };
        let mut n = 0;
        for file in taken {
            if let Some(e) = &file.error {
                tracing::warn!("spool {}: stopped early: {e}", file.file.display());
            }
            let mut all_kept = true;
            for req in file.requests {
                n += 1;
                let reply = match req {
                    Request::Start(s) => self.start(s),
                    Request::End(e) => self.end(e),
                    other => {
                        tracing::warn!("ignoring {other:?} in the spool");
                        continue;
                    }
                };
                if let Response::Error(e) = reply {
                    tracing::error!("spooled event not kept: {}", e.message);
                    all_kept = false;
                }
            }
            if all_kept {
                if let Err(e) = std::fs::remove_file(&file.file) {
                    tracing::warn!("cannot remove {}: {e}", file.file.display());
                }
            }
        }
        if n > 0 {
            self.writer.kick();
            tracing::info!(requests = n, "spool taken in");
        }
        n
    }
}

/// Redaction and the person's do-not-record rules (`[redact]` in config.toml).
#[derive(Default)]
pub struct Privacy {
    extra: vigil::redact::Extra,
    ignore_commands: Vec<regex::Regex>,
    ignore_folders: Vec<String>,
}

impl Privacy {
    /// Builds the rules; patterns that do not compile are logged and skipped.
    pub fn new(config: &crate::config::RedactConfig) -> Privacy {
        let (extra, bad) = vigil::redact::Extra::new(&config.extra_patterns);
        for b in bad {
            tracing::error!("redact.extra_patterns: {b}");
        }
        let ignore_commands = config
            .ignore_commands
            .iter()
            .filter_map(|p| regex::Regex::new(p).map_err(|e| tracing::error!("redact.ignore_commands: {p}: {e}")).ok())
            .collect();
        let ignore_folders = config.ignore_folders.iter().map(|f| f.trim_end_matches('/').to_string()).collect();
        Privacy { extra, ignore_commands, ignore_folders }
    }

    /// The command with its secrets replaced.
    pub fn redact(&self, command: &str) -> String {
        vigil::redact::redact_with(command, &self.extra)
    }

    /// Whether this command, run in `cwd`, is recorded at all: not typed with a leading space
    /// nor blank (`is_recorded`), and not matched by the person's ignored commands or folders.
    pub fn records(&self, command: &str, cwd: Option<&str>) -> bool {
        is_recorded(command)
            && !self.ignore_commands.iter().any(|re| re.is_match(command))
            && !cwd.is_some_and(|d| self.ignore_folders.iter().any(|f| d == f || d.starts_with(&format!("{f}/"))))
    }
}

fn storage_error(e: JournalError) -> Response {
    tracing::error!("event not kept: {e}");
    Response::Error(ErrorReply { kind: ErrorKind::Storage, message: e.to_string() })
}
