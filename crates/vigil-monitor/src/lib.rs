//! Vigil's monitor: follows beacons (feeds, pages, channel exports) to where
//! content is stored, hashes what their links point to, matches it against
//! the banks, alerts webhooks, and re-checks every match until it is gone.
//!
//! ```text
//! source ─poll─► posts ─► outlinks ─► sightings (pending)
//!                                         │ fetch (URL rules, robots.txt, per-host limits)
//!                                         ▼
//!                          media ─► signals ─► lookup ─► matches ─► alert ─► webhooks
//!                                                           │
//!                                          liveness ladder ─┘ re-check until gone
//! ```
//!
//! The pure parts — reading sources ([`posts`]), refanging and extracting
//! links ([`outlinks`]), classifying hosts ([`hosts`]), the ladder and
//! removal notices ([`liveness`]), alert bodies ([`alert`]) and the
//! takedown report ([`report`]) — take bytes and return values. The
//! [`Monitor`] does the I/O: it reads sources, fetches through
//! [`vigil_fetch::Fetcher`], delivers alerts through
//! [`vigil_fetch::WebhookClient`], and keeps all its state in the store it
//! is given, so a stopped monitor resumes where it left off. Inside, the
//! loop (`runner`) starts units of work (`read`, `fetch`, `check`,
//! `deliver`) that share one `state` module and never import each other's
//! internals in a circle.
//!
//! What the monitor recorded is read back the same way by every caller:
//! [`list_sightings`] (`vigil monitor sightings`, `GET /v1/sightings`) and
//! [`takedowns`] (`vigil report takedowns`, `GET /v1/reports/takedowns`).
//!
//! This crate sits above `vigil-engine` (banks, indexes, lookups) and
//! `vigil-fetch` (every request under the URL rules, webhook delivery); it
//! knows nothing of HTTP routes or command lines. The records it keeps
//! (sources, sightings, alerts, deliveries) are rows of the `vigil-store`
//! schema, and its times are `vigil_store::unix_now_ms`, the clock the
//! store stamps records with. Every failure is a [`MonitorError`].

#![deny(missing_docs)]

pub mod alert;
mod check;
mod deliver;
mod error;
mod fetch;
pub mod hosts;
pub mod liveness;
mod obtain;
pub mod outlinks;
pub mod politeness;
pub mod posts;
mod read;
pub mod report;
mod runner;
mod scan;
mod sightings;
mod state;
mod status;

use std::path::PathBuf;
use std::time::Duration;

pub use error::MonitorError;
pub use report::{HostTakedowns, takedowns};
pub use runner::Monitor;
pub use scan::{Scanned, scan_bytes};
pub use sightings::{RecordMatch, SightingFilter, SightingList, SightingRecord, list_sightings};
pub use status::MonitorStatus;

use alert::RetryPolicy;
use hosts::HostRules;
use liveness::Ladder;
use vigil_engine::LookupOptions;

/// How the monitor works: what it may fetch, how politely, how it
/// matches, and how often it re-checks.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// URL rules for every fetch (allowlist, private addresses, size and
    /// time limits, user agent, fixed name resolution).
    pub policy: vigil_fetch::UrlPolicy,
    /// When matched sightings are re-checked.
    pub ladder: Ladder,
    /// Host classes beyond the built-in table.
    pub host_rules: HostRules,
    /// Fetches in flight at once, over all hosts.
    pub fetch_concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host_concurrency: usize,
    /// Least time between the starts of two requests to one host.
    pub per_host_gap: Duration,
    /// Whether robots.txt is obeyed (sources may still opt out one by one).
    pub obey_robots: bool,
    /// Lookup settings (distance thresholds, banks).
    pub lookup: LookupOptions,
    /// Decoding limits for fetched media.
    pub hash: vigil_media::HashOptions,
    /// Where fetched media is kept, named by SHA-256 (`None`: not kept).
    pub media_dir: Option<PathBuf>,
    /// Webhook retry schedule.
    pub retry: RetryPolicy,
    /// Deadline for one webhook delivery.
    pub webhook_timeout: Duration,
    /// Most posts taken from one read of a source (newest first), so a
    /// huge feed cannot flood the queue.
    pub max_posts_per_read: usize,
    /// Checks in a row that must time out, while other hosts answer,
    /// before a tracked URL counts as gone with its host unresponsive (a
    /// host that takes connections and never answers). At least 1.
    pub unresponsive_after: u32,
    /// Largest feed handed to the feed parser, in bytes.
    pub max_feed_bytes: usize,
    /// Largest channel export read, in bytes (read as a stream: memory
    /// follows the posts kept, not this size).
    pub max_export_bytes: u64,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        Self {
            policy: vigil_fetch::UrlPolicy {
                max_bytes: 200 * 1024 * 1024,
                timeout: Duration::from_secs(60),
                ..vigil_fetch::UrlPolicy::default()
            },
            ladder: Ladder::default(),
            host_rules: HostRules::default(),
            fetch_concurrency: 16,
            per_host_concurrency: 2,
            per_host_gap: Duration::from_millis(250),
            obey_robots: true,
            // Every bank takes part: a monitor that skipped content by a
            // bank's rollout coinflip would miss copies silently.
            lookup: LookupOptions {
                bypass_enabled_ratio: true,
                ..LookupOptions::default()
            },
            hash: vigil_media::HashOptions::default().untrusted(),
            media_dir: None,
            retry: RetryPolicy::default(),
            webhook_timeout: Duration::from_secs(10),
            max_posts_per_read: 1_000,
            // Three ladder steps: a host down for maintenance gets a
            // chance to come back, a wedged one is not tracked forever.
            unresponsive_after: 3,
            // Real feeds are well under 1 MiB (servers cut them to recent
            // entries); 16 MiB leaves room for whole-site feeds.
            max_feed_bytes: 16 * 1024 * 1024,
            // Years of a busy channel's messages without media inline.
            max_export_bytes: 512 * 1024 * 1024,
        }
    }
}
