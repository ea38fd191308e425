//! `/v1`: Vigil's native API for what HMA lacks. Labels (what a content
//! is, who made it, how urgent it is) are read with contents and matches
//! and written by curators; distances are numbers, not HMA's strings.
//! JSON bodies are read straight into their types (a wrong field is a 400
//! naming it), never into `Value` trees.

mod answers;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_engine::LookupOptions;
use vigil_monitor::{SightingFilter, list_sightings};
use vigil_store::{ContentUpdate, Labels, NewContent, Role};

use crate::AppState;
use crate::auth::Caller;
use crate::hma::answers::Message;
use crate::hma::body::HandParsed;
use crate::hma::{ApiResult, bank_list, blocking, check_signal_type, find, path_bank};
use answers::{Content, Matches};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_content))
        .routes(routes!(get_labels, set_labels))
        .routes(routes!(add_content))
        .routes(routes!(lookup))
        .routes(routes!(sightings))
        .routes(routes!(takedowns))
}

/// Which sightings `/v1/sightings` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SightingsQuery {
    /// Only sightings with ids above this (for paging; default 0).
    after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<usize>,
    /// Only sightings that matched banked content.
    matched: Option<bool>,
}

/// The monitor's sightings, in id order: URL, host and class, source post,
/// first seen, fetch state, signals, matches, liveness and removal. Page
/// with `after` = the last id seen.
#[utoipa::path(get, path = "/v1/sightings", tag = "native", params(SightingsQuery),
    responses((status = 200, description = "Sightings", body = Object,
        example = json!({"sightings": [{"id": 7, "url": "https://files.example/f/1", "host": "files.example", "host_class": "file_locker", "source": "beacon", "first_seen": "2026-11-28T10:00:00.000Z", "state": "fetched", "matches": [{"content_id": 1, "bank": "MY_BANK", "signal_type": "pdq", "distance": 4}], "liveness": "gone", "removed_at": "2026-11-28T10:40:00.000Z", "removal_reason": "not_found"}]}))))]
async fn sightings(
    State(state): State<AppState>,
    Query(query): Query<SightingsQuery>,
) -> ApiResult<Json<Value>> {
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let matched_only = query.matched.unwrap_or(false);
    let filter = SightingFilter {
        after,
        limit: Some(limit),
        matched_only,
    };
    let records = blocking(&state, move |engine| {
        Ok(list_sightings(engine.monitor_records(), filter)?.collect::<Result<Vec<_>, _>>()?)
    })
    .await?;
    Ok(Json(json!({ "sightings": records })))
}

/// Takedowns per host: sightings of known content, removed, median and p90
/// seconds from first sighting to removal, % removed within 1 h and 24 h,
/// resurfacings; the last line (host `*`) is the total.
#[utoipa::path(get, path = "/v1/reports/takedowns", tag = "native",
    responses((status = 200, description = "The report", body = Object,
        example = json!({"hosts": [{"host": "files.example", "host_class": "file_locker", "sightings": 41, "removed": 37, "median_removal_seconds": 2880.0, "p90_removal_seconds": 21960.0, "removed_within_1h_pct": 56.1, "removed_within_24h_pct": 90.2, "resurfacings": 3}]}))))]
async fn takedowns(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let report = blocking(&state, |engine| {
        Ok(vigil_monitor::takedowns(engine.monitor_records())?)
    })
    .await?;
    Ok(Json(json!({ "hosts": report })))
}

async fn load(state: &AppState, id: i64) -> ApiResult<vigil_store::Content> {
    blocking(state, move |engine| Ok(engine.content(id)?)).await
}

/// A content with everything known about it: signals, labels, metadata,
/// note, provenance and enabled state.
#[utoipa::path(get, path = "/v1/content/{id}", tag = "native",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, description = "The content", body = Content,
        example = json!({"id": 1, "bank": "MY_BANK", "signals": {"pdq": "f8f8…"}, "labels": {"entity": "Example Group", "behaviour": "glorification", "tier": "designated", "tags": ["logo"]}, "metadata": {}, "disable_until_ts": 1, "created_at": 1_764_328_000})),
        (status = 404, description = "content N not found", body = Message)))]
async fn get_content(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Content>> {
    Ok(Json(load(&state, id).await?.into()))
}

/// A content's labels.
#[utoipa::path(get, path = "/v1/content/{id}/labels", tag = "native",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, description = "Its labels", body = answers::Labels,
        example = json!({"entity": "Example Group", "behaviour": "attack-claim", "tier": "crisis", "source": "partner-x", "tags": ["statement"]})),
        (status = 404, description = "content N not found", body = Message)))]
