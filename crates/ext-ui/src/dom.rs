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
