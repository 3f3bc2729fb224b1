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

        #[wasm_bindgen(js_namespace = ["chrome", "windows"], js_name = get, catch)]
        pub async fn windows_get(id: i32, query: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "windows"], js_name = update, catch)]
        pub async fn windows_update(id: i32, info: JsValue) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
        pub async fn tabs_create(data: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = get, catch)]
        pub async fn tabs_get(id: i32) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = update, catch)]
        pub async fn tabs_update(id: i32, data: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "tabs", "onUpdated"], js_name = addListener)]
        pub fn tabs_on_updated_add(listener: &js_sys::Function);
        #[wasm_bindgen(js_namespace = ["chrome", "tabs", "onUpdated"], js_name = removeListener)]
        pub fn tabs_on_updated_remove(listener: &js_sys::Function);
        #[wasm_bindgen(js_name = setTimeout)]
        pub fn set_timeout(handler: &js_sys::Function, ms: u32) -> JsValue;
        #[wasm_bindgen(js_name = clearTimeout)]
        pub fn clear_timeout(id: &JsValue);
        #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = sendMessage, catch)]
        pub async fn tabs_send_message(id: i32, message: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = captureVisibleTab, catch)]
        pub async fn tabs_capture_visible_tab(
            window_id: i32,
            options: JsValue,
        ) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "cookies"], js_name = getAll, catch)]
        pub async fn cookies_get_all(details: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "cookies"], js_name = remove, catch)]
        pub async fn cookies_remove(details: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "cookies"], js_name = getAllCookieStores, catch)]
        pub async fn cookies_get_all_cookie_stores() -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "declarativeNetRequest"], js_name = updateSessionRules, catch)]
        pub async fn dnr_update_session_rules(options: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "declarativeNetRequest"], js_name = getSessionRules, catch)]
        pub async fn dnr_get_session_rules() -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = contains, catch)]
        pub async fn permissions_contains(permissions: JsValue) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = create, catch)]
        pub async fn alarms_create(name: &str, info: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = clear, catch)]
        pub async fn alarms_clear(name: &str) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = getPlatformInfo, catch)]
        pub async fn get_platform_info() -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage, catch)]
        pub async fn runtime_send_message(message: JsValue) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_name = fetch, catch)]
        pub async fn fetch(url: &str, init: JsValue) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_namespace = AbortSignal, js_name = timeout)]
        pub fn abort_signal_timeout(ms: u32) -> JsValue;

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

pub mod runtime_ext {
    use super::*;

    /// A cheap extension API call. Since Chrome 110 each one resets the
    /// service worker's idle timer; a running job calls it periodically so
    /// a long wait (manual mode) does not get the worker stopped.
    pub async fn keep_alive() {
        let _ = sys::get_platform_info().await;
    }

