//! The monitor's records: sources it watches, sightings of content at URLs
//! (with their matches and liveness), webhook destinations, and alerts with
//! every delivery attempt.
//!
//! Times here are Unix **milliseconds**: time to alert is measured in
//! seconds, and a whole-second clock would blur it.

use crate::Error;

/// What kind of place a source is, which decides how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// An RSS or Atom feed (also JSON Feed).
    Feed,
    /// An HTML page: its links and embedded media.
    Page,
    /// A channel export in Telegram Desktop's JSON format (`result.json`).
    TelegramExport,
}

impl SourceKind {
    /// Every kind, for help texts.
    pub const ALL: [SourceKind; 3] = [Self::Feed, Self::Page, Self::TelegramExport];

    /// The kind's name in records and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Feed => "feed",
            Self::Page => "page",
            Self::TelegramExport => "telegram",
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SourceKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown source kind {s:?} (expected feed, page or telegram)"
                ))
            })
    }
}

/// A source to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSource {
    /// A unique name chosen by the operator.
    pub name: String,
    /// How to read it.
    pub kind: SourceKind,
    /// A URL (feeds and pages) or a path to `result.json` (exports).
    pub location: String,
    /// How often to read it, in milliseconds.
    pub interval_ms: i64,
    /// Whether robots.txt is ignored for this source and its links (an
    /// explicit research override; off by default).
    pub ignore_robots: bool,
}

/// A watched source.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Its id.
    pub id: i64,
    /// Its unique name.
    pub name: String,
    /// How it is read.
    pub kind: SourceKind,
    /// URL or path.
    pub location: String,
    /// Polling interval in milliseconds.
    pub interval_ms: i64,
    /// Whether robots.txt is ignored.
    pub ignore_robots: bool,
    /// When it was added (ms).
    pub created_at: i64,
    /// When it was last read (ms), successfully or not.
    pub last_polled_at: Option<i64>,
    /// Why the last read failed, if it did.
    pub last_error: Option<String>,
}

/// Where a sighting's fetch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchState {
    /// Seen, not yet fetched (a restarted monitor resumes these).
    Pending,
    /// Fetched and hashed.
    Fetched,
    /// Recorded but deliberately not fetched (onion or ZeroNet address,
    /// host outside the allowlist, robots.txt).
    NotFetched,
    /// The fetch failed (status, size, timeout, undecodable content).
    Failed,
}

impl FetchState {
    /// The state's name in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Fetched => "fetched",
            Self::NotFetched => "not_fetched",
            Self::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Result<Self, Error> {
        [Self::Pending, Self::Fetched, Self::NotFetched, Self::Failed]
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| Error::Corrupt(format!("fetch state {s:?}")))
    }
}

/// A URL seen in a source, to record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSighting {
    /// The canonical URL as posted (refanged). Unique: a URL seen again is
    /// the same sighting.
    pub url: String,
    /// Its host (lowercase).
    pub host: String,
    /// Its host class (`file_locker`, `paste`, `onion`, …).
    pub host_class: String,
    /// The source it came from.
    pub source_id: i64,
    /// The post's key within the source (guid, message id, page URL).
    pub post_key: String,
    /// A link to the post, when the source has one.
    pub post_url: Option<String>,
    /// When the post says it was published (ms), if it says.
    pub posted_at: Option<i64>,
    /// When the monitor first saw the URL (ms).
    pub first_seen_at: i64,
}

/// The liveness of a matched sighting.
#[derive(Debug, Clone, PartialEq)]
pub enum Liveness {
    /// Not tracked (no match, or not fetchable).
    Untracked,
    /// Still up; re-checked at `next_check_at` (ms), `step` on the ladder.
    Live {
        /// Index into the ladder of the next check.
        step: i64,
        /// When the next check is due (ms).
        next_check_at: i64,
    },
    /// Gone: found missing at `removed_at` (ms), for `reason`.
    Gone {
        /// The first check that found it gone (ms).
        removed_at: i64,
        /// `not_found`, `host_gone`, `host_unresponsive`, `removed_page` or
        /// `no_longer_matches`.
        reason: String,
    },
}

/// A recorded sighting.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    /// Its id.
    pub id: i64,
    /// What was seen.
    pub seen: NewSighting,
    /// Fetch progress.
    pub state: FetchState,
    /// Why it was not fetched or why the fetch failed.
    pub reason: Option<String>,
    /// The URL after redirects, once fetched.
    pub final_url: Option<String>,
    /// The media kind fetched (`photo`, `video`, `pdf`, `text`).
    pub media_kind: Option<String>,
    /// Its signals as JSON (`{"pdq": "…", "md5": "…"}`), kept so that a
    /// sighting can be matched again when banks grow.
    pub signals: Option<String>,
    /// Whether it matched banked content.
    pub matched: bool,
    /// Liveness of a matched sighting.
    pub liveness: Liveness,
    /// When it was last re-checked (ms).
    pub last_checked_at: Option<i64>,
    /// An earlier sighting of the same content that had gone down before
    /// this one was seen: this one is a resurfacing.
    pub resurfaced_from: Option<i64>,
}

