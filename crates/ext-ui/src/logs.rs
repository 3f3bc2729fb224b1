//! The Show Logs page: the table, its filter and search, a detail dialog per
//! entry, CSV/JSON export and Clear. What to show is decided in
//! [`crate::logview`]; this module only builds DOM from it. Every string from
//! storage goes in through `textContent` or an attribute, never as HTML.

use crate::chrome::{self, Event, Listener};
use crate::logview::{self, Query, ResultFilter};
use crate::{dom, format, steps};
use chrome_api::storage::{self, Area};
use gloo::events::EventListener;
use protocol::logbook::{KEY, LogEntry};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Blob, BlobPropertyBag, Element, HtmlAnchorElement, HtmlDialogElement, HtmlElement,
    HtmlInputElement, HtmlSelectElement, Url,
};

#[derive(Default)]
struct State {
    entries: Vec<LogEntry>,
    /// Entries in storage that did not parse.
    skipped: usize,
    query: Query,
    /// The button that opened the detail dialog, to return focus to.
    opener: Option<HtmlElement>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Fills `logs.html` and keeps it current.
#[wasm_bindgen]
pub async fn logs_main() {
    wire_controls();
    // Listen before the first read so no entry falls between the two.
    Listener::new(Event::StorageChanged, |changes, area| {
        if let Some(v) = chrome::changed_value(&changes, &area, "local", KEY) {
            set_entries(parse(v));
        }
    })
    .forget();
    match storage::get::<Vec<serde_json::Value>>(Area::Local, KEY).await {
        Ok(raw) => set_entries(logview::parse_entries(raw.unwrap_or_default())),
        Err(e) => dom::set_text("error", &format!("Cannot read the log: {e}")),
    }
}

fn parse(v: JsValue) -> (Vec<LogEntry>, usize) {
    if v.is_undefined() || v.is_null() {
        return (Vec::new(), 0);
    }
    match chrome_api::from_js::<Vec<serde_json::Value>>("chrome.storage.onChanged", v) {
        Ok(raw) => logview::parse_entries(raw),
        Err(e) => {
            dom::set_text("error", &format!("Cannot read the log: {e}"));
            (Vec::new(), 0)
        }
    }
}

fn set_entries((entries, skipped): (Vec<LogEntry>, usize)) {
    STATE.with_borrow_mut(|s| {
        s.entries = entries;
        s.skipped = skipped;
    });
    render();
}

fn render() {
    let Some(tbody) = dom::by_id::<Element>("log-rows") else {
        return;
    };
    // A re-render (a new entry, a keystroke in the search) must not drop the
    // keyboard focus of someone on a row's Details button.
    let focused = dom::document()
        .and_then(|d| d.active_element())
        .filter(|a| tbody.contains(Some(a)))
        .and_then(|a| a.get_attribute("data-index"));
    STATE.with_borrow(|s| {
        dom::clear(&tbody);
        let shown = logview::visible(&s.entries, &s.query);
        for &i in &shown {
            row(&tbody, i, &s.entries[i]);
        }
        let total = s.entries.len();
        dom::set_text(
            "count",
            &match (shown.len(), total) {
                (_, 0) => "No entries".to_string(),
                (n, t) if n == t => format!("{t} {}", plural(t, "entry", "entries")),
                (n, t) => format!("Showing {n} of {t} {}", plural(t, "entry", "entries")),
            },
        );
        dom::set_text(
            "empty",
            match (shown.len(), total) {
                (_, 0) => {
                    "No jobs have finished yet. Each provisioning adds an entry here when it ends."
                }
                (0, _) => "No entries match the filter and search.",
                _ => "",
            },
        );
        dom::set_hidden("empty", !shown.is_empty());
        dom::set_hidden("log-table", shown.is_empty());
        if s.skipped > 0 {
            dom::set_text(
                "error",
                &format!(
                    "{} {} could not be read and {} not shown.",
                    s.skipped,
                    plural(s.skipped, "entry", "entries"),
                    plural(s.skipped, "is", "are")
                ),
            );
        }
        for id in ["export-csv", "export-json"] {
            if let Some(b) = dom::by_id::<web_sys::HtmlButtonElement>(id) {
                b.set_disabled(shown.is_empty());
            }
        }
        if let Some(b) = dom::by_id::<web_sys::HtmlButtonElement>("clear") {
            b.set_disabled(total == 0);
        }
    });
    if let Some(i) = focused
        && let Ok(Some(b)) = tbody.query_selector(&format!("button[data-index=\"{i}\"]"))
        && let Ok(b) = b.dyn_into::<HtmlElement>()
    {
        let _ = b.focus();
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// One table row. The user cell is the row header.
fn row(tbody: &Element, index: usize, e: &LogEntry) -> Option<()> {
    let tr = dom::add(tbody, "tr", None, None)?;
    let td = dom::add(&tr, "td", Some("time"), None)?;
    let time = dom::add(&td, "time", None, Some(&dom::local_time(e.started_ms)))?;
    time.set_attribute("datetime", &format::iso_utc(e.started_ms))
        .ok()?;

    let th = dom::add(&tr, "th", Some("user"), None)?;
    th.set_attribute("scope", "row").ok()?;
    dom::add(&th, "span", Some("name"), Some(&e.display_name))?;
    dom::add(&th, "span", Some("upn"), Some(&e.upn))?;

    dom::add(&tr, "td", None, Some(logview::mode_text(e.mode)))?;
    dom::add(
        &tr,
        "td",
        Some("num"),
        Some(&format::duration(format::span(e.started_ms, e.ended_ms))),
    )?;
    let result = dom::add(&tr, "td", None, None)?;
    let badge = dom::add(
        &result,
        "span",
        Some("badge"),
        Some(logview::state_text(e.state)),
    )?;
    badge
        .set_attribute("data-state", logview::state_value(e.state))
        .ok()?;
    dom::add(&tr, "td", Some("mono"), Some(logview::key_or_error(e)))?;

    let actions = dom::add(&tr, "td", Some("actions"), None)?;
    let button = dom::add(&actions, "button", Some("secondary"), Some("Details"))?;
    button.set_attribute("type", "button").ok()?;
    button
        .set_attribute("data-index", &index.to_string())
        .ok()?;
    button
        .set_attribute(
            "aria-label",
            &format!(
                "Details for {}, {}",
                e.display_name,
                dom::local_time(e.started_ms)
            ),
        )
        .ok()?;
    button.set_attribute("aria-haspopup", "dialog").ok()?;
    if logview::page_snapshot_file(e).is_some() {
        let export = dom::add(
            &actions,
            "button",
            Some("secondary"),
            Some("Export page snapshot"),
        )?;
        export.set_attribute("type", "button").ok()?;
        export
            .set_attribute("data-snapshot-index", &index.to_string())
            .ok()?;
        export
            .set_attribute(
                "title",
                "Download the last page this job saw (its structure, never what was typed) as a test fixture",
            )
            .ok()?;
        export
            .set_attribute(
                "aria-label",
                &format!(
                    "Export page snapshot for {}, {}",
                    e.display_name,
                    dom::local_time(e.started_ms)
                ),
            )
            .ok()?;
    }
    Some(())
}

/// Downloads one entry's page snapshot (see [`logview::page_snapshot_file`]).
fn export_snapshot(index: usize) {
    let Some((name, content)) =
        STATE.with_borrow(|s| s.entries.get(index).and_then(logview::page_snapshot_file))
    else {
        return;
    };
    match download(&name, "application/json", &content) {
        Ok(()) => dom::set_text("notice", &format!("Saved {name}.")),
        Err(e) => dom::set_text(
            "error",
            &format!(
                "Could not export the page snapshot: {}",
                chrome_api::ChromeError::from_js("download", e)
            ),
        ),
    }
}

fn wire_controls() {
    if let Some(select) = dom::by_id::<HtmlSelectElement>("filter-result") {
        let s = select.clone();
        EventListener::new(&select, "change", move |_| {
            STATE.with_borrow_mut(|st| st.query.result = ResultFilter::from_value(&s.value()));
            render();
        })
        .forget();
    }
    if let Some(input) = dom::by_id::<HtmlInputElement>("search-user") {
        let i = input.clone();
        EventListener::new(&input, "input", move |_| {
            STATE.with_borrow_mut(|st| st.query.user = i.value());
            render();
        })
        .forget();
    }
    // One listener for every Details button, present and future.
    if let Some(tbody) = dom::by_id::<Element>("log-rows") {
        EventListener::new(&tbody, "click", |ev| {
            let target = ev.target().and_then(|t| t.dyn_into::<Element>().ok());
            if let Some(index) = target
                .as_ref()
                .and_then(|t| t.closest("button[data-snapshot-index]").ok().flatten())
                .and_then(|b| b.get_attribute("data-snapshot-index"))
                .and_then(|v| v.parse::<usize>().ok())
            {
                export_snapshot(index);
                return;
            }
            let Some(button) = target.and_then(|t| t.closest("button[data-index]").ok().flatten())
            else {
                return;
            };
            let Some(index) = button
                .get_attribute("data-index")
                .and_then(|v| v.parse::<usize>().ok())
            else {
                return;
            };
            open_detail(index, button.dyn_into::<HtmlElement>().ok());
        })
        .forget();
    }
    if let Some(dialog) = dom::by_id::<HtmlDialogElement>("detail") {
        // Focus goes back to the row's button when the dialog closes (by its
        // Close button or Escape).
        EventListener::new(&dialog, "close", |_| {
            if let Some(opener) = STATE.with_borrow_mut(|s| s.opener.take()) {
                let _ = opener.focus();
            }
        })
        .forget();
    }
    on_click("detail-close", || close_dialog("detail"));
    on_click("export-csv", || export(Format::Csv));
    on_click("export-json", || export(Format::Json));
    on_click("clear", || {
        let n = STATE.with_borrow(|s| s.entries.len());
        dom::set_text(
            "confirm-clear-text",
            &format!(
                "This deletes all {n} {} from this browser, screenshots included. Export them first if you need them.",
                plural(n, "entry", "entries")
            ),
        );
        if let Some(d) = dom::by_id::<HtmlDialogElement>("confirm-clear") {
            let _ = d.show_modal();
        }
        // The safe choice has the focus.
        if let Some(b) = dom::by_id::<HtmlElement>("confirm-clear-no") {
            let _ = b.focus();
        }
    });
    on_click("confirm-clear-no", || close_dialog("confirm-clear"));
    on_click("confirm-clear-yes", || {
        close_dialog("confirm-clear");
        wasm_bindgen_futures::spawn_local(async {
            match storage::set(Area::Local, KEY, &Vec::<LogEntry>::new()).await {
                Ok(()) => {
                    set_entries((Vec::new(), 0));
                    dom::set_text("notice", "The log was cleared.");
                }
                Err(e) => dom::set_text("error", &format!("Could not clear the log: {e}")),
            }
        });
    });
}

fn on_click(id: &str, f: impl Fn() + 'static) {
    if let Some(el) = dom::by_id::<HtmlElement>(id) {
        EventListener::new(&el, "click", move |_| f()).forget();
    }
}

fn close_dialog(id: &str) {
    if let Some(d) = dom::by_id::<HtmlDialogElement>(id) {
        d.close();
    }
}

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Json,
}

/// Downloads the entries the table shows, in its order.
fn export(format: Format) {
    let (content, mime, ext) = STATE.with_borrow(|s| {
        let shown = logview::visible(&s.entries, &s.query);
        let list = shown.iter().map(|&i| &s.entries[i]);
        match format {
            Format::Csv => (logview::to_csv(list), "text/csv;charset=utf-8", "csv"),
            Format::Json => (logview::to_json(list), "application/json", "json"),
        }
    });
    let name = logview::export_file_name(dom::now_ms() as u64, ext);
    if let Err(e) = download(&name, mime, &content) {
        dom::set_text(
            "error",
            &format!(
                "Could not export: {}",
                chrome_api::ChromeError::from_js("download", e)
            ),
        );
    }
}

/// Saves `content` as a file through a Blob URL, revoked a minute later.
fn download(name: &str, mime: &str, content: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &bag)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let a: HtmlAnchorElement = dom::el("a", None)
        .ok_or_else(|| JsValue::from_str("no document"))?
        .dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let revoke = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000)?;
    }
    Ok(())
}

