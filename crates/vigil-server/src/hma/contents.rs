//! `/c/bank/NAME/content…` and `/c/bank/NAME/signal`: the contents of a
//! bank, added by upload, URL or signal, read, updated and deleted, as HMA
//! does it. Needs the curator role.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::{Extension, Json};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_engine::Engine;
use vigil_store::{Bank, Content, ContentUpdate, Metadata, NewContent, SignalType, Signals};

use super::answers::{self, AddedContent, BankContent, ContentMetadata, Deleted, UpdatedContent};
use super::body::{HandParsed, MaybeString, NoteField, PyInt, parse, put_field};
use super::{ApiResult, blocking, check_hma_form, is_true, path_bank, unix_now};
use crate::auth::Caller;
use crate::{ApiError, AppState, media};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_content))
        .routes(routes!(add_signal))
        .routes(routes!(get_content, update_content, delete_content))
}

/// Query of `POST /c/bank/{name}/content`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AddContentQuery {
    /// Media to fetch and bank (instead of an upload).
    url: Option<String>,
    /// `photo` or `video` (default: from the answer's Content-Type).
    content_type: Option<String>,
    /// Comma list of signal types to hash and bank (default: all that
    /// apply).
    types: Option<String>,
}

/// HMA's content metadata as sent: only `content_id`, `content_uri` and
/// `json`; a client's `collab` is dropped (provenance is the server's to
/// set), any other key is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataBody {
    content_id: Option<String>,
    content_uri: Option<String>,
    json: Option<Map<String, Value>>,
    #[serde(default)]
    #[allow(dead_code)] // Read only to be dropped.
    collab: Option<IgnoredAny>,
}

impl From<MetadataBody> for Metadata {
    fn from(body: MetadataBody) -> Self {
        Metadata {
            content_id: body.content_id,
            content_uri: body.content_uri,
            json: body.json,
        }
    }
}

/// The JSON fields of a content addition by `url`; others are ignored
/// unread, as HMA ignores them.
#[derive(Debug, Default, Deserialize)]
struct ContentJson {
    #[serde(default)]
    metadata: Option<MetadataBody>,
    #[serde(default)]
    note: NoteField,
}

/// HMA's optional fields of a new content.
#[derive(Debug, Default)]
struct ContentDetails {
    metadata: Metadata,
    note: Option<String>,
}

impl ContentDetails {
    fn from_json(fields: ContentJson) -> ApiResult<Self> {
        Ok(Self {
            metadata: fields.metadata.map(Metadata::from).unwrap_or_default(),
            note: fields.note.check()?.flatten(),
        })
    }

    /// From form fields (multipart or URL-encoded): `metadata` is JSON text.
    fn from_form<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> ApiResult<Self> {
        let mut details = Self::default();
        for (field, text) in fields {
            match field {
                "metadata" => {
                    details.metadata =
                        parse::<MetadataBody>(text.as_bytes(), StatusCode::BAD_REQUEST)
                            .map_err(|e| {
                                if e.message.starts_with("Failed to decode") {
                                    ApiError::bad_request("metadata form field must be valid JSON")
                                } else {
                                    metadata_error(e)
                                }
                            })?
                            .into();
                }
                "note" => details.note = NoteField::from_text(text.to_owned()).check()?.flatten(),
                _ => {}
            }
        }
        Ok(details)
    }
}

/// HMA's message for bad metadata: `Invalid metadata: …`.
fn metadata_error(error: ApiError) -> ApiError {
    let reason = error
        .message
        .strip_prefix("Invalid request body: ")
        .unwrap_or(&error.message);
    ApiError::bad_request(format!("Invalid metadata: {reason}"))
}

/// Reads the body of a content addition: a multipart upload (file and
/// fields), URL-encoded form fields, or a JSON object (with `url`).
async fn read_content_body(
    state: &AppState,
    request: Request,
) -> ApiResult<(Option<media::Media>, ContentDetails)> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
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
        let fields = upload.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let details = ContentDetails::from_form(fields)?;
        return Ok((Some(upload.media), details));
    }
    // Without an upload the body holds only fields, under the JSON body
    // limit the request guard applies to every non-multipart body.
    let body = axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        // HMA reads `request.form`, which includes URL-encoded forms.
        let fields: Vec<_> = url::form_urlencoded::parse(&body).collect();
        let details =
            ContentDetails::from_form(fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))?;
        return Ok((None, details));
    }
    // HMA reads JSON fields only from a JSON body.
    let is_json = content_type.starts_with("application/json")
        || content_type
            .split(';')
            .next()
            .is_some_and(|m| m.trim().ends_with("+json"));
    if is_json && !body.iter().all(u8::is_ascii_whitespace) {
        let fields = parse::<ContentJson>(&body, StatusCode::BAD_REQUEST).map_err(|e| {
            if e.message.starts_with("Invalid request body: metadata") {
                metadata_error(e)
            } else {
                e
            }
        })?;
        return Ok((None, ContentDetails::from_json(fields)?));
    }
    Ok((None, ContentDetails::default()))
}

