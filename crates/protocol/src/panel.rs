//! Panel page ⇄ extension service worker.
//!
//! A panel page calls `chrome.runtime.sendMessage(EXTENSION_ID, request)` and
//! gets exactly one [`ExtensionResponse`] back. Requests are parsed with
//! [`parse_request`], which never panics and names what was wrong.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request larger than this is refused before it is parsed. Real requests
/// are well under 2 KiB; the limit keeps a hostile page from making the
/// worker parse megabytes.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// The `type` values this version understands, for error messages.
pub const REQUEST_TYPES: &[&str] = &["ping", "selfTest"];

/// What a panel may ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PanelRequest {
    /// Is the extension there, which version, can it work?
    Ping,
    /// Open an incognito window on the Microsoft sign-in page and report what
    /// the in-page actuator saw there: proves the extension can do its job in
    /// this browser (incognito access, host permissions, content scripts).
    SelfTest,
}

/// Everything the extension answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ExtensionResponse {
    Pong(Pong),
    SelfTestResult(SelfTestResult),
    Error(Refusal),
}

/// The answer to [`PanelRequest::Ping`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pong {
    /// The extension's version, from its manifest.
    pub version: String,
    /// [`crate::PROTOCOL_VERSION`] of the extension.
    pub protocol_version: u32,
    /// Whether the administrator turned on "Allow in Incognito"; without it
    /// the extension cannot open the private window a job needs.
    pub incognito_allowed: bool,
    /// Whether a job is running now.
    pub busy: bool,
    /// Jobs waiting behind the running one.
    pub queue_length: u32,
}

/// The answer to [`PanelRequest::SelfTest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelfTestResult {
    /// The URL the actuator reported from.
    pub url: String,
    /// The page title it saw.
    pub title: String,
    /// Whether the tab it ran in was incognito.
    pub incognito: bool,
    /// From opening the window to the actuator's first report.
    pub elapsed_ms: u64,
}

/// A refused or failed request: a stable `code` for programs, a `message` for
/// people and, where there is one, a `hint` saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Why a request was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("requests from {origin} are not accepted")]
    OriginNotAllowed { origin: String },
    #[error("request is {size} bytes; the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("request is not a JSON object (found {found})")]
    NotAnObject { found: &'static str },
    #[error("request has no string field \"type\"")]
    MissingType,
    #[error("unknown request type {found:?}; this extension understands {}", REQUEST_TYPES.join(", "))]
    UnknownType { found: String },
    #[error("malformed {kind:?} request: {detail}")]
    Malformed { kind: String, detail: String },
    #[error("\"Allow in Incognito\" is off for the extension")]
    IncognitoNotAllowed,
    #[error("step {step:?} did not finish within {timeout_ms} ms")]
    Timeout { step: String, timeout_ms: u64 },
    #[error("the extension failed: {detail}")]
    Internal { detail: String },
}

impl RequestError {
    /// Stable machine-readable code (camelCase), part of the protocol.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OriginNotAllowed { .. } => "originNotAllowed",
            Self::TooLarge { .. } => "tooLarge",
            Self::NotAnObject { .. } => "notAnObject",
            Self::MissingType => "missingType",
            Self::UnknownType { .. } => "unknownType",
            Self::Malformed { .. } => "malformed",
            Self::IncognitoNotAllowed => "incognitoNotAllowed",
            Self::Timeout { .. } => "timeout",
            Self::Internal { .. } => "internal",
        }
    }

    /// What the administrator can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::OriginNotAllowed { .. } => Some(
                "Add this panel's origin under the extension's Options → Allowed panel origins.",
            ),
            Self::UnknownType { .. } => {
                Some("The panel may be newer than the extension; update the extension.")
            }
            Self::IncognitoNotAllowed => Some(
                "Open chrome://extensions (edge://extensions in Edge), find the extension, click Details and turn on \"Allow in Incognito\".",
            ),
            Self::Timeout { .. } => Some(
                "Check that the Microsoft sign-in pages load in a private window of this browser.",
            ),
            _ => None,
        }
    }

    pub fn to_refusal(&self) -> Refusal {
        Refusal {
            code: self.code().to_string(),
            message: self.to_string(),
            hint: self.hint().map(str::to_string),
        }
    }
}

