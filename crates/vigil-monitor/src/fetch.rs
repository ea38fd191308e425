//! Fetching a pending sighting and what follows from it: hashing,
//! matching against the banks, raising the alert, recording; and
//! re-matching kept sightings when the banks change.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use url::Url;
use vigil_engine::Match;
use vigil_store::SignalType;
use vigil_store::{
    FetchRecord, FetchState, Liveness, NewAlert, NewSighting, Sighting, SightingMatch, Signals,
    unix_now_ms,
};

use crate::MonitorError;
use crate::alert::{AlertKind, alert_body, alert_id};
use crate::obtain::{Obtained, obtain};
use crate::scan::{Scanned, scan_bytes};
use crate::state::{Shared, blocking, host_of};

/// Fetches a pending sighting, hashes and matches it, raises its alert and
/// records it; a landing page's embedded media become sightings too.
pub(crate) async fn fetch(shared: Arc<Shared>, sighting: Sighting) -> Result<(), MonitorError> {
    let id = sighting.id;
    let unfetched = |state, reason| {
        let record = refused_record(state, reason);
        let shared = Arc::clone(&shared);
        async move {
            blocking(&shared, move |shared| {
                Ok(shared.store.record_fetch(id, &record)?)
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
    let store = &shared.store;
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
    let signals_json = serde_json::to_string(&scanned.signals.compacted())
        .map_err(|e| MonitorError::Task(e.to_string()))?;
    let url_before = sighting.seen.url.clone();
    sighting.final_url = Some(final_url.to_string());
    sighting.media_kind = Some(scanned.kind.name().to_owned());
    // Where the content is stored is the host that matters for takedown:
    // after a shortener, the host at the end of the redirects.
    if final_url.as_str() != sighting.seen.url && final_url.scheme() != "file" {
        sighting.seen.host = host_of(final_url);
        shared
            .options
            .host_rules
            .classify(final_url)
            .as_str()
            .clone_into(&mut sighting.seen.host_class);
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
            m.distance(),
            !matches!(m.signal_type, SignalType::Md5 | SignalType::Sha256),
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
        signal_type: found.signal_type.to_string(),
        distance: found.distance(),
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
        for gone in shared.store.gone_sightings_of(found.content_id)? {
            let Liveness::Gone { removed_at, .. } = gone.liveness else {
                continue;
            };
            if gone.id == sighting.id || removed_at > sighting.seen.first_seen_at.max(unix_now_ms())
            {
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
            .next_check(sighting.seen.first_seen_at, None, unix_now_ms());
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
        created_at: unix_now_ms(),
    };
    if shared.store.add_alert(&alert)? {
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
    let (Some(directory), Some(sha256)) = (
        &shared.options.media_dir,
        scanned.signals.get(SignalType::Sha256),
    ) else {
        return Ok(());
    };
    let path = directory.join(sha256);
    if !path.exists() {
        let cannot = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| MonitorError::KeepMedia { path, source }
        };
        vigil_store::create_private_dir(directory).map_err(cannot(directory))?;
        vigil_store::write_private_file(&path, bytes).map_err(cannot(&path))?;
    }
    Ok(())
}
/// Matches every kept, unmatched sighting against the banks as they are
/// now: content banked after it was seen is found, alerted and tracked.
pub(crate) async fn rematch(shared: Arc<Shared>) -> Result<(), MonitorError> {
    blocking(&shared, rematch_all).await
}

fn rematch_all(shared: &Shared) -> Result<(), MonitorError> {
    let store = &shared.store;
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
            let liveness = Url::parse(&url).map_or(Liveness::Untracked, |url| {
                first_check(shared, &sighting, &url)
            });
            sighting.matched = true;
            raise_alert(shared, &sighting, &matches, resurfaced.as_ref())?;
            let found: Vec<SightingMatch> = matches.iter().map(sighting_match).collect();
            store.add_matches(sighting.id, &found, &liveness, resurfaced.map(|s| s.id))?;
        }
    }
}
