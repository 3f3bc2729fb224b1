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
pub const REQUEST_TYPES: &[&str] = &["ping", "selfTest", "provision", "status", "cancel"];

/// Longest accepted identifier (request id, object id, tenant id).
pub const MAX_ID_LEN: usize = 64;
/// Longest accepted UPN, display name, key name or URL.
pub const MAX_TEXT_LEN: usize = 512;

/// What a panel may ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum PanelRequest {
    /// Is the extension there, which version, can it work?
    Ping,
    /// Open an incognito window on the Microsoft sign-in page and report what
    /// the in-page actuator saw there: proves the extension can do its job in
    /// this browser (incognito access, host permissions, content scripts).
    SelfTest,
    /// Register a security key for one user.
    Provision(Box<Provision>),
    /// Where is this request (or the queue, without an id)?
    Status {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// Stop a queued or running request.
    Cancel { request_id: String },
}

/// How a job gets its security key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// The extension drives every page; the credential comes from the vault.
    Automatic,
    /// The administrator clicks through (any authenticator, a hardware key
    /// included); the extension watches and reports.
    Manual,
}

/// The user a job is for, as the panel knows them from Entra ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetUser {
    /// Entra object id (a GUID).
    pub object_id: String,
    /// userPrincipalName, typed on the sign-in page.
    pub upn: String,
    pub display_name: String,
}

/// Where the job talks back to the panel (see [`crate::report`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PanelEndpoints {
    pub attestation_url: String,
    pub report_url: String,
    /// Where the vault signs a sign-in (`navigator.credentials.get`) with the
    /// new key. When given, the job ends by signing in with the key it just
    /// registered: proof that it works, not only that it is listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_url: Option<String>,
    /// Per-request bearer secret for these URLs. Never logged.
    pub token: String,
}

/// `provision`: one user, one security key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Provision {
    /// The panel's id for this request (idempotency key).
    pub request_id: String,
    pub mode: Mode,
    /// Entra tenant id (a GUID).
    pub tenant_id: String,
    pub user: TargetUser,
    /// Temporary Access Pass. Required in automatic mode. Never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tap: Option<String>,
    pub panel: PanelEndpoints,
    /// The key's name on Security info; default from the naming template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Show the incognito window instead of minimising it.
    #[serde(default)]
    pub visible: bool,
}

impl Provision {
    /// Checks sizes and formats beyond what the types say.
    pub fn validate(&self) -> Result<(), RequestError> {
        let bad = |detail: String| RequestError::Malformed {
            kind: "provision".into(),
            detail,
        };
        let id_like = |field: &str, v: &str| -> Result<(), RequestError> {
            if v.is_empty() || v.len() > MAX_ID_LEN {
                return Err(bad(format!("{field} must be 1 to {MAX_ID_LEN} characters")));
            }
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(bad(format!(
                    "{field} may only hold letters, digits, '-' and '_'"
                )));
            }
            Ok(())
        };
        let text = |field: &str, v: &str| -> Result<(), RequestError> {
            if v.trim().is_empty() || v.len() > MAX_TEXT_LEN {
                return Err(bad(format!(
                    "{field} must be 1 to {MAX_TEXT_LEN} characters"
                )));
            }
            if v.chars().any(char::is_control) {
                return Err(bad(format!("{field} holds control characters")));
            }
            Ok(())
        };
        let url = |field: &str, v: &str| -> Result<(), RequestError> {
            text(field, v)?;
            let secure = v.starts_with("https://")
                || v.starts_with("http://127.0.0.1:")
                || v.starts_with("http://localhost:")
                || v.starts_with("http://127.0.0.1/")
                || v.starts_with("http://localhost/");
            if !secure {
                return Err(bad(format!("{field} must be https (or http on loopback)")));
            }
            Ok(())
        };
        id_like("requestId", &self.request_id)?;
        if !is_guid(&self.tenant_id) {
            return Err(bad("tenantId must be a GUID".into()));
        }
        if !is_guid(&self.user.object_id) {
            return Err(bad("user.objectId must be a GUID".into()));
        }
        text("user.upn", &self.user.upn)?;
        if !self.user.upn.contains('@') || self.user.upn.contains(char::is_whitespace) {
            return Err(bad("user.upn must look like name@domain".into()));
        }
        text("user.displayName", &self.user.display_name)?;
        url("panel.attestationUrl", &self.panel.attestation_url)?;
        url("panel.reportUrl", &self.panel.report_url)?;
        if let Some(a) = &self.panel.assertion_url {
            url("panel.assertionUrl", a)?;
        }
        if self.panel.token.len() < 16 || self.panel.token.len() > MAX_TEXT_LEN {
            return Err(bad("panel.token must be 16 to 512 characters".into()));
        }
        if let Some(name) = &self.key_name {
            text("keyName", name)?;
        }
        match (&self.tap, self.mode) {
            (None, Mode::Automatic) => {
                return Err(bad(
                    "automatic mode needs a tap (Temporary Access Pass)".into()
                ));
            }
            (Some(tap), _)
                if tap.is_empty() || tap.len() > 64 || tap.contains(char::is_whitespace) =>
            {
                // Do not echo the TAP: it is a secret even when malformed.
                return Err(bad("tap must be 1 to 64 characters without spaces".into()));
            }
            _ => {}
        }
        Ok(())
    }
}

/// 8-4-4-4-12 hexadecimal.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Everything the extension answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ExtensionResponse {
    Pong(Pong),
    SelfTestResult(SelfTestResult),
    /// `provision` was accepted: queued at `position` (0 = running now).
    Accepted {
        request_id: String,
        position: u32,
    },
    /// The answer to `status`.
    Status(StatusReport),
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

