//! Start-up and shutdown of the agent process: folders, lock, store, journal replay, spool,
//! socket, signals, and the final flush.

use crate::capture::Capture;
use crate::config::Config;
use crate::journal::{Journal, JournalError};
use crate::lock::{AgentLock, LockError};
use crate::server::{self, Agent};
use crate::store::{Store, StoreError};
use crate::writer::{BatchLimits, Writer};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil::paths::{ensure_private_dir, PathError, Paths};

/// How the agent was asked to start.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The configuration explained, for `vigil config`.
    pub explained: Vec<(String, String, String)>,
    /// What is wrong in the configuration (`config.toml:LINE: KEY: what`), for `vigil status`
    /// and the first command of each shell.
    pub config_problems: Vec<String>,
    /// Wait up to this long for the lock (an agent being replaced is still stopping).
    pub wait_lock: Option<Duration>,
}

/// Why the agent could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Unusable paths.
    #[error(transparent)]
    Path(#[from] PathError),
    /// Another agent runs.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The journal could not be opened.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The socket could not be bound.
    #[error("cannot listen on {path}: {source}")]
    Listen {
        /// Socket path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs the agent until SIGTERM, SIGINT or a Shutdown request; returns after everything
/// accepted is committed (or left in the journal if the store refuses) and the socket is gone.
pub fn run(paths: &Paths, config: &Config, opts: &StartOptions) -> Result<(), DaemonError> {
    ensure_private_dir(&paths.runtime_dir)?;
    ensure_private_dir(&paths.data_dir)?;
    let lock = AgentLock::acquire(&paths.lock, opts.wait_lock)?;
    tracing::info!(pid = std::process::id(), version = crate::VERSION, home = %paths.data_dir.display(), "vigild starting");

    let store = Store::open(&paths.db)?;
    let open = store.open_events(vigil::now_ms() - 7 * 24 * 3600 * 1000)?;
    let (rules, problems) = crate::rules::RuleSet::from_config(&config.rules);
    for problem in problems {
        tracing::warn!("config: {problem}");
    }
    let scorer = Arc::new(crate::score::Scorer::new(config.score.clone()).with_rules(rules));
    // Shown by `vigil status` and `vigil doctor` once capture is up.
    let mut model_problem = None;
    match store.current_model() {
        Ok(Some((version, trained_at, _, blob))) => match crate::model::Model::from_bytes(&blob) {
            Ok(model) => {
                scorer.set_model(Some(Arc::new(crate::score::Current { model, version, trained_at })));
                tracing::info!(version, "model loaded");
            }
            Err(e) => {
                let what = format!(
                    "model v{version} is unreadable ({e}): rules only until a new model is trained (under way)"
                );
                tracing::error!("{what}");
                model_problem = Some(what);
            }
        },
        Ok(None) => tracing::info!("no model yet: training v1 from the bootstrap corpus in the background"),
        Err(e) => tracing::error!("cannot read the current model: {e}"),
    }
    let (mut journal, replay) = Journal::open(&paths.journal_dir)?;
    journal.set_sync_each(config.capture.fsync == crate::config::Fsync::Always);
    let replay_problems = replay.problems.clone();
    if !replay.records.is_empty() {
        tracing::info!(records = replay.records.len(), "replaying the journal");
    }
    let limits = BatchLimits {
        max_events: config.capture.batch_max_events.max(1),
        max_delay: Duration::from_millis(config.capture.batch_max_delay_ms.min(60_000)),
    };
    let (writer, writer_thread) = Writer::start(store, journal, replay, limits);
    let learner = crate::learn::Learner::new(
        paths.db.clone(),
        paths.labels.clone(),
        config.model.clone(),
        config.learn.clone(),
        scorer.clone(),
    );
    learner.reload_labels();
    {
        use std::os::unix::fs::DirBuilderExt;
        // The label file lives here: the person's alone.
        let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&paths.config_dir);
    }
    let watched = {
        let l = learner.clone();
        crate::labels::watch(&paths.labels, Duration::from_millis(200), move || l.reload_labels())
    };
    let _watcher = match watched {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::error!("cannot watch {}: {e}; label changes apply at the next start", paths.labels.display());
            None
        }
    };
    let scheduler = {
        let l = learner.clone();
        std::thread::Builder::new().name("vigil-learn".into()).spawn(move || l.run()).map_err(DaemonError::Runtime)?
    };
    let privacy = crate::capture::privacy(&config.redact);
    let capture = Capture::new(writer.clone(), scorer, privacy, hostname(), open);
    // A spool file the previous agent was taking in when it died may be what killed it: keep
    // it aside. The rest of the spool is taken in once the socket listens (see `serve`), so
    // that shells are answered even while a large spool is read.
    capture.quarantine_leftovers(&paths.spool, &paths.quarantine);
    for p in &replay_problems {
        capture.problem(format!("journal: {p}"));
    }
    if let Some(p) = model_problem {
        capture.problem(p);
    }
    if let Some(note) = &paths.runtime_note {
        capture.problem(note.clone());
    }

    let mut agent = Agent::new(
        capture,
        learner.clone(),
        paths.socket.clone(),
        paths.db.clone(),
        config.agent.max_connections.max(1),
        Duration::from_secs(config.agent.idle_timeout_secs.clamp(1, 24 * 3600)),
    );
    agent.config = opts.explained.clone();
    agent.config_problems = opts.config_problems.clone();
    agent.config_path = paths.config.display().to_string();
    agent.quarantine = paths.quarantine.clone();
    let agent = Arc::new(agent);
    // One thread: a request is a few microseconds of work, and on a busy laptop each wake-up
    // of another thread is a context switch the person's shell waits for. SQLite reads go to
    // the blocking pool; captured events are written by the writer thread, and the few other
    // writes (imports, forget, models, labels) by connections of their own (see `store`).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(DaemonError::Runtime)?;
    let served = runtime.block_on(serve(paths, agent.clone(), config.capture.spool_poll_secs));
    // Whatever happened, commit what was accepted before saying goodbye. A training under
    // way is not waited for: its model would be stored by a process that is leaving.
    learner.close();
    drop(scheduler);
    writer.close();
    // Whatever the disk does (full, locked, gone), the agent is gone within 2 s of being
    // asked: what the writer has not committed by then stays in the journal for the next one.
    let deadline = Instant::now() + Duration::from_millis(1500);
    while !writer_thread.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if !writer_thread.is_finished() {
        tracing::error!("the store did not finish in time; uncommitted events stay in the journal");
    } else if writer_thread.join().is_err() {
        tracing::error!("the writer thread panicked; unflushed events stay in the journal");
    }
    let _ = std::fs::remove_file(&paths.socket);
    drop(lock);
    tracing::info!("vigild stopped");
    served
}

