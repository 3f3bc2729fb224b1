//! The router: one axum app that dispatches on the `Host` header to the
//! per-hostname routers, plus the static files every host serves.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;

use crate::error::AppError;
use crate::state::SimState;
use crate::tls::HOSTS;

/// Largest request body any endpoint accepts. Real attestation objects are a
/// few KiB; anything near this limit is abuse and gets 413.
pub const BODY_LIMIT: usize = 64 * 1024;

struct Hosts {
    login_msol: Router,
    login_ms: Router,
    mysignins: Router,
    aad: Router,
    graph: Router,
    statics: Router,
    control: Router,
}

/// Builds the whole application. Tests may drive it with `oneshot` (set a `Host` header).
pub fn app(state: Arc<SimState>) -> Router {
    let hosts = Arc::new(Hosts {
        login_msol: crate::login::router().with_state(state.clone()),
        login_ms: crate::login::fido_router().with_state(state.clone()),
        mysignins: crate::mysignins::router().with_state(state.clone()),
        aad: crate::mysignins::aad_router().with_state(state.clone()),
        graph: crate::graph::router().with_state(state.clone()),
        statics: Router::new()
            .route("/static/{file}", get(static_file))
            .route("/favicon.ico", get(favicon)),
        control: crate::control::router(state.clone()),
    });
    Router::new()
        .fallback(dispatch)
        .with_state(hosts)
        .layer(middleware::from_fn_with_state(state.clone(), latency))
        .layer(middleware::from_fn_with_state(state.clone(), clock))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), timing))
}

/// Records how long each Microsoft-side request was served (the configured
/// latency included); the control API's own calls are not Microsoft's time.
async fn timing(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/__sim/") {
        return next.run(req).await;
    }
    let what = format!(
        "{} {}{}",
        req.method(),
        request_host(&req).unwrap_or_default(),
        req.uri().path()
    );
    let start_ms = crate::util::wall_ms();
    let response = next.run(req).await;
    state.record_served(crate::state::Served {
        start_ms,
        end_ms: crate::util::wall_ms(),
        what,
    });
    response
}

/// The hostname the request was sent to, lowercased, without the port.
pub fn request_host(req: &Request) -> Option<String> {
    let raw = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().host().map(str::to_string))?;
    let host = match raw.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => raw,
    };
    Some(host.to_ascii_lowercase())
}

async fn dispatch(State(hosts): State<Arc<Hosts>>, req: Request) -> Response {
    let Some(host) = request_host(&req) else {
        return AppError::bad("the request has no Host header").into_response();
    };
    let path = req.uri().path();
    let known = HOSTS.contains(&host.as_str());
    let local = matches!(host.as_str(), "127.0.0.1" | "localhost");
    let router = if path.starts_with("/__sim/") && (known || local) {
        &hosts.control
    } else if (path.starts_with("/static/") || path == "/favicon.ico") && known {
        &hosts.statics
    } else {
        match host.as_str() {
            "login.microsoftonline.com" => &hosts.login_msol,
            "login.microsoft.com" => &hosts.login_ms,
            "mysignins.microsoft.com" | "api.mysignins.microsoft.com" => &hosts.mysignins,
            "account.activedirectory.windowsazure.com" => &hosts.aad,
            "graph.microsoft.com" => &hosts.graph,
            other => {
                return AppError::Misdirected(format!(
                    "entra-sim does not serve the host {other:?}; it serves {}",
                    HOSTS.join(", ")
                ))
                .into_response();
            }
        }
    };
    match router.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// Adds the configured latency (global `--latency-ms`) before answering.
async fn latency(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let ms = state.cfg.latency_ms;
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    next.run(req).await
}

/// Runs the request with this simulator's clock offset, so every expiry check
/// (in any module) sees the same simulated "now" ([`crate::util::unix_now`]).
async fn clock(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    crate::util::with_clock_offset(state.clock_offset(), next.run(req)).await
}

/// The pages' scripts and styles, compiled into the binary.
const STATIC_FILES: &[(&str, &str, &str)] = &[
    (
        "sim.css",
        "text/css; charset=utf-8",
        include_str!("../static/sim.css"),
    ),
    (
        "login.js",
        "application/javascript; charset=utf-8",
        include_str!("../static/login.js"),
    ),
    (
        "fido-get.js",
        "application/javascript; charset=utf-8",
        include_str!("../static/fido-get.js"),
    ),
    (
        "fido-create.js",
        "application/javascript; charset=utf-8",
        include_str!("../static/fido-create.js"),
    ),
    (
        "securityinfo.js",
        "application/javascript; charset=utf-8",
        include_str!("../static/securityinfo.js"),
    ),
];

/// Every Microsoft host serves a favicon; without one the browser logs a 404
/// on every page. Four coloured squares, as SVG.
async fn favicon() -> Response {
    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path fill="#f25022" d="M0 0h7.5v7.5H0z"/><path fill="#7fba00" d="M8.5 0H16v7.5H8.5z"/><path fill="#00a4ef" d="M0 8.5h7.5V16H0z"/><path fill="#ffb900" d="M8.5 8.5H16V16H8.5z"/></svg>"##;
    let mut resp = Response::new(Body::from(SVG));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    resp
}

async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC_FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => {
            let mut resp = Response::new(Body::from(*body));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            resp
        }
        None => (StatusCode::NOT_FOUND, "no such static file").into_response(),
    }
}
