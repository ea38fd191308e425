//! The monitor's loop: reads due sources, fetches pending sightings,
//! re-checks live ones, delivers alerts and re-matches old sightings when
//! banks grow. All state is in the store; the loop only decides what to
//! start next, so stopping at any point and starting again loses nothing.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::Read;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use url::Url;
use vigil_fetch::{FetchError, Fetcher};
use vigil_store::{NewSighting, Source, SourceKind};

use crate::liveness::Silences;
use crate::politeness::{HostGate, RobotsCache};
use crate::posts::{Post, check_feed, parse_feed, parse_page_bytes, read_telegram_export};
use crate::status::{Counters, MonitorStatus};
use crate::{MonitorError, MonitorOptions, now_ms};
use vigil_engine::Engine;

/// How often the loop looks for due work when nothing wakes it.
const TICK: Duration = Duration::from_millis(100);
/// How often the source list is re-read (sources added by another process).
const SOURCES_EVERY: Duration = Duration::from_secs(1);
/// How long a stopping monitor lets running work finish before cutting it
/// off (cut-off work is redone on the next start). Short: a stop must take
/// under 2 s whatever is running, and parsing a hostile page or waiting on
/// a silent host may never end on its own.
const GRACE: Duration = Duration::from_millis(500);

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
type ExportStamp = (u64, Option<std::time::SystemTime>);

/// What every task shares.
pub(crate) struct Shared {
    /// Channel exports as last read, by source id (see `read_export`).
    pub(crate) exports_read: Mutex<HashMap<i64, ExportStamp>>,
    pub(crate) engine: Arc<Engine>,
    pub(crate) options: MonitorOptions,
    pub(crate) fetcher: Fetcher,
    pub(crate) webhooks: reqwest::Client,
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
    /// Claims `job`; `false` if it is already running.
    fn claim(&self, job: Job) -> bool {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job)
    }

    /// Releases the jobs that ended: called by the loop before it reads
    /// what is due.
    fn release_ended(&self) {
        let ended = std::mem::take(&mut *self.ended.lock().unwrap_or_else(PoisonError::into_inner));
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        for job in &ended {
            jobs.remove(job);
        }
    }

    /// Notes that a host answered (any HTTP status counts).
    pub(crate) fn heard_from_network(&self, result: &Result<vigil_fetch::Fetched, FetchError>) {
        if matches!(result, Ok(_) | Err(FetchError::Status { .. })) {
            self.last_answer_ms.fetch_max(now_ms(), Ordering::Relaxed);
        }
    }

    /// Whether some host answered within `window`: the monitor's own
    /// network is up.
    pub(crate) fn network_is_up(&self, window: Duration) -> bool {
        let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        now_ms() - self.last_answer_ms.load(Ordering::Relaxed) <= window
    }

    pub(crate) fn source(&self, id: i64) -> Option<Source> {
        self.sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }
}

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
    /// A monitor matching against `engine`'s banks and recording in its
    /// store.
    pub fn new(engine: Arc<Engine>, options: MonitorOptions) -> Result<Self, MonitorError> {
        let fetcher = Fetcher::new(options.policy.clone())?;
        let webhooks = reqwest::Client::builder()
            .timeout(options.webhook_timeout)
            .user_agent(options.policy.user_agent.clone())
            .build()
            .map_err(|e| MonitorError::Task(format!("cannot set up the webhook client: {e}")))?;
        let agent = options
            .policy
            .user_agent
            .split('/')
            .next()
            .unwrap_or("vigil")
            .to_owned();
        Ok(Self {
            shared: Arc::new(Shared {
                exports_read: Mutex::new(HashMap::new()),
                engine,
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
                last_answer_ms: AtomicI64::new(now_ms()),
                silences: Silences::default(),
            }),
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
            let now = now_ms();
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
                    read_source(shared, source)
                });
            }
            self.start_fetches(&mut tasks, due.pending);
            for sighting in due.checks {
                spawn(&mut tasks, shared, Job::Check(sighting.id), move |shared| {
                    crate::work::check(shared, sighting)
                });
            }
            for delivery in due.deliveries {
                let job = Job::Deliver(delivery.alert_id.clone(), delivery.webhook.id);
                spawn(&mut tasks, shared, job, move |shared| {
                    crate::work::deliver(shared, delivery)
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
                spawn(&mut tasks, shared, Job::Rematch, crate::work::rematch);
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
                    let result = crate::work::fetch(Arc::clone(&shared), sighting).await;
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
    let store = shared.engine.store();
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

/// Runs `work` on the blocking pool: the store's calls block (the
/// PostgreSQL client even runs a runtime of its own), so they never run on
/// the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    work: impl FnOnce(&Shared) -> Result<T, MonitorError> + Send + 'static,
) -> Result<T, MonitorError> {
    let shared = Arc::clone(shared);
    off_the_loop(move || work(&shared)).await
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

/// Reads one source and records the URLs its posts link to.
async fn read_source(shared: Arc<Shared>, source: Source) -> Result<(), MonitorError> {
    let started = now_ms();
    let result = read_posts(&shared, &source).await;
    shared.counters.reads.fetch_add(1, Ordering::Relaxed);
    let posts = match result {
        Ok(posts) => posts,
        Err(e) => {
            shared.counters.read_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(source = %source.name, error = %e, "cannot read source");
            let error = e.to_string();
            let id = source.id;
            blocking(&shared, move |shared| {
                Ok(shared
                    .engine
                    .store()
                    .source_polled(id, started, Some(&error))?)
            })
            .await?;
            mark_polled(&shared, source.id, started);
            return Ok(());
        }
    };
    shared
        .counters
        .posts
        .fetch_add(posts.len() as u64, Ordering::Relaxed);
    let seen_at = now_ms();
    let mut seen = Vec::new();
    for post in posts.iter().take(shared.options.max_posts_per_read) {
        for url in post.links.iter().cloned().chain(attachments(&source, post)) {
            seen.push(NewSighting {
                host: host_of(&url),
                host_class: shared.options.host_rules.classify(&url).as_str().to_owned(),
                url: url.into(),
                source_id: source.id,
                post_key: post.key.clone(),
                post_url: post.url.clone(),
                posted_at: post.published_at,
                first_seen_at: seen_at,
            });
        }
    }
    let id = source.id;
    let added = blocking(&shared, move |shared| {
        let store = shared.engine.store();
        let added = store.add_sightings(&seen)?;
        store.source_polled(id, started, None)?;
        Ok(added)
    })
    .await?;
    shared
        .counters
        .links
        .fetch_add(added.len() as u64, Ordering::Relaxed);
    if !added.is_empty() {
        tracing::debug!(source = %source.name, new = added.len(), "new links");
    }
    mark_polled(&shared, source.id, started);
    Ok(())
}

/// Notes the read in the cached source list, so it is not read again
/// before its interval even if the list was loaded before the read ended.
fn mark_polled(shared: &Shared, id: i64, at: i64) {
    if let Some(source) = shared
        .sources
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(&id)
    {
        source.last_polled_at = Some(at);
    }
}

async fn read_posts(shared: &Shared, source: &Source) -> Result<Vec<Post>, MonitorError> {
    if source.kind == SourceKind::TelegramExport {
        return read_export(shared, source).await;
    }
    let url = Url::parse(&source.location)
        .map_err(|e| MonitorError::Source(format!("bad source URL {}: {e}", source.location)))?;
    if shared.options.obey_robots && !source.ignore_robots {
        let verdict = shared.robots.check(&url, &shared.gate).await;
        if !verdict.allowed {
            return Err(MonitorError::Source(format!(
                "robots.txt of {} disallows reading it",
                host_of(&url)
            )));
        }
    }
    let fetched = {
        let host = host_of(&url);
        let _permit = shared.gate.enter(&host, None).await;
        // The operator added this source by hand: `--allow-host` limits
        // where its links lead, not whether it is read.
        let result = shared
            .fetcher
            .get_also_allowing(url.as_str(), Some(&host))
            .await;
        shared.heard_from_network(&result);
        result?
    };
    let kind = source.kind;
    let max_feed_bytes = shared.options.max_feed_bytes;
    let html = shared.options.hash.html;
    let name = source.name.clone();
    off_the_loop(move || match kind {
        SourceKind::Feed => {
            check_feed(&fetched.bytes, max_feed_bytes)?;
            parse_feed(&fetched.bytes, &fetched.url)
        }
        _ => {
            let (post, truncated) = parse_page_bytes(&fetched.bytes, &fetched.url, &html);
            if let Some(limit) = truncated {
                tracing::warn!(source = %name, %limit, "page read in part");
            }
            Ok(vec![post])
        }
    })
    .await
}

/// Runs CPU-heavy `work` — parsing what strangers wrote — on the blocking
/// pool: it never holds an async thread, and a stopping monitor stops
/// waiting for it instead of for its end (which a hostile input may delay
/// without bound).
async fn off_the_loop<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MonitorError> + Send + 'static,
) -> Result<T, MonitorError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| MonitorError::Task(e.to_string()))?
}

