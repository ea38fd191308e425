//! HMA's routes and JSON (Hasher-Matcher-Actioner 1.1.7, as described in
//! `shared/reference/hma-api.md`), one module per route group: hashing
//! under `/h`, matching under `/m`, curation under `/c` (banks and
//! contents; exchanges). This module holds what they share.

pub(crate) mod answers;
pub(crate) mod banks;
pub(crate) mod body;
#[cfg(test)]
mod body_props;
pub(crate) mod contents;
pub(crate) mod exchanges;
pub(crate) mod hashing;
pub(crate) mod matching;

use std::sync::Arc;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_engine::{Engine, LookupOptions, Match, Missing};
use vigil_store::BankName;

use crate::{ApiError, AppState};

/// Signal types served, as HMA names them.
pub(crate) const SIGNAL_TYPES: [&str; 6] = ["pdq", "md5", "sha256", "video_md5", "vpdq", "text"];

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// Routes every server has, whatever its roles.
pub(crate) fn core_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(status_live))
}

/// Liveness and readiness: indexes are built before the server listens and
/// kept current from the change log, so a listening server is ready.
#[utoipa::path(get, path = "/status", tag = "status",
    responses((status = 200, description = "`I-AM-ALIVE`", body = String)))]
async fn status() -> &'static str {
    "I-AM-ALIVE"
}

/// Liveness, as HMA's `/status/live`.
#[utoipa::path(get, path = "/status/live", tag = "status",
    responses((status = 200, description = "`I-AM-ALIVE`", body = String)))]
async fn status_live() -> &'static str {
    "I-AM-ALIVE"
}

/// Runs store work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Engine) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let engine = Arc::clone(&state.engine);
    tokio::task::spawn_blocking(move || work(&engine))
        .await
        .map_err(|_| ApiError::internal())?
}

/// HMA's hand-parsed flags (`include_signals`, `include_metadata`):
/// `true` in any case, nothing else.
pub(crate) fn is_true(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

/// A `banks=A,B` parameter.
pub(crate) fn bank_list(banks: Option<&str>) -> Option<Vec<BankName>> {
    let banks = banks.filter(|b| !b.trim().is_empty())?;
    // An unknown or malformed bank name simply matches nothing, as in HMA.
    Some(
        banks
            .split(',')
            .filter_map(|b| b.trim().parse().ok())
            .collect(),
    )
}

pub(crate) fn check_signal_type(signal_type: &str) -> ApiResult<()> {
    if SIGNAL_TYPES.contains(&signal_type) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "No such SignalType '{signal_type}'"
        )))
    }
}

/// HMA's own form of a signal where it is stricter than Vigil's store: a
/// PDQ hash is exactly 64 lowercase hex digits (python-threatexchange does
/// not normalise it), on every HMA route alike. Other types are
/// normalised by the store as HMA normalises them (`video_md5` trimmed and
/// lowercased).
pub(crate) fn check_hma_form(signal_type: &str, value: &str) -> Result<(), &'static str> {
    let lower_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    if signal_type == "pdq" && !(value.len() == 64 && value.bytes().all(lower_hex)) {
        return Err("invalid PDQ hash");
    }
    Ok(())
}

/// Index sizes by signal type, all or only `wanted` (which must exist):
/// what both index status routes report.
pub(crate) fn index_sizes(
    state: &AppState,
    wanted: Option<&str>,
) -> ApiResult<Vec<(&'static str, usize)>> {
    if let Some(signal_type) = wanted {
        check_signal_type(signal_type)?;
    }
    Ok(state
        .engine
        .index_sizes()
        .into_iter()
        // Only HMA's signal types: banked variants are Vigil's own.
        .filter(|(signal_type, _)| SIGNAL_TYPES.contains(signal_type))
        .filter(|(signal_type, _)| wanted.is_none_or(|w| w == *signal_type))
        .collect())
}

/// HMA's distance: always a string; the Hamming distance for PDQ, `-` for
/// exact types, `"<query>%,<compared>%"` for vPDQ.
fn distance_text(signal_type: &str, found: &Match) -> String {
    match (signal_type, &found.vpdq) {
        ("pdq", _) => found.distance.to_string(),
        (_, Some(video)) => video.distance_text(),
        _ => "-".to_owned(),
    }
}

/// Checks the signal type and looks `signal` up with `options`.
pub(crate) fn find(
    state: &AppState,
    signal_type: &str,
    signal: &str,
    options: &LookupOptions,
) -> ApiResult<Vec<Match>> {
    check_signal_type(signal_type)?;
    check_hma_form(signal_type, signal)
        .map_err(|e| ApiError::bad_request(format!("invalid signal: {e}")))?;
    state
        .engine
        .lookup(signal_type, signal, options)
        .map_err(|e| ApiError::bad_request(format!("invalid signal: {}", inner_message(e))))
}

/// One match as HMA writes it.
pub(crate) fn content_match(signal_type: &str, found: &Match) -> answers::ContentMatch {
    answers::ContentMatch {
        bank_content_id: found.content_id,
        distance: distance_text(signal_type, found),
        variant: None,
        banked_variant: None,
    }
}

/// Matches grouped by bank, as `/m/lookup` answers. Each is counted in the
/// metrics.
pub(crate) fn by_bank(state: &AppState, signal_type: &str, matches: &[Match]) -> answers::ByBank {
    let mut grouped = answers::ByBank::default();
    for found in matches {
        let bank = found.bank.to_string();
        state.metrics.count_match(&bank, signal_type);
        grouped
            .0
            .entry(bank)
            .or_default()
            .push(content_match(signal_type, found));
    }
    grouped
}

/// The current Unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub(crate) fn inner_message(error: vigil_engine::Error) -> String {
    match error {
        vigil_engine::Error::Invalid(message) => message,
        other => other.to_string(),
    }
}

/// A bank name from a path: a malformed one cannot exist, so it is a 404.
pub(crate) fn path_bank(name: &str) -> ApiResult<BankName> {
    name.parse()
        .map_err(|_| vigil_engine::Error::from(Missing::Bank(name.to_owned())).into())
}
