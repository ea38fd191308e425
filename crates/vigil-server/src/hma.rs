//! HMA's routes and JSON (Hasher-Matcher-Actioner 1.1.7, as described in
//! `shared/reference/hma-api.md`): matching under `/m`, curation under `/c`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use vigil_engine::{Engine, LookupOptions};
use vigil_signal::PdqHash;
use vigil_store::{Bank, BankName, Content, ContentUpdate, NewContent, Signals};

use crate::{ApiError, AppState};

/// Signal types served, as HMA names them.
const SIGNAL_TYPES: [&str; 4] = ["pdq", "md5", "sha256", "video_md5"];

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(status))
        .route("/h/hash", post(hash_upload))
        .route("/c/bank/{name}/content", post(add_content_upload))
        .route("/status/live", get(status))
        .route("/m/raw_lookup", get(raw_lookup))
        .route("/m/lookup", get(lookup))
        .route("/m/compare", post(compare))
        .route("/m/index/status", get(index_status))
        .route("/c/banks", get(list_banks).post(create_bank))
        .route(
            "/c/bank/{name}",
            get(get_bank).put(update_bank).delete(delete_bank),
        )
        .route("/c/bank/{name}/signal", post(add_signal))
        .route(
            "/c/bank/{name}/content/{id}",
            get(get_content).put(update_content).delete(delete_content),
        )
        .route("/c/signal_type", get(signal_types))
        .route("/c/content_type", get(content_types))
        // Uploads up to the media limit; larger bodies get 413.
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

/// Largest upload accepted, as `vigil hash`'s default file limit.
const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

/// `POST /h/hash`: multipart with one file whose field name is its content
/// type → `{"pdq": "<hex>", "md5": …, "sha256": …}`; a PDQ of quality below
/// 50 is `""`, as in HMA.
async fn hash_upload(multipart: Multipart) -> ApiResult<Json<Value>> {
    let upload = crate::hasher::read_upload(multipart).await?;
    let (signals, _, _) = crate::hasher::hash_photo(upload.bytes).await?;
    let mut body = Map::new();
    body.insert(
        "pdq".to_owned(),
        json!(signals.get("pdq").unwrap_or_default()),
    );
    for (signal_type, value) in signals.iter().filter(|(t, _)| *t != "pdq") {
        body.insert(signal_type.to_owned(), json!(value));
    }
    Ok(Json(Value::Object(body)))
}

/// `POST /c/bank/{name}/content`: a multipart upload (plus optional
/// `metadata` JSON and `note` fields) is hashed and banked → `{"id", "signals"}`.
async fn add_content_upload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    multipart: Multipart,
) -> ApiResult<Json<Value>> {
    let bank = name
        .parse::<BankName>()
        .map_err(|_| ApiError::not_found(format!("bank '{name}' not found")))?;
    let upload = crate::hasher::read_upload(multipart).await.map_err(|e| {
        if e.message == "Missing multipart/form-data file upload" {
            ApiError::bad_request("Neither `url` nor multipart file upload was received")
        } else {
            e
        }
    })?;
    let mut content = NewContent::default();
    for (field, value) in &upload.fields {
        match field.as_str() {
            "note" => content.note = Some(value.clone()).filter(|n| !n.is_empty()),
            "metadata" => {
                content.metadata = serde_json::from_str(value)
                    .map_err(|e| ApiError::bad_request(format!("Invalid metadata: {e}")))?;
            }
            _ => {}
        }
    }
    let (signals, _, _) = crate::hasher::hash_photo(upload.bytes).await?;
    content.signals = signals.clone();
    let id = blocking(&state, move |engine| {
        if engine.store().bank(&bank)?.is_none() {
            return Err(ApiError::not_found(format!("bank '{bank}' not found")));
        }
        Ok(engine.add_contents(&bank, std::slice::from_ref(&content), "api")?[0])
    })
    .await?;
    Ok(Json(json!({ "id": id, "signals": signals })))
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Engine) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let engine = Arc::clone(&state.engine);
    tokio::task::spawn_blocking(move || work(&engine))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error, see the server's logs",
            )
        })?
}

