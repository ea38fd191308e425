//! Re-checking a matched sighting: is the content still where it was
//! seen, and if not, why it is gone (the liveness ladder's verdicts).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use vigil_store::SignalType;

use url::Url;
use vigil_fetch::FetchError;
use vigil_store::{Liveness, Sighting, Signals, unix_now_ms};

use crate::MonitorError;
use crate::liveness::{GoneReason, gone_by_status, unresponsive};
use crate::obtain::{Obtained, obtain};
use crate::scan::scan_bytes;
use crate::state::{Shared, blocking};

/// How recently some host must have answered for an unreachable host to
/// count as gone.
const NETWORK_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);
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
    let checked_at = unix_now_ms();
    shared.counters.checks.fetch_add(1, Ordering::Relaxed);
    let liveness = if let Some(reason) = verdict {
        // A host that stopped answering went down at the first check
        // it left unanswered, not at the one that made it certain.
        let checked_at = match reason {
            GoneReason::HostUnresponsive => shared.silences.end(sighting.id).unwrap_or(checked_at),
            _ => checked_at,
        };
        shared.counters.gone.fetch_add(1, Ordering::Relaxed);
        tracing::info!(url = %url, reason = reason.as_str(), "gone");
        Liveness::Gone {
            removed_at: checked_at,
            reason: reason.as_str().to_owned(),
        }
    } else {
        let done = match sighting.liveness {
            Liveness::Live { step, .. } => usize::try_from(step).ok(),
            _ => None,
        };
        let (step, next_check_at) =
            shared
                .options
                .ladder
                .next_check(sighting.seen.first_seen_at, done, unix_now_ms());
        Liveness::Live {
            step: step as i64,
            next_check_at,
        }
    };
    let id = sighting.id;
    blocking(&shared, move |shared| {
        Ok(shared.store.record_check(id, checked_at, &liveness)?)
    })
    .await
}

/// Counts a timed-out check of sighting `id`: its host is unresponsive
/// once enough checks in a row timed out while other hosts answered
/// lately (when our own network is down, every host times out).
fn timed_out(shared: &Shared, id: i64) -> Option<GoneReason> {
    unresponsive(
        shared.silences.timed_out(id, unix_now_ms()),
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
        .and_then(|s| s.get(SignalType::Sha256))
        .is_some_and(|sha| scanned.signals.get(SignalType::Sha256) == Some(sha));
    if same_bytes {
        return Ok(None);
    }
    let known: Vec<i64> = shared
        .store
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
