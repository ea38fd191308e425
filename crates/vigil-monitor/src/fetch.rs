//! The monitor's units of work: fetching a sighting, re-checking one,
//! delivering an alert, re-matching kept sightings.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use url::Url;
use vigil_fetch::FetchError;
use vigil_store::{
    Delivery, DeliveryAttempt, FetchRecord, FetchState, Liveness, NewAlert, NewSighting, Sighting,
    SightingMatch, Signals, SourceKind,
};

use crate::alert::{AlertKind, alert_body, alert_id};
use crate::liveness::{GoneReason, gone_by_status, unresponsive};
use crate::runner::{Shared, blocking, host_of, is_refusal};
use crate::scan::{Scanned, scan_bytes};
use crate::{MonitorError, now_ms};
use vigil_engine::Match;

/// How recently some host must have answered for an unreachable host to
/// count as gone.
const NETWORK_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);

/// What trying to get a URL's bytes came to.
enum Obtained {
    /// The body, and the URL it came from after redirects.
    Bytes(Vec<u8>, Url),
    /// Deliberately not fetched, and why.
    Refused(String),
    /// The fetch failed.
    Failed(FetchError),
}

/// Gets what `url` points to, under every rule: onion and ZeroNet never,
/// `file:` only inside the channel export it came from, the URL policy,
/// robots.txt, the per-host limits.
async fn obtain(shared: &Shared, url: &Url, source_id: i64) -> Obtained {
    let source = shared.source(source_id);
    if url.scheme() == "file" {
        return read_attachment(url, source.as_ref()).await;
    }
    let class = shared.options.host_rules.classify(url);
    if !class.fetchable() {
        return Obtained::Refused(format!("{class} address: recorded, never fetched"));
    }
    if matches!(url.scheme(), "ipfs" | "ipns") {
        return Obtained::Refused("an ipfs:// address needs a gateway: recorded only".into());
    }
    if let Err(e) = shared.fetcher.policy().check_url(url.as_str()) {
        return Obtained::Refused(e.to_string());
    }
    if shared.options.obey_robots && !source.as_ref().is_some_and(|s| s.ignore_robots) {
        let verdict = shared.robots.check(url, &shared.gate).await;
        if !verdict.allowed {
            return Obtained::Refused(format!("robots.txt of {} disallows it", host_of(url)));
        }
        let _permit = shared.gate.enter(&host_of(url), verdict.crawl_delay).await;
        return get(shared, url).await;
    }
    let _permit = shared.gate.enter(&host_of(url), None).await;
    get(shared, url).await
}

async fn get(shared: &Shared, url: &Url) -> Obtained {
    let _slot = shared.fetch_slots.acquire().await.ok();
    let result = shared.fetcher.get(url.as_str()).await;
    shared.heard_from_network(&result);
    match result {
        Ok(fetched) => Obtained::Bytes(fetched.bytes, fetched.url),
        Err(e) if is_refusal(&e) => Obtained::Refused(e.to_string()),
        Err(e) => Obtained::Failed(e),
    }
}

