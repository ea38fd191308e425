//! Hashing uploads: HMA's `POST /h/hash` and content by upload.

use axum::extract::Multipart;
use axum::http::StatusCode;
use vigil_media::HashOptions;
use vigil_signal::PdqHash;
use vigil_store::Signals;

use crate::ApiError;

/// Content types HMA knows; Vigil hashes photos (video arrives with vPDQ).
const CONTENT_TYPES: [&str; 2] = ["photo", "video"];

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
        if !CONTENT_TYPES.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "no such content_type: '{name}'"
            )));
        }
        if name != "photo" {
            return Err(ApiError::bad_request(format!(
                "content_type '{name}' is not hashed by this server yet"
            )));
        }
        if file.is_some() {
            return Err(ApiError::bad_request("Only one file allowed per request"));
        }
        file = Some(data.to_vec());
    }
    let bytes =
        file.ok_or_else(|| ApiError::bad_request("Missing multipart/form-data file upload"))?;
    Ok(Upload { bytes, fields })
}

/// Hashes photo bytes off the async threads: the signals to store, and the
/// PDQ even when its quality is too low to store.
pub(crate) async fn hash_photo(bytes: Vec<u8>) -> Result<(Signals, PdqHash, u8), ApiError> {
    tokio::task::spawn_blocking(move || {
        let media = vigil_media::hash_media(&bytes, &HashOptions::default())
            .map_err(|e| ApiError::bad_request(format!("cannot hash the upload: {e}")))?;
        let signals = vigil_engine::signals_of(&media).map_err(ApiError::from)?;
        Ok((signals, media.pdq.hash, media.pdq.quality))
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error, see the server's logs",
        )
    })?
}
