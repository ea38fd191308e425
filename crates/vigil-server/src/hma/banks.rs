//! `/c`: banks, their contents and the server's signal and content types.
//! Needs the curator role.

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_engine::Engine;
use vigil_store::{Bank, BankName, Content, ContentUpdate, Metadata, NewContent, Signals};

use super::{ApiResult, SIGNAL_TYPES, blocking, path_bank, truthy, unix_now};
use crate::auth::Caller;
use crate::{ApiError, AppState, media};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_banks, create_bank))
        .routes(routes!(get_bank, update_bank, delete_bank))
        .routes(routes!(add_content))
        .routes(routes!(add_signal))
        .routes(routes!(get_content, update_content, delete_content))
        .routes(routes!(signal_types))
        .routes(routes!(signal_type_index))
        .routes(routes!(content_types))
}

pub(crate) fn bank_json(bank: &Bank) -> Value {
    json!({ "name": bank.name, "matching_enabled_ratio": bank.enabled_ratio })
}

fn parse_bank_name(name: &str) -> ApiResult<BankName> {
    name.parse()
        .map_err(|_| ApiError::bad_request("Bank names must be UPPER_WITH_UNDERSCORE"))
}

/// Every bank.
#[utoipa::path(get, path = "/c/banks", tag = "banks",
    responses((status = 200, description = "Banks by name", body = Object,
        example = json!([{"name": "MY_BANK", "matching_enabled_ratio": 1.0}]))))]
async fn list_banks(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let banks = blocking(&state, |engine| Ok(engine.store().banks()?)).await?;
    Ok(Json(Value::Array(banks.iter().map(bank_json).collect())))
}

/// Body of `POST /c/banks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NewBankBody {
    /// `UPPER_WITH_UNDERSCORE`.
    name: Option<String>,
    /// Share of lookups the bank takes part in, 0–1 (default 1).
    enabled_ratio: Option<f64>,
    /// `false`: ratio 0 (only when `enabled_ratio` is absent, as in HMA).
    enabled: Option<bool>,
}

/// Creates a bank.
#[utoipa::path(post, path = "/c/banks", tag = "banks", request_body = NewBankBody,
    responses(
        (status = 201, description = "The bank", body = Object),
        (status = 400, description = "Bank names must be UPPER_WITH_UNDERSCORE; ratio outside 0–1"),
        (status = 403, description = "Bank already exists"),
    ))]
async fn create_bank(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewBankBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = parse_bank_name(body.name.as_deref().unwrap_or_default())?;
    let ratio = body.enabled_ratio.unwrap_or(match body.enabled {
        Some(false) => 0.0,
        _ => 1.0,
    });
    let bank = blocking(&state, move |engine| {
        Ok(engine.create_bank(&name, ratio, &caller.actor())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(bank_json(&bank))))
}

/// One bank.
#[utoipa::path(get, path = "/c/bank/{name}", tag = "banks",
    params(("name" = String, Path, description = "bank name")),
    responses((status = 200, description = "The bank", body = Object),
        (status = 404, description = "bank 'X' not found")))]
async fn get_bank(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let bank_name = path_bank(&name)?;
    let bank = blocking(&state, move |engine| Ok(engine.store().bank(&bank_name)?)).await?;
    bank.map(|b| Json(bank_json(&b)))
        .ok_or_else(|| ApiError::not_found(format!("bank '{name}' not found")))
}

/// Body of `PUT /c/bank/{name}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateBankBody {
    /// New name.
    name: Option<String>,
    /// `true`/`false`: ratio 1 or 0.
    enabled: Option<bool>,
    /// New ratio, 0–1.
    enabled_ratio: Option<f64>,
}

/// Renames a bank, then applies `enabled` (ratio 1 or 0), then
/// `enabled_ratio`, as HMA does.
#[utoipa::path(put, path = "/c/bank/{name}", tag = "banks", request_body = UpdateBankBody,
    params(("name" = String, Path, description = "bank name")),
    responses((status = 200, description = "The bank", body = Object),
        (status = 400, description = "Bad new name or ratio"),
        (status = 403, description = "Bank name already exists"),
        (status = 404, description = "Bank not found")))]
async fn update_bank(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
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
            .update_bank(&current, new_name.as_ref(), ratio, &caller.actor())
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

/// Deletes a bank and its contents; `Done` whether or not it existed.
#[utoipa::path(delete, path = "/c/bank/{name}", tag = "banks",
    params(("name" = String, Path, description = "bank name")),
    responses((status = 200, description = "`{\"message\": \"Done\"}`", body = Object)))]