fn open_detail(index: usize, opener: Option<HtmlElement>) {
    let Some(body) = dom::by_id::<Element>("detail-body") else {
        return;
    };
    let Some(dialog) = dom::by_id::<HtmlDialogElement>("detail") else {
        return;
    };
    let found = STATE.with_borrow_mut(|s| {
        let e = s.entries.get(index)?.clone();
        s.opener = opener;
        Some(e)
    });
    let Some(e) = found else {
        return;
    };
    dom::clear(&body);
    dom::set_text("detail-title", &e.display_name);
    dom::set_text("detail-upn", &e.upn);
    let _ = detail(&body, &e);
    let _ = dialog.show_modal();
    if let Some(close) = dom::by_id::<HtmlElement>("detail-close") {
        let _ = close.focus();
    }
}

/// The detail dialog's body: summary, error, step timeline, last page,
/// screenshot.
fn detail(body: &Element, e: &LogEntry) -> Option<()> {
    let badge = dom::add(
        body,
        "p",
        Some("badge large"),
        Some(logview::state_text(e.state)),
    )?;
    badge
        .set_attribute("data-state", logview::state_value(e.state))
        .ok()?;

    if let Some(err) = &e.error {
        let section = dom::add(body, "section", Some("callout"), None)?;
        section.set_attribute("aria-label", "Error").ok()?;
        dom::add(&section, "p", Some("error-message"), Some(&err.message))?;
        if let Some(hint) = &err.hint {
            let p = dom::add(&section, "p", Some("hint"), None)?;
            dom::add(&p, "strong", None, Some("What to do: "))?;
            dom::add(&p, "span", None, Some(hint))?;
        }
        let p = dom::add(&section, "p", Some("code"), Some("Error code "))?;
        dom::add(&p, "code", None, Some(&err.code))?;
    }

    let dl = dom::add(body, "dl", Some("facts"), None)?;
    let duration = format::duration(format::span(e.started_ms, e.ended_ms));
    let mut facts: Vec<(&str, String)> = vec![
        ("Started", dom::local_time(e.started_ms)),
        ("Ended", dom::local_time(e.ended_ms)),
        ("Duration", duration),
        ("Mode", logview::mode_text(e.mode).to_string()),
        ("Request", e.request_id.clone()),
    ];
    if let Some(k) = &e.key_name {
        facts.push(("Key name", k.clone()));
    }
    if let Some(c) = &e.credential_id {
        facts.push(("Credential id", c.clone()));
    }
    for (k, v) in facts {
        let div = dom::add(&dl, "div", None, None)?;
        dom::add(&div, "dt", None, Some(k))?;
        dom::add(&div, "dd", None, Some(&v))?;
    }

    dom::add(body, "h3", None, Some("Steps"))?;
    if e.steps.is_empty() {
        dom::add(body, "p", Some("muted"), Some("No steps were recorded."))?;
    } else {
        timeline(body, e)?;
    }

    if let Some(page) = &e.last_page {
        dom::add(body, "h3", None, Some("Last page seen"))?;
        let dl = dom::add(body, "dl", Some("facts"), None)?;
        for (k, v, class) in [
            ("Title", &page.title, None),
            ("Address", &page.url, Some("wide")),
        ] {
            let div = dom::add(&dl, "div", class, None)?;
            dom::add(&div, "dt", None, Some(k))?;
            dom::add(&div, "dd", Some("mono"), Some(v))?;
        }
        if page.elements.is_empty() {
            dom::add(
                body,
                "p",
                Some("muted"),
                Some("No visible elements were reported."),
            )?;
        } else {
            let ul = dom::add(body, "ul", Some("page-structure"), None)?;
            ul.set_attribute("aria-label", "Visible elements of the last page")
                .ok()?;
            for line in &page.elements {
                dom::add(&ul, "li", None, Some(line))?;
            }
        }
    }

    if let Some(src) = logview::screenshot_src(e) {
        dom::add(body, "h3", None, Some("Screenshot"))?;
        let img = dom::add(body, "img", Some("screenshot"), None)?;
        img.set_attribute("src", src).ok()?;
        img.set_attribute("alt", "The job's window when it ended")
            .ok()?;
    }
    Some(())
}

