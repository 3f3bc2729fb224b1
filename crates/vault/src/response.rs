//! What the vault hands back: the standard WebAuthn JSON forms
//! (WebAuthn L3 §5.1 `RegistrationResponseJSON`, `AuthenticationResponseJSON`),
//! all binary members base64url without padding, plus the vault's own view
//! of the credential.

use serde::{Deserialize, Serialize};

use crate::aaguid::Aaguid;
use crate::store::CredentialRecord;

/// `RegistrationResponseJSON`: what `PublicKeyCredential.toJSON()` gives
/// after `navigator.credentials.create()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponseJson {
    /// The credential id, base64url.
    pub id: String,
    /// The same id, base64url.
    pub raw_id: String,
    /// Always `public-key`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The authenticator's answer.
    pub response: AttestationResponseJson,
    /// Always `cross-platform`: the vault presents itself as a roaming
    /// security key, which is what Microsoft's "Security key" flow expects.
    pub authenticator_attachment: String,
    /// Always `{}`: no client extensions are processed.
    pub client_extension_results: serde_json::Map<String, serde_json::Value>,
}

/// `AuthenticatorAttestationResponseJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationResponseJson {
    /// The exact `clientDataJSON` bytes, base64url.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// The CBOR attestation object (`packed`, with `x5c`), base64url.
    pub attestation_object: String,
    /// The authenticator data inside the attestation object, base64url.
    pub authenticator_data: String,
    /// Always `["usb"]`, matching "USB device" in Microsoft's wizard.
    pub transports: Vec<String>,
    /// Always -7 (ES256).
    pub public_key_algorithm: i64,
    /// The credential public key as SubjectPublicKeyInfo DER, base64url.
    pub public_key: String,
}

/// `AuthenticationResponseJSON`: what `PublicKeyCredential.toJSON()` gives
/// after `navigator.credentials.get()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResponseJson {
    /// The credential id, base64url.
    pub id: String,
    /// The same id, base64url.
    pub raw_id: String,
    /// Always `public-key`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The authenticator's answer.
    pub response: AssertionResponseJson,
    /// Always `cross-platform`.
    pub authenticator_attachment: String,
    /// Always `{}`.
    pub client_extension_results: serde_json::Map<String, serde_json::Value>,
}

/// `AuthenticatorAssertionResponseJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionResponseJson {
    /// The exact `clientDataJSON` bytes, base64url.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// The authenticator data, base64url.
    pub authenticator_data: String,
    /// ECDSA signature (DER) over `authenticatorData | SHA-256(clientDataJSON)`, base64url.
    pub signature: String,
    /// The user handle given at registration, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_handle: Option<String>,
}

/// The public facts about one stored credential: what the panel shows on a
/// user's Passkeys tab. Holds no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    /// The vault user.
    pub user_id: String,
    /// The credential id, raw bytes.
    pub credential_id: Vec<u8>,
    /// The RP ID.
    pub rp_id: String,
    /// The `user.name` given at registration.
    pub user_name: String,
    /// The AAGUID it was attested with.
    pub aaguid: Aaguid,
    /// The public key, SEC1 uncompressed.
    pub public_key: Vec<u8>,
    /// The signature counter as last used.
    pub sign_count: u32,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix: u64,
}

impl From<&CredentialRecord> for CredentialInfo {
    fn from(r: &CredentialRecord) -> Self {
        CredentialInfo {
            user_id: r.user_id.clone(),
            credential_id: r.credential_id.clone(),
            rp_id: r.rp_id.clone(),
            user_name: r.user_name.clone(),
            aaguid: r.aaguid,
            public_key: r.public_key.clone(),
            sign_count: r.sign_count,
            created_unix: r.created_unix,
        }
    }
}

/// The outcome of [`Vault::make_credential`](crate::Vault::make_credential).
#[derive(Debug, Clone)]
pub struct Registration {
    /// What to hand to the page or to Graph.
    pub response: RegistrationResponseJson,
    /// The stored credential, for binding it to a provisioning request.
    pub credential: CredentialInfo,
}

/// The outcome of [`Vault::get_assertion`](crate::Vault::get_assertion).
#[derive(Debug, Clone)]
pub struct Assertion {
    /// What to hand to the page.
    pub response: AuthenticationResponseJson,
    /// The credential that signed, with its new counter.
    pub credential: CredentialInfo,
}
