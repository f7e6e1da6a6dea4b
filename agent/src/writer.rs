//! The batch writer: accepted records are journalled and queued under one lock, and a thread
//! of its own commits them to SQLite in batches bounded in size and in time.
//!
//! Journal append and queue push happen under the same lock as the journal rotation that
//! starts each batch. Each closed segment remembers the sequence number of its newest record,
//! and is deleted only once every record up to that number is committed. A batch holds at
//! most `batch_max_events` records. A failed commit (a locked or full disk) keeps the batch
//! and its segments and retries with back-off, taking in newer records meanwhile, up to
//! [`MAX_PENDING`] of them: past that, events are refused, and the hooks keep them in their
//! spool until the store accepts writes again.

use crate::journal::{Journal, JournalError, Record, Replay};
use crate::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Limits of a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Most records in one transaction.
    pub max_events: usize,
    /// Longest the first record of a batch waits.
    pub max_delay: Duration,
}

/// Most records waiting in memory for the store. Each is also in the journal; past this the
/// agent refuses events (the hook spools them) rather than grow without bound.
pub const MAX_PENDING: usize = 100_000;

struct Queue {
    journal: Journal,
    pending: Vec<Record>,
    /// Sequence number of the newest accepted record.
    accepted: u64,
    flush_now: bool,
    closing: bool,
    /// The writer thread is asleep waiting for a first record.
    idle: bool,
    last_error: Option<String>,
}

/// The handle through which records are accepted.
pub struct Writer {
    queue: Mutex<Queue>,
    wake: Condvar,
    committed: watch::Sender<u64>,
    limits: BatchLimits,
}

