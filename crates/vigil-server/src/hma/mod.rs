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
use vigil_signal::{Closeness, SignalType, SignalValue};
use vigil_store::BankName;

use crate::{ApiError, AppState};

/// The signal types HMA's routes serve: all but Vigil's own.
pub(crate) fn hma_signal_types() -> impl Iterator<Item = SignalType> {
    SignalType::ALL.into_iter().filter(|t| t.on_hma_routes())
}

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

/// The signal type an HMA route was given by name, in HMA's words when
/// there is none.
pub(crate) fn check_signal_type(name: &str) -> ApiResult<SignalType> {
    name.parse::<SignalType>()
        .ok()
        .filter(|t| t.on_hma_routes())
        .ok_or_else(|| ApiError::bad_request(format!("No such SignalType '{name}'")))
}

/// HMA's own form of a signal where it is stricter than Vigil's store: a
/// PDQ hash is exactly 64 lowercase hex digits (python-threatexchange does
/// not normalise it), on every HMA route alike. Other types are
/// normalised by the store as HMA normalises them (`video_md5` trimmed and
/// lowercased).
pub(crate) fn check_hma_form(signal_type: SignalType, value: &str) -> Result<(), &'static str> {
    let lower_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    if signal_type == SignalType::Pdq && !(value.len() == 64 && value.bytes().all(lower_hex)) {
        return Err("invalid PDQ hash");
    }
    Ok(())
}

/// Index sizes by signal type, all or only `wanted` (which must exist):
/// what both index status routes report.
pub(crate) fn index_sizes(
    state: &AppState,
    wanted: Option<&str>,
) -> ApiResult<Vec<(SignalType, usize)>> {
    let wanted = wanted.map(check_signal_type).transpose()?;
    Ok(state
        .engine
        .index_sizes()
        .into_iter()
        // Only HMA's signal types: banked variants are Vigil's own.
        .filter(|(signal_type, _)| signal_type.on_hma_routes())
        .filter(|(signal_type, _)| wanted.is_none_or(|w| w == *signal_type))
        .collect())
}

/// HMA's distance: always a string; the Hamming distance for PDQ, `-` for
/// exact types, `"<query>%,<compared>%"` for vPDQ.
fn distance_text(found: &Match) -> String {
    match found.closeness {
        Closeness::Bits(bits) => bits.to_string(),
        Closeness::Frames(video) => video.distance_text(),
        Closeness::Exact | Closeness::Text { .. } => "-".to_owned(),
    }
}

/// Parses `signal` as `signal_type` and looks it up with `options`.
pub(crate) fn find(
    state: &AppState,
    signal_type: SignalType,
    signal: &str,
    options: &LookupOptions,
) -> ApiResult<Vec<Match>> {
    let invalid = |e: String| ApiError::bad_request(format!("invalid signal: {e}"));
    check_hma_form(signal_type, signal).map_err(|e| invalid(e.to_owned()))?;
    let query = SignalValue::parse(signal_type, signal).map_err(|e| invalid(e.to_string()))?;
    state
        .engine
        .lookup(&query, options)
        .map_err(|e| invalid(inner_message(e)))
}

/// One match as HMA writes it.
pub(crate) fn content_match(found: &Match) -> answers::ContentMatch {
    answers::ContentMatch {
        bank_content_id: found.content_id,
        distance: distance_text(found),
        variant: None,
        banked_variant: None,
    }
}

/// Matches grouped by bank, as `/m/lookup` answers. Each is counted in the
/// metrics.
pub(crate) fn by_bank(state: &AppState, matches: &[Match]) -> answers::ByBank {
    let mut grouped = answers::ByBank::default();
    for found in matches {
        let bank = found.bank.to_string();
        state.metrics.count_match(&bank, found.signal_type.as_str());
        grouped
            .0
            .entry(bank)
            .or_default()
            .push(content_match(found));
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
