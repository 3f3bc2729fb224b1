//! One error type for every handler and one JSON shape for every failure:
//! `{"error": {"code": "...", "message": "..."}}` (plus `hint` where there is
//! one).
//!
//! Client mistakes (4xx) keep their message, which is written for the
//! administrator who reads it in the UI. Internal failures (5xx) answer with a
//! generic message; the detail is logged where the response is built, so the
//! log has the reason and the client learns nothing about the server.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or a value is out of range.
    #[error("{0}")]
    BadRequest(String),
    /// No valid session (or bearer token); `code` tells "none" from "expired".
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// Signed in, but this account may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Forbidden for a reason the caller can act on, named by `code`.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The CSRF token is missing or wrong.
    #[error("{0}")]
    Csrf(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (second attestation, a
    /// request that already finished, ...).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Too many failed logins; retry after the given seconds.
    #[error("too many failed sign-ins; try again in {0} seconds")]
    RateLimited(u64),
    /// The tenant is not connected, or its connection lapsed.
    #[error("{message}")]
    TenantNotConnected { code: &'static str, message: String },
    /// Microsoft (Graph or the token endpoint) refused or failed; the message
    /// names what was being done and what Microsoft said.
    #[error("{message}")]
    Upstream {
        status: StatusCode,
        code: String,
        message: String,
        hint: Option<String>,
    },
    /// Anything else: a bug, the database, the file system.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }
    pub fn refused(code: &'static str, msg: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: msg.into(),
        }
    }
    pub fn conflict(code: &'static str, msg: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: msg.into(),
        }
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Self::Internal(msg.into())
    }
    pub fn unauthorized(code: &'static str, msg: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: msg.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Refused { .. } | Self::Csrf(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            // 409: the request is fine, the panel's state (no tenant) is not.
            Self::TenantNotConnected { .. } => StatusCode::CONFLICT,
            Self::Upstream { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Self::BadRequest(_) => "badRequest",
            Self::Unauthorized { code, .. } => code,
            Self::Forbidden(_) => "forbidden",
            Self::Refused { code, .. } => code,
            Self::Csrf(_) => "csrf",
            Self::NotFound(_) => "notFound",
            Self::Conflict { code, .. } => code,
            Self::RateLimited(_) => "rateLimited",
            Self::TenantNotConnected { code, .. } => code,
            Self::Upstream { code, .. } => code,
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() && !matches!(self, Self::Upstream { .. }) {
            crate::log(&format!("error: {self}"));
            "internal error; the server log has the details".to_string()
        } else {
            self.to_string()
        };
        let mut error = json!({"code": self.code(), "message": message});
        if let Self::Upstream { hint: Some(h), .. } = &self {
            error["hint"] = json!(h);
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if let Self::RateLimited(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

impl From<JsonRejection> for AppError {
    fn from(e: JsonRejection) -> Self {
        // axum's text names the problem (syntax, missing field, content type)
        // without echoing the body.
        Self::BadRequest(format!("malformed JSON body: {}", e.body_text()))
    }
}

impl From<vault::VaultError> for AppError {
    fn from(e: vault::VaultError) -> Self {
        use vault::VaultError as V;
        match e {
            V::MalformedOptions { .. }
            | V::InvalidOrigin { .. }
            | V::RpIdMismatch { .. }
            | V::UnsupportedAlgorithm { .. } => Self::BadRequest(e.to_string()),
            V::CredentialExcluded { .. } => Self::conflict("credentialExcluded", e.to_string()),
            V::NoCredential { .. } => Self::NotFound(e.to_string()),
            other => Self::Internal(format!("vault: {other}")),
        }
    }
}

/// `Json<T>` whose rejection is an [`AppError`], so a malformed body gets the
/// same error shape as everything else.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for AppJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

pub type AppResult<T> = Result<T, AppError>;
