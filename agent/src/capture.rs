//! Turning hook requests into journal records: which commands are recorded, which running
//! event an end closes, and taking in the spool.

use crate::journal::{EventRow, JournalError, Record};
use crate::score::Scorer;
use crate::writer::Writer;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use vigil::protocol::{CommandEnd, CommandStart, ErrorKind, ErrorReply, Request, Response, ScoreRecord, Segment};

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
    problems: Mutex<Vec<String>>,
}

impl Capture {
    /// Capture state over a writer. `open` lists commands left running when the agent last
    /// stopped, (session, key, started_at), so their ends still find them.
    pub fn new(
        writer: Arc<Writer>,
        scorer: Arc<Scorer>,
        privacy: Privacy,
        hostname: Option<String>,
        open: Vec<(String, String, i64)>,
    ) -> Capture {
        let running = open
            .into_iter()
            .map(|(session, key, started_at)| (session, Running { key, started_at, segment: None }))
            .collect();
        Capture { writer, scorer, privacy, hostname, running: Mutex::new(running), problems: Mutex::new(Vec::new()) }
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

    /// Scores `command` as a start would (redacted first), recording nothing: its score and the
    /// warning a start would show. For a line not run yet (the channel's `check` and `live`),
    /// and to build at start-up what scoring builds lazily.
    pub fn score_line(&self, command: &str) -> (ScoreRecord, Option<String>) {
        let score = self.scorer.score(&self.privacy.redact(command));
        let warning = self.scorer.warning(&score);
        (score, warning)
    }

    /// Records a command about to run.
    pub fn start(&self, mut start: CommandStart) -> Response {
        if !self.privacy.records(&start.command, start.cwd.as_deref()) {
            return Response::Started { recorded: false, warning: None, notice: None, segment: None };
        }
        // Before anything else sees it: what is scored, journalled and stored is the
        // redacted text.
        start.command = self.privacy.redact(&start.command);
        let key = start.key();
        // A command that panics the scorer is still recorded, unscored: capture never stops
        // on what someone typed.
        let scored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let score = self.scorer.score(&start.command);
            let warning = self.scorer.warning(&score);
            (score, warning)
        }));
        let (score, warning) = match scored {
            Ok(s) => s,
            Err(_) => {
                self.problem(format!("scoring panicked on event {key}; stored unscored"));
                (crate::score::unscored(&start.command), None)
            }
        };
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
        // The agent listens before it reads the spool, so a spooled start can arrive after a
        // later command of the same session went live: it must not displace that one (whose
        // end would then find nothing running, and lose its prompt segment).
        let newer_running = running.get(&start.session).is_some_and(|r| r.started_at > start.started_at_ms);
        if !newer_running {
            running.insert(start.session, Running { key, started_at: start.started_at_ms, segment: segment.clone() });
        }
        Response::Started { recorded: true, warning, notice: None, segment }
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

    /// Takes in events that hooks spooled while no agent answered. Each file is claimed
    /// (moved into `claimed/`) before it is read, deleted once its events are journalled, and
    /// moved to `quarantine` if it cannot be read or an event in it makes the agent panic.
    /// Returns how many events were taken.
    pub fn ingest_spool(&self, spool: &Path, quarantine: &Path) -> usize {
        let listing = match vigil::spool::list(spool) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("cannot read the spool {}: {e}", spool.display());
                return 0;
            }
        };
        for path in listing.strange {
            let what = format!("{} is not a regular file; skipped", path.display());
            self.problem(what);
        }
        let claimed_dir = spool.join(CLAIMED);
        let mut n = 0;
        for file in listing.events {
            let claimed = match vigil::spool::move_into(&file, &claimed_dir) {
                Ok(c) => c,
                // Another agent took it, or the hook's rename raced us: nothing to do.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    self.problem(format!("cannot claim {}: {e}", file.display()));
                    continue;
                }
            };
            let decoded = match vigil::spool::read(&claimed) {
                Ok(d) => d,
                Err(e) => {
                    self.quarantine(&claimed, quarantine, &e.to_string());
                    continue;
                }
            };
            let mut trouble: Vec<String> = decoded.problems;
            if decoded.torn_tail {
                trouble.push("torn record".into());
            }
            let mut storage_failed = false;
            for entry in decoded.records {
                n += 1;
                let req = entry.into_request();
                let what = match &req {
                    Request::Start(s) => format!("start of {}", s.key()),
                    Request::End(e) => format!("end in session {}", e.session),
                    _ => "request".into(),
                };
                let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match req {
                    Request::Start(s) => self.start(s),
                    Request::End(e) => self.end(e),
                    _ => Response::Ok,
                }));
                match reply {
                    Ok(Response::Error(e)) => {
                        tracing::error!("spooled {what} not kept: {}", e.message);
                        storage_failed = true;
                    }
                    Ok(_) => {}
                    Err(_) => trouble.push(format!("the agent panicked on the {what}")),
                }
            }
            if !trouble.is_empty() {
                self.quarantine(&claimed, quarantine, &trouble.join("; "));
            } else if storage_failed {
                // The store or journal refused (a full disk): back to the spool, for later.
                // Events already journalled from it are keyed, so a retry adds no duplicate.
                if let Err(e) = vigil::spool::move_into(&claimed, spool) {
                    self.problem(format!("cannot return {} to the spool: {e}", claimed.display()));
                }
            } else if let Err(e) = std::fs::remove_file(&claimed) {
                tracing::warn!("cannot remove {}: {e}", claimed.display());
            }
        }
        if n > 0 {
            self.writer.kick();
            tracing::info!(events = n, "spool taken in");
        }
        n
    }

    /// Moves spool files that were claimed by an agent that died before finishing them into
    /// `quarantine`: one of them may be what killed it. Called once at start, before any
    /// spool is taken in.
    pub fn quarantine_leftovers(&self, spool: &Path, quarantine: &Path) {
        let Ok(left) = vigil::spool::list(&spool.join(CLAIMED)) else { return };
        for file in left.events {
            self.quarantine(&file, quarantine, "it was being taken in when the previous agent stopped");
        }
    }

    fn quarantine(&self, file: &Path, quarantine: &Path, why: &str) {
        match vigil::spool::move_into(file, quarantine) {
            Ok(dest) => self.problem(format!("quarantined {}: {why}", dest.display())),
            Err(e) => self.problem(format!("cannot quarantine {} ({why}): {e}", file.display())),
        }
    }

    /// Logs a problem once and keeps it for `vigil status` and `vigil doctor`.
    pub fn problem(&self, what: String) {
        let mut p = self.problems.lock().unwrap_or_else(|p| p.into_inner());
        if !p.contains(&what) {
            tracing::warn!("{what}");
            if p.len() >= MAX_PROBLEMS {
                p.remove(0);
            }
            p.push(what);
        }
    }

    /// Problems met while taking events in (quarantined files, files that are not regular).
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The spool's sub-folder of files being taken in.
const CLAIMED: &str = "claimed";

