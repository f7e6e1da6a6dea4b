//! Requests about the models: train one now, list them, roll back to one (the work is the
//! learner's, on a blocking thread).

use crate::state::{internal, Agent};
use std::sync::Arc;
use vigil::protocol::{ModelInfo, Response};

/// `vigil train`: trains now, whatever the schedule.
pub async fn apply_train(agent: &Arc<Agent>) -> Response {
    let learner = agent.learner.clone();
    match tokio::task::spawn_blocking(move || learner.train_now("vigil train")).await {
        Ok(Ok((report, current))) => {
            Response::Report { json: serde_json::to_string(&report).unwrap_or_default(), current }
        }
        Ok(Err(e)) => internal(e.to_string()),
        Err(e) => internal(e.to_string()),
    }
}

/// `vigil models`: every stored model, newest first.
pub async fn apply_list(agent: &Arc<Agent>) -> Response {
    match agent.read(|s| s.list_models()).await {
        Ok(rows) => Response::Models(
            rows.into_iter()
                .map(|m| ModelInfo {
                    version: m.version,
                    created_at: m.created_at,
                    n_train: m.n_train,
                    current: m.current,
                    note: m.note,
                    report: m.metrics,
                })
                .collect(),
        ),
        Err(e) => internal(e),
    }
}

/// `vigil rollback N`.
pub async fn apply_rollback(agent: &Arc<Agent>, version: i64) -> Response {
    let learner = agent.learner.clone();
    match tokio::task::spawn_blocking(move || learner.rollback(version)).await {
        Ok(Ok(())) => Response::Ok,
        Ok(Err(e)) => internal(e.to_string()),
        Err(e) => internal(e.to_string()),
    }
}