async fn delete_bank(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    if let Ok(name) = name.parse::<BankName>() {
        blocking(&state, move |engine| {
            Ok(engine.delete_bank(&name, &caller.actor())?)
        })
        .await?;
    }
    Ok(Json(json!({ "message": "Done" })))
}

/// Query of `POST /c/bank/{name}/content`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AddContentQuery {
    /// Media to fetch and bank (instead of an upload).
    url: Option<String>,
    /// `photo` or `video` (default: from the answer's Content-Type).
    content_type: Option<String>,
}

/// HMA's optional fields of a new content, from a JSON body or form fields.
#[derive(Debug, Default)]
struct ContentDetails {
    metadata: Metadata,
    note: Option<String>,
}

impl ContentDetails {
    fn set(&mut self, field: &str, value: &Value) -> ApiResult<()> {
        match field {
            "note" => {
                let note = match value {
                    Value::Null => None,
                    Value::String(text) => Some(text.clone()).filter(|n| !n.is_empty()),
                    _ => return Err(ApiError::bad_request("note must be a string")),
                };
                self.note = note;
            }
            "metadata" => {
                let mut value = value.clone();
                // HMA drops a client-sent `collab`: provenance is the server's to set.
                if let Value::Object(map) = &mut value {
                    map.remove("collab");
                }
                self.metadata = serde_json::from_value(value)
                    .map_err(|e| ApiError::bad_request(format!("Invalid metadata: {e}")))?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Reads the body of a content addition: a multipart upload (file and
/// fields), or form or JSON fields (with `url`).
async fn read_content_body(
    state: &AppState,
    request: Request,
) -> ApiResult<(Option<media::Media>, ContentDetails)> {
    let mut details = ContentDetails::default();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let upload = media::read_upload(multipart).await.map_err(|e| {
            if e.message == "Missing multipart/form-data file upload" {
                ApiError::bad_request("Neither `url` nor multipart file upload was received")
            } else {
                e
            }
        })?;
        for (field, text) in &upload.fields {
            let value = match field.as_str() {
                "metadata" => serde_json::from_str(text)
                    .map_err(|e| ApiError::bad_request(format!("Invalid metadata: {e}")))?,
                _ => Value::String(text.clone()),
            };
            details.set(field, &value)?;
        }
        return Ok((Some(upload.media), details));
    }
    let body = axum::body::to_bytes(request.into_body(), 1024 * 1024)
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        // HMA reads `request.form`, which includes URL-encoded forms.
        for (field, text) in url::form_urlencoded::parse(&body) {
            let value = match field.as_ref() {
                "metadata" => serde_json::from_str(&text)
                    .map_err(|e| ApiError::bad_request(format!("Invalid metadata: {e}")))?,
                _ => Value::String(text.into_owned()),
            };
            details.set(&field, &value)?;
        }
    } else if !body.iter().all(u8::is_ascii_whitespace) {
        let Value::Object(fields) = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?
        else {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        };
        for (field, value) in &fields {
            details.set(field, value)?;
        }
    }
    Ok((None, details))
}

/// Hashes media (an upload, or fetched from `url`) and banks it, with
/// optional `metadata` and `note` (form fields, or JSON with `url`).
#[utoipa::path(post, path = "/c/bank/{name}/content", tag = "banks",
    params(("name" = String, Path, description = "bank name"), AddContentQuery),
    request_body(content_type = "multipart/form-data",
        description = "file field `photo`; optional fields `metadata` (JSON: content_id, content_uri, json) and `note` (≤ 255 characters)"),
    responses(
        (status = 200, description = "The new content id and its signals", body = Object,
         example = json!({"id": 1, "signals": {"pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"}})),
        (status = 400, description = "Neither url nor upload; invalid metadata or note; unsafe URL"),
        (status = 404, description = "bank 'X' not found"),
        (status = 413, description = "Content too large"),
    ))]
async fn add_content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(query): Query<AddContentQuery>,
    request: Request,
) -> ApiResult<Json<Value>> {
    let bank = path_bank(&name)?;
    // The body is read first even for a missing bank: answering before the
    // client has sent its upload would break its connection, not tell it 404.
    let (upload, details) = read_content_body(&state, request).await?;
    // Then, before fetching or hashing anything: a missing bank is a 404.
    let known = bank.clone();
    if blocking(&state, move |engine| Ok(engine.store().bank(&known)?))
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("bank '{name}' not found")));
    }
    let media = match (upload, &query.url) {
        (Some(media), _) => media,
        (None, Some(url)) => media::fetch(&state, url, query.content_type.as_deref()).await?,
        (None, None) => {
            return Err(ApiError::bad_request(
                "Neither `url` nor multipart file upload was received",
            ));
        }
    };
    // Banks keep a text sketch's compact sample (lookups use it whole) and a
    // photo's variants for the lookup defences.
    let options = vigil_media::HashOptions {
        bank_variants: true,
        ..vigil_media::HashOptions::default()
    };
    let signals = vigil_engine::compact_signals(&media::hash_with(media, options).await?.signals);
    if signals.is_empty() {
        return Err(ApiError::bad_request("No signals given"));
    }
    let content = NewContent {
        signals: signals.clone(),
        metadata: details.metadata,
        note: details.note,
        ..NewContent::default()
    };
    let id = blocking(&state, move |engine| {
        if engine.store().bank(&bank)?.is_none() {
            return Err(ApiError::not_found(format!("bank '{bank}' not found")));
        }
        Ok(engine.add_contents(&bank, std::slice::from_ref(&content), &caller.actor())?[0])
    })
    .await?;
    Ok(Json(json!({ "id": id, "signals": signals_json(&signals) })))
}

