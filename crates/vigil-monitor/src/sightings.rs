//! Listing what the monitor recorded: sightings as `vigil monitor
//! sightings` prints them and `GET /v1/sightings` returns them, written
//! once for both.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use vigil_store::{Liveness, MonitorStore, Sighting, SightingMatch};

use crate::MonitorError;
use crate::alert::rfc3339;

/// Sightings read from the store at a time.
const PAGE: usize = 1_000;

/// Which sightings a listing returns, in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SightingFilter {
    /// Only sightings with ids above this (for paging: the last id seen;
    /// 0 from the start).
    pub after: i64,
    /// At most this many (`None`: all).
    pub limit: Option<usize>,
    /// Only sightings that matched banked content.
    pub matched_only: bool,
}

/// A sighting as the CLI (one JSON line each) and the API (`sightings`)
/// show it, fields in this order. Times are given twice: RFC 3339 UTC to
/// read (`first_seen`, `removed_at`) and Unix milliseconds to compute with
/// (`…_ms`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SightingRecord {
    /// The sighting's id.
    pub id: i64,
    /// The URL as posted (refanged, canonical).
    pub url: String,
    /// The URL after redirects, once fetched.
    pub final_url: Option<String>,
    /// Where the content is stored (after redirects, once fetched).
    pub host: String,
    /// The host's class (`file_locker`, `paste`, `onion`, …).
    pub host_class: String,
    /// The name of the source the post came from.
    pub source: Option<String>,
    /// The post's key within its source.
    pub post_key: String,
    /// A link to the post, when the source has one.
    pub post_url: Option<String>,
    /// When the monitor first saw the URL.
    pub first_seen: String,
    /// The same, in Unix milliseconds.
    pub first_seen_ms: i64,
    /// Fetch progress: `pending`, `fetched`, `not_fetched`, `failed`.
    pub state: &'static str,
    /// Why it was not fetched, or why the fetch failed.
    pub reason: Option<String>,
    /// The media kind fetched (`photo`, `video`, `pdf`, `text`).
    pub media_kind: Option<String>,
    /// Its signals (`{"pdq": "…", "md5": "…"}`).
    pub signals: Option<Value>,
    /// The banked contents it matched.
    pub matches: Vec<RecordMatch>,
    /// `untracked`, `live` (re-checked on the ladder) or `gone`.
    pub liveness: &'static str,
    /// When a live sighting is checked next (Unix ms).
    pub next_check_ms: Option<i64>,
    /// When it was last re-checked (Unix ms).
    pub last_checked_ms: Option<i64>,
    /// When it was found gone.
    pub removed_at: Option<String>,
    /// The same, in Unix milliseconds.
    pub removed_at_ms: Option<i64>,
    /// Why it counts as gone (`not_found`, `host_gone`, …).
    pub removal_reason: Option<String>,
    /// The earlier sighting, gone before this one was seen, that this one
    /// resurfaces.
    pub resurfaced_from: Option<i64>,
}

/// One banked content a listed sighting matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordMatch {
    /// The content's id.
    pub content_id: i64,
    /// Its bank.
    pub bank: String,
    /// The signal type that matched.
    pub signal_type: String,
    /// Its distance.
    pub distance: u32,
}

impl SightingRecord {
    /// `sighting` with the contents it matched and its source's name.
    pub fn new(sighting: &Sighting, matches: &[SightingMatch], source: Option<&str>) -> Self {
        let (liveness, next_check_ms, removed_at_ms, removal_reason) = match &sighting.liveness {
            Liveness::Untracked => ("untracked", None, None, None),
            Liveness::Live { next_check_at, .. } => ("live", Some(*next_check_at), None, None),
            Liveness::Gone { removed_at, reason } => {
                ("gone", None, Some(*removed_at), Some(reason.clone()))
            }
        };
        Self {
            id: sighting.id,
            url: sighting.seen.url.clone(),
            final_url: sighting.final_url.clone(),
            host: sighting.seen.host.clone(),
            host_class: sighting.seen.host_class.clone(),
            source: source.map(str::to_owned),
            post_key: sighting.seen.post_key.clone(),
            post_url: sighting.seen.post_url.clone(),
            first_seen: rfc3339(sighting.seen.first_seen_at),
            first_seen_ms: sighting.seen.first_seen_at,
            state: sighting.state.as_str(),
            reason: sighting.reason.clone(),
            media_kind: sighting.media_kind.clone(),
            signals: sighting
                .signals
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok()),
            matches: matches
                .iter()
                .map(|m| RecordMatch {
                    content_id: m.content_id,
                    bank: m.bank.clone(),
                    signal_type: m.signal_type.clone(),
                    distance: m.distance,
                })
                .collect(),
            liveness,
            next_check_ms,
            last_checked_ms: sighting.last_checked_at,
            removed_at: removed_at_ms.map(rfc3339),
            removed_at_ms,
            removal_reason,
            resurfaced_from: sighting.resurfaced_from,
        }
    }
}

/// The sightings `filter` selects, read from the store a page at a time
/// as the iterator is advanced (a listing of millions holds one page).
pub fn list_sightings(
    store: &dyn MonitorStore,
    filter: SightingFilter,
) -> Result<SightingList<'_>, MonitorError> {
    let sources = store
        .sources()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(SightingList {
        store,
        sources,
        cursor: filter.after,
        filter,
        page: Vec::new().into_iter(),
        given: 0,
        done: false,
    })
}

/// An iterator over listed sightings, from [`list_sightings`]. It ends
/// after the first error.
pub struct SightingList<'a> {
    store: &'a dyn MonitorStore,
    /// Source names by id, read once at the start.
    sources: HashMap<i64, String>,
    filter: SightingFilter,
    /// The last id read from the store.
    cursor: i64,
    page: std::vec::IntoIter<Sighting>,
    given: usize,
    done: bool,
}

impl std::fmt::Debug for SightingList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SightingList")
            .field("filter", &self.filter)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl Iterator for SightingList<'_> {
    type Item = Result<SightingRecord, MonitorError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done || self.filter.limit.is_some_and(|limit| self.given >= limit) {
                return None;
            }
            if let Some(sighting) = self.page.next() {
                if self.filter.matched_only && !sighting.matched {
                    continue;
                }
                self.given += 1;
                let record = self.store.sighting_matches(sighting.id).map(|matches| {
                    let source = self.sources.get(&sighting.seen.source_id);
                    SightingRecord::new(&sighting, &matches, source.map(String::as_str))
                });
                self.done = record.is_err();
                return Some(record.map_err(MonitorError::from));
            }
            match self.store.sightings_after(self.cursor, PAGE) {
                Ok(page) => match page.last() {
                    Some(last) => {
                        self.cursor = last.id;
                        self.page = page.into_iter();
                    }
                    None => self.done = true,
                },
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            }
        }
    }
}
