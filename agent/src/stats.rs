//! `vigil stats`: commands per day, the most frequent and the riskiest commands, verdict and
//! label counts, and the model versions' F1 over time, from one pass over the store.

use crate::store::{Store, StoreError};
use crate::training::Report;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use vigil::protocol::StatsReport;

/// Below this a command is not listed among the riskiest.
const RISKY_FROM: f64 = 0.5;

/// The figures, with per-day counts for `days` days and top lists of `top` commands.
pub fn report(store: &Store, days: u32, top: u32) -> Result<StatsReport, StoreError> {
    let top = top.clamp(1, 1000) as usize;
    let mut events = 0;
    let mut distinct = 0;
    // Min-heaps of the best `top` so far: the weakest is popped when a better one comes.
    let mut frequent: BinaryHeap<Reverse<(u64, String)>> = BinaryHeap::new();
    let mut riskiest: BinaryHeap<Reverse<(u64, u64, String, String)>> = BinaryHeap::new();
    let mut verdicts = [0u64; 4];
    store.for_each_command(|u| {
        events += u.count;
        distinct += 1;
        for (total, n) in verdicts.iter_mut().zip(u.verdicts) {
            *total += n;
        }
        keep(&mut frequent, (u.count, u.command.clone()), top);
        if let Some(p) = u.p_unsafe.filter(|p| *p >= RISKY_FROM) {
            // p in millionths: a total order for the heap.
            keep(&mut riskiest, ((p * 1e6) as u64, u.count, u.command, u.reason.unwrap_or_default()), top);
        }
    })?;
    let verdicts = ["safe", "unsafe", "unknown", "unscored"]
        .into_iter()
        .zip(verdicts)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    let models = store
        .list_models()?
        .into_iter()
        .rev()
        .map(|m| {
            (m.version, m.created_at, serde_json::from_str::<Report>(&m.metrics).ok().map(|r| r.macro_f1()), m.current)
        })
        .collect();
    Ok(StatsReport {
        events,
        distinct,
        per_day: store.per_day(days)?,
        frequent: frequent.into_sorted_vec().into_iter().map(|Reverse((n, c))| (c, n)).collect(),
        riskiest: riskiest
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse((p, n, c, why))| (c, p as f64 / 1e6, n, why))
            .collect(),
        verdicts,
        labels: store.labels_by_kind()?,
        models,
    })
}

fn keep<T: Ord>(heap: &mut BinaryHeap<Reverse<T>>, item: T, top: usize) {
    if heap.len() < top {
        heap.push(Reverse(item));
    } else if heap.peek().is_some_and(|Reverse(weakest)| item > *weakest) {
        heap.pop();
        heap.push(Reverse(item));
    }
}

/// `vigil stats`: commits the queue first; long commands are clipped to fit a reply.
pub async fn apply(agent: &std::sync::Arc<crate::state::Agent>, days: u32, top: u32) -> vigil::protocol::Response {
    agent.capture.writer().flush(std::time::Duration::from_secs(2)).await;
    match agent.read(move |s| report(s, days, top)).await {
        Ok(mut report) => {
            for (c, _) in &mut report.frequent {
                vigil::protocol::clip(c);
            }
            for (c, _, _, _) in &mut report.riskiest {
                vigil::protocol::clip(c);
            }
            vigil::protocol::Response::Stats(report)
        }
        Err(e) => crate::state::internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_holds_the_best() {
        let mut h = BinaryHeap::new();
        for x in [5, 1, 9, 3, 7, 2] {
            keep(&mut h, x, 3);
        }
        let best: Vec<i32> = h.into_sorted_vec().into_iter().map(|Reverse(x)| x).collect();
        assert_eq!(best, [9, 7, 5]);
    }
}
