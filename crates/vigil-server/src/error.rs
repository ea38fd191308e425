//! Engine and request errors as HTTP responses: HMA's `{"message": …}`
//! with its status codes, decided here and nowhere else.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}

impl From<vigil_engine::Error> for ApiError {
    fn from(error: vigil_engine::Error) -> Self {
        use vigil_engine::Error as E;
        use vigil_store::Error as S;
        match error {
            E::Store(S::Invalid(message)) | E::Invalid(message) => Self::bad_request(message),
            E::Store(S::BankNotFound(name)) => Self::not_found(format!("bank '{name}' not found")),
            E::Store(S::BankExists(_)) => Self::new(StatusCode::FORBIDDEN, "Bank already exists"),
            E::ImportLine { line, reason } => Self::bad_request(format!("line {line}: {reason}")),
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
        vigil_engine::Error::Store(error).into()
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
