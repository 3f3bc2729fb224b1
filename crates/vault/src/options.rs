//! The two WebAuthn requests the vault answers, as typed values, and the
//! checks a browser makes before it lets a page talk to an authenticator.
//!
//! The JSON forms are the standard ones (WebAuthn L3 §5.1.8
//! `PublicKeyCredentialCreationOptionsJSON`, §5.1.9
//! `PublicKeyCredentialRequestOptionsJSON`): binary members are base64url.
//! Wrappers that carry the options under `publicKey` are accepted too, which
//! covers Microsoft Graph's `webauthnCredentialCreationOptions`, webauthn-rs's
//! `CreationChallengeResponse` and the argument of `navigator.credentials.*`.
//! Unknown members (`@odata.type`, `hints`, ...) are ignored, as a browser does.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::error::{Result, VaultError};

/// COSE algorithm identifier of ES256 (ECDSA P-256 with SHA-256), the only
/// algorithm of the vault.
pub const COSE_ES256: i64 = -7;

/// The RP ID of Microsoft's security-key registration page
/// (`https://login.microsoft.com/{tenant}/fido/create`).
pub const MICROSOFT_RP_ID: &str = "login.microsoft.com";

/// The origin of that page.
pub const MICROSOFT_ORIGIN: &str = "https://login.microsoft.com";

/// A `navigator.credentials.create()` request: the parts of
/// `PublicKeyCredentialCreationOptions` an authenticator acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreationOptions {
    /// `rp.id`. `None` means "the origin's host", as in a browser.
    pub rp_id: Option<String>,
    /// `challenge`, raw bytes.
    pub challenge: Vec<u8>,
    /// `user.id`, the user handle (1 to 64 bytes), returned in assertions.
    pub user_handle: Vec<u8>,
    /// `user.name`.
    pub user_name: String,
    /// `user.displayName`.
    pub user_display_name: String,
    /// The `alg` of each `pubKeyCredParams` entry of type `public-key`.
    /// Empty means the WebAuthn default (ES256 and RS256).
    pub algorithms: Vec<i64>,
    /// `excludeCredentials` ids, raw bytes.
    pub exclude_credentials: Vec<Vec<u8>>,
}

impl CreationOptions {
    /// The call Microsoft's `fido/create` page makes: RP ID
    /// `login.microsoft.com`, ES256, and a challenge that is the UTF-8 bytes
    /// of the server challenge string (any bytes are accepted).
    pub fn microsoft(
        challenge: impl Into<Vec<u8>>,
        user_handle: impl Into<Vec<u8>>,
        user_name: impl Into<String>,
        user_display_name: impl Into<String>,
    ) -> Self {
        CreationOptions {
            rp_id: Some(MICROSOFT_RP_ID.to_owned()),
            challenge: challenge.into(),
            user_handle: user_handle.into(),
            user_name: user_name.into(),
            user_display_name: user_display_name.into(),
            algorithms: vec![COSE_ES256],
            exclude_credentials: Vec::new(),
        }
    }

