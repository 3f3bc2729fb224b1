//! Calls to the admin panel: the vault's attestation and job reports.
//!
//! Final reports are never lost: each goes to an outbox in
//! `chrome.storage.local` (it survives a browser restart) before the job's
//! state is cleared, and leaves it only when the panel acknowledged it (or
//! refused it for good); the outbox is flushed at once, before every
//! report, when the worker starts, and by an alarm. The panel ignores a
//! report it has already seen (by request id and `seq`). A kept report
//! holds its request's token (it authorises reports about that one request
//! only) until it is sent.

use chrome_api::http;
use chrome_api::storage::{self, Area};
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use futures::lock::Mutex;
use protocol::panel::PanelEndpoints;
use protocol::report::{AttestationRequest, JobReport};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::Arc;

const OUTBOX_KEY: &str = "outbox";
/// Alarm that re-sends the outbox.
pub const OUTBOX_ALARM: &str = "outbox";
/// A report older than this is dropped from the outbox (the panel has long
/// given the request up).
const OUTBOX_MAX_AGE_MS: u64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pending {
    url: String,
    token: String,
    report: JobReport,
}

/// Why a call to the panel failed. Carries no token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PanelError {
    #[error("the panel could not be reached ({0})")]
    Unreachable(String),
    #[error("the panel answered HTTP {status}: {message}")]
    Refused {
        status: u16,
        /// The panel's error code (`{"error":{"code"}}`), if it gave one.
        code: String,
        message: String,
    },
    #[error("the panel's answer was not understood: {0}")]
    BadAnswer(String),
}

