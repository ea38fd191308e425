//! The monitor's loop: reads due sources, fetches pending sightings,
//! re-checks live ones, delivers alerts and re-matches old sightings when
//! banks grow. All state is in the store; the loop only decides what to
//! start next, so stopping at any point and starting again loses nothing.

use std::future::Future;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::task::JoinSet;
use vigil_engine::Engine;
use vigil_store::{Source, Store, unix_now_ms};

use crate::state::{Job, Shared, blocking};
use crate::status::MonitorStatus;
use crate::{MonitorError, MonitorOptions, check, deliver, fetch, read};

/// How often the loop looks for due work when nothing wakes it.
const TICK: Duration = Duration::from_millis(100);
/// How often the source list is re-read (sources added by another process).
const SOURCES_EVERY: Duration = Duration::from_secs(1);
/// How long a stopping monitor lets running work finish before cutting it
/// off (cut-off work is redone on the next start). Short: a stop must take
/// under 2 s whatever is running, and parsing a hostile page or waiting on
/// a silent host may never end on its own.
const GRACE: Duration = Duration::from_millis(500);

/// The monitor over an engine. Cheap to clone.
#[derive(Clone)]
pub struct Monitor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

impl Monitor {
    /// A monitor matching against `engine`'s banks and recording in
    /// `store`.
    ///
    /// `store` is where the monitor keeps its records (sources, sightings,
    /// alerts, deliveries): the store `engine` was opened over, so that
    /// what it records and the banks it matches against stay one database.
    pub fn new(
        engine: Arc<Engine>,
        store: Arc<dyn Store>,
        options: MonitorOptions,
    ) -> Result<Self, MonitorError> {
        Ok(Self {
            shared: Arc::new(Shared::new(engine, store, options)?),
        })
    }

    /// What the monitor has done since it started.
    pub fn status(&self) -> MonitorStatus {
        self.shared.counters.snapshot()
    }

