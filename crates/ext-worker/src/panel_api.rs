//! Calls to the admin panel: the vault's attestation and job reports.
//!
//! Reports are never lost: one the panel did not acknowledge goes to an
//! outbox in `chrome.storage.local` (it survives a browser restart) and is
//! re-sent on the next report, when the worker starts, and by an alarm. The
//! panel ignores a report it has already seen (by request id and `seq`).

use chrome_api::http;
use chrome_api::storage::{self, Area};
use protocol::panel::PanelEndpoints;
use protocol::report::{AttestationRequest, JobReport};
use serde::{Deserialize, Serialize};

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

async fn outbox() -> Vec<Pending> {
    storage::get(Area::Local, OUTBOX_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Sends a report; on failure keeps it for later. Progress reports are
/// best-effort (a newer one replaces them); final ones are kept until sent.
pub async fn report(endpoints: &PanelEndpoints, report: JobReport) {
    let pending = Pending {
        url: endpoints.report_url.clone(),
        token: endpoints.token.clone(),
        report,
    };
    flush_outbox().await;
    match send(&pending).await {
        Ok(()) => {}
        // A 4xx other than 408/429 will not get better by re-sending.
        Err(PanelError::Refused { status, .. })
            if (400..500).contains(&status) && status != 408 && status != 429 => {}
        Err(e) => {
            crate::console_warn(&format!(
                "report for {} kept for re-sending: {e}",
                pending.report.request_id
            ));
            if pending.report.state.is_final() {
                let mut out = outbox().await;
                out.push(pending);
                let _ = storage::set(Area::Local, OUTBOX_KEY, &out).await;
                let _ = chrome_api::alarms::once(OUTBOX_ALARM, 0.5).await;
            }
        }
    }
}

/// Re-sends what the outbox holds; keeps what still fails.
pub async fn flush_outbox() {
    let out = outbox().await;
    if out.is_empty() {
        return;
    }
    let now = js_sys::Date::now() as u64;
    let mut keep = Vec::new();
    for p in out {
        if now.saturating_sub(p.report.at_ms) > OUTBOX_MAX_AGE_MS {
            continue;
        }
        match send(&p).await {
            Ok(()) => {}
            Err(PanelError::Refused { status, .. })
                if (400..500).contains(&status) && status != 408 && status != 429 => {}
            Err(_) => keep.push(p),
        }
    }
    let _ = storage::set(Area::Local, OUTBOX_KEY, &keep).await;
    if !keep.is_empty() {
        let _ = chrome_api::alarms::once(OUTBOX_ALARM, 0.5).await;
    }
}
