//! Media sent to the server, by upload (multipart, as HMA takes it) or by
//! URL (fetched under the server's URL policy), and its hashing.

use axum::extract::Multipart;
use serde_json::{Map, Value, json};
use vigil_media::HashOptions;
use vigil_store::Signals;

use crate::{ApiError, AppState};

/// Content types HMA knows. Vigil hashes photos; video arrives with vPDQ.
const CONTENT_TYPES: [&str; 2] = ["photo", "video"];

/// Signal types `/h/hash` can produce, for its `types` filter.
const HASHED_TYPES: [&str; 3] = ["pdq", "md5", "sha256"];

/// The parts of an upload form: the one file (its field name is its content
/// type, as HMA requires) and any text fields.
pub(crate) struct Upload {
    pub(crate) bytes: Vec<u8>,
    pub(crate) fields: Vec<(String, String)>,
}

/// Reads a multipart upload with exactly one file.
pub(crate) async fn read_upload(mut multipart: Multipart) -> Result<Upload, ApiError> {
    let mut file: Option<Vec<u8>> = None;
    let mut fields = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(ApiError::new(e.status(), e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some() || CONTENT_TYPES.contains(&name.as_str());
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if !is_file {
            fields.push((name, String::from_utf8_lossy(&data).into_owned()));
            continue;
        }
        check_content_type(&name)?;
        if file.is_some() {
            return Err(ApiError::bad_request("Only one file allowed per request"));
        }
        file = Some(data.to_vec());
    }
    let bytes =
        file.ok_or_else(|| ApiError::bad_request("Missing multipart/form-data file upload"))?;
    Ok(Upload { bytes, fields })
}

/// Refuses content types that are unknown or not hashed yet.
fn check_content_type(name: &str) -> Result<(), ApiError> {
    if !CONTENT_TYPES.contains(&name) {
        return Err(ApiError::bad_request(format!(
            "no such content_type: '{name}'"
        )));
    }
    if name != "photo" {
        return Err(ApiError::bad_request(format!(
            "content_type '{name}' is not hashed by this server yet"
        )));
    }
    Ok(())
}

/// Fetches `url` and checks what it holds is a photo: the `content_type`
/// parameter if given, else the answer's `Content-Type` (`image/*`), as HMA
/// decides.
pub(crate) async fn fetch(
    state: &AppState,
    url: &str,
    content_type: Option<&str>,
) -> Result<Vec<u8>, ApiError> {
    if let Some(content_type) = content_type {
        check_content_type(content_type)?;
    }
    let fetched = state.settings.fetcher.get(url).await?;
    if content_type.is_none() {
        let header = fetched.content_type.as_deref().unwrap_or_default();
        let kind = if header.starts_with("image") {
            "photo"
        } else if header.starts_with("video") {
            "video"
        } else {
            return Err(ApiError::bad_request(format!(
                "unsupported url ContentType: {header:?}; pass content_type=photo"
            )));
        };
        check_content_type(kind)?;
    }
    Ok(fetched.bytes)
}

/// Hashes photo bytes off the async threads: the signals to store (PDQ only
/// when its quality reaches 50).
pub(crate) async fn hash_photo(bytes: Vec<u8>) -> Result<Signals, ApiError> {
    tokio::task::spawn_blocking(move || {
        let media = vigil_media::hash_media(&bytes, &HashOptions::default())
            .map_err(|e| ApiError::bad_request(format!("cannot hash the media: {e}")))?;
        vigil_engine::signals_of(&media).map_err(ApiError::from)
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// The signal types a `types=pdq,md5` parameter selects (all when absent).
pub(crate) fn selected_types(types: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let Some(types) = types else {
        return Ok(HASHED_TYPES.to_vec());
    };
    let mut selected = Vec::new();
    for name in types.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let known = HASHED_TYPES.iter().find(|t| **t == name).ok_or_else(|| {
            ApiError::bad_request(format!("signal type '{name}' doesn't exist or is disabled"))
        })?;
        selected.push(*known);
    }
    if selected.is_empty() {
        return Err(ApiError::bad_request("empty signal type selection"));
    }
    Ok(selected)
}

/// HMA's hash answer: `{"pdq": "<hex>", …}` for the selected types; a PDQ
/// too low in quality to use is `""`, as HMA writes it.
pub(crate) fn hash_json(signals: &Signals, types: &[&str]) -> Value {
    let mut body = Map::new();
    for signal_type in types {
        match signals.get(signal_type) {
            Some(value) => body.insert((*signal_type).to_owned(), json!(value)),
            None if *signal_type == "pdq" => body.insert("pdq".to_owned(), json!("")),
            None => None,
        };
    }
    Value::Object(body)
}