/// Hashes media (an upload, or fetched from `url`) and banks it, with
/// optional `metadata` and `note` (form fields, or JSON with `url`).
#[utoipa::path(post, path = "/c/bank/{name}/content", tag = "banks",
    params(("name" = String, Path, description = "bank name"), AddContentQuery),
    request_body(content_type = "multipart/form-data",
        description = "file field `photo`; optional fields `metadata` (JSON: content_id, content_uri, json) and `note` (≤ 255 characters)"),
    responses(
        (status = 200, description = "The new content id and its signals", body = AddedContent,
         example = json!({"id": 1, "signals": {"pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"}})),
        (status = 400, description = "Neither url nor upload; invalid metadata or note; unsafe URL; a photo whose PDQ quality is below 50 (`Invalid pdq signal`)", body = answers::Message),
        (status = 404, description = "bank 'X' not found", body = answers::Message),
        (status = 413, description = "Content too large", body = answers::Message),
    ))]
async fn add_content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(query): Query<AddContentQuery>,
    request: Request,
) -> ApiResult<Json<AddedContent>> {
    let bank = path_bank(&name)?;
    // The body is read first even for a missing bank: answering before the
    // client has sent its upload would break its connection, not tell it 404.
    let (upload, details) = read_content_body(&state, request).await?;
    // Then, before fetching or hashing anything: a missing bank is a 404.
    let known = bank.clone();
    blocking(&state, move |engine| Ok(engine.bank(&known)?)).await?;
    let types = media::selected_types(query.types.as_deref())?;
    let media = match (upload, &query.url) {
        (Some(media), _) => media,
        (None, Some(url)) => media::fetch(&state, url, query.content_type.as_deref()).await?,
        (None, None) => {
            return Err(ApiError::bad_request(
                "Neither `url` nor multipart file upload was received",
            ));
        }
    };
    let is_photo = media.content_type == vigil_media::MediaKind::Photo;
    // Banks keep a text sketch's compact sample (lookups use it whole) and a
    // photo's variants for the lookup defences.
    let options = vigil_media::HashOptions {
        bank_variants: true,
        ..vigil_media::HashOptions::default()
    };
    let mut hashed = media::hash_with(media, options).await?;
    hashed.select(types.as_deref());
    let signals = hashed.signals.compacted();
    // HMA's hasher gives a photo below PDQ quality 50 an empty hash, which
    // its bank refuses: such a hash would match unrelated pictures.
    let wants_pdq = types
        .as_deref()
        .is_none_or(|t| t.contains(&SignalType::Pdq));
    if is_photo && wants_pdq && signals.get(SignalType::Pdq).is_none() {
        return Err(ApiError::bad_request(
            "Invalid pdq signal: invalid PDQ hash",
        ));
    }
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
        engine.bank(&bank)?;
        Ok(engine.add_contents(&bank, std::slice::from_ref(&content), &caller.actor())?[0])
    })
    .await?;
    Ok(Json(AddedContent {
        id,
        signals: hma_signals(&signals),
    }))
}

/// Body of `POST /c/bank/{name}/signal`: signal type → signal, and an
/// optional `note`, in the body's order. Values are kept only as strings
/// (anything else is skipped unread and refused as an invalid signal).
#[derive(Debug, Default)]
pub(crate) struct SignalsBody {
    signals: Vec<(String, Option<String>)>,
    note: NoteField,
}

/// At most this many signal types in one body: Vigil stores one value for
/// each of its few types, so more can only be unknown types.
const MAX_SIGNAL_FIELDS: usize = 64;

impl<'de> Deserialize<'de> for SignalsBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, Visitor};
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = SignalsBody;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of signal type to signal")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SignalsBody, A::Error> {
                let mut body = SignalsBody::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "note" {
                        body.note = map.next_value()?;
                        continue;
                    }
                    let value = map.next_value::<MaybeString>()?.0;
                    put_field::<_, A::Error>(&mut body.signals, key, value, MAX_SIGNAL_FIELDS)?;
                }
                Ok(body)
            }
        }
        d.deserialize_map(Fields)
    }
}