/// Problems kept for status, newest last.
const MAX_PROBLEMS: usize = 50;

/// Redaction and the person's do-not-record rules (`[redact]` in config.toml): the same
/// policy the client applies before it spools.
pub use vigil::privacy::Privacy;

/// The policy of the agent's `[redact]` configuration; patterns that do not compile are
/// logged and skipped.
pub fn privacy(config: &crate::config::RedactConfig) -> Privacy {
    let lists = vigil::privacy::RedactLists {
        extra_patterns: config.extra_patterns.clone(),
        ignore_commands: config.ignore_commands.clone(),
        ignore_folders: config.ignore_folders.clone(),
    };
    let (privacy, problems) = Privacy::new(&lists);
    for p in problems {
        tracing::error!("{p}");
    }
    privacy
}

fn storage_error(e: JournalError) -> Response {
    tracing::error!("event not kept: {e}");
    Response::Error(ErrorReply { kind: ErrorKind::Storage, message: e.to_string() })
}

/// `Request::Start`: records the command, and tells a new session of the configuration's
/// problems once.
pub fn apply_start(
    agent: &std::sync::Arc<crate::state::Agent>,
    s: vigil::protocol::CommandStart,
) -> vigil::protocol::Response {
    let session = s.session.clone();
    let reply = agent.capture.start(s);
    agent.tell_config_problems(&session, reply)
}