    /// Broadcasts to the extension's own pages (popup, logs) that state
    /// changed. Nobody listening is not an error.
    pub async fn broadcast<T: Serialize>(message: &T) {
        if let Ok(v) = to_js("chrome.runtime.sendMessage", message) {
            let _ = sys::runtime_send_message(v).await;
        }
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

    /// Whether the window still exists.
    pub async fn exists(id: i32) -> bool {
        sys::windows_get(id, JsValue::UNDEFINED).await.is_ok()
    }

    /// Shows a minimized window again without focusing it (a screenshot of
    /// a minimized window has nothing visible to capture).
    pub async fn restore(id: i32) -> Result<(), ChromeError> {
        const API: &str = "chrome.windows.update";
        #[derive(Serialize)]
        struct Info {
            state: &'static str,
            focused: bool,
        }
        let info = to_js(
            API,
            &Info {
                state: "normal",
                focused: false,
            },
        )?;
        sys::windows_update(id, info)
            .await
            .map(drop)
            .map_err(|e| ChromeError::from_js(API, e))
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
        #[serde(default)]
        pub pending_url: Option<String>,
        #[serde(default)]
        pub status: Option<String>,
    }

    /// A tab as the browser sees it now (its URL only when the extension
    /// has host permission for it).
    pub async fn get(id: i32) -> Result<Tab, ChromeError> {
        const API: &str = "chrome.tabs.get";
        let v = sys::tabs_get(id)
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        from_js(API, v)
    }

    /// Waits until the tab has finished loading (`status` "complete"), at
    /// most `timeout_ms`. Returns whether it did. Listens to
    /// `chrome.tabs.onUpdated` only while waiting (the worker is awake: this
    /// is no wake-up event that a late listener could miss).
    pub async fn loaded(id: i32, timeout_ms: u32) -> Result<bool, ChromeError> {
        let mut resolve_slot: Option<js_sys::Function> = None;
        let promise = js_sys::Promise::new(&mut |resolve, _reject| resolve_slot = Some(resolve));
        let resolve = resolve_slot.ok_or_else(|| ChromeError::shape("Promise", "no resolver"))?;
        let on_update = {
            let resolve = resolve.clone();
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |tab_id: JsValue, info: JsValue| {
                let complete = js_sys::Reflect::get(&info, &JsValue::from_str("status"))
                    .ok()
                    .and_then(|v| v.as_string())
                    .is_some_and(|s| s == "complete");
                if complete && tab_id.as_f64() == Some(f64::from(id)) {
                    let _ = resolve.call1(&JsValue::NULL, &JsValue::TRUE);
                }
            })
        };
        let on_timeout = {
            let resolve = resolve.clone();
            Closure::<dyn FnMut()>::new(move || {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::FALSE);
            })
        };
        // Listen first, then look: a load that completes in between is seen
        // either way.
        sys::tabs_on_updated_add(on_update.as_ref().unchecked_ref());
        let timer = sys::set_timeout(on_timeout.as_ref().unchecked_ref(), timeout_ms);
        match get(id).await {
            Ok(t) if t.status.as_deref() == Some("complete") => {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::TRUE);
            }
            Ok(_) => {}
            Err(e) => {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::FALSE);
                sys::tabs_on_updated_remove(on_update.as_ref().unchecked_ref());
                sys::clear_timeout(&timer);
                return Err(e);
            }
        }
        let done = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        sys::tabs_on_updated_remove(on_update.as_ref().unchecked_ref());
        sys::clear_timeout(&timer);
        Ok(done)
    }

    /// Navigates a tab.
    pub async fn navigate(id: i32, url: &str) -> Result<(), ChromeError> {
        const API: &str = "chrome.tabs.update";
        #[derive(Serialize)]
        struct Data<'a> {
            url: &'a str,
        }
        sys::tabs_update(id, to_js(API, &Data { url })?)
            .await
            .map(drop)
            .map_err(|e| ChromeError::from_js(API, e))
    }

    /// Sends a message to the content scripts of a tab and returns the
    /// answer. Fails when no content script listens (page still loading).
    pub async fn send_message<T: Serialize, R: DeserializeOwned>(
        id: i32,
        message: &T,
    ) -> Result<R, ChromeError> {
        const API: &str = "chrome.tabs.sendMessage";
        let v = sys::tabs_send_message(id, to_js(API, message)?)
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        from_js(API, v)
    }

    /// A PNG data URL of the window's visible tab. Needs the optional
    /// `<all_urls>` permission (DESIGN.md).
    pub async fn capture_visible(window_id: i32) -> Result<String, ChromeError> {
        const API: &str = "chrome.tabs.captureVisibleTab";
        #[derive(Serialize)]
        struct Options {
            format: &'static str,
        }
        let v = sys::tabs_capture_visible_tab(window_id, to_js(API, &Options { format: "png" })?)
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        v.as_string()
            .ok_or_else(|| ChromeError::shape(API, "not a string"))
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
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            from_js(api, v).map(Some)
        }
    }

    /// Writes one key.
    /// Removes one key.
    pub async fn remove(area: Area, key: &str) -> Result<(), ChromeError> {
        // Writing `undefined` is not removal; set() with null is the
        // portable way both areas accept, read back as "never written".
        set(area, key, &serde_json::Value::Null).await
    }

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

