//! The socket server: accept loop, one task per connection, request dispatch, and the
//! orderly stop (stop accepting, let handlers finish, then the caller flushes).
//!
//! As in mini-redis: `run(listener, agent, shutdown)` returns when `shutdown` completes; a
//! broadcast tells every handler to stop, and an mpsc channel whose senders the handlers hold
//! closes when the last of them is gone.

use crate::capture::Capture;
use crate::store::Store;
use interprocess::local_socket::tokio::{prelude::*, Listener, Stream};
use interprocess::local_socket::traits::StreamCommon;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, Notify, Semaphore};
use vigil::protocol::{
    self, AgentInfo, ErrorKind, ErrorReply, FrameError, Request, Response, StatusReport, PROTOCOL_VERSION,
};

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
    /// Labels and models.
    pub learner: Arc<crate::learn::Learner>,
    started: Instant,
    reader: Mutex<Option<Store>>,
    /// A second writing connection, for imports: the batch writer keeps its own.
    importer: Mutex<Option<crate::import::Importer>>,
}

impl Agent {
    /// Builds the shared state.
    pub fn new(capture: Capture, learner: Arc<crate::learn::Learner>, socket: PathBuf, db: PathBuf, max_connections: usize, idle_timeout: Duration) -> Agent {
        Agent {
            config: Vec::new(),
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
        }
    }

    /// Files in the quarantine folder.
    fn quarantined(&self) -> u64 {
        std::fs::read_dir(&self.quarantine).map(|d| d.flatten().count() as u64).unwrap_or(0)
    }

    /// Runs a read-only query on a blocking thread with the shared reader connection.
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let agent = self.clone();
        let run = move || with_connection(&agent.reader, || Store::open_reader(&agent.db), |store| f(store));
        tokio::task::spawn_blocking(run).await.map_err(|e| e.to_string())?
    }

    /// Answers one request.
    pub async fn dispatch(self: &Arc<Self>, req: Request) -> Response {
        match req {
            Request::Ping => Response::Pong(AgentInfo {
                pid: std::process::id(),
                version: crate::VERSION.to_string(),
                protocol: PROTOCOL_VERSION,
            }),
            Request::Start(s) => self.capture.start(s),
            Request::End(e) => self.capture.end(e),
            Request::Recent { limit } => {
                // Show what was just run: commit the queue first (bounded wait).
                self.capture.writer().flush(Duration::from_secs(2)).await;
                match self.read(move |s| s.recent(limit)).await {
                    Ok(events) => Response::Events(events),
                    Err(e) => internal(e),
                }
            }
            Request::Status => {
                let (pending, journal_bytes) = self.capture.writer().backlog();
                let learn = self.learner.status();
                match self.read(|s| s.count()).await {
                    Ok(events) => Response::Status(StatusReport {
                        pid: std::process::id(),
                        socket: self.socket.display().to_string(),
                        version: crate::VERSION.to_string(),
                        protocol: PROTOCOL_VERSION,
                        database: self.db.display().to_string(),
                        events,
                        pending,
                        journal_bytes,
                        storage_error: self.capture.writer().last_error(),
                        labels: learn.labels,
                        label_errors: learn.errors,
                        last_training: learn.last_training,
                        model_version: self.capture.scorer().model().map(|m| m.version),
                        trained_at: self.capture.scorer().model().map(|m| m.trained_at),
                        uptime_secs: self.started.elapsed().as_secs(),
                        problems: self.capture.problems(),
                        quarantined: self.quarantined(),
                    }),
                    Err(e) => internal(e),
                }
            }
            Request::Shutdown => {
                self.stop_requested.notify_one();
                Response::Ok
            }
            Request::Train => {
                let learner = self.learner.clone();
                match tokio::task::spawn_blocking(move || learner.train_now("vigil train")).await {
                    Ok(Ok((report, current))) => Response::Report { json: serde_json::to_string(&report).unwrap_or_default(), current },
                    Ok(Err(e)) => internal(e.to_string()),
                    Err(e) => internal(e.to_string()),
                }
            }
            Request::Models => match self.read(|s| s.list_models()).await {
                Ok(rows) => Response::Models(
                    rows.into_iter()
                        .map(|m| vigil::protocol::ModelInfo { version: m.version, created_at: m.created_at, n_train: m.n_train, current: m.current, note: m.note, report: m.metrics })
                        .collect(),
                ),
                Err(e) => internal(e),
            },
            Request::Rollback { version } => {
                let learner = self.learner.clone();
                match tokio::task::spawn_blocking(move || learner.rollback(version)).await {
                    Ok(Ok(())) => Response::Ok,
                    Ok(Err(e)) => internal(e.to_string()),
                    Err(e) => internal(e.to_string()),
                }
            }
            Request::Config => Response::Config(self.config.clone()),
            Request::Export { path } => {
                self.capture.writer().flush(Duration::from_secs(5)).await;
                let out = std::path::PathBuf::from(path);
                match self.read(move |s| crate::dataset::export(s, &out).map_err(|e| crate::store::StoreError::Invalid(e.to_string()))).await {
                    Ok(rows) => Response::Exported { rows },
                    Err(e) => internal(e),
                }
            }
            Request::Import { shell, entries } => {
                let agent = self.clone();
                let run = move || {
                    agent.learner.wait_ready(Duration::from_secs(120));
                    with_connection(&agent.importer, || crate::import::Importer::open(&agent.db), |importer| importer.import(&agent.capture, &shell, entries))
                };
                match tokio::task::spawn_blocking(run).await {
                    Ok(Ok(summary)) => Response::Imported(summary),
                    Ok(Err(e)) => internal(e),
                    Err(e) => internal(e.to_string()),
                }
            }
            Request::Review { limit } => {
                self.capture.writer().flush(Duration::from_secs(2)).await;
                // Rank with a model, not rules only, right after a first start; wait outside
                // the shared reader so that status stays answerable meanwhile.
                let learner = self.learner.clone();
                let _ = tokio::task::spawn_blocking(move || learner.wait_ready(Duration::from_secs(120))).await;
                let scorer = self.capture.scorer().clone();
                match self.read(move |s| crate::review::queue(s, &scorer, limit)).await {
                    Ok(items) => Response::Review(items),
                    Err(e) => internal(e),
                }
            }
            Request::Stats { days, top } => {
                self.capture.writer().flush(Duration::from_secs(2)).await;
                match self.read(move |s| crate::stats::report(s, days, top)).await {
                    Ok(report) => Response::Stats(report),
                    Err(e) => internal(e),
                }
            }
            Request::Score { commands } => {
                let scorer = self.capture.scorer().clone();
                let agent = self.clone();
                // Thousands of lines are CPU work: keep them off the thread that answers hooks.
                // Like a recorded command, a scored one is judged on its redacted text.
                let scored = tokio::task::spawn_blocking(move || commands.iter().map(|c| scorer.score(&agent.capture.privacy().redact(c))).collect());
                match scored.await {
                    Ok(records) => Response::Scores(records),
                    Err(e) => internal(e.to_string()),
                }
            }
        }
    }
}

