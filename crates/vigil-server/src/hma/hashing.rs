//! `/h`: hashing media given by URL or by upload. Needs the hasher role.

use axum::Json;
use axum::extract::{Multipart, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiResult;
use super::answers::{Hashes, Message};
use crate::{ApiError, AppState, media};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(hash_url, hash_upload))
}

/// Query of `GET /h/hash`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HashQuery {
    /// The media's URL (http or https; fetched under the server's URL policy).
    url: Option<String>,
    /// `photo` or `video` (default: from the answer's Content-Type).
    content_type: Option<String>,
    /// Comma list of signal types to return (default: all).
    types: Option<String>,
}

/// Hashes the media at `url`.
#[utoipa::path(get, path = "/h/hash", tag = "hashing", params(HashQuery),
    responses(
        (status = 200, description = "Signals by type; `pdq` is \"\" when quality < 50",
         body = Hashes, example = json!({"pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "md5": "…", "sha256": "…"})),
        (status = 400, description = "Missing, unsafe or unfetchable URL; unknown type", body = Message),
        (status = 413, description = "Content too large", body = Message),
    ))]
async fn hash_url(
    State(state): State<AppState>,
    Query(query): Query<HashQuery>,
) -> ApiResult<Json<Hashes>> {
    let url = query
        .url
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("url is required"))?;
    let types = media::selected_types(query.types.as_deref())?;
    let fetched = media::fetch(&state, url, query.content_type.as_deref()).await?;
    let content_type = fetched.content_type;
    let signals = media::hash(fetched).await?;
    Ok(Json(media::hashes(
        &signals,
        content_type,
        types.as_deref(),
    )))
}

/// Query of `POST /h/hash`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HashUploadQuery {
    /// Comma list of signal types to return (default: all).
    types: Option<String>,
}

/// Hashes an upload: multipart with one file whose field name is its
/// content type (`photo` or `video`).
#[utoipa::path(post, path = "/h/hash", tag = "hashing", params(HashUploadQuery),
    request_body(content_type = "multipart/form-data", description = "one file, field name `photo` or `video`"),
    responses(
        (status = 200, description = "Signals by type", body = Hashes),
        (status = 400, description = "No file, several files, unknown content type, undecodable media", body = Message),
        (status = 413, description = "Upload too large", body = Message),
    ))]
async fn hash_upload(
    Query(query): Query<HashUploadQuery>,
    multipart: Multipart,
) -> ApiResult<Json<Hashes>> {
    let types = media::selected_types(query.types.as_deref())?;
    let upload = media::read_upload(multipart).await?;
    let content_type = upload.media.content_type;
    let signals = media::hash(upload.media).await?;
    Ok(Json(media::hashes(
        &signals,
        content_type,
        types.as_deref(),
    )))
}