/// Banks a content given by its signals: `{"pdq": "…", "note"?: "…"}`.
#[utoipa::path(post, path = "/c/bank/{name}/signal", tag = "banks",
    params(("name" = String, Path, description = "bank name")),
    request_body(content = Object, description = "signal type → signal, and an optional note",
        example = json!({"pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "note": "from a partner"})),
    responses(
        (status = 200, description = "The new content id and its normalised signals", body = AddedContent),
        (status = 400, description = "No such signal type; invalid signal; no signals given; note not a string", body = answers::Message),
        (status = 404, description = "bank 'X' not found", body = answers::Message),
    ))]
async fn add_signal(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    HandParsed(body): HandParsed<SignalsBody>,
) -> ApiResult<Json<AddedContent>> {
    let bank = path_bank(&name)?;
    let known = bank.clone();
    blocking(&state, move |engine| Ok(engine.bank(&known)?)).await?;
    let note = body.note.check()?.flatten();
    if body.signals.is_empty() {
        return Err(ApiError::bad_request("No signals given"));
    }
    let mut content = NewContent {
        note,
        ..NewContent::default()
    };
    for (key, value) in &body.signals {
        let Some(signal_type) = key.parse::<SignalType>().ok().filter(|t| t.on_hma_routes()) else {
            return Err(ApiError::bad_request(format!("No such signal type {key}")));
        };
        let invalid = |e: String| ApiError::bad_request(format!("Invalid {key} signal: {e}"));
        let value = value
            .as_deref()
            .ok_or_else(|| invalid("expected string".to_owned()))?;
        check_hma_form(signal_type, value).map_err(|e| invalid(e.to_owned()))?;
        content
            .signals
            .insert(signal_type, value)
            .map_err(|e| invalid(e.to_string()))?;
    }
    let signals = content
        .signals
        .iter()
        .map(|(t, v)| (t.to_string(), v.to_owned()))
        .collect();
    let id = blocking(&state, move |engine| {
        Ok(engine.add_contents(&bank, std::slice::from_ref(&content), &caller.actor())?[0])
    })
    .await?;
    Ok(Json(AddedContent { id, signals }))
}

/// Query of `GET /c/bank/{name}/content/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ContentQuery {
    /// `true` (any case) to include `signals` (default false).
    include_signals: Option<String>,
    /// `true` (any case) to include `metadata` (default true; any other
    /// value leaves it out, as in HMA).
    include_metadata: Option<String>,
}

/// The content `id`, with the bank it is in, if the bank `name` exists
/// (HMA does not check that the content is in that bank, and answers with
/// the content's own bank).
fn content_in(engine: &Engine, name: &str, id: i64) -> ApiResult<(Bank, Content)> {
    engine.bank(&path_bank(name)?)?;
    let not_found = |e: vigil_engine::Error| {
        ApiError::from(e).worded(StatusCode::NOT_FOUND, &format!("content '{id}' not found"))
    };
    let content = engine.content(id).map_err(not_found)?;
    let bank = engine.bank(&content.bank).map_err(not_found)?;
    Ok((bank, content))
}

/// HMA's fetch id of an exchange record: Python's text of its key, a
/// `(signal type, signal)` tuple (Vigil stores `"<type> <signal>"`).
fn hma_fetch_id(fetch_id: &str) -> String {
    match fetch_id.split_once(' ') {
        Some((signal_type, signal))
            if !signal.contains(' ') && !fetch_id.contains(['\'', '"', '\\']) =>
        {
            format!("('{signal_type}', '{signal}')")
        }
        _ => fetch_id.to_owned(),
    }
}

/// The exchange provenance as HMA shows it: `{"EXCH": ["<fetch id>"]}`,
/// or `None` for content added by hand.
fn collab(content: &Content) -> Option<BTreeMap<String, Vec<String>>> {
    let provenance = content.fields.provenance.as_ref()?;
    let fetch_id = hma_fetch_id(&provenance.fetch_id);
    Some(BTreeMap::from([(
        provenance.exchange.clone(),
        vec![fetch_id],
    )]))
}

/// HMA's metadata object, present only when the content has user metadata
/// or exchange provenance; then every field is there, `null` when unset.
fn content_metadata(content: &Content) -> Option<ContentMetadata> {
    let metadata = &content.fields.metadata;
    let collab = collab(content);
    if *metadata == Metadata::default() && collab.is_none() {
        return None;
    }
    Some(ContentMetadata {
        content_id: metadata.content_id.clone(),
        content_uri: metadata.content_uri.clone(),
        json: metadata.json.clone(),
        collab,
    })
}

/// A content's signals as HMA shows them: its signal types only (Vigil's
/// banked variants stay out).
fn hma_signals(signals: &Signals) -> BTreeMap<String, String> {
    signals
        .iter()
        .filter(|(t, _)| t.on_hma_routes())
        .map(|(t, v)| (t.to_string(), v.to_owned()))
        .collect()
}

/// One content.
#[utoipa::path(get, path = "/c/bank/{name}/content/{id}", tag = "banks",
    params(("name" = String, Path, description = "bank name"), ("id" = i64, Path, description = "content id"), ContentQuery),
    responses((status = 200, description = "The content, with the bank it is in; optional keys are omitted when empty", body = BankContent,
        example = json!({"id": 1, "disable_until_ts": 1, "original_media_uri": null, "bank": {"name": "MY_BANK", "matching_enabled_ratio": 1.0}, "metadata": {"content_id": "post-1", "content_uri": null, "json": null, "collab": null}, "note": "seen twice"})),
        (status = 404, description = "Bank or content not found", body = answers::Message)))]
