//! Politeness: a limit on concurrent requests and a minimum gap between
//! them per host, and robots.txt, read once an hour per origin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use texting_robots::Robot;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;
use vigil_fetch::{FetchError, Fetcher};

/// Per-host limits: at most `per_host` requests at once to one host, and
/// starts at least `gap` apart (or the host's robots.txt `Crawl-delay`, if
/// longer).
#[derive(Debug)]
pub struct HostGate {
    per_host: usize,
    gap: Duration,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

#[derive(Debug)]
struct HostSlot {
    permits: Arc<Semaphore>,
    next_start: Mutex<Instant>,
}

/// Held while a request to a host runs.
#[derive(Debug)]
pub struct HostPermit {
    _permit: Option<OwnedSemaphorePermit>,
}

impl HostGate {
    /// A gate with these limits (`per_host` at least 1).
    pub fn new(per_host: usize, gap: Duration) -> Self {
        Self {
            per_host: per_host.max(1),
            gap,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` may start, with at least `gap`
    /// (or `crawl_delay`, if longer) since the previous start.
    pub async fn enter(&self, host: &str, crawl_delay: Option<Duration>) -> HostPermit {
        let slot = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(hosts.entry(host.to_owned()).or_insert_with(|| {
                Arc::new(HostSlot {
                    permits: Arc::new(Semaphore::new(self.per_host)),
                    next_start: Mutex::new(Instant::now()),
                })
            }))
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = Arc::clone(&slot.permits).acquire_owned().await.ok();
        let gap = crawl_delay.map_or(self.gap, |delay| delay.max(self.gap));
        let start = {
            let mut next = slot
                .next_start
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let start = (*next).max(Instant::now());
            *next = start + gap;
            start
        };
        tokio::time::sleep_until(start).await;
        HostPermit { _permit: permit }
    }
}

/// How long a robots.txt answer is trusted.
const ROBOTS_TTL: Duration = Duration::from_secs(3_600);
/// How long to wait before asking again when robots.txt could not be read.
const ROBOTS_RETRY: Duration = Duration::from_secs(60);

/// What one origin's robots.txt allows.
#[derive(Debug, Clone)]
enum Rules {
    /// No robots.txt (4xx) or an unreadable one: everything allowed.
    AllowAll,
    /// The origin's rules for our user agent.
    Parsed(Arc<Robot>),
}

/// robots.txt per origin, fetched through the monitor's fetcher (so under
/// the same URL rules) and cached.
pub struct RobotsCache {
    fetcher: Fetcher,
    agent: String,
    entries: Mutex<HashMap<String, (Instant, Rules)>>,
}

impl std::fmt::Debug for RobotsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobotsCache")
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

/// What robots.txt says about one URL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobotsVerdict {
    /// Whether the URL may be fetched.
    pub allowed: bool,
    /// The origin's `Crawl-delay`, if it sets one.
    pub crawl_delay: Option<Duration>,
}

impl RobotsCache {
    /// A cache matching rules for `agent` (the product token of the user
    /// agent, e.g. `vigil`).
    pub fn new(fetcher: Fetcher, agent: &str) -> Self {
        Self {
            fetcher,
            agent: agent.to_owned(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `url` may be fetched, reading its origin's robots.txt if
    /// the cached copy is missing or stale.
    pub async fn check(&self, url: &Url, gate: &HostGate) -> RobotsVerdict {
        let origin = url.origin().ascii_serialization();
        let cached = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&origin)
            .filter(|(expires, _)| *expires > Instant::now())
            .map(|(_, rules)| rules.clone());
        let rules = if let Some(rules) = cached {
            rules
        } else {
            let (rules, ttl) = self.fetch(&origin, url, gate).await;
            self.entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(origin, (Instant::now() + ttl, rules.clone()));
            rules
        };
        match rules {
            Rules::AllowAll => RobotsVerdict {
                allowed: true,
                crawl_delay: None,
            },
            Rules::Parsed(robot) => RobotsVerdict {
                allowed: robot.allowed(url.as_str()),
                crawl_delay: robot
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f32(d.min(60.0))),
            },
        }
    }

    async fn fetch(&self, origin: &str, url: &Url, gate: &HostGate) -> (Rules, Duration) {
        let robots_url = format!("{origin}/robots.txt");
        let _permit = gate.enter(url.host_str().unwrap_or_default(), None).await;
        // The URL's own host passed the rules already (or is a source the
        // operator named), so its robots.txt may be read even when that
        // host is not on the allowlist.
        let result = self
            .fetcher
            .get_also_allowing(&robots_url, url.host_str())
            .await;
        match result {
            Ok(fetched) => match Robot::new(&self.agent, robots_head(&fetched.bytes)) {
                Ok(robot) => (Rules::Parsed(Arc::new(robot)), ROBOTS_TTL),
                Err(e) => {
                    tracing::debug!(%robots_url, error = %e, "unreadable robots.txt, allowing all");
                    (Rules::AllowAll, ROBOTS_TTL)
                }
            },
            // No robots.txt: everything is allowed (RFC 9309 §2.3.1.3).
            Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => {
                (Rules::AllowAll, ROBOTS_TTL)
            }
            Err(e) => {
                tracing::debug!(%robots_url, error = %e, "robots.txt not readable now");
                (Rules::AllowAll, ROBOTS_RETRY)
            }
        }
    }
}

/// Most of a robots.txt read: RFC 9309 (2.5) lets crawlers stop at any
/// limit of 500 KiB or more, and the rules of a bigger file are not worth
/// the parsing time it can cost.
const ROBOTS_MAX_BYTES: usize = 512 * 1024;

/// The part of a robots.txt that is parsed: up to the limit, cut at a line
/// end so no rule is read half.
fn robots_head(bytes: &[u8]) -> &[u8] {
    if bytes.len() <= ROBOTS_MAX_BYTES {
        return bytes;
    }
    let head = &bytes[..ROBOTS_MAX_BYTES];
    head.iter()
        .rposition(|&b| b == b'\n')
        .map_or(head, |end| &head[..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_txt_is_read_up_to_the_limit_by_whole_lines() {
        assert_eq!(robots_head(b"User-agent: *\n"), b"User-agent: *\n");
        let mut big = b"User-agent: *\nDisallow: /a\n".to_vec();
        big.resize(ROBOTS_MAX_BYTES + 10, b'#');
        assert_eq!(robots_head(&big), b"User-agent: *\nDisallow: /a\n");
    }

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_per_host() {
        let gate = HostGate::new(4, Duration::from_millis(500));
        let begun = Instant::now();
        let first = gate.enter("a.test", None).await;
        let second = gate.enter("a.test", None).await;
        assert!(Instant::now() - begun >= Duration::from_millis(500));
        let other = Instant::now();
        let _third = gate.enter("b.test", None).await;
        assert!(Instant::now() - other < Duration::from_millis(10));
        let _fourth = gate.enter("a.test", Some(Duration::from_secs(2))).await;
        assert!(Instant::now() - begun >= Duration::from_secs(1));
        drop((first, second));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped_per_host() {
        let gate = Arc::new(HostGate::new(1, Duration::ZERO));
        let held = gate.enter("a.test", None).await;
        let waiting = {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move { gate.enter("a.test", None).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished());
        drop(held);
        assert!(waiting.await.is_ok());
    }
}
