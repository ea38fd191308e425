//! Alerts: what a webhook receives when known content is found at a URL,
//! with a stable id so that a retried or repeated alert is recognisable,
//! and the retry schedule for destinations that are down.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vigil_store::{Sighting, Source};

use vigil_engine::LabelledMatch;

/// What an alert reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Known content found at a URL.
    Match,
    /// Known content found at a new URL after an earlier copy went down.
    Resurfacing,
}

impl AlertKind {
    /// The kind's name in records and bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Resurfacing => "resurfacing",
        }
    }
}

/// The alert id: the same sighting URL and kind always give the same id,
/// across restarts and re-matches, so each event is alerted once and a
/// receiver can drop repeats of a retried delivery.
pub fn alert_id(kind: AlertKind, url: &str) -> String {
    let digest = Sha256::digest(format!("vigil-alert/v1\n{}\n{url}", kind.as_str()));
    digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The JSON body of an alert: the evidence a takedown request needs — the
/// URL and host, the source post it came from, the matched content (best
/// match first, all of them in `matches`), and when it was first seen.
pub fn alert_body(
    id: &str,
    kind: AlertKind,
    sighting: &Sighting,
    source: Option<&Source>,
    matches: &[LabelledMatch],
    resurfaced_from: Option<&Sighting>,
) -> Value {
    let best = matches.first();
    json!({
        "alert_id": id,
        "kind": kind,
        "url": sighting.final_url.as_deref().unwrap_or(&sighting.seen.url),
        "posted_url": sighting.seen.url,
        "host": sighting.seen.host,
        "host_class": sighting.seen.host_class,
        "media_kind": sighting.media_kind,
        "source": source.map(|s| json!({ "name": s.name, "kind": s.kind.as_str(), "location": s.location })),
        "post": {
            "key": sighting.seen.post_key,
            "url": sighting.seen.post_url,
            "published_at": sighting.seen.posted_at.map(rfc3339),
        },
        "content_id": best.map(|m| m.content_id),
        "bank": best.map(|m| m.bank.as_str()),
        "labels": best.map(|m| &m.labels),
        "signal_type": best.map(|m| m.signal_type.as_str()),
        "distance": best.map(|m| m.distance),
        "matches": matches,
        "first_seen": rfc3339(sighting.seen.first_seen_at),
        "first_seen_ms": sighting.seen.first_seen_at,
        "resurfaced_from": resurfaced_from.map(|earlier| json!({
            "url": earlier.final_url.as_deref().unwrap_or(&earlier.seen.url),
            "host": earlier.seen.host,
            "removed_at": match earlier.liveness {
                vigil_store::Liveness::Gone { removed_at, .. } => Some(rfc3339(removed_at)),
                _ => None,
            },
        })),
    })
}

/// Unix milliseconds as an RFC 3339 UTC time.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// How delivery retries are spaced: doubling from `first`, at most `cap`
/// apart, `attempts` in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub first: Duration,
    /// Longest delay between attempts.
    pub cap: Duration,
    /// Attempts before giving up.
    pub attempts: u32,
}

impl Default for RetryPolicy {
    /// 2 s, 4 s, 8 s, … capped at 10 min, 12 attempts (about an hour of
    /// trying): long enough to ride out a receiver's restart or a short
    /// outage, short enough that a dead destination is reported the same
    /// hour.
    fn default() -> Self {
        Self {
            first: Duration::from_secs(2),
            cap: Duration::from_secs(600),
            attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after `attempts_made` failed ones,
    /// or `None` when no attempts are left.
    pub fn next_delay(&self, attempts_made: u32) -> Option<Duration> {
        if attempts_made >= self.attempts {
            return None;
        }
        let doubling = 2u32.saturating_pow(attempts_made.saturating_sub(1).min(30));
        Some(self.first.saturating_mul(doubling).min(self.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = alert_id(AlertKind::Match, "http://x.test/a");
        assert_eq!(a, alert_id(AlertKind::Match, "http://x.test/a"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, alert_id(AlertKind::Match, "http://x.test/b"));
        assert_ne!(a, alert_id(AlertKind::Resurfacing, "http://x.test/a"));
    }

    #[test]
    fn retries_back_off_and_stop() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.next_delay(1), Some(Duration::from_secs(2)));
        assert_eq!(policy.next_delay(2), Some(Duration::from_secs(4)));
        assert_eq!(policy.next_delay(11), Some(Duration::from_secs(600)));
        assert_eq!(policy.next_delay(12), None);
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