    /// Reads `PublicKeyCredentialCreationOptionsJSON`, bare or under a
    /// `publicKey` member (Graph `fido2Methods/creationOptions`).
    ///
    /// # Errors
    /// [`VaultError::MalformedOptions`] naming the member at fault.
    pub fn from_json(json: &str) -> Result<Self> {
        let raw: CreationJson = parse_wrapped(json, "creation")?;
        let bad = |detail: String| VaultError::MalformedOptions {
            what: "creation",
            detail,
        };
        let challenge =
            decode_b64url(&raw.challenge).map_err(|e| bad(format!("challenge: {e}")))?;
        let user_handle = decode_b64url(&raw.user.id).map_err(|e| bad(format!("user.id: {e}")))?;
        let mut exclude_credentials = Vec::new();
        for (i, d) in raw
            .exclude_credentials
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if d.kind != "public-key" {
                // WebAuthn: descriptors of unknown types are skipped.
                continue;
            }
            exclude_credentials.push(
                decode_b64url(&d.id)
                    .map_err(|e| bad(format!("excludeCredentials[{i}].id: {e}")))?,
            );
        }
        let options = CreationOptions {
            rp_id: raw.rp.id,
            challenge,
            user_handle,
            user_name: raw.user.name.unwrap_or_default(),
            user_display_name: raw.user.display_name.unwrap_or_default(),
            algorithms: raw
                .pub_key_cred_params
                .iter()
                .filter(|p| p.kind == "public-key")
                .map(|p| p.alg)
                .collect(),
            exclude_credentials,
        };
        options.validate()?;
        Ok(options)
    }

    /// The checks that do not depend on the origin, shared by both
    /// constructors' users (the vault calls it again on every request).
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |detail: &str| VaultError::MalformedOptions {
            what: "creation",
            detail: detail.to_owned(),
        };
        if self.challenge.is_empty() {
            return Err(bad("challenge is empty"));
        }
        // WebAuthn §5.4.3: the user handle is 1 to 64 bytes.
        if self.user_handle.is_empty() || self.user_handle.len() > 64 {
            return Err(bad("user.id must be 1 to 64 bytes"));
        }
        Ok(())
    }

    /// Whether ES256 may be used (an empty list means the WebAuthn default,
    /// which includes it).
    pub(crate) fn allows_es256(&self) -> bool {
        self.algorithms.is_empty() || self.algorithms.contains(&COSE_ES256)
    }
}

/// A `navigator.credentials.get()` request: the parts of
/// `PublicKeyCredentialRequestOptions` an authenticator acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOptions {
    /// `rpId`. `None` means "the origin's host".
    pub rp_id: Option<String>,
    /// `challenge`, raw bytes.
    pub challenge: Vec<u8>,
    /// `allowCredentials` ids, raw bytes. Empty means any of the user's
    /// credentials for the RP (a discoverable-credential request).
    pub allow_credentials: Vec<Vec<u8>>,
}

impl RequestOptions {
    /// A request built from parts, for callers that intercepted the page's
    /// call themselves.
    pub fn new(
        rp_id: impl Into<String>,
        challenge: impl Into<Vec<u8>>,
        allow_credentials: Vec<Vec<u8>>,
    ) -> Self {
        RequestOptions {
            rp_id: Some(rp_id.into()),
            challenge: challenge.into(),
            allow_credentials,
        }
    }

    /// Reads `PublicKeyCredentialRequestOptionsJSON`, bare or under a
    /// `publicKey` member.
    ///
    /// # Errors
    /// [`VaultError::MalformedOptions`] naming the member at fault.
    pub fn from_json(json: &str) -> Result<Self> {
        let raw: RequestJson = parse_wrapped(json, "request")?;
        let bad = |detail: String| VaultError::MalformedOptions {
            what: "request",
            detail,
        };
        let challenge =
            decode_b64url(&raw.challenge).map_err(|e| bad(format!("challenge: {e}")))?;
        let mut allow_credentials = Vec::new();
        for (i, d) in raw.allow_credentials.unwrap_or_default().iter().enumerate() {
            if d.kind != "public-key" {
                continue;
            }
            allow_credentials.push(
                decode_b64url(&d.id).map_err(|e| bad(format!("allowCredentials[{i}].id: {e}")))?,
            );
        }
        let options = RequestOptions {
            rp_id: raw.rp_id,
            challenge,
            allow_credentials,
        };
        options.validate()?;
        Ok(options)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.challenge.is_empty() {
            return Err(VaultError::MalformedOptions {
                what: "request",
                detail: "challenge is empty".to_owned(),
            });
        }
        Ok(())
    }
}

