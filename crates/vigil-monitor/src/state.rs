//! What the monitor's loop and its units of work share: the state held in
//! memory while it runs, the one way to run blocking work, and small
//! helpers on URLs and fetch errors. Every other module of the runner
//! imports from here and nothing here imports them, so the loop
//! (`runner`) and the work it starts (`read`, `fetch`, `check`,
//! `deliver`) depend on this module and never on each other's internals
//! in a circle.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use url::Url;
use vigil_engine::Engine;
use vigil_fetch::{FetchError, Fetcher, WebhookClient};
use vigil_store::{Source, Store, unix_now_ms};

use crate::liveness::Silences;
use crate::politeness::{HostGate, RobotsCache};
use crate::status::Counters;
use crate::{MonitorError, MonitorOptions};

/// A unit of work, so the same one is never started twice at once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Job {
    Read(i64),
    Fetch(i64),
    Check(i64),
    Deliver(String, i64),
    Rematch,
}

/// An export file's size and modification time at its last good read.
pub(crate) type ExportStamp = (u64, Option<std::time::SystemTime>);

/// What every task shares.
pub(crate) struct Shared {
    /// Channel exports as last read, by source id (see `read::read_export`).
    pub(crate) exports_read: Mutex<HashMap<i64, ExportStamp>>,
    /// The banks sightings are matched against.
    pub(crate) engine: Arc<Engine>,
    /// Where sources, sightings, alerts and deliveries are kept: the
    /// engine's store (the engine reads banks from it, the monitor its own
    /// records).
    pub(crate) store: Arc<dyn Store>,
    pub(crate) options: MonitorOptions,
    pub(crate) fetcher: Fetcher,
    pub(crate) webhooks: WebhookClient,
    pub(crate) gate: HostGate,
    pub(crate) robots: RobotsCache,
    pub(crate) fetch_slots: Semaphore,
    pub(crate) counters: Counters,
    pub(crate) jobs: Mutex<HashSet<Job>>,
    /// Jobs that ended since the loop last looked. They stay claimed until
    /// the loop releases them, before its next look at the store: a list
    /// read while a job was ending cannot start it a second time.
    pub(crate) ended: Mutex<Vec<Job>>,
    pub(crate) fetches_per_host: Mutex<HashMap<String, usize>>,
    pub(crate) sources: Mutex<HashMap<i64, Source>>,
    pub(crate) wake: Notify,
    /// When any host last answered (Unix ms): if none has for a while, the
    /// network is down on our side, and an unreachable host proves nothing.
    pub(crate) last_answer_ms: AtomicI64,
    /// Checks that timed out in a row, per sighting.
    pub(crate) silences: Silences,
}

impl Shared {
    /// The state of a monitor that has not started anything yet.
    pub(crate) fn new(
        engine: Arc<Engine>,
        store: Arc<dyn Store>,
        options: MonitorOptions,
    ) -> Result<Self, MonitorError> {
        let fetcher = Fetcher::new(options.policy.clone())?;
        let webhooks = WebhookClient::new(&options.policy.user_agent, options.webhook_timeout)?;
        let agent = options
            .policy
            .user_agent
            .split('/')
            .next()
            .unwrap_or("vigil")
            .to_owned();
        Ok(Self {
            exports_read: Mutex::new(HashMap::new()),
            engine,
            store,
            gate: HostGate::new(options.per_host_concurrency, options.per_host_gap),
            robots: RobotsCache::new(fetcher.clone(), &agent),
            fetch_slots: Semaphore::new(options.fetch_concurrency.max(1)),
            fetcher,
            webhooks,
            options,
            counters: Counters::default(),
            jobs: Mutex::new(HashSet::new()),
            ended: Mutex::new(Vec::new()),
            fetches_per_host: Mutex::new(HashMap::new()),
            sources: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            last_answer_ms: AtomicI64::new(unix_now_ms()),
            silences: Silences::default(),
        })
    }

    /// Claims `job`; `false` if it is already running.
    pub(crate) fn claim(&self, job: Job) -> bool {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job)
    }

    /// Releases the jobs that ended: called by the loop before it reads
    /// what is due.
    pub(crate) fn release_ended(&self) {
        let ended = std::mem::take(&mut *self.ended.lock().unwrap_or_else(PoisonError::into_inner));
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        for job in &ended {
            jobs.remove(job);
        }
    }

    /// Notes that a host answered (any HTTP status counts).
    pub(crate) fn heard_from_network(&self, result: &Result<vigil_fetch::Fetched, FetchError>) {
        if matches!(result, Ok(_) | Err(FetchError::Status { .. })) {
            self.last_answer_ms
                .fetch_max(unix_now_ms(), Ordering::Relaxed);
        }
    }

    /// Whether some host answered within `window`: the monitor's own
    /// network is up.
    pub(crate) fn network_is_up(&self, window: Duration) -> bool {
        let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        unix_now_ms() - self.last_answer_ms.load(Ordering::Relaxed) <= window
    }

    /// The source with id `id`, as last loaded.
    pub(crate) fn source(&self, id: i64) -> Option<Source> {
        self.sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }
}

/// Runs `work` on the blocking pool, the monitor's one way off the async
/// threads. Two kinds of work go there: the store's calls, which block
/// (the PostgreSQL client even runs a runtime of its own), and parsing
/// what strangers wrote, which is CPU-heavy and may take as long as a
/// hostile input makes it — a stopping monitor stops waiting for it
/// rather than for its end.
pub(crate) async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    work: impl FnOnce(&Shared) -> Result<T, MonitorError> + Send + 'static,
) -> Result<T, MonitorError> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || work(&shared))
        .await
        .map_err(|e| MonitorError::Task(e.to_string()))?
}

/// The host of a URL, lowercase (`file` URLs: `local`).
pub(crate) fn host_of(url: &Url) -> String {
    url.host_str()
        .filter(|h| !h.is_empty())
        .unwrap_or("local")
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Whether `error` means the URL is not to be fetched at all, rather than
/// that fetching it failed.
pub(crate) fn is_refusal(error: &FetchError) -> bool {
    matches!(error, FetchError::Unsafe { .. })
}
