//! The labelling queue: which recent unlabelled commands a label would teach the model most
//! about (the model's uncertainty first, then how often the command runs).

use crate::score::Scorer;
use crate::store::{Store, StoreError};
use vigil::protocol::ReviewItem;

/// How many of the latest events the queue is drawn from.
pub const WINDOW: u32 = 20_000;

/// The queue, most instructive first, at most `limit` long. Left out: commands a hard rule
/// decides (no label can change their verdict) and multi-line commands (a label line holds
/// one line).
pub fn queue(store: &Store, scorer: &Scorer, limit: u32) -> Result<Vec<ReviewItem>, StoreError> {
    let mut items: Vec<ReviewItem> = store
        .unlabelled_recent(WINDOW)?
        .into_iter()
        .filter(|u| !u.command.contains(['\n', '\r']))
        .filter_map(|u| {
            let s = scorer.score(&u.command);
            if s.reason.starts_with("rule:") || s.reason == "label" {
                return None;
            }
            Some(ReviewItem {
                uncertainty: uncertainty(s.p_unsafe),
                command: u.command,
                count: u.count,
                last_seen: u.last_seen,
                label: s.label,
                p_unsafe: s.p_unsafe,
                reason: s.reason,
            })
        })
        .collect();
    // Uncertainty in tenths: between two commands the model is about as unsure of, the
    // one run more often is the better question.
    let tenths = |i: &ReviewItem| (i.uncertainty * 10.0).round() as u32;
    items.sort_by(|a, b| tenths(b).cmp(&tenths(a)).then(b.count.cmp(&a.count)).then(b.last_seen.cmp(&a.last_seen)));
    items.truncate(limit as usize);
    Ok(items)
}

/// 1 for a coin toss (or no model at all), 0 for a certain verdict.
pub fn uncertainty(p_unsafe: Option<f64>) -> f64 {
    match p_unsafe {
        Some(p) => 1.0 - (2.0 * p - 1.0).abs(),
        None => 1.0,
    }
}

/// `vigil review`: the queue, ranked with a model (not rules only) even right after a first
/// start; the wait is outside the shared reader so that status stays answerable meanwhile.
pub async fn apply(agent: &std::sync::Arc<crate::state::Agent>, limit: u32) -> vigil::protocol::Response {
    agent.capture.writer().flush(std::time::Duration::from_secs(2)).await;
    let learner = agent.learner.clone();
    let _ = tokio::task::spawn_blocking(move || learner.wait_ready(std::time::Duration::from_secs(120))).await;
    let scorer = agent.capture.scorer().clone();
    match agent.read(move |s| queue(s, &scorer, limit)).await {
        Ok(mut items) => {
            // A command too long to show is too long to judge from a list.
            items.retain(|i| i.command.len() <= vigil::protocol::LIST_TEXT_MAX);
            vigil::protocol::Response::Review(items)
        }
        Err(e) => crate::state::internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncertainty_peaks_at_a_coin_toss() {
        assert_eq!(uncertainty(Some(0.5)), 1.0);
        assert_eq!(uncertainty(Some(1.0)), 0.0);
        assert_eq!(uncertainty(Some(0.0)), 0.0);
        assert!((uncertainty(Some(0.75)) - 0.5).abs() < 1e-9);
        assert_eq!(uncertainty(None), 1.0);
    }
}
