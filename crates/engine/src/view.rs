//! Read-only queries over a snapshot.

use protocol::actuator::{Element, Snapshot};

/// A snapshot with the lookups page recognisers need.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub snap: &'a Snapshot,
}

impl<'a> View<'a> {
    pub fn new(snap: &'a Snapshot) -> Self {
        Self { snap }
    }

    pub fn host(&self) -> &'a str {
        let rest = self.snap.url.split_once("://").map_or("", |(_, r)| r);
        let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
        host_port.split(':').next().unwrap_or("")
    }

    pub fn path(&self) -> &'a str {
        let rest = self.snap.url.split_once("://").map_or("", |(_, r)| r);
        let path = rest.find('/').map_or("/", |i| &rest[i..]);
        path.split(['?', '#']).next().unwrap_or("/")
    }

    /// Elements a person could see.
    pub fn visible(&self) -> impl Iterator<Item = &'a Element> {
        self.snap.elements.iter().filter(|e| e.visible)
    }

    pub fn by_id(&self, id: &str) -> Option<&'a Element> {
        self.visible().find(|e| e.id.as_deref() == Some(id))
    }

    pub fn by_name(&self, name: &str) -> Option<&'a Element> {
        self.visible().find(|e| e.name.as_deref() == Some(name))
    }

    /// A visible input with this `name`.
    pub fn input(&self, name: &str) -> Option<&'a Element> {
        self.visible()
            .find(|e| e.tag == "input" && e.name.as_deref() == Some(name))
    }

    /// Visible elements with `role="alert"` and some text: error messages.
    pub fn alerts(&self) -> impl Iterator<Item = &'a Element> {
        self.visible()
            .filter(|e| e.role.as_deref() == Some("alert") && !e.text.is_empty())
    }

    /// `$Config.iErrorCode` as a number, when the page states one. `0` (the
    /// code every page without an error carries) and anything unparsable
    /// count as none: a code is evidence only when it names an error.
    pub fn error_code(&self) -> Option<u32> {
        self.snap
            .config
            .as_ref()
            .and_then(|c| c.error_code.as_deref())
            .and_then(|c| c.trim().parse::<u32>().ok())
            .filter(|&c| c != 0)
    }

    /// Headings' texts (`h1`–`h3`, `role=heading`).
    pub fn headings(&self) -> Vec<&'a str> {
        self.visible()
            .filter(|e| {
                matches!(e.tag.as_str(), "h1" | "h2" | "h3") || e.role.as_deref() == Some("heading")
            })
            .map(|e| e.text.as_str())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// Visible open dialogs (`role=dialog`/`alertdialog`), in document order.
    pub fn dialogs(&self) -> Vec<&'a Element> {
        self.visible()
            .filter(|e| matches!(e.role.as_deref(), Some("dialog" | "alertdialog")))
            .collect()
    }

    /// Visible elements inside the dialog with handle `dialog`.
    pub fn in_dialog(&self, dialog: u32) -> impl Iterator<Item = &'a Element> {
        self.visible().filter(move |e| e.dialog == Some(dialog))
    }

    /// A summary for logs and unknown-page errors: URL and headings.
    pub fn summary(&self) -> String {
        let headings = self.headings();
        if headings.is_empty() {
            self.snap.url.clone()
        } else {
            format!("{} (headings: {})", self.snap.url, headings.join(" | "))
        }
    }
}

/// Whether `el` is a button a person can press.
pub fn is_button(el: &Element) -> bool {
    el.tag == "button"
        || el.role.as_deref() == Some("button")
        || (el.tag == "input" && matches!(el.input_type.as_deref(), Some("submit" | "button")))
}

/// Whether `el` carries Fluent UI's primary-button class.
pub fn is_primary(el: &Element) -> bool {
    el.class
        .split_whitespace()
        .any(|c| c == "ms-Button--primary")
}
