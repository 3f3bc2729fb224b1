//! In-page actuator ⇄ service worker.
//!
//! The actuator is plain JavaScript in the Microsoft tabs (Entra's CSP forbids
//! WebAssembly there). It decides nothing: it reports what the page shows as a
//! [`Snapshot`] and carries out primitive commands. The service worker's Rust
//! decides every step from the snapshots.

use serde::{Deserialize, Serialize};

/// What the actuator sends the service worker (`chrome.runtime.sendMessage`).
// One message at a time, parsed and consumed at once: boxing the snapshot
// would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ActuatorMessage {
    /// The page's DOM settled (first load, or after changes).
    Snapshot {
        /// Why this snapshot was taken: `load`, `mutation`, `command`.
        reason: String,
        snapshot: Snapshot,
    },
    /// The page called `navigator.credentials.create` (relayed from the
    /// MAIN-world bridge). The worker answers with a [`WebauthnAnswer`].
    WebauthnCreate {
        /// `PublicKeyCredentialCreationOptions` with binary members as
        /// base64url, as the bridge serialised them. Untrusted page input.
        options: serde_json::Value,
    },
    /// The page called `navigator.credentials.get` (sign-in with a key).
    WebauthnGet {
        /// `PublicKeyCredentialRequestOptions`, binary members base64url.
        options: serde_json::Value,
    },
    /// A `create` the browser answered itself (manual mode, a real key)
    /// finished: the bridge reports the new credential's id.
    WebauthnObserved { credential_id: String },
}

/// The worker's answer to [`ActuatorMessage::WebauthnCreate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "camelCase")]
pub enum WebauthnAnswer {
    /// The vault's `RegistrationResponseJSON`.
    Credential { credential: serde_json::Value },
    /// Not for the extension: let the browser handle the call.
    Fallback,
    /// The extension should have answered and could not: the page gets a
    /// `NotAllowedError` carrying this message.
    Error { message: String },
}

/// What the worker tells the actuator (`chrome.tabs.sendMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum WorkerCommand {
    /// Carry these out in order, stopping at the first that fails.
    Run { commands: Vec<Primitive> },
    /// Answer with a fresh [`Snapshot`] (after a worker restart).
    Snapshot,
}

/// A primitive action on one element.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Primitive {
    Click {
        handle: u32,
    },
    /// Sets the value as typing would (input and change events).
    Fill {
        handle: u32,
        value: String,
    },
}

// The value may be a TAP: never print it.
impl std::fmt::Debug for Primitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Primitive::Click { handle } => write!(f, "Click({handle})"),
            Primitive::Fill { handle, .. } => write!(f, "Fill({handle}, <redacted>)"),
        }
    }
}

/// The actuator's answer to [`WorkerCommand::Run`]: one outcome per
/// primitive carried out (fewer when one failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    pub outcomes: Vec<Outcome>,
    /// Milliseconds between the page's last DOM change and the commands
    /// arriving: what the automation added to this page transition (settle
    /// wait, messaging, decision). Measured by the page's own clock.
    #[serde(default)]
    pub idle_ms: f64,
}

/// How one primitive went. Everything but `Ok` is a state the driver may
/// retry on the next snapshot, as in Playwright's injected script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Ok,
    /// No element with that handle in this document.
    NotFound,
    /// The element left the document.
    NotConnected,
    NotVisible,
    Disabled,
    /// `fill` on something that takes no text.
    NotFillable,
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
    /// The document's writing direction (`rtl` for Arabic and Hebrew), if
    /// stated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dir: String,
    /// Interactive elements and headings, in document order.
    #[serde(default)]
    pub elements: Vec<Element>,
    /// The HTTP status of the document's response, when the browser tells
    /// (Navigation Timing); 0 when unknown.
    #[serde(default)]
    pub http_status: u16,
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
    /// The accessible name a screen reader announces (aria-labelledby,
    /// aria-label, the `<label>`, text, an input button's value, title,
    /// placeholder; in that order). Never an input's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
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
    /// `data-testid`: Microsoft's newer sign-in layout names its buttons
    /// with it (`primaryButton`, `secondaryButton`) instead of ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testid: Option<String>,
    /// A control that submits its form (`<button>` without a type,
    /// `type=submit`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub submit: bool,
    /// Handle of the form the element belongs to: pairs an input with its
    /// form's submit button when nothing else does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<u32>,
    /// For text boxes: whether the box holds text (never the text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled: Option<bool>,
    /// `aria-checked` / `aria-selected` (or a checkbox's state), if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
    /// `aria-expanded`, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expanded: Option<bool>,
    /// A heading's level (`h1`–`h6`, `aria-level`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    /// The element's language, where it differs from the document's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Handle of the enclosing `role=dialog` element, if any: tells the
    /// engine which of two open dialogs a button belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog: Option<u32>,
}

impl Element {
    /// What a person would call the element: its accessible name, else
    /// its aria-label, else its visible text.
    pub fn name_text(&self) -> &str {
        self.label
            .as_deref()
            .filter(|l| !l.is_empty())
            .or(self.aria_label.as_deref().filter(|l| !l.is_empty()))
            .unwrap_or(&self.text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn observed_message_uses_camel_case_fields() {
        let m: super::ActuatorMessage =
            serde_json::from_str(r#"{"type":"webauthnObserved","credentialId":"abc"}"#)
                .expect("parses");
        assert_eq!(
            m,
            super::ActuatorMessage::WebauthnObserved {
                credential_id: "abc".into()
            }
        );
    }

    #[test]
    fn fill_debug_never_shows_the_value() {
        let p = super::Primitive::Fill {
            handle: 3,
            value: "TAP-SECRET".into(),
        };
        assert!(!format!("{p:?}").contains("TAP-SECRET"));
    }

    use super::*;

    #[test]
    fn snapshot_message_round_trips_from_js_shape() {
        let js = serde_json::json!({
            "type": "snapshot",
            "reason": "load",
            "snapshot": {
                "document": "k3j9x",
                "url": "https://login.microsoftonline.com/",
                "title": "Sign in to your account",
                "lang": "en",
                "httpStatus": 200,
                "elements": [
                    {"handle": 1, "tag": "input", "id": "i0116", "name": "loginfmt",
                     "type": "email", "text": "", "visible": true, "enabled": true}
                ]
            }
        });
        let msg: ActuatorMessage = serde_json::from_value(js.clone()).expect("parses");
        let ActuatorMessage::Snapshot { snapshot, .. } = &msg else {
            panic!("not a snapshot: {msg:?}")
        };
        assert_eq!(snapshot.elements[0].input_type.as_deref(), Some("email"));
        assert_eq!(serde_json::to_value(&msg).expect("serializes"), js);
    }
}