async fn get_content(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
    Query(query): Query<ContentQuery>,
) -> ApiResult<Json<BankContent>> {
    let (bank, content) = blocking(&state, move |engine| content_in(engine, &name, id)).await?;
    let signals = query.include_signals.as_deref().is_some_and(is_true);
    let metadata = query.include_metadata.as_deref().is_none_or(is_true);
    Ok(Json(BankContent {
        id: content.id,
        disable_until_ts: content.disable_until_ts,
        original_media_uri: None,
        bank: answers::Bank::from(&bank),
        signals: signals.then(|| hma_signals(&content.fields.signals)),
        metadata: metadata.then(|| content_metadata(&content)).flatten(),
        note: content.fields.note,
    }))
}

/// Body of `PUT /c/bank/{name}/content/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateContentBody {
    /// 0 disabled, 1 enabled, or a Unix time until which it is disabled
    /// (up to five years ahead); a number or a numeric string.
    #[schema(value_type = Option<i64>)]
    #[serde(default)]
    disable_until_ts: Option<PyInt>,
    /// New note (≤ 255 characters); `""`, `null` or any other falsy value
    /// removes it; a non-string is a 400, as on every route.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    note: NoteField,
}

/// Changes a content's enabled state or note.
#[utoipa::path(put, path = "/c/bank/{name}/content/{id}", tag = "banks", request_body = UpdateContentBody,
    params(("name" = String, Path, description = "bank name"), ("id" = i64, Path, description = "content id")),
    responses((status = 200, description = "The updated content, with the bank it is in", body = UpdatedContent),
        (status = 400, description = "disable_until_ts not an integer or out of range; note not a string or longer than 255 characters", body = answers::Message),
        (status = 404, description = "Bank or content not found", body = answers::Message)))]
async fn update_content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, id)): Path<(String, i64)>,
    HandParsed(body): HandParsed<UpdateContentBody>,
) -> ApiResult<Json<UpdatedContent>> {
    let latest = unix_now() + 5 * 365 * 24 * 3600;
    let disable_until_ts = match body.disable_until_ts {
        None => None,
        Some(PyInt::Invalid(text)) => {
            return Err(ApiError::bad_request(format!("Invalid int: '{text}'")));
        }
        Some(PyInt::Int(ts)) if ts < 0 => {
            return Err(ApiError::bad_request(
                "disable_until_ts must be a non-negative integer",
            ));
        }
        Some(PyInt::Int(ts)) if ts > latest => {
            return Err(ApiError::bad_request(
                "disable_until_ts must be less than 5 years in the future",
            ));
        }
        Some(PyInt::Int(ts)) => Some(ts),
    };
    let update = ContentUpdate {
        disable_until_ts,
        note: body.note.check()?,
        labels: None,
    };
    let (bank, content) = blocking(&state, move |engine| {
        content_in(engine, &name, id)?;
        engine.update_content(id, &update, &caller.actor())?;
        content_in(engine, &name, id)
    })
    .await?;
    let metadata = &content.fields.metadata;
    Ok(Json(UpdatedContent {
        id: content.id,
        disable_until_ts: content.disable_until_ts,
        collab_metadata: collab(&content).unwrap_or_default(),
        original_media_uri: None,
        bank: answers::Bank::from(&bank),
        user_metadata: (*metadata != Metadata::default()).then(|| metadata.into()),
        note: content.fields.note.clone(),
    }))
}

/// Deletes a content by id.
#[utoipa::path(delete, path = "/c/bank/{name}/content/{id}", tag = "banks",
    params(("name" = String, Path, description = "bank name"), ("id" = i64, Path, description = "content id")),
    responses((status = 200, description = "`{\"deleted\": 1}` or `0`", body = Deleted),
        (status = 404, description = "bank 'X' not found", body = answers::Message)))]
async fn delete_content(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, id)): Path<(String, i64)>,
) -> ApiResult<Json<Deleted>> {
    let deleted = blocking(&state, move |engine| {
        engine.bank(&path_bank(&name)?)?;
        Ok(engine.delete_content(id, &caller.actor())?)
    })
    .await?;
    Ok(Json(Deleted {
        deleted: u8::from(deleted),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_ids_read_as_python_tuples() {
        assert_eq!(hma_fetch_id("pdq abc"), "('pdq', 'abc')");
        assert_eq!(hma_fetch_id("odd"), "odd");
        assert_eq!(hma_fetch_id("a 'b'"), "a 'b'");
    }
}
