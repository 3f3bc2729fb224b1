//! The Options page: allowed panel origins.

use crate::dom;
use chrome_api::storage::{self, Area};
use gloo::events::EventListener;
use protocol::settings::{KEY, Settings, parse_allowed_origins};
use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, HtmlTextAreaElement};

async fn load() -> Settings {
    match storage::get::<Settings>(Area::Local, KEY).await {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            dom::set_text("error", &format!("Could not read the settings: {e}"));
            Settings::default()
        }
    }
}

/// Fills `options.html` and wires Save.
#[wasm_bindgen]
pub async fn options_main() {
    let settings = load().await;
    let Some(origins) = dom::by_id::<HtmlTextAreaElement>("allowed-origins") else {
        return;
    };
    origins.set_value(&settings.allowed_origins.join("\n"));
    let Some(save) = dom::by_id::<HtmlElement>("save") else {
        return;
    };
    EventListener::new(&save, "click", move |_| {
        let text = origins.value();
        wasm_bindgen_futures::spawn_local(async move { save_origins(&text).await });
    })
    .forget();
}

async fn save_origins(text: &str) {
    match parse_allowed_origins(text) {
        Err(bad) => {
            let lines: Vec<String> = bad.iter().map(|(n, e)| format!("Line {n}: {e}")).collect();
            dom::set_text("origins-error", &lines.join("\n"));
            dom::set_state("origins-error", "error");
            dom::set_text("saved", "");
        }
        Ok(list) => {
            let mut settings = load().await;
            settings.allowed_origins = list;
            match storage::set(Area::Local, KEY, &settings).await {
                Ok(()) => {
                    dom::set_text("origins-error", "");
                    dom::set_text("saved", "Saved.");
                }
                Err(e) => dom::set_text("origins-error", &format!("Could not save: {e}")),
            }
        }
    }
}
