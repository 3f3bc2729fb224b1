//! One error type for every handler, turned into a response in one place.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("file {0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("certificates: {0}")]
    Pki(String),
    #[error("seed: {0}")]
    Seed(String),
    #[error("listen on {0}: {1}")]
    Listen(String, #[source] std::io::Error),
}

/// Every way a request can fail. Client mistakes keep their message; internal
/// failures answer with a generic text and log the detail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Misdirected(String),
    #[error("request body too large (limit {0} bytes)")]
    TooLarge(usize),
    /// A scenario switch asked this step to fail with HTTP 500.
    #[error("injected failure at step {0}")]
    Injected(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// Microsoft Graph's error format: `{"error":{"code","message","innerError"}}`.
    #[error("{status} {code}: {message}")]
    Graph {
        status: StatusCode,
        code: String,
        message: String,
        retry_after: Option<u64>,
    },
}

impl AppError {
    pub fn bad(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }
    pub fn graph(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self::Graph {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Injected(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Graph { status, .. } => *status,
        }
    }

    fn code(&self) -> &str {
        match self {
            Self::BadRequest(_) => "badRequest",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "notFound",
            Self::Conflict(_) => "conflict",
            Self::Misdirected(_) => "misdirectedRequest",
            Self::TooLarge(_) => "requestEntityTooLarge",
            Self::Injected(_) => "injectedFailure",
            Self::Internal(_) => "internalServerError",
            Self::Graph { code, .. } => code,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(detail) => {
                crate::log(&format!("internal error: {detail}"));
                "An internal error occurred. See the simulator's log.".to_string()
            }
            other => other.to_string(),
        };
        let message = match &self {
            Self::Graph { message, .. } => message.clone(),
            _ => message,
        };
        let body = json!({
            "error": {
                "code": self.code(),
                "message": message,
                "innerError": {
                    "date": crate::util::iso8601(crate::util::unix_now()),
                    "request-id": crate::util::random_uuid(),
                }
            }
        });
        let mut resp = (status, axum::Json(body)).into_response();
        if let Self::Graph {
            retry_after: Some(secs),
            ..
        } = &self
        {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        Self::BadRequest(format!("malformed JSON: {e}"))
    }
}

impl AppError {
    /// Shorthand for handlers that return `Response` directly.
    pub fn into_response_inner(self) -> Response {
        self.into_response()
    }
}
