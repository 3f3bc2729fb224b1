//! Small helpers over web-sys for pages whose structure is static HTML.

use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlElement};

pub fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// The element with `id`, typed. `None` when the page lacks it (a page and
/// its code out of step), which callers report instead of panicking.
pub fn by_id<T: JsCast>(id: &str) -> Option<T> {
    document()?.get_element_by_id(id)?.dyn_into::<T>().ok()
}

pub fn set_text(id: &str, text: &str) {
    if let Some(el) = by_id::<HtmlElement>(id) {
        el.set_text_content(Some(text));
    }
}

pub fn set_hidden(id: &str, hidden: bool) {
    if let Some(el) = by_id::<HtmlElement>(id) {
        el.set_hidden(hidden);
    }
}

/// Sets `data-state` so CSS can colour a status without the text changing.
pub fn set_state(id: &str, state: &str) {
    if let Some(el) = by_id::<HtmlElement>(id) {
        let _ = el.set_attribute("data-state", state);
    }
}

/// A new element; `text`, when given, is set as its `textContent` (never
/// parsed as HTML).
pub fn el(tag: &str, text: Option<&str>) -> Option<web_sys::Element> {
    let e = document()?.create_element(tag).ok()?;
    if let Some(t) = text {
        e.set_text_content(Some(t));
    }
    Some(e)
}

/// Appends `tag` with `text` and `class` to `parent` and returns it.
pub fn add(
    parent: &web_sys::Element,
    tag: &str,
    class: Option<&str>,
    text: Option<&str>,
) -> Option<web_sys::Element> {
    let e = el(tag, text)?;
    if let Some(c) = class {
        e.set_class_name(c);
    }
    parent.append_child(&e).ok()?;
    Some(e)
}

/// Removes every child of `parent`.
pub fn clear(parent: &web_sys::Element) {
    parent.set_text_content(None);
}

pub fn set_attr(id: &str, name: &str, value: &str) {
    if let Some(el) = by_id::<web_sys::Element>(id) {
        let _ = el.set_attribute(name, value);
    }
}

pub fn remove_attr(id: &str, name: &str) {
    if let Some(el) = by_id::<web_sys::Element>(id) {
        let _ = el.remove_attribute(name);
    }
}

/// Milliseconds since the Unix epoch, from the browser's clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A timestamp in the browser's locale and time zone ("22 Nov 2026, 10:05:03").
pub fn local_time(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"medium".into());
    d.to_locale_string("default", &opts).into()
}
