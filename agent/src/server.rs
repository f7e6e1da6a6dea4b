//! The socket server: accept loop, one task per connection, routing each request to its
//! handler (beside the concern it serves), and the orderly stop (stop accepting, let handlers
//! finish, then the caller flushes).
//!
//! As in mini-redis: `run(listener, agent, shutdown)` returns when `shutdown` completes; a
//! broadcast tells every handler to stop, and an mpsc channel whose senders the handlers hold
//! closes when the last of them is gone.

pub use crate::state::Agent;
use std::future::Future;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener as Listener, UnixStream as Stream};
use tokio::sync::{broadcast, mpsc, Semaphore};
use vigil::channel::{self, ChannelRequest};
use vigil::frame;
use vigil::protocol::{
    self, AgentInfo, ErrorKind, ErrorReply, EventFilter, FrameError, Request, Response, PROTOCOL_VERSION,
};

/// Answers one request: each goes to the handler of its concern.
pub async fn route(agent: &Arc<Agent>, req: Request) -> Response {
    match req {
        Request::Ping => Response::Pong(AgentInfo {
            pid: std::process::id(),
            version: crate::VERSION.to_string(),
            protocol: PROTOCOL_VERSION,
        }),
        Request::Start(s) => crate::capture::apply_start(agent, s),
        Request::End(e) => agent.capture.end(e),
        Request::Recent { limit } => crate::search::apply_search(agent, EventFilter::default(), limit, None).await,
        Request::Search { filter, limit, before } => crate::search::apply_search(agent, filter, limit, before).await,
        Request::Forget { target, dry_run } => crate::search::apply_forget(agent, target, dry_run).await,
        Request::Status => crate::status::apply(agent).await,
        Request::Shutdown => {
            agent.stop_requested.notify_one();
            Response::Ok
        }
        Request::Train => crate::models::apply_train(agent).await,
        Request::Models => crate::models::apply_list(agent).await,
        Request::Rollback { version } => crate::models::apply_rollback(agent, version).await,
        Request::Config => Response::Config(agent.config.clone()),
        Request::Rules => crate::score::apply_rules(agent),
        Request::Export { path } => crate::dataset::apply_export(agent, path).await,
        Request::Import { shell, entries } => crate::import::apply(agent, shell, entries).await,
        Request::Review { limit } => crate::review::apply(agent, limit).await,
        Request::Stats { days, top } => crate::stats::apply(agent, days, top).await,
        Request::Score { commands } => crate::score::apply_score(agent, commands).await,
    }
}