// ---- JSON shapes (private: the public types above are what callers see) ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreationJson {
    rp: RpJson,
    user: UserJson,
    challenge: String,
    pub_key_cred_params: Vec<ParamJson>,
    exclude_credentials: Option<Vec<DescriptorJson>>,
}

#[derive(Deserialize)]
struct RpJson {
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    id: String,
    name: Option<String>,
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct ParamJson {
    #[serde(rename = "type")]
    kind: String,
    alg: i64,
}

#[derive(Deserialize)]
struct DescriptorJson {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestJson {
    challenge: String,
    rp_id: Option<String>,
    allow_credentials: Option<Vec<DescriptorJson>>,
}

/// Parses `T` from the document itself or from its `publicKey` member.
fn parse_wrapped<T: serde::de::DeserializeOwned>(json: &str, what: &'static str) -> Result<T> {
    let bad = |detail: String| VaultError::MalformedOptions { what, detail };
    let mut value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| bad(format!("not JSON: {e}")))?;
    if let Some(inner) = value.get_mut("publicKey").filter(|v| v.is_object()) {
        value = inner.take();
    }
    // The path names the member at fault ("user.id: invalid type ...").
    serde_path_to_error::deserialize(value).map_err(|e| bad(e.to_string()))
}

/// Decodes base64url with or without padding. Standard base64 (`+`, `/`) is
/// refused: the JSON forms are defined as base64url, and accepting both would
/// hide an encoding bug on the caller's side.
pub(crate) fn decode_b64url(text: &str) -> std::result::Result<Vec<u8>, String> {
    let engine = if text.ends_with('=') {
        &URL_SAFE
    } else {
        &URL_SAFE_NO_PAD
    };
    engine
        .decode(text)
        .map_err(|e| format!("not base64url ({e})"))
}

/// base64url without padding, the encoding of every binary member of the
/// JSON forms.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

// ---- Origin and RP ID ----

/// A parsed, normalised web origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// Serialised as a browser does: lower-case scheme and host, the port
    /// only when it is not the scheme's default.
    pub serialized: String,
    /// The host, lower case.
    pub host: String,
}

