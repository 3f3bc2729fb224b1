//! The service worker's Rust side.
//!
//! `extension/background.js` registers every listener synchronously when the
//! worker starts (an MV3 rule: a listener added later misses the event that
//! woke the worker), awaits [`start`], and forwards each event here. The
//! exported functions below are those entry points; each returns a plain JS
//! value and never throws, so a failure always reaches the caller as a
//! [`protocol::panel::Refusal`].
//!
//! * `queue`: the persisted job queue; `runner`: one job at a time, driven
//!   by the engine; `events`: routing browser events to the running job;
//! * `panel_api`: the vault and report endpoints of the panel; `logbook`:
//!   Show Logs entries; `settings`: the Options page's settings.

mod english;
mod events;
mod logbook;
mod panel_api;
mod queue;
mod runner;
mod settings;

use chrome_api::{ChromeError, windows};
use protocol::actuator::{ActuatorMessage, WebauthnAnswer};
use protocol::panel::{
    ExtensionResponse, Mode, PanelRequest, Pong, Provision, RequestError, SelfTestResult,
    StatusReport, parse_request,
};
use protocol::report::{AttestationRequest, JobState};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// Where the self-test opens its incognito window.
const SELF_TEST_URL: &str = "https://login.microsoftonline.com/";
/// How long the self-test waits for the actuator's first snapshot.
const SELF_TEST_TIMEOUT_MS: u32 = 20_000;
/// The only origin whose `navigator.credentials.create` the vault answers.
const FIDO_ORIGIN: &str = "https://login.microsoft.com";
/// Requests waiting at most; more are refused rather than queued for hours.
const MAX_QUEUE: usize = 1000;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn js_warn(s: &str);
}

/// Worker-side diagnostics. Callers never pass secrets.
pub(crate) fn console_warn(s: &str) {
    js_warn(&format!("[passkey-provisioner] {s}"));
}

/// The parts of `chrome.runtime.MessageSender` we rely on.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sender {
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    tab: Option<chrome_api::tabs::Tab>,
}

impl Sender {
    /// The sender's origin as Chrome reports it; derived from the URL for
    /// older browsers that do not fill `origin`.
    fn origin(&self) -> String {
        if let Some(o) = &self.origin {
            return o.clone();
        }
        let url = self.url.as_deref().unwrap_or_default();
        match url.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                format!("{scheme}://{host}")
            }
            None => "null".to_string(),
        }
    }
}

fn to_js<T: serde::Serialize>(v: &T) -> JsValue {
    chrome_api::to_js("response", v).unwrap_or_else(|e| JsValue::from_str(&e.to_string()))
}

fn internal(e: ChromeError) -> RequestError {
    RequestError::Internal {
        detail: e.to_string(),
    }
}

/// Loads the persisted queue and resumes a job a stopped worker left
/// running. background.js awaits this before handing over any event.
#[wasm_bindgen]
pub async fn start() {
    if let Err(e) = queue::load().await {
        console_warn(&format!("could not load the queue: {e}"));
    }
    let resumed = queue::with(|s| s.running.as_ref().map(|r| (r.window_id, r.tab_id)));
    if let Some((Some(window_id), Some(tab_id))) = resumed {
        events::preattach(events::Target { window_id, tab_id });
    }
    // Rules a stopped worker left for a tab that is gone.
    wasm_bindgen_futures::spawn_local(english::remove_stale());
    if queue::with(|s| s.running.is_some() || !s.waiting.is_empty()) {
        runner::kick();
    } else {
        wasm_bindgen_futures::spawn_local(panel_api::flush_outbox());
    }
}

/// `chrome.runtime.onMessageExternal`: a request from a panel page.
#[wasm_bindgen]
pub async fn on_external_message(message: JsValue, sender: JsValue) -> JsValue {
    let sender: Sender = serde_wasm_bindgen::from_value(sender).unwrap_or_default();
    let resp = match handle_external(message, &sender).await {
        Ok(r) => r,
        Err(e) => e.into(),
    };
    to_js(&resp)
}