async fn get_labels(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<answers::Labels>> {
    Ok(Json(load(&state, id).await?.fields.labels.into()))
}

/// Replaces a content's labels. `behaviour` is one of glorification,
/// recruitment, instruction, threat, attack-claim, other; `tier` one of
/// threat-to-life, crisis, designated, promotional.
#[utoipa::path(put, path = "/v1/content/{id}/labels", tag = "native",
    params(("id" = i64, Path, description = "content id")),
    request_body(content = answers::Labels, example = json!({"entity": "Example Group", "behaviour": "recruitment", "tier": "designated", "tags": ["nasheed"]})),
    responses((status = 200, description = "The stored labels", body = answers::Labels),
        (status = 400, description = "Unknown label, behaviour or tier; text too long", body = Message),
        (status = 404, description = "content N not found", body = Message)))]
async fn set_labels(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    HandParsed(labels): HandParsed<Labels>,
) -> ApiResult<Json<answers::Labels>> {
    labels.validate()?;
    let update = ContentUpdate {
        labels: Some(labels),
        ..ContentUpdate::default()
    };
    let updated = blocking(&state, move |engine| {
        Ok(engine.update_content(id, &update, &caller.actor())?)
    })
    .await?;
    Ok(Json(updated.fields.labels.into()))
}

/// Banks a content given by its signals, with labels, metadata and note.
#[utoipa::path(post, path = "/v1/bank/{name}/content", tag = "native",
    params(("name" = String, Path, description = "bank name")),
    request_body(content = Object, example = json!({"signals": {"pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"}, "labels": {"entity": "Example Group", "tier": "designated"}, "note": "from a partner"})),
    responses((status = 200, description = "The new content", body = Content),
        (status = 400, description = "Invalid signals, labels, metadata or note", body = Message),
        (status = 404, description = "bank 'X' not found", body = Message)))]
async fn add_content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    HandParsed(mut content): HandParsed<NewContent>,
) -> ApiResult<Json<Content>> {
    let bank = path_bank(&name)?;
    // Provenance records where the server got a content; callers cannot claim one.
    content.provenance = None;
    let added = blocking(&state, move |engine| {
        engine.bank(&bank)?;
        let id = engine.add_contents(&bank, std::slice::from_ref(&content), &caller.actor())?[0];
        Ok(engine.content(id)?)
    })
    .await?;
    Ok(Json(added.into()))
}

/// Query of `GET /v1/lookup`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupQuery {
    /// `pdq`, `md5`, `sha256` or `video_md5`.
    signal_type: String,
    /// The signal.
    signal: String,
    /// Largest PDQ distance that matches (default 31).
    max_distance: Option<u32>,
    /// Comma list of banks (default: all).
    banks: Option<String>,
    /// `true`: ignore banks' enabled ratios.
    bypass_enabled_ratio: Option<bool>,
    /// vPDQ: least percent of the query's frames found in a video (default 80).
    vpdq_query_pct: Option<f64>,
    /// vPDQ: least percent of a video's frames found in the query (default 0).
    vpdq_compared_pct: Option<f64>,
    /// Text: least share (0–1) of a banked text found in the query (default 0.25).
    text_containment: Option<f64>,
}

/// Looks a signal up and returns each match with its labels, nearest
/// first. vPDQ matches also carry `query_pct` and `compared_pct` as
/// numbers, and `distance` is the percent of the query not found; text
/// matches carry `containment` and `similarity` (0–1), and `distance` is the
/// percent of the banked text not found.
#[utoipa::path(get, path = "/v1/lookup", tag = "native", params(LookupQuery),
    responses((status = 200, description = "Matches with labels", body = Matches,
        example = json!({"matches": [{"content_id": 1, "bank": "MY_BANK", "signal_type": "pdq", "distance": 6, "labels": {"tier": "designated"}}]})),
        (status = 400, description = "Unknown signal type or invalid signal", body = Message),
        (status = 403, description = "Without the matcher role", body = Message)))]
async fn lookup(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<LookupQuery>,
) -> ApiResult<Json<Matches>> {
    caller.require(Role::Matcher)?;
    let options = LookupOptions {
        max_distance: query.max_distance,
        banks: bank_list(query.banks.as_deref()),
        bypass_enabled_ratio: query.bypass_enabled_ratio.unwrap_or(false),
        vpdq_query_pct: query.vpdq_query_pct,
        vpdq_compared_pct: query.vpdq_compared_pct,
        text_containment: query.text_containment,
        ..LookupOptions::default()
    };
    let signal_type = check_signal_type(&query.signal_type)?;
    let matches = find(&state, signal_type, &query.signal, &options)?;
    let labelled = blocking(&state, move |engine| Ok(engine.with_labels(matches)?)).await?;
    for found in &labelled {
        state
            .metrics
            .count_match(found.bank.as_str(), found.signal_type.as_str());
    }
    let matches = labelled.into_iter().map(Into::into).collect();
    Ok(Json(Matches { matches }))
}