pub mod cookies {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CookieStore {
        pub id: String,
        #[serde(default)]
        pub tab_ids: Vec<i32>,
    }

    #[derive(Debug, Clone, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Cookie {
        name: String,
        domain: String,
        path: String,
        secure: bool,
        store_id: String,
    }

    /// Every cookie store the browser has now. The incognito store is
    /// listed only while a private window is open.
    pub async fn stores() -> Result<Vec<CookieStore>, ChromeError> {
        const API: &str = "chrome.cookies.getAllCookieStores";
        let v = sys::cookies_get_all_cookie_stores()
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        from_js(API, v)
    }

    /// Removes every cookie of `domain` (and its subdomains) in a store.
    /// Returns how many were removed.
    pub async fn clear_domain(store_id: &str, domain: &str) -> Result<usize, ChromeError> {
        const API: &str = "chrome.cookies.getAll";
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Query<'a> {
            domain: &'a str,
            store_id: &'a str,
        }
        let v = sys::cookies_get_all(to_js(API, &Query { domain, store_id })?)
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        let cookies: Vec<Cookie> = from_js(API, v)?;
        let mut removed = 0;
        for c in cookies {
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Remove<'a> {
                url: String,
                name: &'a str,
                store_id: &'a str,
            }
            let host = c.domain.trim_start_matches('.');
            let scheme = if c.secure { "https" } else { "http" };
            let details = Remove {
                url: format!("{scheme}://{host}{}", c.path),
                name: &c.name,
                store_id: &c.store_id,
            };
            sys::cookies_remove(to_js("chrome.cookies.remove", &details)?)
                .await
                .map_err(|e| ChromeError::from_js("chrome.cookies.remove", e))?;
            removed += 1;
        }
        Ok(removed)
    }
}

/// `chrome.declarativeNetRequest` session rules (they live until the
/// browser closes, and may be scoped to tabs with `condition.tabIds`).
/// Needs the `declarativeNetRequestWithHostAccess` permission; the rules act
/// only on hosts the extension has host permission for.
pub mod dnr {
    use super::*;
    use serde::Deserialize;

    /// The parts of a stored rule the caller needs to tidy up.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SessionRule {
        pub id: i32,
        #[serde(default)]
        pub condition: RuleCondition,
    }

    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RuleCondition {
        #[serde(default)]
        pub tab_ids: Vec<i32>,
    }

    /// Removes the rules `remove_rule_ids`, then adds `add_rules` (plain
    /// `declarativeNetRequest.Rule` objects), in one atomic call: either all
    /// of it happens or none.
    pub async fn update_session_rules<R: Serialize>(
        remove_rule_ids: &[i32],
        add_rules: &[R],
    ) -> Result<(), ChromeError> {
        const API: &str = "chrome.declarativeNetRequest.updateSessionRules";
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Options<'a, R> {
            remove_rule_ids: &'a [i32],
            add_rules: &'a [R],
        }
        let options = to_js(
            API,
            &Options {
                remove_rule_ids,
                add_rules,
            },
        )?;
        sys::dnr_update_session_rules(options)
            .await
            .map(drop)
            .map_err(|e| ChromeError::from_js(API, e))
    }

    /// Every session rule of this extension.
    pub async fn session_rules() -> Result<Vec<SessionRule>, ChromeError> {
        const API: &str = "chrome.declarativeNetRequest.getSessionRules";
        let v = sys::dnr_get_session_rules()
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        from_js(API, v)
    }
}

pub mod permissions {
    use super::*;

    /// Whether the optional `<all_urls>` host permission was granted.
    pub async fn has_all_urls() -> bool {
        #[derive(Serialize)]
        struct Query {
            origins: [&'static str; 1],
        }
        let Ok(q) = to_js(
            "chrome.permissions.contains",
            &Query {
                origins: ["<all_urls>"],
            },
        ) else {
            return false;
        };
        sys::permissions_contains(q)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }
}

pub mod alarms {
    use super::*;

