//! The Options page: allowed panel origins, key name template, job windows,
//! timeouts, snapshot recording, and the optional permission for failure
//! screenshots. The checks are in [`crate::settings_form`]; this module reads
//! and fills the inputs.

use crate::chrome::{self, Event, Listener};
use crate::dom;
use crate::settings_form::{Field, SettingsForm, example_key_name};
use chrome_api::storage::{self, Area};
use gloo::events::EventListener;
use protocol::settings::{KEY, Settings};
use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};

async fn load() -> Settings {
    match storage::get::<Settings>(Area::Local, KEY).await {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            dom::set_text("error", &format!("Could not read the settings: {e}"));
            Settings::default()
        }
    }
}

fn input(id: &str) -> Option<HtmlInputElement> {
    dom::by_id::<HtmlInputElement>(id)
}

fn read_form() -> SettingsForm {
    let value = |f: Field| input(f.id()).map(|i| i.value()).unwrap_or_default();
    let checked = |id: &str| input(id).is_some_and(|i| i.checked());
    SettingsForm {
        allowed_origins: dom::by_id::<HtmlTextAreaElement>(Field::AllowedOrigins.id())
            .map(|t| t.value())
            .unwrap_or_default(),
        key_name_template: value(Field::KeyNameTemplate),
        show_window: checked("show-window"),
        record_snapshots: checked("record-snapshots"),
        ask_for_english: checked("ask-for-english"),
        step_timeout_s: value(Field::StepTimeout),
        register_timeout_s: value(Field::RegisterTimeout),
        tap_propagation_s: value(Field::TapPropagation),
    }
}

fn fill_form(f: &SettingsForm) {
    if let Some(t) = dom::by_id::<HtmlTextAreaElement>(Field::AllowedOrigins.id()) {
        t.set_value(&f.allowed_origins);
    }
    for (field, v) in [
        (Field::KeyNameTemplate, &f.key_name_template),
        (Field::StepTimeout, &f.step_timeout_s),
        (Field::RegisterTimeout, &f.register_timeout_s),
        (Field::TapPropagation, &f.tap_propagation_s),
    ] {
        if let Some(i) = input(field.id()) {
            i.set_value(v);
        }
    }
    for (id, v) in [
        ("show-window", f.show_window),
        ("record-snapshots", f.record_snapshots),
        ("ask-for-english", f.ask_for_english),
    ] {
        if let Some(i) = input(id) {
            i.set_checked(v);
        }
    }
}

/// Fills `options.html` and wires Save, the live key name example and the
/// screenshot permission.
#[wasm_bindgen]
pub async fn options_main() {
    let settings = load().await;
    fill_form(&SettingsForm::from_settings(&settings));
    show_example();
    if let Some(template) = input(Field::KeyNameTemplate.id()) {
        EventListener::new(&template, "input", |_| show_example()).forget();
    }
    if let Some(save) = dom::by_id::<HtmlElement>("save") {
        EventListener::new(&save, "click", |_| {
            let form = read_form();
            wasm_bindgen_futures::spawn_local(async move { save_form(form).await });
        })
        .forget();
    }
    wire_screenshots();
    show_screenshots().await;
}

/// The live example under the template field; while the template is wrong,
/// the field's own error says why (the same place Save reports it).
fn show_example() {
    let field = Field::KeyNameTemplate;
    let text = input(field.id()).map(|i| i.value()).unwrap_or_default();
    match example_key_name(&text, crate::format::days_since_epoch(dom::now_ms())) {
        Ok(name) => {
            dom::set_text("key-example", &name);
            dom::set_hidden("key-example-line", false);
            dom::set_text(field.error_id(), "");
            dom::remove_attr(field.id(), "aria-invalid");
        }
        Err(message) => {
            dom::set_hidden("key-example-line", true);
            dom::set_text(field.error_id(), &message);
            dom::set_attr(field.id(), "aria-invalid", "true");
        }
    }
}

fn show_field_errors(errors: &[(Field, String)]) {
    for field in Field::ALL {
        let message = errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str());
        dom::set_text(field.error_id(), message.unwrap_or(""));
        if message.is_some() {
            dom::set_state(field.error_id(), "error");
            dom::set_attr(field.id(), "aria-invalid", "true");
        } else {
            dom::remove_attr(field.id(), "aria-invalid");
        }
    }
}

async fn save_form(form: SettingsForm) {
    // Read again: the worker or another Options tab may have written since.
    let base = load().await;
    match form.validate(&base) {
        Err(errors) => {
            let pairs: Vec<(Field, String)> =
                errors.into_iter().map(|e| (e.field, e.message)).collect();
            show_field_errors(&pairs);
            let n = pairs.len();
            dom::set_text(
                "saved",
                &format!(
                    "Not saved: {n} {} to correct.",
                    if n == 1 { "field" } else { "fields" }
                ),
            );
            dom::set_state("saved", "error");
            if let Some((first, _)) = pairs.first()
                && let Some(el) = dom::by_id::<HtmlElement>(first.id())
            {
                let _ = el.focus();
            }
        }
        Ok(settings) => {
            show_field_errors(&[]);
            match storage::set(Area::Local, KEY, &settings).await {
                Ok(()) => {
                    // Show what was stored (normalised origins, trimmed numbers).
                    fill_form(&SettingsForm::from_settings(&settings));
                    show_example();
                    dom::set_text("saved", "Saved.");
                    dom::set_state("saved", "ok");
                }
                Err(e) => {
                    dom::set_text("saved", &format!("Could not save: {e}"));
                    dom::set_state("saved", "error");
                }
            }
        }
    }
}

fn wire_screenshots() {
    if let Some(grant) = dom::by_id::<HtmlElement>("screenshots-grant") {
        EventListener::new(&grant, "click", |_| {
            // Started here, synchronously: Chrome needs the click's gesture.
            let asked = chrome::request_all_urls();
            dom::set_text("screenshots-error", "");
            dom::set_text(
                "screenshots-note",
                "Answer Chrome's prompt to allow or deny.",
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = asked.await;
                dom::set_text("screenshots-note", "");
                match answer {
                    Ok(true) => dom::set_text("screenshots-error", ""),
                    Ok(false) => {
                        dom::set_text("screenshots-error", "The permission was not granted.")
                    }
                    Err(e) => dom::set_text("screenshots-error", &e.to_string()),
                }
                show_screenshots().await;
            });
        })
        .forget();
    }
    if let Some(revoke) = dom::by_id::<HtmlElement>("screenshots-revoke") {
        EventListener::new(&revoke, "click", |_| {
            wasm_bindgen_futures::spawn_local(async {
                if let Err(e) = chrome::remove_all_urls().await {
                    dom::set_text("screenshots-error", &e.to_string());
                }
                show_screenshots().await;
            });
        })
        .forget();
    }
    // Granted or removed elsewhere (chrome://extensions, another tab).
    for event in [Event::PermissionsAdded, Event::PermissionsRemoved] {
        Listener::new(event, |_, _| {
            wasm_bindgen_futures::spawn_local(show_screenshots());
        })
        .forget();
    }
}

async fn show_screenshots() {
    let granted = chrome_api::permissions::has_all_urls().await;
    if granted {
        dom::set_text("screenshots-state", "Allowed");
        dom::set_state("screenshots-state", "ok");
    } else {
        dom::set_text("screenshots-state", "Not allowed");
        dom::set_state("screenshots-state", "off");
    }
    dom::set_hidden("screenshots-grant", granted);
    dom::set_hidden("screenshots-revoke", !granted);
}