    /// Runs until `shutdown` completes, then lets running work finish (up
    /// to 0.5 s; anything cut off is redone on the next start).
    ///
    /// Work still running after that (a parse of a hostile page, on the
    /// blocking pool) is left behind, not waited for: the caller should
    /// shut its runtime down with a short timeout. The store stays
    /// consistent: jobs are claimed in memory only (nothing to release),
    /// each record is written after the work it records, and writing one
    /// again is harmless (sightings and alerts are deduplicated), so work
    /// cut off is simply redone by the next run.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), MonitorError> {
        let shared = &self.shared;
        tokio::pin!(shutdown);
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut sources_read_at: Option<tokio::time::Instant> = None;
        // Sightings kept from earlier runs are matched against the banks as
        // they are now; after that, whenever the banks change.
        let mut banks_seen_at: Option<i64> = None;
        loop {
            shared.release_ended();
            let now = unix_now_ms();
            let reload_sources = sources_read_at.is_none_or(|at| at.elapsed() >= SOURCES_EVERY);
            let due = blocking(shared, move |shared| due_work(shared, now, reload_sources)).await?;
            if let Some(sources) = due.sources {
                *shared
                    .sources
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) =
                    sources.into_iter().map(|s| (s.id, s)).collect();
                sources_read_at = Some(tokio::time::Instant::now());
            }
            let to_read: Vec<Source> = shared
                .sources
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .filter(|s| s.last_polled_at.is_none_or(|at| at + s.interval_ms <= now))
                .cloned()
                .collect();
            for source in to_read {
                spawn(&mut tasks, shared, Job::Read(source.id), move |shared| {
                    read::read_source(shared, source)
                });
            }
            self.start_fetches(&mut tasks, due.pending);
            for sighting in due.checks {
                spawn(&mut tasks, shared, Job::Check(sighting.id), move |shared| {
                    check::check(shared, sighting)
                });
            }
            for delivery in due.deliveries {
                let job = Job::Deliver(delivery.alert_id.clone(), delivery.webhook.id);
                spawn(&mut tasks, shared, job, move |shared| {
                    deliver::deliver(shared, delivery)
                });
            }
            let rematching = shared
                .jobs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&Job::Rematch);
            // A change made while a re-match runs is picked up by the next.
            if banks_seen_at != Some(due.banks_at) && !rematching {
                banks_seen_at = Some(due.banks_at);
                spawn(&mut tasks, shared, Job::Rematch, fetch::rematch);
            }
            while let Some(done) = tasks.try_join_next() {
                if let Err(e) = done
                    && e.is_panic()
                {
                    tracing::error!(error = %e, "a monitor task panicked");
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = shared.wake.notified() => {}
                () = tokio::time::sleep(TICK) => {}
            }
        }
        tracing::info!(
            running = tasks.len(),
            "stopping: letting running work finish"
        );
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(GRACE, drain).await.is_err() {
            tasks.abort_all();
        }
        Ok(())
    }

    /// Starts fetches of pending sightings, keeping at most a few per host
    /// queued so that one slow host cannot hold every slot.
    fn start_fetches(&self, tasks: &mut JoinSet<()>, pending: Vec<vigil_store::Sighting>) {
        let shared = &self.shared;
        let cap = shared.options.fetch_concurrency.max(1) * 4;
        let per_host_cap = shared.options.per_host_concurrency.max(1) * 2;
        let running = |shared: &Shared| {
            shared
                .jobs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .filter(|job| matches!(job, Job::Fetch(_)))
                .count()
        };
        if running(shared) >= cap {
            return;
        }
        for sighting in pending {
            if running(shared) >= cap {
                break;
            }
            let host = sighting.seen.host.clone();
            {
                let mut per_host = shared
                    .fetches_per_host
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let count = per_host.entry(host.clone()).or_default();
                if *count >= per_host_cap
                    || shared
                        .jobs
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .contains(&Job::Fetch(sighting.id))
                {
                    continue;
                }
                *count += 1;
            }
            spawn(
                tasks,
                shared,
                Job::Fetch(sighting.id),
                move |shared| async move {
                    let result = fetch::fetch(Arc::clone(&shared), sighting).await;
                    let mut per_host = shared
                        .fetches_per_host
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if let Some(count) = per_host.get_mut(&host) {
                        *count = count.saturating_sub(1);
                    }
                    result
                },
            );
        }
    }
}

/// What is due at one turn of the loop, read in one blocking call.
struct Due {
    sources: Option<Vec<Source>>,
    pending: Vec<vigil_store::Sighting>,
    checks: Vec<vigil_store::Sighting>,
    deliveries: Vec<vigil_store::Delivery>,
    banks_at: i64,
}

fn due_work(shared: &Shared, now: i64, reload_sources: bool) -> Result<Due, MonitorError> {
    let store = &shared.store;
    let sources = reload_sources.then(|| store.sources()).transpose()?;
    let pending_window = shared.options.fetch_concurrency.max(1) * 32;
    let banks_at = store.last_change()?;
    // Changes other processes made to the banks, into the indexes.
    shared.engine.sync()?;
    Ok(Due {
        sources,
        pending: store.pending_sightings(pending_window)?,
        checks: store.due_checks(now, 256)?,
        deliveries: store.due_deliveries(now, 256)?,
        banks_at,
    })
}

/// Spawns `work` as `job` unless that job is running; marks the job ended and
/// logs any error when it ends.
fn spawn<F, Fut>(tasks: &mut JoinSet<()>, shared: &Arc<Shared>, job: Job, work: F)
where
    F: FnOnce(Arc<Shared>) -> Fut,
    Fut: Future<Output = Result<(), MonitorError>> + Send + 'static,
{
    if !shared.claim(job.clone()) {
        return;
    }
    let future = work(Arc::clone(shared));
    let shared = Arc::clone(shared);
    tasks.spawn(async move {
        if let Err(e) = future.await {
            tracing::warn!(?job, error = %e, "monitor work failed; it will be retried");
        }
        shared
            .ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(job);
        shared.wake.notify_one();
    });
}
