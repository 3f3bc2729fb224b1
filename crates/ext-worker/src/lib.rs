//! The service worker's Rust side.
//!
//! `extension/background.js` registers every listener synchronously when the
//! worker starts (an MV3 rule: a listener added later misses the event that
//! woke the worker) and forwards each event here once the WASM is loaded. The
//! exported functions below are those entry points; each returns a plain JS
//! value and never throws, so a failure always reaches the caller as a
//! [`protocol::panel::Refusal`].

mod settings;
mod waiters;

use chrome_api::{ChromeError, windows};
use protocol::actuator::ActuatorMessage;
use protocol::panel::{
    ExtensionResponse, PanelRequest, Pong, RequestError, SelfTestResult, parse_request,
};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// Where the self-test opens its incognito window.
const SELF_TEST_URL: &str = "https://login.microsoftonline.com/";
/// How long the self-test waits for the actuator's first snapshot.
const SELF_TEST_TIMEOUT_MS: u32 = 20_000;

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

fn to_js(resp: &ExtensionResponse) -> JsValue {
    chrome_api::to_js("response", resp).unwrap_or_else(|e| JsValue::from_str(&e.to_string()))
}

fn internal(e: ChromeError) -> RequestError {
    RequestError::Internal {
        detail: e.to_string(),
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
        PanelRequest::Provision(_) | PanelRequest::Status { .. } | PanelRequest::Cancel { .. } => {
            Err(RequestError::Internal {
                detail: "provisioning is not available in this build yet".into(),
            })
        }
    }
}

async fn pong() -> Result<Pong, RequestError> {
    Ok(Pong {
        version: chrome_api::runtime::version(),
        protocol_version: protocol::PROTOCOL_VERSION,
        incognito_allowed: chrome_api::extension::is_allowed_incognito_access()
            .await
            .map_err(internal)?,
        busy: false,
        queue_length: 0,
    })
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
    let report = waiters::first_snapshot(window.id, SELF_TEST_TIMEOUT_MS).await;
    // Close the window whatever happened; a failure to close is not the
    // self-test's result.
    let _ = windows::remove(window.id).await;
    let report = report.ok_or(RequestError::Timeout {
        step: "selfTest.actuatorReport".into(),
        timeout_ms: SELF_TEST_TIMEOUT_MS.into(),
    })?;
    Ok(SelfTestResult {
        url: report.snapshot.url,
        title: report.snapshot.title,
        incognito: report.incognito,
        elapsed_ms: (js_sys::Date::now() - started).max(0.0) as u64,
    })
}

/// `chrome.runtime.onMessage`: a report from our own content scripts.
#[wasm_bindgen]
pub async fn on_internal_message(message: JsValue, sender: JsValue) -> JsValue {
    let sender: Sender = serde_wasm_bindgen::from_value(sender).unwrap_or_default();
    // Only this extension's own scripts may use the internal channel.
    if sender.id.as_deref() != Some(chrome_api::runtime::id().as_str()) {
        return JsValue::from_bool(false);
    }
    let Ok(msg) = serde_wasm_bindgen::from_value::<ActuatorMessage>(message) else {
        return JsValue::from_bool(false);
    };
    let Some(tab) = sender.tab else {
        return JsValue::from_bool(false);
    };
    match msg {
        ActuatorMessage::Snapshot { snapshot, .. } => {
            if let Some(window_id) = tab.window_id {
                waiters::deliver(
                    window_id,
                    waiters::Report {
                        snapshot,
                        incognito: tab.incognito,
                    },
                );
            }
        }
    }
    JsValue::from_bool(true)
}