/// The panel's JSON error body, `{"error":{"code","message"}}`, as a
/// `Refused` error.
fn refused(status: u16, body: &str) -> PanelError {
    let v = serde_json::from_str::<serde_json::Value>(body).unwrap_or_default();
    PanelError::Refused {
        status,
        code: v["error"]["code"].as_str().unwrap_or_default().to_string(),
        message: v["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| body.chars().take(200).collect()),
    }
}

impl PanelError {
    /// The job failure this vault error means.
    pub fn to_failure(&self, upn: &str) -> engine::Failure {
        match self {
            PanelError::Refused { code, .. } if code == "credentialExcluded" => {
                engine::Failure::AlreadyRegistered {
                    upn: upn.to_string(),
                }
            }
            PanelError::Refused { .. } | PanelError::BadAnswer(_) => engine::Failure::VaultFailed {
                detail: self.to_string(),
            },
            PanelError::Unreachable(_) => engine::Failure::VaultUnreachable {
                detail: self.to_string(),
            },
        }
    }
}

/// Asks the vault for the credential answering the page's `create`.
pub async fn attest(
    endpoints: &PanelEndpoints,
    request: &AttestationRequest,
) -> Result<serde_json::Value, PanelError> {
    call_vault(&endpoints.attestation_url, &endpoints.token, request).await
}

/// Asks the vault to sign the sign-in check's `get` with the new key.
pub async fn assert(
    endpoints: &PanelEndpoints,
    request: &AttestationRequest,
) -> Result<serde_json::Value, PanelError> {
    let Some(url) = &endpoints.assertion_url else {
        return Err(PanelError::BadAnswer(
            "the panel gave no assertion URL".into(),
        ));
    };
    call_vault(url, &endpoints.token, request).await
}

async fn call_vault(
    url: &str,
    token: &str,
    request: &AttestationRequest,
) -> Result<serde_json::Value, PanelError> {
    let body = serde_json::to_string(request).map_err(|e| PanelError::BadAnswer(e.to_string()))?;
    let resp = http::post_json(url, token, &body)
        .await
        .map_err(|e| PanelError::Unreachable(e.message))?;
    if !(200..300).contains(&resp.status) {
        return Err(refused(resp.status, &resp.body));
    }
    serde_json::from_str(&resp.body).map_err(|e| PanelError::BadAnswer(e.to_string()))
}

async fn send(p: &Pending) -> Result<(), PanelError> {
    let body =
        serde_json::to_string(&p.report).map_err(|e| PanelError::BadAnswer(e.to_string()))?;
    let resp = http::post_json(&p.url, &p.token, &body)
        .await
        .map_err(|e| PanelError::Unreachable(e.message))?;
    match resp.status {
        200..=299 => Ok(()),
        status => Err(refused(status, &resp.body)),
    }
}

thread_local! {
    /// Held for every read-modify-write of the outbox: a final report being
    /// kept while a flush rewrites the list must not be lost. Never held
    /// across a network call, so keeping a report never waits for the panel.
    static OUTBOX_LOCK: Arc<Mutex<()>> = Arc::new(Mutex::new(()));
    /// Held by the one flush that runs at a time.
    static FLUSH_LOCK: Arc<Mutex<()>> = Arc::new(Mutex::new(()));
}

async fn lock_outbox() -> futures::lock::OwnedMutexGuard<()> {
    OUTBOX_LOCK.with(Arc::clone).lock_owned().await
}

async fn outbox() -> Vec<Pending> {
    storage::get(Area::Local, OUTBOX_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Whether a refusal means re-sending is pointless: a 4xx other than 408
/// (timeout) and 429 (throttled) will not get better.
fn permanent(e: &PanelError) -> bool {
    matches!(e, PanelError::Refused { status, .. }
        if (400..500).contains(status) && *status != 408 && *status != 429)
}

thread_local! {
    /// The last progress report being sent; the next one waits for it, so
    /// they reach the panel in order.
    static PROGRESS_TAIL: RefCell<Option<Shared<LocalBoxFuture<'static, ()>>>> =
        const { RefCell::new(None) };
    /// The newest progress report handed over: (request id, seq).
    static PROGRESS_NEWEST: RefCell<(String, u32)> = const { RefCell::new((String::new(), 0)) };
}

/// How long a final report waits for the progress reports before it.
const PROGRESS_DRAIN_MS: u32 = 2_000;

/// Sends a progress report in the background: the job does not wait for the
/// panel between pages (a slow panel would otherwise slow every job down).
/// Reports go one after the other, in order; one that a newer report of the
/// same request overtook while it waited (a slow panel) is not sent.
pub fn report_later(endpoints: &PanelEndpoints, report: JobReport) {
    let endpoints = endpoints.clone();
    let previous = PROGRESS_TAIL.with(|t| t.borrow_mut().take());
    PROGRESS_NEWEST.with(|n| *n.borrow_mut() = (report.request_id.clone(), report.seq));
    let next = async move {
        if let Some(previous) = previous {
            previous.await;
        }
        let superseded = PROGRESS_NEWEST
            .with(|n| n.borrow().0 == report.request_id && n.borrow().1 > report.seq);
        if !superseded {
            send_progress(&endpoints, report).await;
        }
    }
    .boxed_local()
    .shared();
    PROGRESS_TAIL.with(|t| *t.borrow_mut() = Some(next.clone()));
    wasm_bindgen_futures::spawn_local(next);
}

/// Resolves when the progress reports handed to [`report_later`] have been
/// sent (or have failed), or after [`PROGRESS_DRAIN_MS`]: a final report
/// goes out after them when it can, but never waits long for them.
pub async fn progress_sent() {
    let tail = PROGRESS_TAIL.with(|t| t.borrow().clone());
    if let Some(tail) = tail {
        let timer = gloo::timers::future::TimeoutFuture::new(PROGRESS_DRAIN_MS);
        futures::future::select(tail, timer).await;
    }
}

/// Sends a progress report, best-effort: a newer one supersedes it, and the
/// final one goes through the outbox ([`keep_final`], [`flush_outbox`]).
async fn send_progress(endpoints: &PanelEndpoints, report: JobReport) {
    flush_outbox().await;
    let pending = Pending {
        url: endpoints.report_url.clone(),
        token: endpoints.token.clone(),
        report,
    };
    if let Err(e) = send(&pending).await {
        crate::console_warn(&format!(
            "progress report for {} not delivered: {e}",
            pending.report.request_id
        ));
    }
}

/// Stores a job's final report in the outbox, before the job's state is
/// cleared, so that a worker stopped at any moment after still sends it.
/// [`flush_outbox`] then delivers it.
pub async fn keep_final(endpoints: &PanelEndpoints, report: JobReport) {
    let _guard = lock_outbox().await;
    let mut out = outbox().await;
    // Ending a job again after a restart half-way replaces its report.
    out.retain(|p| p.report.request_id != report.request_id);
    out.push(Pending {
        url: endpoints.report_url.clone(),
        token: endpoints.token.clone(),
        report,
    });
    if let Err(e) = storage::set(Area::Local, OUTBOX_KEY, &out).await {
        crate::console_warn(&format!("could not keep a final report: {e}"));
    }
}

/// Sends what the outbox holds, oldest first; keeps what still fails and
/// sets an alarm to try again. One flush runs at a time; reports kept while
/// it sends stay for the next.
pub async fn flush_outbox() {
    let _flushing = FLUSH_LOCK.with(Arc::clone).lock_owned().await;
    let out = {
        let _guard = lock_outbox().await;
        outbox().await
    };
    if out.is_empty() {
        return;
    }
    let now = js_sys::Date::now() as u64;
    // Delivered, refused for good, or too old: (request id, seq).
    let mut done: Vec<(String, u32)> = Vec::new();
    for p in &out {
        let key = (p.report.request_id.clone(), p.report.seq);
        if now.saturating_sub(p.report.at_ms) > OUTBOX_MAX_AGE_MS {
            done.push(key);
            continue;
        }
        match send(p).await {
            Ok(()) => done.push(key),
            Err(e) if permanent(&e) => {
                crate::console_warn(&format!(
                    "final report for {} refused, not re-sent: {e}",
                    p.report.request_id
                ));
                done.push(key);
            }
            Err(e) => crate::console_warn(&format!(
                "final report for {} kept for re-sending: {e}",
                p.report.request_id
            )),
        }
    }
    let _guard = lock_outbox().await;
    let mut keep = outbox().await;
    keep.retain(|p| !done.contains(&(p.report.request_id.clone(), p.report.seq)));
    let _ = storage::set(Area::Local, OUTBOX_KEY, &keep).await;
    if !keep.is_empty() {
        let _ = chrome_api::alarms::once(OUTBOX_ALARM, 0.5).await;
    }
}
