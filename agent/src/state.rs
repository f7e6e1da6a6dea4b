//! The agent's shared state, which every request handler is given: capture, learner, paths,
//! configuration, and the database connections kept for readers, imports and `forget`.

use crate::capture::Capture;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use vigil::protocol::{ErrorKind, ErrorReply, Response};

/// Everything a request handler may use.
pub struct Agent {
    /// Capture state and the writer.
    pub capture: Capture,
    /// Socket path, for status.
    pub socket: PathBuf,
    /// Database path, for readers and status.
    pub db: PathBuf,
    /// The quarantine folder, for status.
    pub quarantine: PathBuf,
    /// Connection limit.
    pub max_connections: usize,
    /// Idle connections are closed after this.
    pub idle_timeout: Duration,
    /// Signalled when a client asks the agent to stop.
    pub stop_requested: Notify,
    /// The effective configuration, explained (see `config::explain`).
    pub config: Vec<(String, String, String)>,
    /// What is wrong in the configuration, one line each (see `config::Problem`).
    pub config_problems: Vec<String>,
    /// The configuration file's path.
    pub config_path: String,
    /// Sessions already told about `config_problems` (bounded: cleared past 10,000).
    pub(crate) told: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Labels and models.
    pub learner: Arc<crate::learn::Learner>,
    pub(crate) started: Instant,
    pub(crate) reader: Mutex<Option<Store>>,
    /// A second writing connection, for imports: the batch writer keeps its own.
    pub(crate) importer: Mutex<Option<crate::import::Importer>>,
    /// A writing connection for `forget`.
    pub(crate) editor: Mutex<Option<Store>>,
}

impl Agent {
    /// Builds the shared state.
    pub fn new(
        capture: Capture,
        learner: Arc<crate::learn::Learner>,
        socket: PathBuf,
        db: PathBuf,
        max_connections: usize,
        idle_timeout: Duration,
    ) -> Agent {
        Agent {
            config: Vec::new(),
            config_problems: Vec::new(),
            config_path: String::new(),
            told: Default::default(),
            capture,
            learner,
            socket,
            quarantine: db.with_file_name("quarantine"),
            db,
            max_connections,
            idle_timeout,
            stop_requested: Notify::new(),
            started: Instant::now(),
            reader: Mutex::new(None),
            importer: Mutex::new(None),
            editor: Mutex::new(None),
        }
    }

    /// The first command of each shell session hears of the configuration's problems, as one
    /// line before any warning: the person learns that vigil runs on defaults for some keys,
    /// and it costs the other commands one set look-up.
    pub(crate) fn tell_config_problems(&self, session: &str, reply: Response) -> Response {
        let Some(first) = self.config_problems.first() else { return reply };
        let Response::Started { recorded, warning, segment, .. } = reply else { return reply };
        let new = {
            let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
            if told.len() >= 10_000 {
                told.clear();
            }
            told.insert(session.to_string())
        };
        let notice = new.then(|| match self.config_problems.len() {
            1 => format!("vigil: {first}"),
            n => format!("vigil: {first} (and {} more: vigil config check)", n - 1),
        });
        Response::Started { recorded, warning, notice, segment }
    }

    /// Forgets that a session was told, when the reply that told it could not be sent.
    pub(crate) fn untell(&self, session: &str, reply: &Response) {
        if let Response::Started { notice: Some(_), .. } = reply {
            self.told.lock().unwrap_or_else(|p| p.into_inner()).remove(session);
        }
    }

    /// Files in the quarantine folder.
    pub(crate) fn quarantined(&self) -> u64 {
        std::fs::read_dir(&self.quarantine).map(|d| d.flatten().count() as u64).unwrap_or(0)
    }

    /// Runs a read-only query on a blocking thread with the shared reader connection.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let agent = self.clone();
        let run = move || with_connection(&agent.reader, || Store::open_reader(&agent.db), |store| f(store));
        tokio::task::spawn_blocking(run).await.map_err(|e| e.to_string())?
    }
}

/// Runs `f` on the connection kept in `slot`, opening it first if there is none yet (or the
/// last open failed); errors become one line.
pub(crate) fn with_connection<C, T>(
    slot: &Mutex<Option<C>>,
    open: impl FnOnce() -> Result<C, crate::store::StoreError>,
    f: impl FnOnce(&mut C) -> Result<T, crate::store::StoreError>,
) -> Result<T, String> {
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    let conn = match guard.as_mut() {
        Some(c) => c,
        None => guard.insert(open().map_err(|e| e.to_string())?),
    };
    f(conn).map_err(|e| e.to_string())
}

/// An internal error as a reply.
pub(crate) fn internal(message: String) -> Response {
    Response::Error(ErrorReply { kind: ErrorKind::Internal, message })
}