async fn status() -> &'static str {
    "I-AM-ALIVE"
}

fn truthy(value: Option<&str>) -> bool {
    matches!(
        value.map(str::to_ascii_lowercase).as_deref(),
        Some("true" | "1" | "yes" | "on")
    )
}

fn bank_list(banks: Option<&str>) -> Option<Vec<BankName>> {
    let banks = banks.filter(|b| !b.trim().is_empty())?;
    // An unknown or malformed bank name simply matches nothing, as in HMA.
    Some(
        banks
            .split(',')
            .filter_map(|b| b.trim().parse().ok())
            .collect(),
    )
}

fn check_signal_type(signal_type: &str) -> ApiResult<()> {
    if SIGNAL_TYPES.contains(&signal_type) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "No such SignalType '{signal_type}'"
        )))
    }
}

/// HMA's distance: always a string; the Hamming distance for PDQ, `-` for
/// exact types.
fn distance_text(signal_type: &str, distance: u32) -> String {
    if signal_type == "pdq" {
        distance.to_string()
    } else {
        "-".to_owned()
    }
}

#[derive(Debug, Deserialize)]
struct RawLookupQuery {
    signal_type: Option<String>,
    signal: Option<String>,
    banks: Option<String>,
    include_distance: Option<String>,
}

/// `GET /m/raw_lookup`: every content whose signal matches, with no enabled
/// or ratio checks → `{"matches": [ids]}` or, with `include_distance`,
/// `{"matches": [{"bank_content_id", "distance"}]}`.
async fn raw_lookup(
    State(state): State<AppState>,
    Query(query): Query<RawLookupQuery>,
) -> ApiResult<Json<Value>> {
    let (Some(signal_type), Some(signal)) = (query.signal_type.as_deref(), query.signal.as_deref())
    else {
        return Err(ApiError::bad_request("signal_type and signal are required"));
    };
    let options = LookupOptions {
        include_disabled: true,
        bypass_enabled_ratio: true,
        banks: bank_list(query.banks.as_deref()),
        ..LookupOptions::default()
    };
    let matches = find(&state, signal_type, signal, &options)?;
    let body = if truthy(query.include_distance.as_deref()) {
        json!({ "matches": matches.iter().map(|m| match_json(signal_type, m)).collect::<Vec<_>>() })
    } else {
        json!({ "matches": matches.iter().map(|m| m.content_id).collect::<Vec<_>>() })
    };
    Ok(Json(body))
}

/// Checks the signal type and looks `signal` up with `options`.
fn find(
    state: &AppState,
    signal_type: &str,
    signal: &str,
    options: &LookupOptions,
) -> ApiResult<Vec<vigil_engine::Match>> {
    check_signal_type(signal_type)?;
    state
        .engine
        .lookup(signal_type, signal, options)
        .map_err(|e| ApiError::bad_request(format!("invalid signal: {}", inner_message(e))))
}

/// One match as HMA writes it.
fn match_json(signal_type: &str, found: &vigil_engine::Match) -> Value {
    json!({
        "bank_content_id": found.content_id,
        "distance": distance_text(signal_type, found.distance),
    })
}

/// The current Unix time in seconds.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn inner_message(error: vigil_engine::Error) -> String {
    match error {
        vigil_engine::Error::Invalid(message) => message,
        other => other.to_string(),
    }
}

#[derive(Debug, Deserialize)]
struct LookupQuery {
    signal: Option<String>,
    signal_type: Option<String>,
    url: Option<String>,
    banks: Option<String>,
    seed: Option<String>,
}

