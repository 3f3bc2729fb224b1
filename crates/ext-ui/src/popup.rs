//! The toolbar popup: is the extension ready to provision?

use crate::dom;
use gloo::events::EventListener;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

/// Fills `popup.html`.
#[wasm_bindgen]
pub async fn popup_main() {
    dom::set_text(
        "version",
        &format!("Version {}", chrome_api::runtime::version()),
    );
    match chrome_api::extension::is_allowed_incognito_access().await {
        Ok(true) => {
            dom::set_text("status", "Ready");
            dom::set_state("status", "ok");
            dom::set_hidden("fix", true);
            dom::set_hidden("incognito-help", true);
        }
        Ok(false) => {
            dom::set_text("status", "Allow in Incognito is off");
            dom::set_state("status", "warn");
            dom::set_text(
                "incognito-help",
                "Passkeys are registered in a private window so no user's session leaks into another's. Turn on \"Allow in Incognito\" for this extension.",
            );
            dom::set_hidden("incognito-help", false);
            dom::set_hidden("fix", false);
            if let Some(button) = dom::by_id::<HtmlElement>("fix") {
                // The popup lives until it closes; the listener lives with it.
                EventListener::new(&button, "click", |_| {
                    let url = format!("chrome://extensions/?id={}", chrome_api::runtime::id());
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(e) = chrome_api::tabs::create(&url).await {
                            dom::set_text("error", &e.to_string());
                        }
                    });
                })
                .forget();
            }
        }
        Err(e) => {
            dom::set_text("status", "Cannot read the extension's permissions");
            dom::set_state("status", "error");
            dom::set_text("error", &e.to_string());
        }
    }
}