async fn handle_external(
    message: JsValue,
    sender: &Sender,
) -> Result<ExtensionResponse, RequestError> {
    let origin = sender.origin();
    let settings = settings::load().await.map_err(internal)?;
    if !protocol::origin::is_allowed(&settings.allowed_origins, &origin) {
        return Err(RequestError::OriginNotAllowed { origin });
    }
    // Measure the request as JSON text, the size a panel developer would
    // think of; values that are not JSON (functions, cycles) are malformed.
    let text = js_sys::JSON::stringify(&message)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| RequestError::Malformed {
            kind: "?".into(),
            detail: "not representable as JSON".into(),
        })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| RequestError::Malformed {
            kind: "?".into(),
            detail: e.to_string(),
        })?;
    match parse_request(value, text.len())? {
        PanelRequest::Ping => Ok(ExtensionResponse::Pong(pong().await?)),
        PanelRequest::SelfTest => Ok(ExtensionResponse::SelfTestResult(self_test().await?)),
        PanelRequest::Provision(p) => {
            // The vault and report calls carry the request's token: they go
            // only to the panel that sent it, never to a URL it names.
            p.panel.check_sender_origin(&origin)?;
            provision(*p).await
        }
        PanelRequest::Status { request_id } => Ok(ExtensionResponse::Status(status_report(
            request_id.as_deref(),
        ))),
        PanelRequest::Cancel { request_id } => cancel(&request_id).await,
    }
}

async fn pong() -> Result<Pong, RequestError> {
    let (busy, queue_length) = queue::with(|s| (s.running.is_some(), s.waiting.len() as u32));
    Ok(Pong {
        version: chrome_api::runtime::version(),
        protocol_version: protocol::PROTOCOL_VERSION,
        incognito_allowed: chrome_api::extension::is_allowed_incognito_access()
            .await
            .map_err(internal)?,
        busy,
        queue_length,
    })
}

async fn provision(p: Provision) -> Result<ExtensionResponse, RequestError> {
    if !chrome_api::extension::is_allowed_incognito_access()
        .await
        .map_err(internal)?
    {
        return Err(RequestError::IncognitoNotAllowed);
    }
    let outcome = queue::update(|s| {
        let running = s.running.as_ref().map(|r| &r.provision);
        // The same request again (a panel retrying): answer as before.
        if running.is_some_and(|r| r.request_id == p.request_id) {
            return Ok(0);
        }
        // Position: how many jobs are ahead (0 = next to run, or running).
        let busy = u32::from(s.running.is_some());
        let ahead = move |index: usize| index as u32 + busy;
        if let Some(i) = s.waiting.iter().position(|w| w.request_id == p.request_id) {
            return Ok(ahead(i));
        }
        if let Some(f) = s.finished.iter().find(|f| f.request_id == p.request_id) {
            return Err(RequestError::AlreadyFinished {
                request_id: f.request_id.clone(),
                state: f.state.as_str().to_string(),
            });
        }
        // Another request for a user already queued or running: refused, so
        // one user never gets two keys from one click.
        let same_user = |q: &Provision| q.user.object_id.eq_ignore_ascii_case(&p.user.object_id);
        if running.is_some_and(same_user) || s.waiting.iter().any(same_user) {
            return Err(RequestError::AlreadyQueued {
                upn: p.user.upn.clone(),
            });
        }
        if s.waiting.len() >= MAX_QUEUE {
            return Err(RequestError::Internal {
                detail: format!("the queue is full ({MAX_QUEUE} requests)"),
            });
        }
        s.waiting.push(p.clone());
        Ok(ahead(s.waiting.len() - 1))
    })?;
    runner::kick();
    Ok(ExtensionResponse::Accepted {
        request_id: p.request_id,
        position: outcome,
    })
}

/// A secret-free picture of the queue, for `status` and the popup.
pub(crate) fn status_report(request_id: Option<&str>) -> StatusReport {
    queue::with(|s| {
        let running = s.running.as_ref();
        let job = match request_id {
            None => running.map(running_report),
            Some(id) => {
                if let Some(r) = running.filter(|r| r.provision.request_id == id) {
                    Some(running_report(r))
                } else if s.waiting.iter().any(|w| w.request_id == id) {
                    Some(protocol::report::JobReport {
                        request_id: id.to_string(),
                        seq: 0,
                        state: JobState::Queued,
                        step: Some(runner::queued_step().into()),
                        progress: 0.0,
                        at_ms: runner::now_ms(),
                        result: None,
                        error: None,
                    })
                } else {
                    s.finished
                        .iter()
                        .rev()
                        .find(|f| f.request_id == id)
                        .cloned()
                }
            }
        };
        StatusReport {
            busy: running.is_some(),
            queue_length: s.waiting.len() as u32,
            job,
            running_user: running.map(|r| {
                format!(
                    "{} <{}>",
                    r.provision.user.display_name, r.provision.user.upn
                )
            }),
        }
    })
}

fn running_report(r: &queue::Running) -> protocol::report::JobReport {
    protocol::report::JobReport {
        request_id: r.provision.request_id.clone(),
        seq: r.seq,
        state: JobState::Running,
        step: Some(r.job.step.name().into()),
        progress: r.job.step.progress(),
        at_ms: runner::now_ms(),
        result: None,
        error: None,
    }
}