    /// Schedules a one-shot alarm `delay_minutes` from now (Chrome's floor is
    /// 0.5 minutes). Replaces an alarm of the same name.
    pub async fn once(name: &str, delay_minutes: f64) -> Result<(), ChromeError> {
        const API: &str = "chrome.alarms.create";
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Info {
            delay_in_minutes: f64,
        }
        sys::alarms_create(
            name,
            to_js(
                API,
                &Info {
                    delay_in_minutes: delay_minutes,
                },
            )?,
        )
        .await
        .map(drop)
        .map_err(|e| ChromeError::from_js(API, e))
    }

    /// Schedules an alarm every `period_minutes` (Chrome's floor is 0.5
    /// minutes), the first one period from now. Replaces one of that name.
    pub async fn periodic(name: &str, period_minutes: f64) -> Result<(), ChromeError> {
        const API: &str = "chrome.alarms.create";
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Info {
            period_in_minutes: f64,
        }
        sys::alarms_create(
            name,
            to_js(
                API,
                &Info {
                    period_in_minutes: period_minutes,
                },
            )?,
        )
        .await
        .map(drop)
        .map_err(|e| ChromeError::from_js(API, e))
    }

    /// Removes the alarm `name`; no error when there is none.
    pub async fn clear(name: &str) -> Result<(), ChromeError> {
        sys::alarms_clear(name)
            .await
            .map(drop)
            .map_err(|e| ChromeError::from_js("chrome.alarms.clear", e))
    }
}

/// `fetch` from the service worker, for the panel's endpoints.
pub mod http {
    use super::*;

    /// Status and body text of a response.
    #[derive(Debug, Clone)]
    pub struct Response {
        pub status: u16,
        pub body: String,
    }

    /// How long one call to the panel may take before it counts as
    /// unreachable.
    pub const TIMEOUT_MS: u32 = 20_000;

    /// POSTs JSON with a bearer token. A network failure or no answer within
    /// [`TIMEOUT_MS`] is an error; any HTTP status is a [`Response`].
    pub async fn post_json(url: &str, bearer: &str, body: &str) -> Result<Response, ChromeError> {
        const API: &str = "fetch";
        let init = js_sys::Object::new();
        let headers = js_sys::Object::new();
        let set = |o: &js_sys::Object, k: &str, v: &JsValue| {
            js_sys::Reflect::set(o, &JsValue::from_str(k), v).map(drop)
        };
        set(
            &headers,
            "content-type",
            &JsValue::from_str("application/json"),
        )
        .and_then(|_| {
            set(
                &headers,
                "authorization",
                &JsValue::from_str(&format!("Bearer {bearer}")),
            )
        })
        .and_then(|_| set(&init, "method", &JsValue::from_str("POST")))
        .and_then(|_| set(&init, "headers", &headers))
        .and_then(|_| set(&init, "body", &JsValue::from_str(body)))
        .and_then(|_| set(&init, "credentials", &JsValue::from_str("omit")))
        .and_then(|_| set(&init, "signal", &sys::abort_signal_timeout(TIMEOUT_MS)))
        .map_err(|e| ChromeError::from_js(API, e))?;
        let resp = sys::fetch(url, init.into())
            .await
            .map_err(|e| ChromeError::from_js(API, e))?;
        let status = js_sys::Reflect::get(&resp, &JsValue::from_str("status"))
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u16;
        let text_fn: js_sys::Function = js_sys::Reflect::get(&resp, &JsValue::from_str("text"))
            .map_err(|e| ChromeError::from_js(API, e))?
            .dyn_into()
            .map_err(|_| ChromeError::shape(API, "response.text is not a function"))?;
        let promise: js_sys::Promise = text_fn
            .call0(&resp)
            .map_err(|e| ChromeError::from_js(API, e))?
            .dyn_into()
            .map_err(|_| ChromeError::shape(API, "response.text() is not a promise"))?;
        let body = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|e| ChromeError::from_js(API, e))?
            .as_string()
            .unwrap_or_default();
        Ok(Response { status, body })
    }
}