/// Banks a content given by its signals: `{"pdq": "…", "note"?: "…"}`.
#[utoipa::path(post, path = "/c/bank/{name}/signal", tag = "banks",
    params(("name" = String, Path, description = "bank name")),
    request_body(content = Object, description = "signal type → signal, and an optional note",
        example = json!({"pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "note": "from a partner"})),
    responses(
        (status = 200, description = "The new content id and its normalised signals", body = Object),
        (status = 400, description = "No such signal type; invalid signal; no signals given"),
        (status = 404, description = "bank 'X' not found"),
    ))]
async fn add_signal(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
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
    let bank = path_bank(&name)?;
    let signals = content.signals.clone();
    let id = blocking(&state, move |engine| {
        Ok(engine.add_contents(&bank, std::slice::from_ref(&content), &caller.actor())?[0])
    })
    .await?;
    Ok(Json(json!({ "id": id, "signals": signals })))
}

/// Query of `GET /c/bank/{name}/content/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ContentQuery {
    /// Include `signals` (default false).
    include_signals: Option<String>,
    /// Include `metadata` (default true).
    include_metadata: Option<String>,
}

/// The content `id` if it exists and the bank `name` exists (HMA does not
/// check that the content belongs to that bank).
pub(crate) fn content_in(engine: &Engine, name: &str, id: i64) -> ApiResult<(Bank, Content)> {
    let bank_name = path_bank(name)?;
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

/// HMA's metadata object, with the exchange provenance as `collab`.
fn metadata_json(content: &Content) -> Value {
    let metadata = &content.fields.metadata;
    let mut body = json!({
        "content_id": metadata.content_id,
        "content_uri": metadata.content_uri,
        "json": metadata.json,
    });
    if let Some(provenance) = &content.fields.provenance {
        body["collab"] = json!({ provenance.exchange.clone(): [provenance.fetch_id] });
    }
    body
}

/// A content's signals as HMA shows them: its signal types only (Vigil's
/// banked variants stay out).
fn signals_json(signals: &Signals) -> Value {
    Value::Object(
        signals
            .iter()
            .filter(|(t, _)| SIGNAL_TYPES.contains(t))
            .map(|(t, v)| (t.to_owned(), Value::String(v.to_owned())))
            .collect::<Map<_, _>>(),
    )
}

/// One content.
#[utoipa::path(get, path = "/c/bank/{name}/content/{id}", tag = "banks",
    params(("name" = String, Path, description = "bank name"), ("id" = i64, Path, description = "content id"), ContentQuery),
    responses((status = 200, description = "The content; optional keys are omitted when empty", body = Object,
        example = json!({"id": 1, "disable_until_ts": 1, "original_media_uri": null, "bank": {"name": "MY_BANK", "matching_enabled_ratio": 1.0}, "metadata": {"content_id": "post-1", "content_uri": null, "json": null}, "note": "seen twice"})),
        (status = 404, description = "Bank or content not found")))]
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

/// Body of `PUT /c/bank/{name}/content/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateContentBody {
    /// 0 disabled, 1 enabled, or a Unix time until which it is disabled
    /// (up to five years ahead); a number or a numeric string.
    #[schema(value_type = Option<i64>)]
    disable_until_ts: Option<Value>,
    /// New note (≤ 255 characters); `""` or `null` removes it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
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

