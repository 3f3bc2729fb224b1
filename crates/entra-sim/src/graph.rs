//! graph.microsoft.com v1.0 subset, and the OAuth pieces of
//! login.microsoftonline.com it needs (token endpoint, admin consent).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;

use crate::state::{AuthResult, AuthzRequest, SimState};

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
}

pub fn consent_needed(
    _s: &SimState,
    _lang: &str,
    _authz: &AuthzRequest,
    _res: &AuthResult,
) -> Option<Response> {
    None
}

pub async fn consent_post(
    State(_s): State<Arc<SimState>>,
    Path(_t): Path<String>,
    _h: HeaderMap,
    _b: Bytes,
) -> Response {
    crate::error::AppError::NotFound("consent".into()).into_response_inner()
}

pub async fn token(State(_s): State<Arc<SimState>>, Path(_t): Path<String>, _b: Bytes) -> Response {
    crate::error::AppError::NotFound("token".into()).into_response_inner()
}