/// `GET /m/lookup` (signal form): enabled contents of the banks that pass
/// the coinflip → `{"BANK": [{"bank_content_id", "distance"}]}`.
async fn lookup(
    State(state): State<AppState>,
    Query(query): Query<LookupQuery>,
) -> ApiResult<Json<Value>> {
    let (Some(signal_type), Some(signal)) = (query.signal_type.as_deref(), query.signal.as_deref())
    else {
        if query.url.is_some() {
            return Err(ApiError::bad_request(
                "lookup by url is not supported by this server yet; hash the media and send the signal",
            ));
        }
        return Err(ApiError::bad_request(
            "Either url or both signal and signal_type are required",
        ));
    };
    let seed = match query.seed.as_deref() {
        Some(seed) => Some(
            seed.trim()
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid seed {seed:?}")))?,
        ),
        None => None,
    };
    let options = LookupOptions {
        banks: bank_list(query.banks.as_deref()),
        seed,
        ..LookupOptions::default()
    };
    let mut by_bank: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for m in find(&state, signal_type, signal, &options)? {
        by_bank
            .entry(m.bank.to_string())
            .or_default()
            .push(match_json(signal_type, &m));
    }
    Ok(Json(json!(by_bank)))
}

/// `POST /m/compare` `{"pdq": [a, b]}` → `{"pdq": [matches, {"distance": d}]}`.
async fn compare(Json(body): Json<Value>) -> ApiResult<Json<Value>> {
    let Value::Object(pairs) = body else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object of signal type to [signal, signal]",
        ));
    };
    let mut result = Map::new();
    for (signal_type, pair) in pairs {
        check_signal_type(&signal_type)?;
        let values: Vec<&str> = match pair.as_array() {
            Some(list) if list.len() == 2 => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let [a, b] = values[..] else {
            return Err(ApiError::bad_request(format!(
                "{signal_type}: expected a list of two signals"
            )));
        };
        let distance = Engine::compare(&signal_type, a, b)
            .map_err(|e| ApiError::bad_request(inner_message(e)))?;
        let matched = match signal_type.as_str() {
            "pdq" => distance.is_some_and(|d| d <= PdqHash::DEFAULT_MATCH_DISTANCE),
            _ => distance == Some(0),
        };
        result.insert(signal_type, json!([matched, { "distance": distance }]));
    }
    Ok(Json(Value::Object(result)))
}

#[derive(Debug, Deserialize)]
struct IndexStatusQuery {
    signal_type: Option<String>,
}

/// `GET /m/index/status` → `{"pdq": {"present", "built_to", "size"}}`. Vigil's
/// indexes are always current (no periodic rebuild), so `built_to` is now.
async fn index_status(
    State(state): State<AppState>,
    Query(query): Query<IndexStatusQuery>,
) -> ApiResult<Json<Value>> {
    if let Some(signal_type) = query.signal_type.as_deref() {
        check_signal_type(signal_type)?;
    }
    let now = unix_now();
    let mut body = Map::new();
    for (signal_type, size) in state.engine.index_sizes() {
        if query
            .signal_type
            .as_deref()
            .is_none_or(|wanted| wanted == signal_type)
        {
            body.insert(
                signal_type.to_owned(),
                json!({ "present": true, "built_to": now, "size": size }),
            );
        }
    }
    Ok(Json(Value::Object(body)))
}

fn bank_json(bank: &Bank) -> Value {
    json!({ "name": bank.name, "matching_enabled_ratio": bank.enabled_ratio })
}

fn parse_bank_name(name: &str) -> ApiResult<BankName> {
    name.parse()
        .map_err(|_| ApiError::bad_request("Bank names must be UPPER_WITH_UNDERSCORE"))
}

async fn list_banks(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let banks = blocking(&state, |engine| Ok(engine.store().banks()?)).await?;
    Ok(Json(Value::Array(banks.iter().map(bank_json).collect())))
}

#[derive(Debug, Deserialize)]
struct NewBankBody {
    name: Option<String>,
    enabled_ratio: Option<f64>,
    enabled: Option<bool>,
}