/// Serves `listener` until `shutdown` completes, then waits for every handler to end.
pub async fn run(listener: Listener, agent: Arc<Agent>, shutdown: impl Future) {
    let (notify_shutdown, _) = broadcast::channel::<()>(1);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let limit = Arc::new(Semaphore::new(agent.max_connections));
    let me = rustix::process::geteuid().as_raw();

    let accept_loop = async {
        loop {
            let Ok(permit) = limit.clone().acquire_owned().await else { return };
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            match stream.peer_cred().map(|c| c.uid()) {
                Ok(uid) if uid == me => {}
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
    // A frame starts with its length's high byte, 0 for any frame we accept; a hook speaking
    // the shell channel starts with a verb, a lowercase letter. Anything else is a frame (a
    // wrong one gets its error reply).
    match tokio::time::timeout(agent.idle_timeout, stream.fill_buf()).await {
        Err(_) => return Ok(()),
        Ok(Err(e)) => return Err(e.into()),
        Ok(Ok(first)) if first.first().is_some_and(u8::is_ascii_lowercase) => {
            return handle_channel(stream, agent).await
        }
        Ok(Ok(_)) => {}
    }
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
        let request = frame::split_body(&body).and_then(frame::decode_payload::<Request>);
        let mut last = false;
        let mut session = None;
        let response = match request {
            Ok(req) => {
                last = req == Request::Shutdown;
                if let Request::Start(s) = &req {
                    session = Some(s.session.clone());
                }
                route(agent, req).await
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
        if let (Err(_), Some(session)) = (&sent, &session) {
            // A hook that gave up before the reply never showed the notice: tell that session
            // again with its next command.
            agent.untell(session, &response);
        }
        // After the reply, so the shell does not wait on it; and even if the reply failed,
        // so that an accepted record never sits uncommitted.
        agent.capture.writer().kick();
        sent?;
        if last {
            return Ok(());
        }
    }
}

/// Serves a shell that keeps its channel open for its lifetime (zsh's `zsocket`): no idle
/// deadline, one reply line per message (`vigil::channel`). A `live` line waits for a pause in
/// typing: it is answered once [`channel::LIVE_PAUSE`] passes with no other message, and a
/// newer message replaces it unanswered.
async fn handle_channel(mut stream: tokio::io::BufReader<Stream>, agent: &Arc<Agent>) -> Result<(), FrameError> {
    let mut splitter = channel::Splitter::default();
    let mut live: Option<(u64, String, tokio::time::Instant)> = None;
    loop {
        let next = {
            let read = read_channel_message(&mut stream, &mut splitter);
            match live.as_ref().map(|(_, _, due)| *due) {
                None => Some(read.await?),
                Some(due) => tokio::select! {
                    r = read => Some(r?),
                    _ = tokio::time::sleep_until(due) => None,
                },
            }
        };
        let fields = match next {
            // The pause came: answer the line being typed.
            None => {
                if let Some((seq, text, _)) = live.take() {
                    stream.get_mut().write_all(scored(agent, seq, &text).as_bytes()).await?;
                }
                continue;
            }
            Some(None) => return Ok(()),
            Some(Some(fields)) => fields,
        };
        live = None;
        let mut told = None;
        let line = match channel::decode(&fields, vigil::now_ms()) {
            Ok(ChannelRequest::Start { seq, start: None }) => channel::started_line(seq, true, None, None, None),
            Ok(ChannelRequest::Start { seq, start: Some(start) }) => {
                let (session, shell) = (start.session.clone(), start.shell.clone());
                let response = route(agent, Request::Start(start)).await;
                let kept = matches!(response, Response::Started { .. });
                let line = channel::started_reply(seq, kept, &shell, Some(&response));
                told = Some((session, response));
                line
            }
            Ok(ChannelRequest::End { seq, shell, color, end }) => {
                let response = route(agent, Request::End(end)).await;
                channel::ended_reply(seq, &shell, color, Some(&response))
            }
            Ok(ChannelRequest::Score { seq, text, live: true, .. }) => {
                live = Some((seq, text, tokio::time::Instant::now() + channel::LIVE_PAUSE));
                continue;
            }
            Ok(ChannelRequest::Score { seq, text, live: false, .. }) => scored(agent, seq, &text),
            // For relays, which stand in for an agent that does not answer.
            Ok(ChannelRequest::Rest { .. }) => continue,
            Err(e) => {
                tracing::warn!("bad message on a shell channel: {e}");
                let Some(line) = channel::broken_reply(&fields) else { continue };
                line
            }
        };
        let sent = stream.get_mut().write_all(line.as_bytes()).await;
        if let (Err(_), Some((session, response))) = (&sent, &told) {
            agent.untell(session, response);
        }
        agent.capture.writer().kick();
        sent?;
    }
}

/// The `scored` reply for a line: scored as its start would be (redacted first), recorded
/// nowhere. A line that panics the scorer is `unknown`, and the channel goes on.
fn scored(agent: &Arc<Agent>, seq: u64, text: &str) -> String {
    let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (rec, warning) = agent.capture.score_line(text);
        let rule = rec.label == vigil::protocol::Label::Unsafe && rec.reason.starts_with("rule:");
        (if rule { "rule" } else { rec.label.as_str() }, warning)
    }));
    match verdict {
        Ok((verdict, warning)) => channel::scored_line(seq, verdict, warning.as_deref()),
        Err(_) => channel::scored_line(seq, "unknown", None),
    }
}

/// One message of the shell channel; `None` when the shell closed it between two messages.
async fn read_channel_message(
    stream: &mut tokio::io::BufReader<Stream>,
    splitter: &mut channel::Splitter,
) -> Result<Option<Vec<Vec<u8>>>, FrameError> {
    let broken = |e: channel::ChannelError| FrameError::Decode(e.to_string());
    loop {
        let buf = stream.fill_buf().await?;
        if buf.is_empty() {
            return splitter.finish().map(|()| None).map_err(broken);
        }
        let (n, message) = splitter.feed(buf).map_err(broken)?;
        stream.consume(n);
        if message.is_some() {
            return Ok(message);
        }
    }
}

fn bad_frame(e: &FrameError) -> Response {
    Response::Error(ErrorReply { kind: ErrorKind::BadFrame, message: e.to_string() })
}

/// One frame body, read with the client's own frame reader (`vigil::frame::Prefix`).
async fn read_body(stream: &mut tokio::io::BufReader<Stream>) -> Result<Vec<u8>, FrameError> {
    let mut prefix = frame::Prefix::default();
    let mut body = loop {
        let n = stream.read(prefix.space()).await?;
        if let Some(body) = prefix.advance(n)? {
            break body;
        }
    };
    stream.read_exact(&mut body).await.map_err(frame::body_read_error)?;
    Ok(body)
}

async fn reply(stream: &mut tokio::io::BufReader<Stream>, response: &Response) -> Result<(), FrameError> {
    let frame = protocol::encode_frame(response)?;
    stream.get_mut().write_all(&frame).await?;
    Ok(())
}
