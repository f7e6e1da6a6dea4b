//! `Request::Status`: how the agent is doing (store, backlog, labels, model, problems).

use crate::state::{internal, Agent};
use std::sync::Arc;
use vigil::protocol::{Response, StatusReport, PROTOCOL_VERSION};

/// Answers `vigil status`.
pub async fn apply(agent: &Arc<Agent>) -> Response {
    let (pending, journal_bytes) = agent.capture.writer().backlog();
    let learn = agent.learner.status();
    match agent.read(|s| s.count()).await {
        Ok(events) => Response::Status(StatusReport {
            pid: std::process::id(),
            socket: agent.socket.display().to_string(),
            version: crate::VERSION.to_string(),
            protocol: PROTOCOL_VERSION,
            database: agent.db.display().to_string(),
            events,
            pending,
            journal_bytes,
            storage_error: agent.capture.writer().last_error(),
            labels: learn.labels,
            label_errors: learn.errors,
            last_training: learn.last_training,
            model_version: agent.capture.scorer().model().map(|m| m.version),
            trained_at: agent.capture.scorer().model().map(|m| m.trained_at),
            uptime_secs: agent.started.elapsed().as_secs(),
            problems: agent.capture.problems(),
            quarantined: agent.quarantined(),
            config_path: agent.config_path.clone(),
            config_problems: agent.config_problems.clone(),
        }),
        Err(e) => internal(e),
    }
}