async fn read_attachment(url: &Url, source: Option<&vigil_store::Source>) -> Obtained {
    let Some(source) = source.filter(|s| s.kind == SourceKind::TelegramExport) else {
        return Obtained::Refused("local files are read only from a channel export".into());
    };
    let (Ok(path), Some(directory)) = (url.to_file_path(), Path::new(&source.location).parent())
    else {
        return Obtained::Refused("not a file in the export".into());
    };
    let directory = std::path::absolute(directory).unwrap_or_else(|_| directory.to_path_buf());
    if !path.starts_with(&directory) {
        return Obtained::Refused("the file is outside the export's directory".into());
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => Obtained::Bytes(bytes, url.clone()),
        Err(e) => Obtained::Failed(FetchError::Transport {
            url: url.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Fetches a pending sighting, hashes and matches it, raises its alert and
/// records it; a landing page's embedded media become sightings too.
pub(crate) async fn fetch(shared: Arc<Shared>, sighting: Sighting) -> Result<(), MonitorError> {
    let id = sighting.id;
    let unfetched = |state, reason| {
        let record = refused_record(state, reason);
        let shared = Arc::clone(&shared);
        async move {
            blocking(&shared, move |shared| {
                Ok(shared.engine.store().record_fetch(id, &record)?)
            })
            .await
        }
    };
    let url = match Url::parse(&sighting.seen.url) {
        Ok(url) => url,
        Err(e) => return unfetched(FetchState::Failed, format!("unreadable URL: {e}")).await,
    };
    let (bytes, final_url) = match obtain(&shared, &url, sighting.seen.source_id).await {
        Obtained::Bytes(bytes, final_url) => (bytes, final_url),
        Obtained::Refused(reason) => {
            shared.counters.not_fetched.fetch_add(1, Ordering::Relaxed);
            return unfetched(FetchState::NotFetched, reason).await;
        }
        Obtained::Failed(e) => {
            shared.counters.failed.fetch_add(1, Ordering::Relaxed);
            return unfetched(FetchState::Failed, e.to_string()).await;
        }
    };
    blocking(&shared, move |shared| {
        record_fetched(shared, sighting, &bytes, &final_url)
    })
    .await?;
    shared.wake.notify_one();
    Ok(())
}

fn refused_record(state: FetchState, reason: String) -> FetchRecord {
    FetchRecord {
        state,
        reason: Some(reason),
        final_url: None,
        host: None,
        media_kind: None,
        signals: None,
        matches: Vec::new(),
        liveness: Liveness::Untracked,
        resurfaced_from: None,
    }
}

/// Hashes, matches, alerts and records a fetched sighting (blocking).
fn record_fetched(
    shared: &Shared,
    mut sighting: Sighting,
    bytes: &[u8],
    final_url: &Url,
) -> Result<(), MonitorError> {
    let store = shared.engine.store();
    let scanned = match scan_bytes(bytes, Some(final_url), &shared.options.hash) {
        Ok(scanned) => scanned,
        Err(e) => {
            shared.counters.failed.fetch_add(1, Ordering::Relaxed);
            let mut record = refused_record(FetchState::Failed, e.to_string());
            record.final_url = Some(final_url.to_string());
            store.record_fetch(sighting.id, &record)?;
            return Ok(());
        }
    };
    shared.counters.fetched.fetch_add(1, Ordering::Relaxed);
    keep_media(shared, bytes, &scanned)?;
    if !scanned.embedded.is_empty() && !scanned.removal_notice {
        let children: Vec<NewSighting> = scanned
            .embedded
            .iter()
            .map(|url| NewSighting {
                url: url.to_string(),
                host: host_of(url),
                host_class: shared.options.host_rules.classify(url).as_str().to_owned(),
                source_id: sighting.seen.source_id,
                post_key: sighting.seen.post_key.clone(),
                post_url: sighting.seen.post_url.clone(),
                posted_at: sighting.seen.posted_at,
                first_seen_at: sighting.seen.first_seen_at,
            })
            .collect();
        let added = store.add_sightings(&children)?;
        shared
            .counters
            .links
            .fetch_add(added.len() as u64, Ordering::Relaxed);
    }
    let matches = best_per_content(
        shared
            .engine
            .lookup_all(&scanned.signals, &shared.options.lookup)?,
    );
    let signals_json = serde_json::to_string(&vigil_engine::compact_signals(&scanned.signals))
        .map_err(|e| MonitorError::Task(e.to_string()))?;
    let url_before = sighting.seen.url.clone();
    sighting.final_url = Some(final_url.to_string());
    sighting.media_kind = Some(scanned.kind.to_owned());
    // Where the content is stored is the host that matters for takedown:
    // after a shortener, the host at the end of the redirects.
    if final_url.as_str() != sighting.seen.url && final_url.scheme() != "file" {
        sighting.seen.host = host_of(final_url);
        sighting.seen.host_class = shared
            .options
            .host_rules
            .classify(final_url)
            .as_str()
            .to_owned();
    }
    let moved = final_url.as_str() != url_before && final_url.scheme() != "file";
    let mut record = FetchRecord {
        state: FetchState::Fetched,
        reason: None,
        final_url: sighting.final_url.clone(),
        host: moved.then(|| (sighting.seen.host.clone(), sighting.seen.host_class.clone())),
        media_kind: sighting.media_kind.clone(),
        signals: Some(signals_json),
        matches: matches.iter().map(sighting_match).collect(),
        liveness: Liveness::Untracked,
        resurfaced_from: None,
    };
    if !matches.is_empty() {
        shared.counters.matched.fetch_add(1, Ordering::Relaxed);
        let resurfaced = resurfaced_from(shared, &sighting, &matches)?;
        record.resurfaced_from = resurfaced.as_ref().map(|s| s.id);
        record.liveness = first_check(shared, &sighting, final_url);
        // The alert is raised before the sighting is marked fetched: if the
        // process dies in between, the sighting is fetched again and the
        // alert, having the same id, is not raised twice.
        raise_alert(shared, &sighting, &matches, resurfaced.as_ref())?;
    }
    store.record_fetch(sighting.id, &record)?;
    Ok(())
}

/// One match per content, the nearest, nearest first. On a tie an exact
/// digest wins: "the same file" is stronger evidence than "looks the same".
fn best_per_content(matches: Vec<Match>) -> Vec<Match> {
    let rank = |m: &Match| {
        (
            m.distance,
            !matches!(m.signal_type.as_str(), "md5" | "sha256"),
        )
    };
    let mut best: BTreeMap<i64, Match> = BTreeMap::new();
    for found in matches {
        match best.get(&found.content_id) {
            Some(kept) if rank(kept) <= rank(&found) => {}
            _ => {
                best.insert(found.content_id, found);
            }
        }
    }
    let mut matches: Vec<Match> = best.into_values().collect();
    matches.sort_by_key(|m| (rank(m), m.content_id));
    matches
}

fn sighting_match(found: &Match) -> SightingMatch {
    SightingMatch {
        content_id: found.content_id,
        bank: found.bank.to_string(),
        signal_type: found.signal_type.clone(),
        distance: found.distance,
    }
}

/// The earliest sighting of the same content, at another URL, that had
/// gone down before this one was seen.
fn resurfaced_from(
    shared: &Shared,
    sighting: &Sighting,
    matches: &[Match],
) -> Result<Option<Sighting>, MonitorError> {
    let mut earliest: Option<Sighting> = None;
    for found in matches {
        for gone in shared.engine.store().gone_sightings_of(found.content_id)? {
            let Liveness::Gone { removed_at, .. } = gone.liveness else {
                continue;
            };
            if gone.id == sighting.id || removed_at > sighting.seen.first_seen_at.max(now_ms()) {
                continue;
            }
            let earlier = earliest.as_ref().is_none_or(|e| match e.liveness {
                Liveness::Gone {
                    removed_at: kept, ..
                } => removed_at < kept,
                _ => true,
            });
            if earlier {
                earliest = Some(gone);
            }
        }
    }
    Ok(earliest)
}

/// The first liveness check of a new match; attachments of a channel
/// export have no URL to re-check.
fn first_check(shared: &Shared, sighting: &Sighting, url: &Url) -> Liveness {
    if url.scheme() == "file" {
        return Liveness::Untracked;
    }
    let (step, next_check_at) =
        shared
            .options
            .ladder
            .next_check(sighting.seen.first_seen_at, None, now_ms());
    Liveness::Live {
        step: step as i64,
        next_check_at,
    }
}

/// Raises the alert for a matched sighting (once: the id is stable).
fn raise_alert(
    shared: &Shared,
    sighting: &Sighting,
    matches: &[Match],
    resurfaced: Option<&Sighting>,
) -> Result<(), MonitorError> {
    let kind = if resurfaced.is_some() {
        AlertKind::Resurfacing
    } else {
        AlertKind::Match
    };
    let id = alert_id(kind, &sighting.seen.url);
    let labelled = shared.engine.with_labels(matches.to_vec())?;
    let source = shared.source(sighting.seen.source_id);
    let body = alert_body(&id, kind, sighting, source.as_ref(), &labelled, resurfaced);
    let alert = NewAlert {
        id,
        sighting_id: sighting.id,
        kind: kind.as_str().to_owned(),
        body: body.to_string(),
        created_at: now_ms(),
    };
    if shared.engine.store().add_alert(&alert)? {
        shared.counters.alerts.fetch_add(1, Ordering::Relaxed);
        if resurfaced.is_some() {
            shared.counters.resurfacings.fetch_add(1, Ordering::Relaxed);
        }
        tracing::info!(alert = %alert.id, kind = %alert.kind, url = %sighting.seen.url, "alert raised");
    }
    Ok(())
}

/// Keeps fetched media under the media directory, named by SHA-256, when
/// one is configured (hash-only by default).
fn keep_media(shared: &Shared, bytes: &[u8], scanned: &Scanned) -> Result<(), MonitorError> {
    let (Some(directory), Some(sha256)) =
        (&shared.options.media_dir, scanned.signals.get("sha256"))
    else {
        return Ok(());
    };
    let path = directory.join(sha256);
    if !path.exists() {
        vigil_store::create_private_dir(directory).map_err(vigil_engine::Error::from)?;
        vigil_store::write_private_file(&path, bytes).map_err(vigil_engine::Error::from)?;
    }
    Ok(())
}

/// Re-checks a live sighting: still there and still the known content, or
/// gone (and why).
pub(crate) async fn check(shared: Arc<Shared>, sighting: Sighting) -> Result<(), MonitorError> {
    let url_text = sighting.final_url.as_deref().unwrap_or(&sighting.seen.url);
    let Ok(url) = Url::parse(url_text) else {
        return Ok(());
    };
    let obtained = obtain(&shared, &url, sighting.seen.source_id).await;
    // Timed-out checks are counted in a row; any other outcome ends the run.
    if !matches!(obtained, Obtained::Failed(FetchError::Timeout { .. })) {
        shared.silences.end(sighting.id);
    }
    let verdict = match obtained {
        Obtained::Failed(FetchError::Status { status, .. }) => gone_by_status(status),
        // Only if other hosts answer lately: when our own network is down,
        // every host looks gone.
        Obtained::Failed(FetchError::Unreachable { .. })
            if shared.network_is_up(NETWORK_WINDOW) =>
        {
            Some(GoneReason::HostGone)
        }
        Obtained::Failed(FetchError::Timeout { .. }) => timed_out(&shared, sighting.id),
        Obtained::Failed(_) | Obtained::Refused(_) => None,
        Obtained::Bytes(bytes, final_url) => {
            let kept = sighting.clone();
            blocking(&shared, move |shared| {
                still_there(shared, &kept, &bytes, &final_url)
            })
            .await?
        }
    };
    // The time of the answer, not of the request: the content was there
    // until the host answered that it is not.
    let checked_at = now_ms();
    shared.counters.checks.fetch_add(1, Ordering::Relaxed);
    let liveness = match verdict {
        Some(reason) => {
            // A host that stopped answering went down at the first check
            // it left unanswered, not at the one that made it certain.
            let checked_at = match reason {
                GoneReason::HostUnresponsive => {
                    shared.silences.end(sighting.id).unwrap_or(checked_at)
                }
                _ => checked_at,
            };
            shared.counters.gone.fetch_add(1, Ordering::Relaxed);
            tracing::info!(url = %url, reason = reason.as_str(), "gone");
            Liveness::Gone {
                removed_at: checked_at,
                reason: reason.as_str().to_owned(),
            }
        }
        None => {
            let done = match sighting.liveness {
                Liveness::Live { step, .. } => usize::try_from(step).ok(),
                _ => None,
            };
            let (step, next_check_at) =
                shared
                    .options
                    .ladder
                    .next_check(sighting.seen.first_seen_at, done, now_ms());
            Liveness::Live {
                step: step as i64,
                next_check_at,
            }
        }
    };
    let id = sighting.id;
    blocking(&shared, move |shared| {
        Ok(shared
            .engine
            .store()
            .record_check(id, checked_at, &liveness)?)
    })
    .await
}

/// Counts a timed-out check of sighting `id`: its host is unresponsive
/// once enough checks in a row timed out while other hosts answered
/// lately (when our own network is down, every host times out).
fn timed_out(shared: &Shared, id: i64) -> Option<GoneReason> {
    unresponsive(
        shared.silences.timed_out(id, now_ms()),
        shared.options.unresponsive_after,
        shared.network_is_up(NETWORK_WINDOW),
    )
}

/// Whether what a URL serves now is still the content it matched:
/// `None` if it is, else why it is gone.
fn still_there(
    shared: &Shared,
    sighting: &Sighting,
    bytes: &[u8],
    final_url: &Url,
) -> Result<Option<GoneReason>, MonitorError> {
    let Ok(scanned) = scan_bytes(bytes, Some(final_url), &shared.options.hash) else {
        return Ok(Some(GoneReason::NoLongerMatches));
    };
    if scanned.removal_notice {
        return Ok(Some(GoneReason::RemovedPage));
    }
    let stored: Option<Signals> = sighting
        .signals
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    let same_bytes = stored
        .as_ref()
        .and_then(|s| s.get("sha256"))
        .is_some_and(|sha| scanned.signals.get("sha256") == Some(sha));
    if same_bytes {
        return Ok(None);
    }
    let known: Vec<i64> = shared
        .engine
        .store()
        .sighting_matches(sighting.id)?
        .iter()
        .map(|m| m.content_id)
        .collect();
    let options = vigil_engine::LookupOptions {
        include_disabled: true,
        ..shared.options.lookup.clone()
    };
    let matches = shared.engine.lookup_all(&scanned.signals, &options)?;
    Ok((!matches.iter().any(|m| known.contains(&m.content_id)))
        .then_some(GoneReason::NoLongerMatches))
}

/// Delivers one alert to one webhook, recording the attempt and, if it
/// failed, when to try again.
pub(crate) async fn deliver(shared: Arc<Shared>, delivery: Delivery) -> Result<(), MonitorError> {
    let response = shared
        .webhooks
        .post(&delivery.webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", &delivery.alert_id)
        .body(delivery.body.clone())
        .send()
        .await;
    let at = now_ms();
    let attempt = match response {
        Ok(response) if response.status().is_success() => DeliveryAttempt {
            at,
            status: Some(response.status().as_u16()),
            error: None,
            delivered: true,
        },
        Ok(response) => DeliveryAttempt {
            at,
            status: Some(response.status().as_u16()),
            error: Some(format!("the webhook answered {}", response.status())),
            delivered: false,
        },
        Err(e) => DeliveryAttempt {
            at,
            status: None,
            error: Some(format!("cannot reach the webhook: {e}")),
            delivered: false,
        },
    };
    let made = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
    let retry_at = shared
        .options
        .retry
        .next_delay(made)
        .map(|delay| at + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2));
    if attempt.delivered {
        shared.counters.delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        shared
            .counters
            .delivery_failures
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(webhook = %delivery.webhook.name, alert = %delivery.alert_id,
            error = attempt.error.as_deref().unwrap_or_default(), "delivery failed");
    }
    blocking(&shared, move |shared| {
        Ok(shared.engine.store().record_delivery(
            &delivery.alert_id,
            delivery.webhook.id,
            &attempt,
            retry_at,
        )?)
    })
    .await
}

/// Matches every kept, unmatched sighting against the banks as they are
/// now: content banked after it was seen is found, alerted and tracked.
pub(crate) async fn rematch(shared: Arc<Shared>) -> Result<(), MonitorError> {
    blocking(&shared, rematch_all).await
}

fn rematch_all(shared: &Shared) -> Result<(), MonitorError> {
    let store = shared.engine.store();
    let mut after = 0;
    loop {
        let page = store.sightings_after(after, 1_000)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.id;
        for mut sighting in page {
            if sighting.matched || sighting.state != FetchState::Fetched {
                continue;
            }
            let Some(signals) = sighting
                .signals
                .as_deref()
                .and_then(|json| serde_json::from_str::<Signals>(json).ok())
            else {
                continue;
            };
            let matches =
                best_per_content(shared.engine.lookup_all(&signals, &shared.options.lookup)?);
            if matches.is_empty() {
                continue;
            }
            shared.counters.matched.fetch_add(1, Ordering::Relaxed);
            let resurfaced = resurfaced_from(shared, &sighting, &matches)?;
            let url = sighting
                .final_url
                .clone()
                .unwrap_or(sighting.seen.url.clone());
            let liveness = Url::parse(&url)
                .map(|url| first_check(shared, &sighting, &url))
                .unwrap_or(Liveness::Untracked);
            sighting.matched = true;
            raise_alert(shared, &sighting, &matches, resurfaced.as_ref())?;
            let found: Vec<SightingMatch> = matches.iter().map(sighting_match).collect();
            store.add_matches(sighting.id, &found, &liveness, resurfaced.map(|s| s.id))?;
        }
    }
}