/// One banked content a sighting matched.
#[derive(Debug, Clone, PartialEq)]
pub struct SightingMatch {
    /// The content id.
    pub content_id: i64,
    /// Its bank.
    pub bank: String,
    /// The signal type that matched.
    pub signal_type: String,
    /// Its distance.
    pub distance: u32,
}

/// What fetching a sighting found.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRecord {
    /// `Fetched`, `NotFetched` or `Failed`.
    pub state: FetchState,
    /// Why not fetched or failed.
    pub reason: Option<String>,
    /// The URL after redirects.
    pub final_url: Option<String>,
    /// The host at the end of the redirects, when it differs from the
    /// posted one (a shortener's target): the sighting's host from now on.
    pub host: Option<(String, String)>,
    /// The media kind.
    pub media_kind: Option<String>,
    /// Signals as JSON.
    pub signals: Option<String>,
    /// Contents it matched (empty: none).
    pub matches: Vec<SightingMatch>,
    /// The first liveness check, for a match.
    pub liveness: Liveness,
    /// The earlier, gone sighting this one resurfaces.
    pub resurfaced_from: Option<i64>,
}

/// A webhook destination for alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Its id.
    pub id: i64,
    /// Its unique name.
    pub name: String,
    /// Where alerts are POSTed.
    pub url: String,
}

/// An alert to send to every webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// A stable id (the same event always gets the same id), so that
    /// receivers can drop repeats.
    pub id: String,
    /// The sighting it is about.
    pub sighting_id: i64,
    /// `match` or `resurfacing`.
    pub kind: String,
    /// The JSON body sent.
    pub body: String,
    /// When it was raised (ms).
    pub created_at: i64,
}

/// A delivery of an alert to one webhook that is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The alert id.
    pub alert_id: String,
    /// The alert body.
    pub body: String,
    /// The destination.
    pub webhook: Webhook,
    /// Attempts made so far.
    pub attempts: i64,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    /// When it was made (ms).
    pub at: i64,
    /// The HTTP status, if the destination answered.
    pub status: Option<u16>,
    /// What went wrong, if it did.
    pub error: Option<String>,
    /// Whether the destination took it (2xx).
    pub delivered: bool,
}

/// An alert's delivery to one webhook as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryStatus {
    /// The alert id.
    pub alert_id: String,
    /// The webhook name.
    pub webhook: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was delivered (ms), if it was.
    pub delivered_at: Option<i64>,
    /// When the next attempt is due (ms), if one is.
    pub next_attempt_at: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
}

/// Persistence of the monitor. Part of every [`Store`](crate::Store).
pub trait MonitorStore {
    /// Adds a source; a duplicate name is [`Error::Invalid`].
    fn add_source(&self, source: &NewSource, actor: &str) -> Result<Source, Error>;

    /// All sources, by name.
    fn sources(&self) -> Result<Vec<Source>, Error>;

    /// Removes a source (its sightings stay, for reports); returns whether
    /// it existed.
    fn remove_source(&self, name: &str, actor: &str) -> Result<bool, Error>;

    /// Records a read of a source at `at` (ms) and its error, if any.
    fn source_polled(&self, id: i64, at: i64, error: Option<&str>) -> Result<(), Error>;

    /// Records URLs seen; those already known are skipped. Returns the new
    /// sightings (state `Pending`), in input order.
    fn add_sightings(&self, seen: &[NewSighting]) -> Result<Vec<Sighting>, Error>;

    /// Up to `limit` sightings still `Pending`, oldest first.
    fn pending_sightings(&self, limit: usize) -> Result<Vec<Sighting>, Error>;

    /// Records what fetching sighting `id` found, its matches and its first
    /// liveness check, in one transaction.
    fn record_fetch(&self, id: i64, record: &FetchRecord) -> Result<(), Error>;

    /// Adds matches found later (a bank grew) to a fetched sighting and
    /// starts its liveness checks.
    fn add_matches(
        &self,
        id: i64,
        matches: &[SightingMatch],
        liveness: &Liveness,
        resurfaced_from: Option<i64>,
    ) -> Result<(), Error>;