/// Where requests stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub busy: bool,
    pub queue_length: u32,
    /// The asked-for request (or the running one), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<crate::report::JobReport>,
    /// Whom the running job is for, "Display Name <upn>" (no secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_user: Option<String>,
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
    #[error("a request for this user ({upn}) is already queued or running")]
    AlreadyQueued { upn: String },
    #[error("no request {request_id:?} is queued or running")]
    UnknownRequest { request_id: String },
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
            Self::AlreadyQueued { .. } => "alreadyQueued",
            Self::UnknownRequest { .. } => "unknownRequest",
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
    // Variants without a struct of their own list their fields here; structs
    // refuse unknown fields themselves (`deny_unknown_fields`).
    let allowed_fields: Option<&[&str]> = match kind.as_str() {
        "ping" | "selfTest" => Some(&["type"]),
        "status" => Some(&["type", "requestId"]),
        "cancel" => Some(&["type", "requestId"]),
        _ => None,
    };
    if let Some(allowed) = allowed_fields
        && let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str()))
    {
        return Err(RequestError::Malformed {
            kind,
            detail: format!("unknown field {extra:?}"),
        });
    }
    let request: PanelRequest =
        serde_json::from_value(value).map_err(|e| RequestError::Malformed {
            kind,
            detail: scrub(&e.to_string()),
        })?;
    if let PanelRequest::Provision(p) = &request {
        p.validate()?;
    }
    Ok(request)
}

/// Serde's messages quote the offending value (`invalid type: string "..."`);
/// a value may be a TAP, so everything between quotes after "invalid" goes.
fn scrub(detail: &str) -> String {
    match detail.find("invalid") {
        Some(_) if detail.contains('"') => {
            let mut out = String::new();
            let mut quoted = false;
            for c in detail.chars() {
                if c == '"' {
                    quoted = !quoted;
                    if quoted {
                        out.push_str("\"…");
                    }
                    continue;
                }
                if !quoted {
                    out.push(c);
                }
            }
            out
        }
        _ => detail.to_string(),
    }
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

    fn provision_json(patch: serde_json::Value) -> String {
        let mut v = serde_json::json!({
            "type": "provision",
            "requestId": "req-1",
            "mode": "automatic",
            "tenantId": "8c2e1b4a-5d6f-4a7b-9c8d-0e1f2a3b4c5d",
            "user": {"objectId": "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                     "upn": "adele@contoso.com", "displayName": "Adele <script>"},
            "tap": "Secret-TAP-123",
            "panel": {"attestationUrl": "http://127.0.0.1:8787/api/ext/attest",
                      "reportUrl": "http://127.0.0.1:8787/api/ext/report",
                      "token": "0123456789abcdef0123"}
        });
        if let (Some(obj), Some(p)) = (v.as_object_mut(), patch.as_object()) {
            for (k, val) in p {
                if val.is_null() {
                    obj.remove(k);
                } else {
                    obj.insert(k.clone(), val.clone());
                }
            }
        }
        v.to_string()
    }

    #[test]
    fn provision_parses() {
        let r = parse_request_text(&provision_json(serde_json::json!({}))).expect("valid");
        let PanelRequest::Provision(p) = r else {
            panic!("not a provision: {r:?}")
        };
        assert_eq!(p.mode, Mode::Automatic);
        assert_eq!(p.user.display_name, "Adele <script>");
        assert!(!p.visible);
    }

    macro_rules! provision_refused {
        ($name:ident, $patch:tt, $needle:expr) => {
            #[test]
            fn $name() {
                let err = parse_request_text(&provision_json(serde_json::json!($patch)))
                    .expect_err("must be refused");
                assert_eq!(err.code(), "malformed", "{err}");
                assert!(err.to_string().contains($needle), "{err}");
                assert!(
                    !err.to_string().contains("Secret-TAP"),
                    "never echo the TAP: {err}"
                );
            }
        };
    }

    provision_refused!(automatic_needs_tap, {"tap": null}, "needs a tap");
    provision_refused!(tap_with_spaces, {"tap": "Secret-TAP with space"}, "tap must be");
    provision_refused!(tap_wrong_type, {"tap": ["Secret-TAP-123"]}, "invalid type");
    provision_refused!(tenant_not_guid, {"tenantId": "contoso"}, "tenantId");
    provision_refused!(request_id_odd_chars, {"requestId": "a/b"}, "requestId");
    provision_refused!(remote_http_report_url,
        {"panel": {"attestationUrl": "https://p.example/a", "reportUrl": "http://p.example/r", "token": "0123456789abcdef0123"}},
        "panel.reportUrl");
    provision_refused!(short_token,
        {"panel": {"attestationUrl": "https://p.example/a", "reportUrl": "https://p.example/r", "token": "x"}},
        "panel.token");
    provision_refused!(unknown_mode, {"mode": "yolo"}, "unknown variant");
    provision_refused!(unknown_field, {"priority": 1}, "unknown field");
    provision_refused!(upn_without_at, {"user": {"objectId": "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "upn": "adele", "displayName": "A"}}, "user.upn");

    #[test]
    fn manual_mode_needs_no_tap() {
        let json = provision_json(serde_json::json!({"mode": "manual", "tap": null}));
        assert!(parse_request_text(&json).is_ok());
    }

    parses!(
        status_all,
        r#"{"type":"status"}"#,
        PanelRequest::Status { request_id: None }
    );
    parses!(
        cancel,
        r#"{"type":"cancel","requestId":"r1"}"#,
        PanelRequest::Cancel {
            request_id: "r1".into()
        }
    );
    refuses!(cancel_without_id, r#"{"type":"cancel"}"#, "malformed");
}
