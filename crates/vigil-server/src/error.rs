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
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error, see the server's logs",
                )
            }
        }
    }
}

impl From<vigil_store::Error> for ApiError {
    fn from(error: vigil_store::Error) -> Self {
        vigil_engine::Error::Store(error).into()
    }
}