/// The steps as a table: wording and name, start offset, duration with a
/// bar placed on the job's time axis, page.
fn timeline(body: &Element, e: &LogEntry) -> Option<()> {
    let table = dom::add(body, "table", Some("timeline"), None)?;
    dom::add(
        &table,
        "caption",
        Some("visually-hidden"),
        Some("Step timeline"),
    )?;
    let head = dom::add(&table, "thead", None, None)?;
    let tr = dom::add(&head, "tr", None, None)?;
    for (h, class) in [
        ("Step", None),
        ("Started", Some("num")),
        ("Duration", Some("num")),
        ("", Some("axis")),
        ("Page", None),
    ] {
        let th = dom::add(&tr, "th", class, Some(h))?;
        th.set_attribute("scope", "col").ok()?;
        if h.is_empty() {
            dom::add(&th, "span", Some("visually-hidden"), Some("Timeline"))?;
        }
    }
    let tbody = dom::add(&table, "tbody", None, None)?;
    let total = e
        .steps
        .iter()
        .map(|s| format::span(e.started_ms, s.ended_ms))
        .max()
        .unwrap_or(0)
        .max(format::span(e.started_ms, e.ended_ms))
        .max(1);
    for s in &e.steps {
        let tr = dom::add(&tbody, "tr", None, None)?;
        let th = dom::add(&tr, "th", None, None)?;
        th.set_attribute("scope", "row").ok()?;
        dom::add(&th, "span", Some("name"), Some(&steps::wording(&s.step)))?;
        dom::add(&th, "code", Some("upn"), Some(&s.step))?;
        let offset = format::span(e.started_ms, s.started_ms);
        dom::add(
            &tr,
            "td",
            Some("num"),
            Some(&format!("+{}", format::duration(offset))),
        )?;
        let ms = format::span(s.started_ms, s.ended_ms);
        dom::add(&tr, "td", Some("num"), Some(&format::duration(ms)))?;
        let axis = dom::add(&tr, "td", Some("axis"), None)?;
        axis.set_attribute("aria-hidden", "true").ok()?;
        let bar = dom::add(&axis, "span", Some("bar"), None)?;
        bar.set_attribute(
            "style",
            &format!(
                "--l: {:.2}%; --w: {:.2}%",
                offset.min(total) as f64 * 100.0 / total as f64,
                ms as f64 * 100.0 / total as f64
            ),
        )
        .ok()?;
        dom::add(&tr, "td", Some("mono"), Some(&s.page))?;
    }
    Some(())
}
