//! The front end's files, security headers on every response, and CORS for
//! the extension's endpoints.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::{AppState, EXTENSION_ORIGIN};

/// Scripts and styles only from the panel's own files; no inline script,
/// no eval, no framing, nothing fetched from elsewhere. `connect-src
/// 'self'`: the page talks to the extension through `chrome.runtime`, which
/// CSP does not govern.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The front end, built in so the binary is all an installation needs.
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../../www/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../www/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../../www/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../../www/favicon.svg"),
    ),
];

fn content_type(name: &str) -> &'static str {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, _)| *t)
        .unwrap_or("application/octet-stream")
}

pub async fn static_file(
    State(state): State<AppState>,
    method: Method,
    uri: axum::http::Uri,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return AppError::not_found(format!("no route {method} {}", uri.path())).into_response();
    }
    let name = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        other => other,
    };
    if uri.path().starts_with("/api/") || !FILES.iter().any(|(n, _, _)| *n == name) {
        return AppError::not_found(format!("no such page {}", uri.path())).into_response();
    }
    let body: Vec<u8> = match &state.config.www_dir {
        // Development: edit www/ without rebuilding.
        Some(dir) => match std::fs::read(dir.join(name)) {
            Ok(b) => b,
            Err(e) => {
                return AppError::internal(format!("{}: {e}", dir.join(name).display()))
                    .into_response();
            }
        },
        None => FILES
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, b)| b.as_bytes().to_vec())
            .unwrap_or_default(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type(name)),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

pub async fn security_headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if api {
        // TAPs and tokens travel in API answers: never cache them.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// CORS for `/api/ext/*`: the extension's service worker, and only it.
/// Preflights from other origins are refused; their actual requests get no
/// CORS headers, so a browser withholds the answer.
pub async fn extension_cors(req: Request, next: Next) -> Response {
    let from_extension = req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == EXTENSION_ORIGIN.as_bytes());
    if req.method() == Method::OPTIONS {
        if !from_extension {
            return AppError::forbidden("cross-origin calls are accepted only from the extension")
                .into_response();
        }
        return (
            StatusCode::NO_CONTENT,
            [
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, EXTENSION_ORIGIN),
                (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "authorization, content-type",
                ),
                (header::ACCESS_CONTROL_MAX_AGE, "600"),
                (header::VARY, "Origin"),
            ],
        )
            .into_response();
    }
    let mut response = next.run(req).await;
    if from_extension {
        let h = response.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static(EXTENSION_ORIGIN),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// `GET /api/config`: what the sign-in page shows before anyone signs in.
/// Public, so it holds only the TLS warning: whoever types a password
/// should know the panel does not verify Microsoft's certificates.
pub async fn public_config(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "insecureTls": state.config.insecure_tls }))
}
