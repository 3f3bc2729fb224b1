//! In-page actuator ⇄ service worker.
//!
//! The actuator is plain JavaScript in the Microsoft tabs (Entra's CSP forbids
//! WebAssembly there). It decides nothing: it reports what the page shows as a
//! [`Snapshot`] and carries out primitive commands. The service worker's Rust
//! decides every step from the snapshots.

use serde::{Deserialize, Serialize};

/// What the actuator sends the service worker (`chrome.runtime.sendMessage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ActuatorMessage {
    /// The page's DOM settled (first load, or after changes).
    Snapshot {
        /// Why this snapshot was taken: `load`, `mutation`, `command`.
        reason: String,
        snapshot: Snapshot,
    },
}

/// A compact, text-only picture of a page: enough to recognise it and to name
/// the element to act on, nothing more (no values of inputs: a TAP typed into
/// a box must not travel back in a snapshot).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Random per document: tells a new page load from a re-render.
    #[serde(default)]
    pub document: String,
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub lang: String,
    /// Interactive elements and headings, in document order.
    #[serde(default)]
    pub elements: Vec<Element>,
    /// What the sign-in pages' `$Config` blob says, when the page has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PageConfig>,
}

/// The few fields of Microsoft's `$Config={...}` the engine reads. The
/// actuator finds the blob in the page's inline script text (it cannot read
/// page variables from its isolated world).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageConfig {
    /// Which page this is (`ConvergedSignIn`, `KmsiInterrupt`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgid: Option<String>,
    /// `iErrorCode`, when the page shows an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `strServiceExceptionMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_exception: Option<String>,
}

/// One element as the actuator saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Element {
    /// Stable within one document: the actuator's handle for commands.
    pub handle: u32,
    pub tag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub input_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aria_label: Option<String>,
    /// Visible text, trimmed and cut to a few hundred characters.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub visible: bool,
    #[serde(default)]
    pub enabled: bool,
    /// The `class` attribute, cut short (Fluent UI marks primary buttons
    /// with `ms-Button--primary`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub class: String,
    /// Handle of the enclosing `role=dialog` element, if any: tells the
    /// engine which of two open dialogs a button belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_message_round_trips_from_js_shape() {
        let js = serde_json::json!({
            "type": "snapshot",
            "reason": "load",
            "snapshot": {
                "url": "https://login.microsoftonline.com/",
                "title": "Sign in to your account",
                "lang": "en",
                "elements": [
                    {"handle": 1, "tag": "input", "id": "i0116", "name": "loginfmt",
                     "type": "email", "text": "", "visible": true, "enabled": true}
                ]
            }
        });
        let msg: ActuatorMessage = serde_json::from_value(js.clone()).expect("parses");
        let ActuatorMessage::Snapshot { snapshot, .. } = &msg;
        assert_eq!(snapshot.elements[0].input_type.as_deref(), Some("email"));
        assert_eq!(serde_json::to_value(&msg).expect("serializes"), js);
    }
}