/// `POST /c/banks` → 201 with the bank; bad name 400; duplicate 403.
async fn create_bank(
    State(state): State<AppState>,
    Json(body): Json<NewBankBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = parse_bank_name(body.name.as_deref().unwrap_or_default())?;
    // HMA: `enabled` only applies when no ratio is given.
    let ratio = body.enabled_ratio.unwrap_or(match body.enabled {
        Some(false) => 0.0,
        _ => 1.0,
    });
    let bank = blocking(&state, move |engine| {
        Ok(engine.create_bank(&name, ratio, "api")?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(bank_json(&bank))))
}

async fn get_bank(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::not_found(format!("bank '{name}' not found"));
    let Ok(bank_name) = name.parse::<BankName>() else {
        return Err(not_found());
    };
    let bank = blocking(&state, move |engine| Ok(engine.store().bank(&bank_name)?)).await?;
    bank.map(|b| Json(bank_json(&b))).ok_or_else(not_found)
}

#[derive(Debug, Deserialize)]
struct UpdateBankBody {
    name: Option<String>,
    enabled: Option<bool>,
    enabled_ratio: Option<f64>,
}

/// `PUT /c/bank/{name}`: rename, then `enabled` (ratio 1 or 0), then
/// `enabled_ratio`, as HMA applies them.
async fn update_bank(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<UpdateBankBody>,
) -> ApiResult<Json<Value>> {
    let Ok(current) = name.parse::<BankName>() else {
        return Err(ApiError::not_found("Bank not found"));
    };
    let new_name = body.name.as_deref().map(parse_bank_name).transpose()?;
    let ratio = body
        .enabled_ratio
        .or(body.enabled.map(|on| if on { 1.0 } else { 0.0 }));
    let bank = blocking(&state, move |engine| {
        if engine.store().bank(&current)?.is_none() {
            return Err(ApiError::not_found("Bank not found"));
        }
        engine
            .update_bank(&current, new_name.as_ref(), ratio, "api")
            .map_err(|e| match e {
                vigil_engine::Error::Store(vigil_store::Error::BankExists(_)) => {
                    ApiError::new(StatusCode::FORBIDDEN, "Bank name already exists")
                }
                other => other.into(),
            })
    })
    .await?;
    Ok(Json(bank_json(&bank)))
}

/// `DELETE /c/bank/{name}` → `{"message": "Done"}`, whether or not it existed.
async fn delete_bank(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    if let Ok(name) = name.parse::<BankName>() {
        blocking(&state, move |engine| Ok(engine.delete_bank(&name, "api")?)).await?;
    }
    Ok(Json(json!({ "message": "Done" })))
}

/// `POST /c/bank/{name}/signal` `{"pdq": "…", "note"?: "…"}` → `{"id", "signals"}`.
async fn add_signal(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let Value::Object(fields) = body else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object of signal type to signal",
        ));
    };
    let mut content = NewContent::default();
    for (key, value) in &fields {
        let text = value.as_str().unwrap_or_default();
        if key == "note" {
            content.note = Some(text.to_owned()).filter(|n| !n.is_empty());
            continue;
        }
        if !SIGNAL_TYPES.contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!("No such signal type {key}")));
        }
        content
            .signals
            .insert(key, text)
            .map_err(|e| ApiError::bad_request(format!("Invalid {key} signal: {e}")))?;
    }
    if content.signals.is_empty() {
        return Err(ApiError::bad_request("No signals given"));
    }
    let bank = name
        .parse::<BankName>()
        .map_err(|_| ApiError::not_found(format!("bank '{name}' not found")))?;
    let signals = content.signals.clone();
    let id = blocking(&state, move |engine| {
        Ok(engine.add_contents(&bank, std::slice::from_ref(&content), "api")?[0])
    })
    .await?;
    Ok(Json(json!({ "id": id, "signals": signals })))
}

#[derive(Debug, Deserialize)]
struct ContentQuery {
    include_signals: Option<String>,
    include_metadata: Option<String>,
}