/// Changes a content's enabled state or note.
#[utoipa::path(put, path = "/c/bank/{name}/content/{id}", tag = "banks", request_body = UpdateContentBody,
    params(("name" = String, Path, description = "bank name"), ("id" = i64, Path, description = "content id")),
    responses((status = 200, description = "The updated content", body = Object),
        (status = 400, description = "disable_until_ts out of range; note longer than 255 characters"),
        (status = 404, description = "Bank or content not found")))]
async fn update_content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, id)): Path<(String, i64)>,
    Json(body): Json<UpdateContentBody>,
) -> ApiResult<Json<Value>> {
    let latest = unix_now() + 5 * 366 * 24 * 3600;
    let disable_until_ts = match &body.disable_until_ts {
        None => None,
        Some(value) => Some(
            value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|ts| (0..=latest).contains(ts))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "disable_until_ts must be between 0 and {latest}"
                    ))
                })?,
        ),
    };
    let update = ContentUpdate {
        disable_until_ts,
        note: body.note.map(|note| note.filter(|n| !n.is_empty())),
        labels: None,
    };
    let (bank, content) = blocking(&state, move |engine| {
        content_in(engine, &name, id)?;
        engine.update_content(id, &update, &caller.actor())?;
        content_in(engine, &name, id)
    })
    .await?;
    let collab = metadata_json(&content)
        .get("collab")
        .cloned()
        .unwrap_or_else(|| json!({}));
    Ok(Json(json!({
        "id": content.id,
        "disable_until_ts": content.disable_until_ts,
        "collab_metadata": collab,
        "original_media_uri": null,
        "bank": bank_json(&bank),
        "user_metadata": metadata_json(&content),
        "note": content.fields.note,
    })))
}

/// Deletes a content by id.
#[utoipa::path(delete, path = "/c/bank/{name}/content/{id}", tag = "banks",
    params(("name" = String, Path, description = "bank name"), ("id" = i64, Path, description = "content id")),
    responses((status = 200, description = "`{\"deleted\": 1}` or `0`", body = Object),
        (status = 404, description = "bank 'X' not found")))]
async fn delete_content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let deleted = blocking(&state, move |engine| {
        let bank = path_bank(&name)?;
        if engine.store().bank(&bank)?.is_none() {
            return Err(ApiError::not_found(format!("bank '{name}' not found")));
        }
        Ok(engine.delete_content(id, &caller.actor())?)
    })
    .await?;
    Ok(Json(json!({ "deleted": u8::from(deleted) })))
}

/// Signal types served.
#[utoipa::path(get, path = "/c/signal_type", tag = "config",
    responses((status = 200, description = "Signal types", body = Object,
        example = json!([{"name": "pdq", "enabled_ratio": 1.0}]))))]
async fn signal_types() -> Json<Value> {
    Json(Value::Array(
        SIGNAL_TYPES
            .iter()
            .map(|t| json!({ "name": t, "enabled_ratio": 1.0 }))
            .collect(),
    ))
}

/// Query of `GET /c/signal_type/index`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SignalIndexQuery {
    /// Only this signal type.
    signal_type: Option<String>,
}

/// Store and index sizes per signal type. The index follows the store's
/// change log, so it is never out of date.
#[utoipa::path(get, path = "/c/signal_type/index", tag = "config", params(SignalIndexQuery),
    responses((status = 200, description = "By signal type", body = Object,
        example = json!({"pdq": {"db_size": 18, "index_size": 18, "index_out_of_date": false, "newest_db_item": 1_764_328_000, "index_built_to": 1_764_328_000}})),
        (status = 400, description = "Unknown signal type")))]
async fn signal_type_index(
    State(state): State<AppState>,
    Query(query): Query<SignalIndexQuery>,
) -> ApiResult<Json<Value>> {
    let now = unix_now();
    let mut body = Map::new();
    for (signal_type, size) in super::index_sizes(&state, query.signal_type.as_deref())? {
        body.insert(
            signal_type.to_owned(),
            json!({
                "db_size": size,
                "index_size": size,
                "index_out_of_date": false,
                "newest_db_item": now,
                "index_built_to": now,
            }),
        );
    }
    Ok(Json(Value::Object(body)))
}

/// Content types accepted.
#[utoipa::path(get, path = "/c/content_type", tag = "config",
    responses((status = 200, description = "Content types", body = Object,
        example = json!([{"name": "photo", "enabled": true}, {"name": "video", "enabled": true}]))))]
async fn content_types() -> Json<Value> {
    Json(Value::Array(
        media::CONTENT_TYPES
            .iter()
            .map(|t| json!({ "name": t, "enabled": true }))
            .collect(),
    ))
}
