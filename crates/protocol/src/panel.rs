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
    /// Checks sizes and formats beyond what the types say. Each refusal is
    /// [`RequestError::InvalidField`] naming the field.
    pub fn validate(&self) -> Result<(), RequestError> {
        let bad = |field: &str, detail: String| invalid("provision", field, detail);
        let text = |field: &str, v: &str| -> Result<(), RequestError> {
            if v.trim().is_empty() || v.len() > MAX_TEXT_LEN {
                return Err(bad(
                    field,
                    format!("must be 1 to {MAX_TEXT_LEN} characters"),
                ));
            }
            if v.chars().any(char::is_control) {
                return Err(bad(field, "holds control characters".into()));
            }
            Ok(())
        };
        let url = |field: &str, v: &str| -> Result<(), RequestError> {
            text(field, v)?;
            EndpointUrl::parse(v).map(|_| ()).map_err(|e| bad(field, e))
        };
        check_request_id("provision", &self.request_id)?;
        if !is_guid(&self.tenant_id) {
            return Err(bad("tenantId", "must be a GUID".into()));
        }
        if !is_guid(&self.user.object_id) {
            return Err(bad("user.objectId", "must be a GUID".into()));
        }
        text("user.upn", &self.user.upn)?;
        if !self.user.upn.contains('@') || self.user.upn.contains(char::is_whitespace) {
            return Err(bad("user.upn", "must look like name@domain".into()));
        }
        text("user.displayName", &self.user.display_name)?;
        url("panel.attestationUrl", &self.panel.attestation_url)?;
        url("panel.reportUrl", &self.panel.report_url)?;
        if let Some(a) = &self.panel.assertion_url {
            url("panel.assertionUrl", a)?;
        }
        if self.panel.token.len() < 16 || self.panel.token.len() > MAX_TEXT_LEN {
            // Do not echo the token: it is a secret even when malformed.
            return Err(bad("panel.token", "must be 16 to 512 characters".into()));
        }
        if let Some(name) = &self.key_name {
            text("keyName", name)?;
        }
        match (&self.tap, self.mode) {
            (None, Mode::Automatic) => {
                return Err(bad(
                    "tap",
                    "automatic mode needs a tap (Temporary Access Pass)".into(),
                ));
            }
            (Some(tap), _)
                if tap.is_empty() || tap.len() > 64 || tap.contains(char::is_whitespace) =>
            {
                // Do not echo the TAP: it is a secret even when malformed.
                return Err(bad(
                    "tap",
                    "must be 1 to 64 characters without spaces".into(),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

impl PanelEndpoints {
    /// Whether every URL here is on `sender_origin`, the origin of the page
    /// that sent the request (as the browser reports it, e.g.
    /// `http://127.0.0.1:8787`): a panel page may only have the extension
    /// call back to its own server. Optional: the worker calls it where it
    /// knows the sender. Refuses with
    /// [`RequestError::EndpointOriginMismatch`] naming the first URL that
    /// differs.
    pub fn check_sender_origin(&self, sender_origin: &str) -> Result<(), RequestError> {
        let urls = [
            ("panel.attestationUrl", Some(&self.attestation_url)),
            ("panel.reportUrl", Some(&self.report_url)),
            ("panel.assertionUrl", self.assertion_url.as_ref()),
        ];
        for (field, url) in urls {
            if let Some(url) = url
                && !same_origin(url, sender_origin)
            {
                return Err(RequestError::EndpointOriginMismatch {
                    field: field.into(),
                    origin: sender_origin.into(),
                });
            }
        }
        Ok(())
    }
}

fn invalid(kind: &str, field: &str, detail: String) -> RequestError {
    RequestError::InvalidField {
        kind: kind.into(),
        field: field.into(),
        detail,
    }
}

/// The request id rule, the same for `provision`, `status` and `cancel`:
/// 1 to [`MAX_ID_LEN`] of `[A-Za-z0-9_-]`.
fn check_request_id(kind: &str, v: &str) -> Result<(), RequestError> {
    if v.is_empty() || v.len() > MAX_ID_LEN {
        return Err(invalid(
            kind,
            "requestId",
            format!("must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            kind,
            "requestId",
            "may only hold letters, digits, '-' and '_'".into(),
        ));
    }
    Ok(())
}

/// A URL the extension may call: `https`, or `http` only on a loopback host
/// (`127.0.0.1`, `localhost`, `[::1]`, spelled exactly so). Parsed, not
/// prefix-matched: `http://localhost:@evil.example/` has the host
/// `evil.example`. Stricter than a browser's parser on purpose: no user
/// name or password, no backslashes, spaces or non-ASCII characters, no
/// empty port, so what is checked here is what the browser will call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    /// `https` or `http`, lower case.
    pub scheme: String,
    /// Lower case; an IPv6 literal keeps its brackets.
    pub host: String,
    /// The explicit port, or the scheme's default (443, 80).
    pub port: u16,
    /// Whether anything follows the authority (a path, query or fragment).
    pub has_path: bool,
}

impl EndpointUrl {
    /// Parses `v`; the error says what is wrong, without repeating `v`.
    pub fn parse(v: &str) -> Result<Self, String> {
        if v.chars()
            .any(|c| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control() || c == '\\')
        {
            return Err(
                "must be a plain URL (ASCII, no spaces, control characters or backslashes)".into(),
            );
        }
        let (scheme, rest) = v
            .split_once("://")
            .ok_or("must be an absolute URL (scheme://host/...)")?;
        let scheme = scheme.to_ascii_lowercase();
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err("must not carry a user name or password (user@host)".into());
        }
        let (host, port) = split_authority(authority).ok_or("has an invalid host or port")?;
        let host = host.to_ascii_lowercase();
        if !valid_host(&host) {
            return Err("has an invalid host".into());
        }
        let port = match port {
            None if scheme == "https" => 443,
            None => 80,
            // Digits only: `u16::from_str` would also take a leading `+`.
            Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
                match p.parse::<u16>() {
                    Ok(n) if n != 0 => n,
                    _ => return Err("has an invalid port".into()),
                }
            }
            Some(_) => return Err("has an invalid port".into()),
        };
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            _ => {
                return Err(
                    "must be https (or http on loopback: 127.0.0.1, localhost, [::1])".into(),
                );
            }
        }
        Ok(Self {
            scheme,
            host,
            port,
            has_path: !tail.is_empty(),
        })
    }

    /// Whether `other` has the same scheme, host and port.
    pub fn same_origin(&self, other: &EndpointUrl) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }
}

/// Whether the URL `url` is on `origin` (`scheme://host[:port]`, as a
/// browser reports a sender's origin). False when either does not parse as
/// an [`EndpointUrl`] or `origin` has a path: hosts compare exactly
/// (`localhost` is not `127.0.0.1`), ports after filling in the default.
pub fn same_origin(url: &str, origin: &str) -> bool {
    match (EndpointUrl::parse(url), EndpointUrl::parse(origin)) {
        (Ok(u), Ok(o)) => !o.has_path && u.same_origin(&o),
        _ => false,
    }
}

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// Splits `host[:port]`, keeping an IPv6 literal's brackets. `None` when
/// the host is empty or text follows a literal's `]` other than `:port`.
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')? + 1;
        let (host, after) = authority.split_at(close);
        match after {
            "" => (host, None),
            a => (host, Some(a.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    (!host.is_empty()).then_some((host, port))
}

/// A DNS name or IPv4 address (dot-separated labels of letters, digits and
/// `-`, none empty), or a bracketed IPv6 literal. Percent-escapes and
/// anything else a browser would rewrite are refused.
fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.contains(':')
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    }
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
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
    /// A field parsed but its value is not acceptable (format, length,
    /// scheme). The message names the field, never its value.
    #[error("invalid {kind:?} request: {field} {detail}")]
    InvalidField {
        kind: String,
        field: String,
        detail: String,
    },
    /// A panel URL is not on the origin of the page that sent the request.
    #[error("{field} is not on the requesting page's origin {origin}")]
    EndpointOriginMismatch { field: String, origin: String },
    #[error("a request for this user ({upn}) is already queued or running")]
    AlreadyQueued { upn: String },
    #[error("no request {request_id:?} is queued or running")]
    UnknownRequest { request_id: String },
    /// The request id of a job that already ended: a panel retrying a lost
    /// answer learns the outcome instead of starting the job again.
    #[error("request {request_id:?} already ended ({state})")]
    AlreadyFinished { request_id: String, state: String },
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
            Self::InvalidField { .. } => "invalidField",
            Self::EndpointOriginMismatch { .. } => "endpointOriginMismatch",
            Self::AlreadyQueued { .. } => "alreadyQueued",
            Self::UnknownRequest { .. } => "unknownRequest",
            Self::AlreadyFinished { .. } => "alreadyFinished",
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
            Self::EndpointOriginMismatch { .. } => Some(
                "The panel must give its own origin in the callback URLs: check the panel's public URL setting against the address the panel page is opened on.",
            ),
            Self::AlreadyFinished { .. } => Some(
                "Its result was reported to the panel; start a new request to provision the user again.",
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
    match &request {
        PanelRequest::Provision(p) => p.validate()?,
        PanelRequest::Status {
            request_id: Some(id),
        } => check_request_id("status", id)?,
        PanelRequest::Cancel { request_id } => check_request_id("cancel", request_id)?,
        _ => {}
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
    use crate::report::JobState;

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
            provision_refused!($name, $patch, $needle, "invalidField");
        };
        ($name:ident, $patch:tt, $needle:expr, $code:expr) => {
            #[test]
            fn $name() {
                let err = parse_request_text(&provision_json(serde_json::json!($patch)))
                    .expect_err("must be refused");
                assert_eq!(err.code(), $code, "{err}");
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
    // Serde's own refusals (wrong JSON type, unknown variant or field) stay
    // `malformed`: the value did not parse at all.
    provision_refused!(tap_wrong_type, {"tap": ["Secret-TAP-123"]}, "invalid type", "malformed");
    provision_refused!(tenant_not_guid, {"tenantId": "contoso"}, "tenantId");
    provision_refused!(request_id_odd_chars, {"requestId": "a/b"}, "requestId");
    provision_refused!(remote_http_report_url,
        {"panel": {"attestationUrl": "https://p.example/a", "reportUrl": "http://p.example/r", "token": "0123456789abcdef0123"}},
        "panel.reportUrl");
    provision_refused!(short_token,
        {"panel": {"attestationUrl": "https://p.example/a", "reportUrl": "https://p.example/r", "token": "x"}},
        "panel.token");
    provision_refused!(unknown_mode, {"mode": "yolo"}, "unknown variant", "malformed");
    provision_refused!(unknown_field, {"priority": 1}, "unknown field", "malformed");
    provision_refused!(request_id_too_long, {"requestId": "a".repeat(65)}, "requestId");
    provision_refused!(object_id_not_guid,
        {"user": {"objectId": "x", "upn": "adele@contoso.com", "displayName": "A"}},
        "user.objectId");
    provision_refused!(display_name_blank,
        {"user": {"objectId": "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "upn": "adele@contoso.com", "displayName": "  "}},
        "user.displayName");
    provision_refused!(key_name_with_control_characters, {"keyName": "IDM\u{7}"}, "keyName");
    provision_refused!(assertion_url_with_userinfo,
        {"panel": {"attestationUrl": "https://p.example/a", "reportUrl": "https://p.example/r",
                   "assertionUrl": "https://u:p@p.example/s", "token": "0123456789abcdef0123"}},
        "panel.assertionUrl");
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

    #[test]
    fn status_and_cancel_request_ids_follow_the_provision_rule() {
        let long = "a".repeat(MAX_ID_LEN + 1);
        let longest = "a".repeat(MAX_ID_LEN);
        let cases: &[(&str, String, Option<&str>)] = &[
            (
                "status id with a slash",
                r#"{"type":"status","requestId":"a/b"}"#.into(),
                Some("status"),
            ),
            (
                "status id empty",
                r#"{"type":"status","requestId":""}"#.into(),
                Some("status"),
            ),
            (
                "status id too long",
                format!(r#"{{"type":"status","requestId":"{long}"}}"#),
                Some("status"),
            ),
            (
                "status id at the limit",
                format!(r#"{{"type":"status","requestId":"{longest}"}}"#),
                None,
            ),
            (
                "cancel id with a space",
                r#"{"type":"cancel","requestId":"a b"}"#.into(),
                Some("cancel"),
            ),
            (
                "cancel id empty",
                r#"{"type":"cancel","requestId":""}"#.into(),
                Some("cancel"),
            ),
            (
                "cancel id too long",
                format!(r#"{{"type":"cancel","requestId":"{long}"}}"#),
                Some("cancel"),
            ),
            (
                "cancel id of letters, digits, - and _",
                r#"{"type":"cancel","requestId":"Req_1-b"}"#.into(),
                None,
            ),
        ];
        for (case, json, refused_as) in cases {
            match (parse_request_text(json), refused_as) {
                (Ok(_), None) => {}
                (Err(e), Some(kind)) => {
                    assert_eq!(e.code(), "invalidField", "{case}: {e}");
                    let message = e.to_string();
                    assert!(message.contains("requestId"), "{case}: {message}");
                    assert!(message.contains(kind), "{case}: {message}");
                }
                (got, want) => panic!("{case}: got {got:?}, wanted refusal {want:?}"),
            }
        }
    }

    #[test]
    fn endpoint_urls_are_parsed_not_prefix_matched() {
        // (case, URL, accepted?)
        let cases = [
            (
                "https anywhere",
                "https://panel.contoso.com/api/ext/report",
                true,
            ),
            (
                "https with a port",
                "https://panel.contoso.com:8443/r",
                true,
            ),
            ("https without a path", "https://panel.contoso.com", true),
            (
                "scheme and host in capitals",
                "HTTPS://Panel.Contoso.COM/r",
                true,
            ),
            (
                "http on 127.0.0.1 with a port",
                "http://127.0.0.1:8787/api/ext/report",
                true,
            ),
            (
                "http on localhost without a port",
                "http://localhost/r",
                true,
            ),
            ("http on [::1]", "http://[::1]:8787/r", true),
            ("https on an IPv6 literal", "https://[2001:db8::1]/r", true),
            (
                "userinfo hiding the real host",
                "http://localhost:@evil.example/",
                false,
            ),
            (
                "userinfo with a port-like name",
                "http://127.0.0.1:8787@evil.example/r",
                false,
            ),
            (
                "userinfo on https",
                "https://user:pw@panel.contoso.com/r",
                false,
            ),
            (
                "loopback name as a subdomain",
                "http://localhost.evil.example/r",
                false,
            ),
            (
                "loopback address as a subdomain",
                "http://127.0.0.1.nip.io/r",
                false,
            ),
            ("loopback by another spelling", "http://127.1/r", false),
            ("http on a remote host", "http://panel.contoso.com/r", false),
            (
                "backslash before the host ends",
                "http://localhost\\@evil.example/",
                false,
            ),
            (
                "percent-escape in the host",
                "https://evil%2Eexample/r",
                false,
            ),
            ("space in the URL", "https://panel.contoso.com/a b", false),
            ("non-ASCII host", "https://pänel.example/r", false),
            ("empty host", "https:///r", false),
            ("empty port", "https://panel.contoso.com:/r", false),
            ("port zero", "https://panel.contoso.com:0/r", false),
            (
                "port out of range",
                "https://panel.contoso.com:65536/r",
                false,
            ),
            (
                "port with a sign",
                "https://panel.contoso.com:+443/r",
                false,
            ),
            ("empty label", "https://panel..contoso.com/r", false),
            ("text after an IPv6 literal", "http://[::1]x/r", false),
            ("another scheme", "ftp://panel.contoso.com/r", false),
            ("not absolute", "javascript:alert(1)", false),
            ("relative", "/api/ext/report", false),
        ];
        for (case, url, accepted) in cases {
            let got = EndpointUrl::parse(url);
            assert_eq!(got.is_ok(), accepted, "{case}: {url} -> {got:?}");
            // The same verdict through a whole provision request, with the
            // field named in the refusal and the URL's secrets not echoed.
            let json = provision_json(serde_json::json!({"panel": {
                "attestationUrl": "https://p.example/a", "reportUrl": url,
                "token": "0123456789abcdef0123"}}));
            match parse_request_text(&json) {
                Ok(_) => assert!(accepted, "{case}: accepted"),
                Err(e) => {
                    assert!(!accepted, "{case}: refused: {e}");
                    assert_eq!(e.code(), "invalidField", "{case}: {e}");
                    assert!(e.to_string().contains("panel.reportUrl"), "{case}: {e}");
                    assert!(!e.to_string().contains("pw@"), "{case}: {e}");
                }
            }
        }
    }

    #[test]
    fn endpoint_origin_must_equal_the_sender_origin() {
        // (case, URL, sender origin, same?)
        let cases = [
            (
                "same loopback origin",
                "http://127.0.0.1:8787/api/ext/report",
                "http://127.0.0.1:8787",
                true,
            ),
            (
                "default https port spelled out",
                "https://p.example:443/r",
                "https://p.example",
                true,
            ),
            (
                "host case differs",
                "https://P.Example/r",
                "https://p.example",
                true,
            ),
            (
                "other port",
                "http://127.0.0.1:9999/r",
                "http://127.0.0.1:8787",
                false,
            ),
            (
                "localhost is not 127.0.0.1",
                "http://localhost:8787/r",
                "http://127.0.0.1:8787",
                false,
            ),
            (
                "other scheme",
                "https://127.0.0.1:8787/r",
                "http://127.0.0.1:8787",
                false,
            ),
            (
                "sibling host",
                "https://evil.p.example/r",
                "https://p.example",
                false,
            ),
            (
                "userinfo trick",
                "http://127.0.0.1:8787@evil.example/r",
                "http://127.0.0.1:8787",
                false,
            ),
            (
                "sender origin with a path",
                "https://p.example/r",
                "https://p.example/r",
                false,
            ),
            (
                "sender origin not parsable",
                "https://p.example/r",
                "null",
                false,
            ),
        ];
        for (case, url, origin, same) in cases {
            assert_eq!(same_origin(url, origin), same, "{case}");
        }
    }

    #[test]
    fn sender_origin_check_names_the_first_endpoint_that_differs() {
        let endpoints = |assertion: Option<&str>| PanelEndpoints {
            attestation_url: "http://127.0.0.1:8787/api/ext/attestation".into(),
            report_url: "http://127.0.0.1:8787/api/ext/report".into(),
            assertion_url: assertion.map(str::to_string),
            token: "0123456789abcdef0123".into(),
        };
        let origin = "http://127.0.0.1:8787";
        // (case, endpoints, sender origin, refused for)
        let cases = [
            (
                "all on the sender's origin",
                endpoints(Some("http://127.0.0.1:8787/api/ext/assertion")),
                origin,
                None,
            ),
            ("no assertion URL", endpoints(None), origin, None),
            (
                "assertion URL elsewhere",
                endpoints(Some("https://evil.example/s")),
                origin,
                Some("panel.assertionUrl"),
            ),
            (
                "another sender",
                endpoints(None),
                "http://localhost:8787",
                Some("panel.attestationUrl"),
            ),
        ];
        for (case, e, sender, refused_for) in cases {
            match (e.check_sender_origin(sender), refused_for) {
                (Ok(()), None) => {}
                (Err(err), Some(field)) => {
                    assert_eq!(err.code(), "endpointOriginMismatch", "{case}");
                    assert!(err.to_string().contains(field), "{case}: {err}");
                    assert!(err.hint().is_some(), "{case}");
                    assert!(
                        !err.to_string().contains("0123456789abcdef"),
                        "{case}: token echoed"
                    );
                }
                (got, want) => panic!("{case}: got {got:?}, wanted refusal for {want:?}"),
            }
        }
    }

    #[test]
    fn new_refusal_codes_are_stable() {
        let cases = [
            (
                RequestError::InvalidField {
                    kind: "cancel".into(),
                    field: "requestId".into(),
                    detail: "must be 1 to 64 characters".into(),
                },
                "invalidField",
            ),
            (
                RequestError::EndpointOriginMismatch {
                    field: "panel.reportUrl".into(),
                    origin: "http://127.0.0.1:8787".into(),
                },
                "endpointOriginMismatch",
            ),
            (
                RequestError::AlreadyFinished {
                    request_id: "req-1".into(),
                    state: JobState::Succeeded.as_str().into(),
                },
                "alreadyFinished",
            ),
        ];
        for (err, code) in cases {
            let refusal = err.to_refusal();
            assert_eq!(refusal.code, code);
            assert_eq!(refusal.message, err.to_string());
        }
    }
}