/// The content `id` if it exists and the bank `name` exists (HMA does not
/// check that the content belongs to that bank).
fn content_in(engine: &Engine, name: &str, id: i64) -> ApiResult<(Bank, Content)> {
    let bank_name = name
        .parse::<BankName>()
        .map_err(|_| ApiError::not_found(format!("bank '{name}' not found")))?;
    let bank = engine
        .store()
        .bank(&bank_name)?
        .ok_or_else(|| ApiError::not_found(format!("bank '{name}' not found")))?;
    let content = engine
        .store()
        .content(id)?
        .ok_or_else(|| ApiError::not_found(format!("content {id} not found")))?;
    Ok((bank, content))
}

fn metadata_json(content: &Content) -> Value {
    let metadata = &content.fields.metadata;
    json!({ "content_id": metadata.content_id, "content_uri": metadata.content_uri, "json": metadata.json })
}

fn signals_json(signals: &Signals) -> Value {
    Value::Object(
        signals
            .iter()
            .map(|(t, v)| (t.to_owned(), Value::String(v.to_owned())))
            .collect(),
    )
}

async fn get_content(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
    Query(query): Query<ContentQuery>,
) -> ApiResult<Json<Value>> {
    let (bank, content) = blocking(&state, move |engine| content_in(engine, &name, id)).await?;
    let mut body = json!({
        "id": content.id,
        "disable_until_ts": content.disable_until_ts,
        "original_media_uri": null,
        "bank": bank_json(&bank),
    });
    if truthy(query.include_signals.as_deref()) {
        body["signals"] = signals_json(&content.fields.signals);
    }
    if query
        .include_metadata
        .as_deref()
        .is_none_or(|v| truthy(Some(v)))
    {
        body["metadata"] = metadata_json(&content);
    }
    if let Some(note) = &content.fields.note {
        body["note"] = json!(note);
    }
    Ok(Json(body))
}

#[derive(Debug, Deserialize)]
struct UpdateContentBody {
    disable_until_ts: Option<Value>,
    #[serde(default, with = "double_option")]
    note: Option<Option<String>>,
}

/// Tells a missing field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// `PUT /c/bank/{name}/content/{id}` `{"disable_until_ts"?, "note"?}`.
async fn update_content(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
    Json(body): Json<UpdateContentBody>,
) -> ApiResult<Json<Value>> {
    let now = unix_now();
    let latest = now + 5 * 366 * 24 * 3600;
    let disable_until_ts = match &body.disable_until_ts {
        None => None,
        Some(value) => {
            let ts = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|ts| (0..=latest).contains(ts))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "disable_until_ts must be between 0 and {latest}"
                    ))
                })?;
            Some(ts)
        }
    };
    let update = ContentUpdate {
        disable_until_ts,
        note: body.note.map(|note| note.filter(|n| !n.is_empty())),
        labels: None,
    };
    let (bank, content) = blocking(&state, move |engine| {
        content_in(engine, &name, id)?;
        engine.update_content(id, &update, "api")?;
        content_in(engine, &name, id)
    })
    .await?;
    Ok(Json(json!({
        "id": content.id,
        "disable_until_ts": content.disable_until_ts,
        "collab_metadata": {},
        "original_media_uri": null,
        "bank": bank_json(&bank),
        "user_metadata": metadata_json(&content),
        "note": content.fields.note,
    })))
}

/// `DELETE /c/bank/{name}/content/{id}` → `{"deleted": 1|0}`.
async fn delete_content(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let deleted = blocking(&state, move |engine| {
        let bank = name
            .parse::<BankName>()
            .map_err(|_| ApiError::not_found(format!("bank '{name}' not found")))?;
        if engine.store().bank(&bank)?.is_none() {
            return Err(ApiError::not_found(format!("bank '{name}' not found")));
        }
        Ok(engine.delete_content(id, "api")?)
    })
    .await?;
    Ok(Json(json!({ "deleted": u8::from(deleted) })))
}

async fn signal_types() -> Json<Value> {
    Json(Value::Array(
        SIGNAL_TYPES
            .iter()
            .map(|t| json!({ "name": t, "enabled_ratio": 1.0 }))
            .collect(),
    ))
}

async fn content_types() -> Json<Value> {
    Json(json!([{ "name": "photo", "enabled": true }]))
}