/// Reads a channel export as a stream, on a blocking thread, keeping the
/// newest posts a read takes. An export whose size and modification time
/// are those of its last good read has nothing new and is not read again.
async fn read_export(shared: &Shared, source: &Source) -> Result<Vec<Post>, MonitorError> {
    let cannot =
        |e: std::io::Error| MonitorError::Source(format!("cannot read {}: {e}", source.location));
    let path = Path::new(&source.location).to_path_buf();
    let metadata = tokio::fs::metadata(&path).await.map_err(cannot)?;
    let (size, limit) = (metadata.len(), shared.options.max_export_bytes);
    if size > limit {
        return Err(MonitorError::Source(format!(
            "{} is {size} bytes, more than {limit}",
            source.location
        )));
    }
    let stamp = (size, metadata.modified().ok());
    let unchanged = |seen: &HashMap<i64, ExportStamp>| seen.get(&source.id) == Some(&stamp);
    if unchanged(
        &shared
            .exports_read
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    ) {
        return Ok(Vec::new());
    }
    let max_posts = shared.options.max_posts_per_read;
    let posts = tokio::task::spawn_blocking(move || {
        // The size checked above bounds the read even if the file grows.
        let file = std::fs::File::open(&path)?;
        Ok::<_, std::io::Error>(read_telegram_export(file.take(limit), max_posts))
    })
    .await
    .map_err(|e| MonitorError::Task(e.to_string()))?
    .map_err(cannot)??;
    shared
        .exports_read
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(source.id, stamp);
    Ok(posts)
}

/// A channel export's attachments as `file:` URLs inside the export's
/// directory; paths that would leave it are dropped.
fn attachments(source: &Source, post: &Post) -> Vec<Url> {
    let Some(directory) = Path::new(&source.location).parent() else {
        return Vec::new();
    };
    let directory = std::path::absolute(directory).unwrap_or_else(|_| directory.to_path_buf());
    post.attachments
        .iter()
        .filter(|relative| {
            Path::new(relative.as_str())
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        })
        .filter_map(|relative| Url::from_file_path(directory.join(relative)).ok())
        .collect()
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