    /// Up to `limit` live sightings whose check is due at `now` (ms),
    /// most overdue first.
    fn due_checks(&self, now: i64, limit: usize) -> Result<Vec<Sighting>, Error>;

    /// Records a liveness check at `at` (ms): still live (next step) or gone.
    fn record_check(&self, id: i64, at: i64, liveness: &Liveness) -> Result<(), Error>;

    /// One sighting.
    fn sighting(&self, id: i64) -> Result<Option<Sighting>, Error>;

    /// Up to `limit` sightings with ids above `after`, in id order.
    fn sightings_after(&self, after: i64, limit: usize) -> Result<Vec<Sighting>, Error>;

    /// The matches of one sighting.
    fn sighting_matches(&self, id: i64) -> Result<Vec<SightingMatch>, Error>;

    /// Sightings that matched `content_id` and are gone, earliest removal
    /// first.
    fn gone_sightings_of(&self, content_id: i64) -> Result<Vec<Sighting>, Error>;

    /// Adds a webhook; a duplicate name is [`Error::Invalid`].
    fn add_webhook(&self, name: &str, url: &str, actor: &str) -> Result<Webhook, Error>;

    /// All webhooks, by name.
    fn webhooks(&self) -> Result<Vec<Webhook>, Error>;

    /// Removes a webhook and its pending deliveries; returns whether it
    /// existed.
    fn remove_webhook(&self, name: &str, actor: &str) -> Result<bool, Error>;

    /// Raises an alert and queues a delivery to every webhook, due now.
    /// Returns `false` (and changes nothing) if an alert with this id
    /// exists: alerts are idempotent.
    fn add_alert(&self, alert: &NewAlert) -> Result<bool, Error>;

    /// Up to `limit` deliveries due at `now` (ms).
    fn due_deliveries(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, Error>;

    /// Records an attempt to deliver `alert_id` to `webhook_id`; when it
    /// failed, `retry_at` (ms) schedules the next one (`None`: give up).
    fn record_delivery(
        &self,
        alert_id: &str,
        webhook_id: i64,
        attempt: &DeliveryAttempt,
        retry_at: Option<i64>,
    ) -> Result<(), Error>;

    /// Every alert's delivery state, in alert order.
    fn deliveries(&self) -> Result<Vec<DeliveryStatus>, Error>;
}

/// The most a source name or webhook name may hold.
const MAX_NAME: usize = 100;

pub(crate) fn validate_source(source: &NewSource) -> Result<(), Error> {
    validate_name("source", &source.name)?;
    if source.location.trim().is_empty() {
        return Err(Error::Invalid("a source needs a URL or a path".into()));
    }
    if source.interval_ms < 100 {
        return Err(Error::Invalid(format!(
            "interval of {} ms is too short (at least 100 ms)",
            source.interval_ms
        )));
    }
    Ok(())
}

pub(crate) fn validate_webhook(name: &str, url: &str) -> Result<(), Error> {
    validate_name("webhook", name)?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::Invalid(format!(
            "webhook URL {url:?} must start with http:// or https://"
        )));
    }
    Ok(())
}

fn validate_name(what: &str, name: &str) -> Result<(), Error> {
    if name.is_empty()
        || name.len() > MAX_NAME
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::Invalid(format!(
            "{what} name {name:?} must be 1–{MAX_NAME} letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(())
}

/// Liveness as stored: name, ladder step, next check, removal time, reason.
pub(crate) type LivenessColumns = (
    &'static str,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

pub(crate) fn liveness_columns(liveness: &Liveness) -> LivenessColumns {
    match liveness {
        Liveness::Untracked => ("untracked", None, None, None, None),
        Liveness::Live {
            step,
            next_check_at,
        } => ("live", Some(*step), Some(*next_check_at), None, None),
        Liveness::Gone { removed_at, reason } => {
            ("gone", None, None, Some(*removed_at), Some(reason.clone()))
        }
    }
}

pub(crate) fn liveness_from_columns(
    name: &str,
    step: Option<i64>,
    next_check_at: Option<i64>,
    removed_at: Option<i64>,
    reason: Option<String>,
) -> Result<Liveness, Error> {
    match (name, step, next_check_at, removed_at) {
        ("untracked", ..) => Ok(Liveness::Untracked),
        ("live", Some(step), Some(next_check_at), _) => Ok(Liveness::Live {
            step,
            next_check_at,
        }),
        ("gone", _, _, Some(removed_at)) => Ok(Liveness::Gone {
            removed_at,
            reason: reason.unwrap_or_default(),
        }),
        _ => Err(Error::Corrupt(format!("sighting liveness {name:?}"))),
    }
}
