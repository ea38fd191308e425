//! Engine and request errors as HTTP responses: HMA's `{"message": …}`
//! with its status codes, decided here and nowhere else.
//!
//! Routes answer [`ApiError`]s; everything else that can refuse a request
//! (axum's extractors for JSON syntax and types, content types, path and
//! query parsing, body limits; an unknown route or method) answers plain
//! text, which [`json_errors`] turns into the same shape, so a client only
//! ever has one error format to read.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::hma::answers::Message;

/// An error answer: a status and a message, sent as `{"message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable reason.
    pub message: String,
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A 500 whose details are in the server's log, not the answer.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error, see the server's logs",
        )
    }

    /// An answer with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// This answer in a route's own words when it has `status` (HMA words
    /// some refusals per route, e.g. `Bank not found`); the status stays.
    pub(crate) fn worded(self, status: StatusCode, message: &str) -> Self {
        if self.status == status {
            Self::new(status, message)
        } else {
            self
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(Message::new(self.message))).into_response()
    }
}

/// Largest plain-text error body kept as the message; axum's are a line.
const MAX_REJECTION_TEXT: usize = 4096;

/// The middleware: any error answer that is not JSON becomes
/// `{"message": "<its text>"}` with the same status and headers
/// (`Allow`, `WWW-Authenticate`, `Retry-After` stay).
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_REJECTION_TEXT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let rewritten = ApiError::new(status, message).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, rewritten.into_body())
}

impl From<vigil_engine::Error> for ApiError {
    /// Each kind of engine error has one status: not found 404, a name
    /// taken 403 (as HMA answers), bad input 400, a missing media tool
    /// 500 `Service misconfigured`, anything else 500 with the details only
    /// in the log.
    fn from(error: vigil_engine::Error) -> Self {
        use vigil_engine::{Error as E, Missing as M};
        match error {
            E::NotFound(M::Bank(name)) => Self::not_found(format!("bank '{name}' not found")),
            E::NotFound(missing) => Self::not_found(missing.to_string()),
            E::Conflict(_) => Self::new(StatusCode::FORBIDDEN, "Bank already exists"),
            E::Invalid(message) => Self::bad_request(message),
            error @ E::ImportLine { .. } => Self::bad_request(error.to_string()),
            E::Media(error @ vigil_media::Error::VideoTool { .. }) => {
                tracing::error!(%error, "FFmpeg is missing");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Service misconfigured, see logs for details",
                )
            }
            E::Media(error) => Self::bad_request(error.to_string()),
            other => {
                tracing::error!(error = %other, "request failed");
                Self::internal()
            }
        }
    }
}

impl From<vigil_store::Error> for ApiError {
    fn from(error: vigil_store::Error) -> Self {
        vigil_engine::Error::from(error).into()
    }
}

impl From<vigil_monitor::MonitorError> for ApiError {
    /// The monitor's records are read through the store: its errors map as
    /// the store's do; anything else is a 500, logged.
    fn from(error: vigil_monitor::MonitorError) -> Self {
        use vigil_monitor::MonitorError as M;
        match error {
            M::Store(error) => error.into(),
            M::Engine(error) => error.into(),
            other => {
                tracing::error!(error = %other, "request failed");
                Self::internal()
            }
        }
    }
}

impl From<vigil_fetch::FetchError> for ApiError {
    /// HMA's answers for URL fetching: 400 `Invalid or unsafe URL provided`,
    /// 413 `Content too large`, 400 `Failed to fetch URL: …`; each with the
    /// reason added.
    fn from(error: vigil_fetch::FetchError) -> Self {
        use vigil_fetch::FetchError as F;
        match error {
            F::Unsafe { reason, .. } => {
                Self::bad_request(format!("Invalid or unsafe URL provided: {reason}"))
            }
            F::TooLarge { limit } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Content too large (more than {limit} bytes)"),
            ),
            F::Busy(busy) => Self::new(StatusCode::SERVICE_UNAVAILABLE, busy.to_string()),
            F::Setup(reason) => {
                tracing::error!(%reason, "URL fetcher misconfigured");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Service misconfigured, see logs for details",
                )
            }
            other => Self::bad_request(format!("Failed to fetch URL: {other}")),
        }
    }
}
