//! What a running monitor has done: counters its tasks bump, read as one
//! snapshot for status lines and the final JSON line.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters of what a running monitor has done, for status lines.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) reads: AtomicU64,
    pub(crate) read_errors: AtomicU64,
    pub(crate) posts: AtomicU64,
    pub(crate) links: AtomicU64,
    pub(crate) fetched: AtomicU64,
    pub(crate) not_fetched: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) matched: AtomicU64,
    pub(crate) alerts: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) delivery_failures: AtomicU64,
    pub(crate) checks: AtomicU64,
    pub(crate) gone: AtomicU64,
    pub(crate) resurfacings: AtomicU64,
}

/// A snapshot of [`Monitor::status`](crate::Monitor::status).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonitorStatus {
    /// Source reads done.
    pub reads: u64,
    /// Source reads that failed.
    pub read_errors: u64,
    /// Posts read (repeats included).
    pub posts: u64,
    /// New URLs seen.
    pub links: u64,
    /// URLs fetched and hashed.
    pub fetched: u64,
    /// URLs recorded without fetching (onion, allowlist, robots.txt).
    pub not_fetched: u64,
    /// Fetches that failed.
    pub failed: u64,
    /// Sightings that matched banked content.
    pub matched: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Alert deliveries that reached a webhook.
    pub delivered: u64,
    /// Delivery attempts that failed (retried).
    pub delivery_failures: u64,
    /// Liveness checks done.
    pub checks: u64,
    /// Sightings found gone.
    pub gone: u64,
    /// Resurfacings found.
    pub resurfacings: u64,
}

impl Counters {
    /// The counts now.
    pub(crate) fn snapshot(&self) -> MonitorStatus {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MonitorStatus {
            reads: get(&self.reads),
            read_errors: get(&self.read_errors),
            posts: get(&self.posts),
            links: get(&self.links),
            fetched: get(&self.fetched),
            not_fetched: get(&self.not_fetched),
            failed: get(&self.failed),
            matched: get(&self.matched),
            alerts: get(&self.alerts),
            delivered: get(&self.delivered),
            delivery_failures: get(&self.delivery_failures),
            checks: get(&self.checks),
            gone: get(&self.gone),
            resurfacings: get(&self.resurfacings),
        }
    }
}
