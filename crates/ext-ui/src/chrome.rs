//! The few `chrome.*` APIs only the extension's pages need and `chrome-api`
//! does not declare: event listeners (`storage.onChanged`,
//! `runtime.onMessage`, `permissions.onAdded/onRemoved`),
//! `permissions.request/remove` and `runtime.getURL`. A small typed `extern`
//! block, as `chrome-api` does; failures become its [`ChromeError`].
//!
//! Listeners are owned: [`Listener`] removes its callback when dropped (as
//! gloo's `EventListener` does); pages that keep one for their lifetime call
//! [`Listener::forget`].

use chrome_api::ChromeError;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

mod sys {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// A `chrome.events.Event`.
        pub type ChromeEvent;
        #[wasm_bindgen(method, js_name = addListener)]
        pub fn add_listener(this: &ChromeEvent, f: &js_sys::Function);
        #[wasm_bindgen(method, js_name = removeListener)]
        pub fn remove_listener(this: &ChromeEvent, f: &js_sys::Function);

        #[wasm_bindgen(js_namespace = ["chrome", "storage"], js_name = onChanged, thread_local_v2)]
        pub static STORAGE_ON_CHANGED: ChromeEvent;
        #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = onMessage, thread_local_v2)]
        pub static RUNTIME_ON_MESSAGE: ChromeEvent;
        #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = onAdded, thread_local_v2)]
        pub static PERMISSIONS_ON_ADDED: ChromeEvent;
        #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = onRemoved, thread_local_v2)]
        pub static PERMISSIONS_ON_REMOVED: ChromeEvent;

        /// Not `async`: the request must start inside the click handler (a
        /// user gesture), before any `await`.
        #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = request)]
        pub fn permissions_request(permissions: &JsValue) -> js_sys::Promise;
        #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = remove, catch)]
        pub async fn permissions_remove(permissions: &JsValue) -> Result<JsValue, JsValue>;

        #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = getURL)]
        pub fn get_url(path: &str) -> String;
    }
}

/// Which `chrome.*` event a [`Listener`] listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `chrome.storage.onChanged`: `(changes, areaName)`.
    StorageChanged,
    /// `chrome.runtime.onMessage`: `(message, sender, sendResponse)`; the
    /// callback never answers.
    RuntimeMessage,
    /// `chrome.permissions.onAdded` / `onRemoved`: `(permissions)`.
    PermissionsAdded,
    PermissionsRemoved,
}

fn with_event<R>(event: Event, f: impl FnOnce(&sys::ChromeEvent) -> R) -> R {
    match event {
        Event::StorageChanged => sys::STORAGE_ON_CHANGED.with(f),
        Event::RuntimeMessage => sys::RUNTIME_ON_MESSAGE.with(f),
        Event::PermissionsAdded => sys::PERMISSIONS_ON_ADDED.with(f),
        Event::PermissionsRemoved => sys::PERMISSIONS_ON_REMOVED.with(f),
    }
}

/// A callback registered on a `chrome.*` event; removed when dropped.
#[must_use = "the listener is removed when dropped; call .forget() to keep it for the page's life"]
pub struct Listener {
    event: Event,
    closure: Option<Closure<dyn FnMut(JsValue, JsValue)>>,
}

impl Listener {
    /// Calls `callback` with the event's first two arguments (`undefined`
    /// where the event passes fewer).
    pub fn new(event: Event, callback: impl FnMut(JsValue, JsValue) + 'static) -> Self {
        let closure = Closure::<dyn FnMut(JsValue, JsValue)>::new(callback);
        with_event(event, |e| e.add_listener(closure.as_ref().unchecked_ref()));
        Self {
            event,
            closure: Some(closure),
        }
    }

    /// Keeps the callback registered for the page's life.
    pub fn forget(mut self) {
        if let Some(c) = self.closure.take() {
            c.forget();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(c) = self.closure.take() {
            with_event(self.event, |e| {
                e.remove_listener(c.as_ref().unchecked_ref())
            });
        }
    }
}

/// `changes[key].newValue` of a `storage.onChanged` call in `area`
/// (`"local"` or `"session"`): `Some(value)` (possibly `undefined` when the
/// key was removed) if that key changed there, `None` otherwise.
pub fn changed_value(
    changes: &JsValue,
    area_name: &JsValue,
    area: &str,
    key: &str,
) -> Option<JsValue> {
    if area_name.as_string().as_deref() != Some(area) {
        return None;
    }
    let change = js_sys::Reflect::get(changes, &JsValue::from_str(key)).ok()?;
    if change.is_undefined() {
        return None;
    }
    js_sys::Reflect::get(&change, &JsValue::from_str("newValue")).ok()
}

/// The `type` of a runtime message, if it is an object with one.
pub fn message_type(message: &JsValue) -> Option<String> {
    js_sys::Reflect::get(message, &JsValue::from_str("type"))
        .ok()?
        .as_string()
}

/// The URL of one of the extension's files.
pub fn url(path: &str) -> String {
    sys::get_url(path)
}

fn all_urls() -> JsValue {
    let origins = js_sys::Array::of1(&JsValue::from_str("<all_urls>"));
    let q = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&q, &JsValue::from_str("origins"), &origins);
    q.into()
}

/// Starts `chrome.permissions.request({origins: ["<all_urls>"]})` *now*
/// (call it synchronously from a click handler: Chrome refuses it outside a
/// user gesture) and returns a future of whether it was granted.
pub fn request_all_urls() -> impl std::future::Future<Output = Result<bool, ChromeError>> {
    const API: &str = "chrome.permissions.request";
    // A throw here (no gesture) surfaces as a rejected promise in MV3.
    let promise = sys::permissions_request(&all_urls());
    async move {
        JsFuture::from(promise)
            .await
            .map(|v| v.as_bool().unwrap_or(false))
            .map_err(|e| ChromeError::from_js(API, e))
    }
}

/// Gives up the optional `<all_urls>` permission; `Ok(true)` if removed.
pub async fn remove_all_urls() -> Result<bool, ChromeError> {
    sys::permissions_remove(&all_urls())
        .await
        .map(|v| v.as_bool().unwrap_or(false))
        .map_err(|e| ChromeError::from_js("chrome.permissions.remove", e))
}