impl Origin {
    /// Parses `scheme://host[:port]` (a trailing `/` is tolerated). Only
    /// `https`, and `http` for `localhost`, are secure contexts where
    /// browsers allow WebAuthn.
    pub fn parse(origin: &str) -> Result<Origin> {
        let bad = |detail: &str| VaultError::InvalidOrigin {
            origin: origin.to_owned(),
            detail: detail.to_owned(),
        };
        let (scheme, rest) = origin
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://host"))?;
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(bad("an origin has no path, query, fragment or user info"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => {
                let port: u16 = p.parse().map_err(|_| bad("the port is not a number"))?;
                (h, Some(port))
            }
            None => (rest, None),
        };
        let host = host.to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(bad("the host is not a domain name"));
        }
        if host
            .split('.')
            .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            // WebAuthn needs a domain as RP ID; an IP address cannot be one.
            return Err(bad("the host is an IP address"));
        }
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" if host == "localhost" || host.ends_with(".localhost") => 80,
            "http" => return Err(bad("http is only a secure context on localhost")),
            _ => return Err(bad("the scheme must be https")),
        };
        let serialized = match port {
            Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        };
        Ok(Origin { serialized, host })
    }

    /// Resolves the RP ID of a request against this origin, as a browser
    /// does: absent means the host; present must be the host or a suffix of
    /// it on a label boundary, and must itself be registrable.
    ///
    /// Registrable is approximated without the Public Suffix List: a suffix
    /// must have at least two labels (so `com` is refused, `co.uk` is not
    /// caught). The vault is only asked by callers that already chose the
    /// RP, so this is a guard against mistakes, not against a hostile page.
    pub fn resolve_rp_id(&self, rp_id: Option<&str>) -> Result<String> {
        let Some(rp_id) = rp_id else {
            return Ok(self.host.clone());
        };
        let rp = rp_id.to_ascii_lowercase();
        let mismatch = || VaultError::RpIdMismatch {
            rp_id: rp_id.to_owned(),
            origin: self.serialized.clone(),
        };
        if rp == self.host {
            return Ok(rp);
        }
        let is_suffix = self
            .host
            .strip_suffix(rp.as_str())
            .is_some_and(|head| head.ends_with('.'));
        if is_suffix && rp.contains('.') && !rp.starts_with('.') {
            Ok(rp)
        } else {
            Err(mismatch())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_like_a_browser() {
        for (input, expected) in [
            ("https://login.microsoft.com", "https://login.microsoft.com"),
            (
                "https://Login.Microsoft.com/",
                "https://login.microsoft.com",
            ),
            (
                "https://login.microsoft.com:443",
                "https://login.microsoft.com",
            ),
            ("https://example.org:8443", "https://example.org:8443"),
            ("http://localhost:8080", "http://localhost:8080"),
        ] {
            assert_eq!(
                Origin::parse(input).map(|o| o.serialized).ok(),
                Some(expected.into()),
                "{input}"
            );
        }
    }

    #[test]
    fn origins_that_are_not_secure_contexts_are_refused() {
        for input in [
            "login.microsoft.com",
            "http://login.microsoft.com",
            "ftp://login.microsoft.com",
            "https://login.microsoft.com/fido/create",
            "https://user@login.microsoft.com",
            "https://127.0.0.1",
            "https://",
            "https://exa mple.com",
            "https://example.com:99999",
        ] {
            assert!(
                matches!(Origin::parse(input), Err(VaultError::InvalidOrigin { .. })),
                "{input} was accepted"
            );
        }
    }

    #[test]
    fn rp_id_must_be_host_or_registrable_suffix() {
        let origin = Origin::parse("https://login.microsoft.com").expect("valid origin");
        for (rp, ok) in [
            (None, true),
            (Some("login.microsoft.com"), true),
            (Some("microsoft.com"), true),
            (Some("LOGIN.microsoft.com"), true),
            (Some("com"), false),      // a public suffix
            (Some("soft.com"), false), // not on a label boundary
            (Some("login.microsoftonline.com"), false),
            (Some("evil.login.microsoft.com"), false), // more specific than the host
            (Some(""), false),
            (Some(".microsoft.com"), false),
        ] {
            assert_eq!(origin.resolve_rp_id(rp).is_ok(), ok, "{rp:?}");
        }
    }

    #[test]
    fn creation_options_read_graph_shape() {
        // The shape of Graph's fido2Methods/creationOptions (v1.0), trimmed.
        let json = r##"{
          "@odata.type": "#microsoft.graph.webauthnCredentialCreationOptions",
          "challengeTimeoutDateTime": "2026-01-01T00:05:00Z",
          "publicKey": {
            "@odata.type": "microsoft.graph.webauthnPublicKeyCredentialCreationOptions",
            "challenge": "Y2hhbGxlbmdl",
            "timeout": 300000,
            "attestation": "direct",
            "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
            "user": {"id": "dXNlcg", "name": "a@contoso.com", "displayName": "A"},
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
            "excludeCredentials": [{"type": "public-key", "id": "AAEC", "transports": ["usb"]}],
            "authenticatorSelection": {"authenticatorAttachment": "cross-platform", "userVerification": "required"},
            "extensions": {"credProtect": 2}
          }
        }"##;
        let o = CreationOptions::from_json(json).expect("graph options parse");
        assert_eq!(o.rp_id.as_deref(), Some("login.microsoft.com"));
        assert_eq!(o.challenge, b"challenge");
        assert_eq!(o.user_handle, b"user");
        assert_eq!(o.user_name, "a@contoso.com");
        assert_eq!(o.algorithms, vec![-7, -257]);
        assert_eq!(o.exclude_credentials, vec![vec![0, 1, 2]]);
    }
}