async fn cancel(request_id: &str) -> Result<ExtensionResponse, RequestError> {
    let running = queue::with(|s| {
        s.running
            .as_ref()
            .is_some_and(|r| r.provision.request_id == request_id)
    });
    if running {
        events::push(|_| true, events::JobEvent::Cancel);
        return Ok(ExtensionResponse::Status(status_report(Some(request_id))));
    }
    let waiting = queue::update(|s| {
        let i = s.waiting.iter().position(|w| w.request_id == request_id)?;
        Some(s.waiting.remove(i))
    });
    match waiting {
        Some(p) => {
            runner::cancel_waiting(p).await;
            Ok(ExtensionResponse::Status(status_report(Some(request_id))))
        }
        None => Err(RequestError::UnknownRequest {
            request_id: request_id.to_string(),
        }),
    }
}

async fn self_test() -> Result<SelfTestResult, RequestError> {
    if !chrome_api::extension::is_allowed_incognito_access()
        .await
        .map_err(internal)?
    {
        return Err(RequestError::IncognitoNotAllowed);
    }
    let started = js_sys::Date::now();
    let window = windows::create(&windows::CreateData {
        url: SELF_TEST_URL.to_string(),
        incognito: true,
        focused: false,
        state: None,
    })
    .await
    .map_err(internal)?;
    let report = events::self_test_report(window.id, SELF_TEST_TIMEOUT_MS).await;
    // Close the window whatever happened; a failure to close is not the
    // self-test's result.
    let _ = windows::remove(window.id).await;
    let (snapshot, incognito) = report.ok_or(RequestError::Timeout {
        step: "selfTest.actuatorReport".into(),
        timeout_ms: SELF_TEST_TIMEOUT_MS.into(),
    })?;
    Ok(SelfTestResult {
        url: snapshot.url,
        title: snapshot.title,
        incognito,
        elapsed_ms: (js_sys::Date::now() - started).max(0.0) as u64,
    })
}

/// `chrome.runtime.onMessage`: a report from our own content scripts (or a
/// message from our own pages, which are ignored here).
#[wasm_bindgen]
pub async fn on_internal_message(message: JsValue, sender: JsValue) -> JsValue {
    let sender: Sender = serde_wasm_bindgen::from_value(sender).unwrap_or_default();
    // Only this extension's own scripts may use the internal channel.
    if sender.id.as_deref() != Some(chrome_api::runtime::id().as_str()) {
        return JsValue::from_bool(false);
    }
    let msg = match serde_wasm_bindgen::from_value::<ActuatorMessage>(message) {
        Ok(m) => m,
        Err(e) => {
            // Says which field, never the page's data.
            let what: String = e.to_string().chars().take(120).collect();
            console_warn(&format!("a message from a page was not understood: {what}"));
            return JsValue::from_bool(false);
        }
    };
    let Some(tab) = sender.tab.clone() else {
        return JsValue::from_bool(false);
    };
    let (Some(tab_id), Some(window_id)) = (tab.id, tab.window_id) else {
        return JsValue::from_bool(false);
    };
    let is_job_tab = move |t: events::Target| t.tab_id == tab_id;
    match msg {
        ActuatorMessage::Snapshot { snapshot, .. } => {
            if !events::push(is_job_tab, events::JobEvent::Snapshot(snapshot.clone())) {
                events::deliver_self_test(window_id, snapshot, tab.incognito);
            }
            JsValue::from_bool(true)
        }
        ActuatorMessage::WebauthnObserved { credential_id } => {
            events::push(is_job_tab, events::JobEvent::Observed { credential_id });
            JsValue::from_bool(true)
        }
        ActuatorMessage::WebauthnCreate { options } => {
            to_js(&webauthn_create(&sender, tab_id, options).await)
        }
        ActuatorMessage::WebauthnGet { options } => {
            to_js(&webauthn_get(&sender, tab_id, options).await)
        }
    }
}