async fn serve(paths: &Paths, agent: Arc<Agent>, spool_poll_secs: u64) -> Result<(), DaemonError> {
    if let Some(e) = paths.socket_error() {
        return Err(e.into());
    }
    let listen_err = |source| DaemonError::Listen { path: paths.socket.display().to_string(), source };
    // We hold the lock, so a socket file here is a leftover of a dead agent.
    match std::fs::remove_file(&paths.socket) {
        Ok(()) => tracing::info!("removed a stale socket"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(listen_err(e)),
    }
    // The secret shapes and the scorer are built on first use: built here, before the socket
    // exists, the first command of a shell does not wait on them past its hook's deadline.
    let warm = agent.clone();
    let _ = tokio::task::spawn_blocking(move || {
        warm.capture.score_line("curl -u warm:up-only-not-a-secret https://x.invalid")
    })
    .await;
    let listener = tokio::net::UnixListener::bind(&paths.socket).map_err(listen_err)?;
    // The folder is 0700 already; the socket is made the owner's alone too, as a second wall.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&paths.socket, std::fs::Permissions::from_mode(0o600)).map_err(listen_err)?;
    }
    tracing::info!(socket = %paths.socket.display(), "listening");

    let socket_id = socket_identity(&paths.socket);

    // The spool now, then again now and then: hooks that found no agent may still be spooling.
    // Each look also checks that this agent's home and socket are still there: an agent
    // whose folder was deleted (or whose socket another agent replaced) is serving no one,
    // and must not take new spool files into a deleted store.
    let watch_agent = agent.clone();
    let (spool, quarantine, home, socket) =
        (paths.spool.clone(), paths.quarantine.clone(), paths.data_dir.clone(), paths.socket.clone());
    let poll = Duration::from_secs(spool_poll_secs.clamp(1, 3600));
    let spool_task = tokio::spawn(async move {
        loop {
            if !home.is_dir() || socket_identity(&socket) != socket_id {
                tracing::error!("{} or its socket is gone: stopping", home.display());
                watch_agent.stop_requested.notify_one();
                return;
            }
            if !vigil::spool::is_empty(&spool) {
                let (a, s, q) = (watch_agent.clone(), spool.clone(), quarantine.clone());
                let _ = tokio::task::spawn_blocking(move || a.capture.ingest_spool(&s, &q)).await;
            }
            tokio::time::sleep(poll).await;
        }
    });

    server::run(listener, agent.clone(), shutdown_signal(agent)).await;
    spool_task.abort();
    Ok(())
}

async fn shutdown_signal(agent: Arc<Agent>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            tracing::error!("cannot install signal handlers; stop the agent with `vigil agent stop`");
            agent.stop_requested.notified().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = int.recv() => tracing::info!("SIGINT"),
        _ = agent.stop_requested.notified() => tracing::info!("stop requested"),
    }
}

/// The socket file's device and inode, to notice it being removed or replaced.
fn socket_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn hostname() -> Option<String> {
    let name = rustix::system::uname().nodename().to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}