impl Writer {
    /// Starts the writer thread. Records found in the journal are queued first, and their
    /// segments are deleted once they are committed.
    pub fn start(
        store: Store,
        journal: Journal,
        replay: Replay,
        limits: BatchLimits,
    ) -> (Arc<Writer>, std::thread::JoinHandle<()>) {
        let replayed = replay.records.len() as u64;
        let writer = Arc::new(Writer {
            queue: Mutex::new(Queue {
                journal,
                pending: replay.records,
                accepted: replayed,
                flush_now: replayed > 0,
                closing: false,
                idle: false,
                last_error: None,
            }),
            wake: Condvar::new(),
            committed: watch::channel(0).0,
            limits,
        });
        let w = writer.clone();
        let handle = std::thread::Builder::new()
            .name("vigil-writer".into())
            .spawn(move || w.run(store, replay.segments))
            .unwrap_or_else(|e| panic!("cannot start the writer thread: {e}"));
        (writer, handle)
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves the queue consistent (pushes are atomic), so
        // a poisoned lock is still usable.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Journals and queues one record; once this returns Ok the record survives the agent
    /// being killed. Returns the record's sequence number. An idle writer is not woken here
    /// but by [`Writer::kick`], after the reply has gone out: on a two-core laptop, waking a
    /// thread before replying is a context switch the person's shell waits behind.
    pub fn submit(&self, record: Record) -> Result<u64, JournalError> {
        let mut q = self.lock();
        if q.pending.len() >= MAX_PENDING {
            let e = JournalError::Backlog(q.pending.len());
            q.last_error = Some(e.to_string());
            return Err(e);
        }
        if let Err(e) = q.journal.append(&record) {
            // Say so in `vigil status` (a full disk, once the journal's reserve is used up).
            q.last_error = Some(e.to_string());
            return Err(e);
        }
        q.pending.push(record);
        q.accepted += 1;
        if q.pending.len() >= self.limits.max_events {
            self.wake.notify_one();
        }
        Ok(q.accepted)
    }

    /// Wakes the writer if it sleeps while records wait.
    pub fn kick(&self) {
        let q = self.lock();
        if q.idle && !q.pending.is_empty() {
            self.wake.notify_one();
        }
    }

    /// Asks for an immediate commit and waits until everything accepted so far is in the
    /// store, or `timeout` passes. Returns whether it got there.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let target = {
            let mut q = self.lock();
            q.flush_now = true;
            self.wake.notify_one();
            q.accepted
        };
        let mut rx = self.committed.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|c| *c >= target)).await.map(|r| r.is_ok()).unwrap_or(false)
    }

    /// Records accepted but not yet committed, and bytes in the current journal segment.
    pub fn backlog(&self) -> (u64, u64) {
        let q = self.lock();
        (q.accepted - *self.committed.borrow(), q.journal.current_bytes())
    }

    /// The last commit error, while commits are failing.
    pub fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    /// Tells the thread to commit what is queued and stop; join its handle to wait.
    pub fn close(&self) {
        self.lock().closing = true;
        self.wake.notify_one();
    }

    fn run(&self, mut store: Store, replayed_segments: Vec<PathBuf>) {
        // Closed segments and the sequence number of the newest record each holds.
        let replayed = self.lock().accepted;
        let mut done_segments: Vec<(PathBuf, u64)> = replayed_segments.into_iter().map(|p| (p, replayed)).collect();
        let mut batch: Vec<Record> = Vec::new();
        let mut batch_seq = 0;
        // Closed segments not yet flushed to the disk (done outside the queue's lock).
        let mut to_flush: Vec<std::fs::File> = Vec::new();
        let mut backoff = Duration::from_millis(50);
        let mut failures_while_closing = 0;
        loop {
            {
                let mut q = self.lock();
                // Wait for a first record, then for the batch to fill or its delay to pass.
                while q.pending.is_empty() && batch.is_empty() && !q.closing {
                    q.idle = true;
                    q = self.wake.wait(q).unwrap_or_else(|p| p.into_inner());
                    q.idle = false;
                }
                if q.pending.is_empty() && batch.is_empty() && !q.closing {
                    // Woken by a flush with nothing to do.
                    continue;
                }
                let deadline = Instant::now() + self.limits.max_delay;
                while !q.closing && !q.flush_now && batch.is_empty() && q.pending.len() < self.limits.max_events {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    q = self.wake.wait_timeout(q, left).unwrap_or_else(|p| p.into_inner()).0;
                }
                if q.closing && q.pending.is_empty() && batch.is_empty() {
                    break;
                }
                q.flush_now = false;
                // While a batch is failing, new records wait in the current segment (which
                // holds space in reserve for a full disk) rather than in a new one.
                if batch.is_empty() && !q.pending.is_empty() {
                    let syncs_each = q.journal.syncs_each();
                    let rotated = match q.journal.rotate() {
                        Ok((closed, file)) => {
                            done_segments.push((closed, q.accepted));
                            if !syncs_each {
                                to_flush.push(file);
                            }
                            true
                        }
                        // No new segment (a full disk): the records stay in the current one,
                        // and are committed once a segment can be started again.
                        Err(e) => {
                            let msg = format!("{e}; {} events wait in the journal", q.pending.len());
                            if q.last_error.as_deref() != Some(msg.as_str()) {
                                tracing::error!("{msg}");
                            }
                            q.last_error = Some(msg);
                            false
                        }
                    };
                    // Stopping on a full disk: commit what is queued anyway. The records stay
                    // in the current segment, which is kept, and a replay of committed records
                    // changes nothing (keys).
                    if rotated || q.closing {
                        let first = q.accepted - q.pending.len() as u64;
                        let take = q.pending.len().min(self.limits.max_events.max(1));
                        batch.extend(q.pending.drain(..take));
                        batch_seq = first + take as u64;
                    }
                }
            }
            if batch.is_empty() {
                if self.lock().closing {
                    break;
                }
                std::thread::sleep(backoff);
                continue;
            }
            // Against a power loss: the segment is on the disk before its records are
            // committed (and its deletion can follow the commit).
            for f in to_flush.drain(..) {
                if let Err(e) = f.sync_data() {
                    tracing::warn!("cannot flush a journal segment: {e}");
                }
            }
            match store.apply(&batch) {
                Ok(()) => {
                    done_segments.retain(|(seg, newest)| {
                        if *newest > batch_seq {
                            return true;
                        }
                        if let Err(e) = std::fs::remove_file(seg) {
                            tracing::warn!("cannot remove journal segment {}: {e}", seg.display());
                        }
                        false
                    });
                    tracing::debug!(events = batch.len(), "batch committed");
                    batch.clear();
                    backoff = Duration::from_millis(50);
                    self.lock().last_error = None;
                    self.committed.send_replace(batch_seq);
                }
                Err(e) => {
                    self.report_failure(&e, batch.len());
                    if self.lock().closing {
                        failures_while_closing += 1;
                        if failures_while_closing >= 5 || !e.is_busy() {
                            tracing::error!(
                                "stopping with {} records uncommitted; they stay in the journal",
                                batch.len()
                            );
                            break;
                        }
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    fn report_failure(&self, e: &StoreError, n: usize) {
        let msg = e.to_string();
        let mut q = self.lock();
        if q.last_error.as_deref() != Some(msg.as_str()) {
            tracing::warn!("commit of {n} records failed, will retry: {msg}");
        }
        q.last_error = Some(msg);
    }
}