/// Answers the page's `navigator.credentials.create` from the vault, only for
/// the running automatic job's tab, on login.microsoft.com's FIDO page, for
/// RP ID login.microsoft.com and the job's user, once. Anything else goes to
/// the browser (`Fallback`).
async fn webauthn_create(
    sender: &Sender,
    tab_id: i32,
    options: serde_json::Value,
) -> WebauthnAnswer {
    if events::current().map(|t| t.tab_id) != Some(tab_id) {
        return WebauthnAnswer::Fallback;
    }
    let Some(running) = queue::with(|s| s.running.clone()) else {
        return WebauthnAnswer::Fallback;
    };
    if running.provision.mode == Mode::Manual {
        // The administrator's own authenticator answers; the job only needs
        // to know the ceremony happened (the credential id follows if the
        // page lives long enough to report it).
        events::push(|t| t.tab_id == tab_id, events::JobEvent::CeremonyStarted);
        return WebauthnAnswer::Fallback;
    }
    // The origin comes from the browser's view of the sender, never from
    // what the page says.
    let origin = sender.origin();
    let path_ok = sender.url.as_deref().is_some_and(|u| {
        u.split(['?', '#'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .ends_with("/fido/create")
    });
    if origin != FIDO_ORIGIN || !path_ok {
        return WebauthnAnswer::Fallback;
    }
    let rp_id = options["rp"]["id"]
        .as_str()
        .unwrap_or("login.microsoft.com");
    if rp_id != "login.microsoft.com" {
        return WebauthnAnswer::Fallback;
    }
    let user_name = options["user"]["name"].as_str().unwrap_or("");
    if !user_name.eq_ignore_ascii_case(&running.provision.user.upn) {
        let detail = "the page asked for a credential for another user than the job's".to_string();
        events::push(
            |t| t.tab_id == tab_id,
            events::JobEvent::VaultFailed(engine::Failure::VaultFailed {
                detail: detail.clone(),
            }),
        );
        return WebauthnAnswer::Error { message: detail };
    }
    let first = queue::update(|s| match s.running.as_mut() {
        Some(r) if r.provision.request_id == running.provision.request_id && !r.attested => {
            r.attested = true;
            true
        }
        _ => false,
    });
    if !first {
        return WebauthnAnswer::Error {
            message: "the vault already answered this request".into(),
        };
    }
    let request = AttestationRequest {
        request_id: running.provision.request_id.clone(),
        origin,
        public_key: options,
    };
    match panel_api::attest(&running.provision.panel, &request).await {
        Ok(credential) => {
            let id = credential["id"].as_str().unwrap_or_default().to_string();
            events::push(
                |t| t.tab_id == tab_id,
                events::JobEvent::Attested { credential_id: id },
            );
            WebauthnAnswer::Credential { credential }
        }
        Err(e) => {
            let failure = e.to_failure(&running.provision.user.upn);
            let message = failure.to_string();
            events::push(
                |t| t.tab_id == tab_id,
                events::JobEvent::VaultFailed(failure),
            );
            WebauthnAnswer::Error { message }
        }
    }
}

/// Whether the sender is `https://login.microsoft.com` at a path ending in
/// `suffix`, as the browser (not the page) reports it.
fn sender_on_fido_page(sender: &Sender, suffix: &str) -> bool {
    let path_ok = sender.url.as_deref().is_some_and(|u| {
        u.split(['?', '#'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .ends_with(suffix)
    });
    sender.origin() == FIDO_ORIGIN && path_ok
}

/// Answers the sign-in check's `navigator.credentials.get` from the vault:
/// only in the running automatic job's tab, during its sign-in check, on
/// login.microsoft.com's FIDO sign-in page, for RP ID login.microsoft.com.
async fn webauthn_get(sender: &Sender, tab_id: i32, options: serde_json::Value) -> WebauthnAnswer {
    if events::current().map(|t| t.tab_id) != Some(tab_id) {
        return WebauthnAnswer::Fallback;
    }
    let Some(running) = queue::with(|s| s.running.clone()) else {
        return WebauthnAnswer::Fallback;
    };
    if running.provision.mode == Mode::Manual
        || running.job.step != engine::Step::VerifySignIn
        || running.provision.panel.assertion_url.is_none()
        || !sender_on_fido_page(sender, "/fido/get")
        || options["rpId"].as_str().unwrap_or("login.microsoft.com") != "login.microsoft.com"
    {
        return WebauthnAnswer::Fallback;
    }
    let request = AttestationRequest {
        request_id: running.provision.request_id.clone(),
        origin: sender.origin(),
        public_key: options,
    };
    match panel_api::assert(&running.provision.panel, &request).await {
        Ok(credential) => {
            events::push(|t| t.tab_id == tab_id, events::JobEvent::Asserted);
            WebauthnAnswer::Credential { credential }
        }
        Err(e) => WebauthnAnswer::Error {
            message: e.to_string(),
        },
    }
}

/// `chrome.windows.onRemoved`.
#[wasm_bindgen]
pub fn on_window_removed(window_id: i32) {
    events::push(|t| t.window_id == window_id, events::JobEvent::WindowClosed);
}

/// `chrome.alarms.onAlarm`.
#[wasm_bindgen]
pub async fn on_alarm(name: String) {
    // `runner::JOB_ALARM` needs nothing here: it exists to wake a stopped
    // worker, whose `start` resumes the job.
    if name == panel_api::OUTBOX_ALARM {
        panel_api::flush_outbox().await;
    }
}