/// Runs `f` on the connection kept in `slot`, opening it first if there is none yet (or the
/// last open failed); errors become one line.
fn with_connection<C, T>(
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

fn internal(message: String) -> Response {
    Response::Error(ErrorReply { kind: ErrorKind::Internal, message })
}

/// Serves `listener` until `shutdown` completes, then waits for every handler to end.
pub async fn run(listener: Listener, agent: Arc<Agent>, shutdown: impl Future) {
    let (notify_shutdown, _) = broadcast::channel::<()>(1);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let limit = Arc::new(Semaphore::new(agent.max_connections));
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };

    let accept_loop = async {
        loop {
            let Ok(permit) = limit.clone().acquire_owned().await else { return };
            let stream = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            match stream.peer_creds().map(|c| c.euid()) {
                Ok(Some(uid)) if uid == me => {}
                other => {
                    tracing::warn!("refused a connection from a peer that is not uid {me}: {other:?}");
                    continue;
                }
            }
            let agent = agent.clone();
            let mut stop = notify_shutdown.subscribe();
            let done = done_tx.clone();
            tokio::spawn(async move {
                tokio::select! {
                    r = handle(stream, &agent) => if let Err(e) = r { tracing::debug!("connection ended: {e}") },
                    _ = stop.recv() => {}
                }
                drop(permit);
                drop(done);
            });
        }
    };

    tokio::select! {
        _ = accept_loop => {}
        _ = shutdown => tracing::info!("stopping: no new connections"),
    }
    drop(notify_shutdown);
    drop(done_tx);
    let _ = done_rx.recv().await;
}

/// Serves one connection until the peer closes it, goes idle, or sends something unreadable.
async fn handle(stream: Stream, agent: &Arc<Agent>) -> Result<(), FrameError> {
    // Buffered: a request usually arrives whole, and is then read with one system call.
    let mut stream = tokio::io::BufReader::with_capacity(8 * 1024, stream);
    loop {
        let body = match tokio::time::timeout(agent.idle_timeout, read_body(&mut stream)).await {
            Err(_) => return Ok(()),
            Ok(Err(FrameError::Closed)) => return Ok(()),
            Ok(Err(e)) => {
                // Oversized or torn: the stream cannot be resynchronised, so answer and close.
                tracing::warn!("bad frame from client: {e}");
                let _ = reply(&mut stream, &bad_frame(&e)).await;
                return Err(e);
            }
            Ok(Ok(body)) => body,
        };
        let request = protocol::split_body(&body).and_then(protocol::decode_payload::<Request>);
        let mut last = false;
        let response = match request {
            Ok(req) => {
                last = req == Request::Shutdown;
                agent.dispatch(req).await
            }
            Err(e @ FrameError::Version { .. }) => {
                tracing::warn!("client speaks another protocol: {e}");
                reply(&mut stream, &bad_frame(&e)).await?;
                return Err(e);
            }
            Err(e) => {
                tracing::warn!("undecodable request: {e}");
                bad_frame(&e)
            }
        };
        let sent = reply(&mut stream, &response).await;
        // After the reply, so the shell does not wait on it; and even if the reply failed,
        // so that an accepted record never sits uncommitted.
        agent.capture.writer().kick();
        sent?;
        if last {
            return Ok(());
        }
    }
}

fn bad_frame(e: &FrameError) -> Response {
    Response::Error(ErrorReply { kind: ErrorKind::BadFrame, message: e.to_string() })
}

async fn read_body(stream: &mut tokio::io::BufReader<Stream>) -> Result<Vec<u8>, FrameError> {
    let mut prefix = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match stream.read(&mut prefix[got..]).await? {
            0 if got == 0 => return Err(FrameError::Closed),
            0 => return Err(FrameError::Truncated),
            n => got += n,
        }
    }
    let len = protocol::body_len(prefix)?;
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    })?;
    Ok(body)
}

async fn reply(stream: &mut tokio::io::BufReader<Stream>, response: &Response) -> Result<(), FrameError> {
    let frame = protocol::encode_frame(response)?;
    stream.get_mut().write_all(&frame).await?;
    Ok(())
}
