//! The few `chrome.*` APIs the extension calls, declared as a typed `extern`
//! block (as webauthn-rs does for missing browser methods) rather than reached
//! through untyped reflection, and wrapped so every failure becomes one
//! [`ChromeError`] naming the API that failed.
//!
//! Nothing here decides anything: it only moves data between Rust and the
//! browser.

use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::prelude::*;

mod sys {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = getManifest)]
        pub fn get_manifest() -> JsValue;
        #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = id, thread_local_v2)]
        pub static RUNTIME_ID: String;

        #[wasm_bindgen(js_namespace = ["chrome", "extension"], js_name = isAllowedIncognitoAccess, catch)]
        pub async fn is_allowed_incognito_access() -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "windows"], js_name = create, catch)]
        pub async fn windows_create(data: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "windows"], js_name = remove, catch)]
        pub async fn windows_remove(id: i32) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
        pub async fn tabs_create(data: JsValue) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = get, catch)]
        pub async fn local_get(keys: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = set, catch)]
        pub async fn local_set(items: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "storage", "session"], js_name = get, catch)]
        pub async fn session_get(keys: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "storage", "session"], js_name = set, catch)]
        pub async fn session_set(items: JsValue) -> Result<JsValue, JsValue>;
    }
}

/// A failed call into the browser, or data from it that did not have the
/// expected shape. The message is the browser's own (`chrome.runtime.lastError`
/// text) so a log line says what Chrome said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{api}: {message}")]
pub struct ChromeError {
    pub api: &'static str,
    pub message: String,
}

impl ChromeError {
    /// Turns whatever a rejected promise carried into a message.
    pub fn from_js(api: &'static str, value: JsValue) -> Self {
        let message = if let Some(e) = value.dyn_ref::<js_sys::Error>() {
            String::from(e.message())
        } else if let Some(s) = value.as_string() {
            s
        } else {
            js_sys::JSON::stringify(&value)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| "unknown error".to_string())
        };
        Self { api, message }
    }

    fn shape(api: &'static str, e: impl std::fmt::Display) -> Self {
        Self {
            api,
            message: format!("unexpected data: {e}"),
        }
    }
}

/// Converts a Rust value into the plain JS object Chrome's APIs expect
/// (maps become objects, not `Map`s).
pub fn to_js<T: Serialize + ?Sized>(api: &'static str, value: &T) -> Result<JsValue, ChromeError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| ChromeError::shape(api, e))
}

/// Converts a JS value into a Rust type, naming the API on failure.
pub fn from_js<T: DeserializeOwned>(api: &'static str, value: JsValue) -> Result<T, ChromeError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| ChromeError::shape(api, e))
}

pub mod runtime {
    use super::*;

    /// This extension's id.
    pub fn id() -> String {
        sys::RUNTIME_ID.with(Clone::clone)
    }

    /// The `version` field of the manifest.
    pub fn version() -> String {
        js_sys::Reflect::get(&sys::get_manifest(), &JsValue::from_str("version"))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    }
}

pub mod extension {
    use super::*;

    /// Whether "Allow in Incognito" is on.
    pub async fn is_allowed_incognito_access() -> Result<bool, ChromeError> {
        const API: &str = "chrome.extension.isAllowedIncognitoAccess";
        let v = sys::is_allowed_incognito_access()
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        v.as_bool()
            .ok_or_else(|| ChromeError::shape(API, "not a boolean"))
    }
}

pub mod windows {
    use super::*;
    use serde::Deserialize;

    /// `chrome.windows.create` options we use.
    #[derive(Debug, Clone, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CreateData {
        pub url: String,
        pub incognito: bool,
        pub focused: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub state: Option<&'static str>,
    }

    #[derive(Debug, Clone, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Window {
        pub id: i32,
        #[serde(default)]
        pub incognito: bool,
        #[serde(default)]
        pub tabs: Vec<super::tabs::Tab>,
    }

    pub async fn create(data: &CreateData) -> Result<Window, ChromeError> {
        const API: &str = "chrome.windows.create";
        let v = sys::windows_create(to_js(API, data)?)
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        from_js(API, v)
    }

    pub async fn remove(id: i32) -> Result<(), ChromeError> {
        sys::windows_remove(id)
            .await
            .map(drop)
            .map_err(|e| ChromeError::from_js("chrome.windows.remove", e))
    }
}

pub mod tabs {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Tab {
        #[serde(default)]
        pub id: Option<i32>,
        #[serde(default)]
        pub window_id: Option<i32>,
        #[serde(default)]
        pub incognito: bool,
        #[serde(default)]
        pub url: Option<String>,
    }

    /// Opens a tab in the current window (used for chrome://extensions).
    pub async fn create(url: &str) -> Result<(), ChromeError> {
        const API: &str = "chrome.tabs.create";
        #[derive(Serialize)]
        struct Data<'a> {
            url: &'a str,
        }
        sys::tabs_create(to_js(API, &Data { url })?)
            .await
            .map(drop)
            .map_err(|e| ChromeError::from_js(API, e))
    }
}

/// `chrome.storage.local` / `chrome.storage.session`, one JSON value per key.
pub mod storage {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Area {
        /// Survives browser restarts: settings, logs, unsent reports.
        Local,
        /// Survives service worker restarts, not browser restarts: job state.
        Session,
    }

    /// Reads one key; `None` when it was never written.
    pub async fn get<T: DeserializeOwned>(area: Area, key: &str) -> Result<Option<T>, ChromeError> {
        let api = match area {
            Area::Local => "chrome.storage.local.get",
            Area::Session => "chrome.storage.session.get",
        };
        let keys = JsValue::from_str(key);
        let all = match area {
            Area::Local => sys::local_get(keys).await,
            Area::Session => sys::session_get(keys).await,
        }
        .map_err(|e| ChromeError::from_js(api, e))?;
        let v = js_sys::Reflect::get(&all, &JsValue::from_str(key))
            .map_err(|e| ChromeError::from_js(api, e))?;
        if v.is_undefined() {
            Ok(None)
        } else {
            from_js(api, v).map(Some)
        }
    }

    /// Writes one key.
    pub async fn set<T: Serialize + ?Sized>(
        area: Area,
        key: &str,
        value: &T,
    ) -> Result<(), ChromeError> {
        let api = match area {
            Area::Local => "chrome.storage.local.set",
            Area::Session => "chrome.storage.session.set",
        };
        let items = js_sys::Object::new();
        js_sys::Reflect::set(&items, &JsValue::from_str(key), &to_js(api, value)?)
            .map_err(|e| ChromeError::from_js(api, e))?;
        match area {
            Area::Local => sys::local_set(items.into()).await,
            Area::Session => sys::session_set(items.into()).await,
        }
        .map(drop)
        .map_err(|e| ChromeError::from_js(api, e))
    }
}
