//! Read-only queries over a snapshot: what a person (or a screen reader)
//! perceives, asked the way Playwright's `getByRole` asks it.

use crate::locale::{self, Phrase};
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

    /// `$Config.pgid`, or "".
    pub fn pgid(&self) -> &'a str {
        self.snap
            .config
            .as_ref()
            .and_then(|c| c.pgid.as_deref())
            .unwrap_or("")
    }

    /// Elements a person could see.
    pub fn visible(&self) -> impl Iterator<Item = &'a Element> {
        self.snap.elements.iter().filter(|e| e.visible)
    }

    pub fn by_id(&self, id: &str) -> Option<&'a Element> {
        self.visible().find(|e| e.id.as_deref() == Some(id))
    }

    pub fn by_testid(&self, testid: &str) -> Option<&'a Element> {
        self.visible().find(|e| e.testid.as_deref() == Some(testid))
    }

    pub fn by_name(&self, name: &str) -> Option<&'a Element> {
        self.visible().find(|e| e.name.as_deref() == Some(name))
    }

    /// A visible input with this `name`.
    pub fn input(&self, name: &str) -> Option<&'a Element> {
        self.visible()
            .find(|e| e.tag == "input" && e.name.as_deref() == Some(name))
    }

    /// Visible text boxes.
    pub fn text_boxes(&self) -> impl Iterator<Item = &'a Element> {
        self.visible().filter(|e| is_text_box(e))
    }

    /// Visible elements with `role="alert"` and some text, or an element
    /// Microsoft names `...Error` showing text: error messages.
    pub fn alerts(&self) -> impl Iterator<Item = &'a Element> {
        self.visible().filter(|e| is_error_text(e))
    }

    /// Visible buttons and links a person can press.
    pub fn actionables(&self) -> impl Iterator<Item = &'a Element> {
        self.visible().filter(|e| is_actionable(e))
    }

    /// The first visible button or link whose name is `phrase`.
    pub fn action_is(&self, phrase: Phrase) -> Option<&'a Element> {
        self.actionables()
            .find(|e| locale::is(e.name_text(), phrase) || locale::is(&e.text, phrase))
    }

    /// The first visible button or link whose name contains `phrase`.
    pub fn action_containing(&self, phrase: Phrase) -> Option<&'a Element> {
        self.actionables()
            .find(|e| locale::contains(e.name_text(), phrase) || locale::contains(&e.text, phrase))
    }

    /// Whether a heading or the title says `phrase`.
    pub fn heading_says(&self, phrase: Phrase) -> bool {
        self.headings().iter().any(|h| locale::contains(h, phrase))
            || locale::contains(&self.snap.title, phrase)
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
            .filter(|e| is_heading(e))
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
        || (el.tag == "input"
            && matches!(
                el.input_type.as_deref(),
                Some("submit" | "button" | "reset" | "image")
            ))
}

/// A button, a link, or something else that is pressed (a menu item, a
/// tile).
pub fn is_actionable(el: &Element) -> bool {
    is_button(el)
        || (el.tag == "a" && el.role.as_deref() != Some("heading"))
        || matches!(
            el.role.as_deref(),
            Some("link" | "menuitem" | "tab" | "option" | "radio" | "menuitemradio")
        )
}

/// A box a person types into (never a checkbox or a button).
pub fn is_text_box(el: &Element) -> bool {
    match el.tag.as_str() {
        "input" => matches!(
            el.input_type
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref(),
            None | Some("" | "text" | "email" | "password" | "tel" | "number" | "search" | "url")
        ),
        "textarea" => true,
        _ => el.role.as_deref() == Some("textbox"),
    }
}

pub fn is_heading(el: &Element) -> bool {
    matches!(el.tag.as_str(), "h1" | "h2" | "h3") || el.role.as_deref() == Some("heading")
}

/// An error message: `role=alert` with text, or one of Microsoft's
/// `...Error` elements showing text.
pub fn is_error_text(el: &Element) -> bool {
    !el.text.is_empty()
        && (el.role.as_deref() == Some("alert")
            || el
                .id
                .as_deref()
                .is_some_and(|id| id.ends_with("Error") && !is_actionable(el)))
}

/// Whether `el` is marked as a form's primary action, by any of the marks
/// Microsoft's layouts use: Fluent UI's `ms-Button--primary` (or any class
/// naming "primary"), `data-testid="primaryButton"`, the classic sign-in's
/// `#idSIButton9`.
pub fn is_primary(el: &Element) -> bool {
    el.class
        .split_whitespace()
        .any(|c| c.to_ascii_lowercase().contains("primary"))
        || el
            .testid
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("primary"))
        || el.id.as_deref() == Some("idSIButton9")
}

/// Whether `el` is marked as a secondary action (`secondaryButton`,
/// `#idBtn_Back`, a class naming "secondary").
pub fn is_secondary(el: &Element) -> bool {
    el.class
        .split_whitespace()
        .any(|c| c.to_ascii_lowercase().contains("secondary"))
        || el
            .testid
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("secondary"))
        || el.id.as_deref() == Some("idBtn_Back")
}

/// A button that backs out (Cancel, Back, Close): never a primary action.
pub fn is_backing_out(el: &Element) -> bool {
    let n = el.name_text();
    locale::is(n, locale::CANCEL) || locale::is(n, locale::BACK) || is_secondary(el)
}