impl From<RequestError> for ExtensionResponse {
    fn from(e: RequestError) -> Self {
        ExtensionResponse::Error(e.to_refusal())
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a request already decoded from the message channel.
///
/// `encoded_len` is the size of its JSON text, checked against
/// [`MAX_REQUEST_BYTES`] first.
pub fn parse_request(value: Value, encoded_len: usize) -> Result<PanelRequest, RequestError> {
    if encoded_len > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge {
            size: encoded_len,
            max: MAX_REQUEST_BYTES,
        });
    }
    let obj = value.as_object().ok_or(RequestError::NotAnObject {
        found: json_kind(&value),
    })?;
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or(RequestError::MissingType)?
        .to_string();
    if !REQUEST_TYPES.contains(&kind.as_str()) {
        return Err(RequestError::UnknownType { found: kind });
    }
    let allowed_fields: &[&str] = match kind.as_str() {
        "ping" | "selfTest" => &["type"],
        _ => &[],
    };
    if let Some(extra) = obj.keys().find(|k| !allowed_fields.contains(&k.as_str())) {
        return Err(RequestError::Malformed {
            kind,
            detail: format!("unknown field {extra:?}"),
        });
    }
    serde_json::from_value(value).map_err(|e| RequestError::Malformed {
        kind,
        detail: e.to_string(),
    })
}

/// Parses a request from its JSON text.
pub fn parse_request_text(text: &str) -> Result<PanelRequest, RequestError> {
    if text.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge {
            size: text.len(),
            max: MAX_REQUEST_BYTES,
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| RequestError::Malformed {
        kind: "?".into(),
        detail: e.to_string(),
    })?;
    parse_request(value, text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! parses {
        ($name:ident, $json:expr, $want:expr) => {
            #[test]
            fn $name() {
                assert_eq!(parse_request_text($json), Ok($want));
            }
        };
    }
    macro_rules! refuses {
        ($name:ident, $json:expr, $code:expr) => {
            #[test]
            fn $name() {
                let err = parse_request_text($json).expect_err("must be refused");
                assert_eq!(err.code(), $code, "{err}");
            }
        };
    }

    parses!(ping, r#"{"type":"ping"}"#, PanelRequest::Ping);
    parses!(self_test, r#"{"type":"selfTest"}"#, PanelRequest::SelfTest);
    refuses!(array, r#"[1,2]"#, "notAnObject");
    refuses!(string, r#""ping""#, "notAnObject");
    refuses!(no_type, r#"{"kind":"ping"}"#, "missingType");
    refuses!(type_not_string, r#"{"type":7}"#, "missingType");
    refuses!(unknown_type, r#"{"type":"format"}"#, "unknownType");
    refuses!(extra_field, r#"{"type":"ping","x":1}"#, "malformed");
    refuses!(not_json, r#"{"type":"#, "malformed");

    #[test]
    fn oversized_is_refused_before_parsing() {
        let big = format!(
            r#"{{"type":"ping","pad":"{}"}}"#,
            "a".repeat(MAX_REQUEST_BYTES)
        );
        assert_eq!(
            parse_request_text(&big).map_err(|e| e.code()),
            Err("tooLarge")
        );
    }

    #[test]
    fn unknown_type_lists_known_types() {
        let err = parse_request_text(r#"{"type":"nope"}"#).expect_err("refused");
        assert!(err.to_string().contains("ping, selfTest"), "{err}");
    }

    #[test]
    fn pong_wire_shape() {
        let pong = ExtensionResponse::Pong(Pong {
            version: "0.1.0".into(),
            protocol_version: 1,
            incognito_allowed: true,
            busy: false,
            queue_length: 0,
        });
        let json = serde_json::to_value(&pong).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"type":"pong","version":"0.1.0","protocolVersion":1,
                "incognitoAllowed":true,"busy":false,"queueLength":0})
        );
        let back: ExtensionResponse = serde_json::from_value(json).expect("round-trips");
        assert_eq!(back, pong);
    }

    #[test]
    fn refusal_wire_shape_has_code_message_hint() {
        let r: ExtensionResponse = RequestError::OriginNotAllowed {
            origin: "https://evil.example".into(),
        }
        .into();
        let json = serde_json::to_value(&r).expect("serializes");
        assert_eq!(json["type"], "error");
        assert_eq!(json["code"], "originNotAllowed");
        assert!(
            json["message"]
                .as_str()
                .is_some_and(|m| m.contains("https://evil.example"))
        );
        assert!(json["hint"].as_str().is_some_and(|h| h.contains("Options")));
    }
}
