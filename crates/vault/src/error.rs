//! The vault's one error type.
//!
//! Every `Display` text is written for an administrator's log: it names what
//! was being done and the facts that explain the refusal (RP ID, origin,
//! credential id, file path). No variant ever carries key material; credential
//! ids and AAGUIDs are public values and may appear.

use std::path::PathBuf;

/// What a store implementation reports when it fails. The vault wraps it in
/// [`VaultError::Store`]; the store only ever sees encrypted private keys, so
/// its messages cannot leak a secret.
pub type StoreError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The WebAuthn options JSON could not be read: bad JSON, a missing
    /// member, or a value that is not base64url where bytes were expected.
    #[error("malformed WebAuthn {what} options: {detail}")]
    MalformedOptions {
        /// `creation` or `request`.
        what: &'static str,
        /// What was wrong, naming the member.
        detail: String,
    },

    /// The origin the caller vouched for is not a secure web origin
    /// (`https://host[:port]`, or `http://localhost` for development).
    #[error("origin {origin:?} is not a valid secure web origin: {detail}")]
    InvalidOrigin {
        /// The origin as given.
        origin: String,
        /// Why it was refused.
        detail: String,
    },

    /// The RP ID is not the origin's host nor a registrable suffix of it
    /// (WebAuthn §5.1.3 step 8 / §5.1.4.1 step 7), so a browser would refuse.
    #[error(
        "RP ID {rp_id:?} is not valid for origin {origin:?}: the RP ID must be the origin's host or a registrable suffix of it"
    )]
    RpIdMismatch {
        /// The RP ID from the options.
        rp_id: String,
        /// The origin the caller vouched for.
        origin: String,
    },

    /// `pubKeyCredParams` does not allow ES256 (COSE -7), the only algorithm
    /// this authenticator has (CTAP2 `CTAP2_ERR_UNSUPPORTED_ALGORITHM`).
    #[error(
        "the relying party does not accept ES256 (COSE -7), the only algorithm of the vault; it offered {offered:?}"
    )]
    UnsupportedAlgorithm {
        /// The COSE algorithm identifiers the relying party listed.
        offered: Vec<i64>,
    },

    /// The user already holds a credential listed in `excludeCredentials`
    /// (CTAP2 `CTAP2_ERR_CREDENTIAL_EXCLUDED`): the relying party already
    /// knows this security key.
    #[error(
        "user {user_id:?} already has credential {credential_id} for RP ID {rp_id:?}, which the relying party listed in excludeCredentials"
    )]
    CredentialExcluded {
        /// The vault user.
        user_id: String,
        /// The RP ID of the request.
        rp_id: String,
        /// The excluded credential the user holds, base64url.
        credential_id: String,
    },

    /// No credential of the user matches the request (RP ID and, when given,
    /// `allowCredentials`).
    #[error("user {user_id:?} has no credential for RP ID {rp_id:?}{}", if *.allow_list_len > 0 { format!(" among the {} allowed credential(s)", allow_list_len) } else { String::new() })]
    NoCredential {
        /// The vault user.
        user_id: String,
        /// The RP ID of the request.
        rp_id: String,
        /// How many credential ids `allowCredentials` listed (0 = any).
        allow_list_len: usize,
    },

    /// The stored private key was sealed under a different vault key (the key
    /// file or environment variable changed since the credential was made).
    #[error(
        "credential {credential_id} was encrypted with another vault key (key id {stored_key_id}, current key id {current_key_id}); restore the original vault key"
    )]
    WrongVaultKey {
        /// The credential, base64url.
        credential_id: String,
        /// Public fingerprint of the key that sealed the record.
        stored_key_id: String,
        /// Public fingerprint of the key in use.
        current_key_id: String,
    },

    /// The encrypted private key failed authentication under the right vault
    /// key: the record was altered or moved to another user, credential or RP.
    #[error(
        "encrypted private key of credential {credential_id} failed its integrity check: the stored record was altered or belongs to another user, credential or RP ID"
    )]
    TamperedKey {
        /// The credential, base64url.
        credential_id: String,
    },

    /// A stored record cannot be used (bad lengths, unknown format version).
    #[error("stored credential {credential_id} is unusable: {detail}")]
    CorruptRecord {
        /// The credential, base64url.
        credential_id: String,
        /// What was wrong with it.
        detail: String,
    },

    /// The vault key could not be read, created or decoded.
    #[error("vault key {source_name}: {detail}")]
    VaultKey {
        /// Where the key was to come from: a file path or `environment variable NAME`.
        source_name: String,
        /// What was wrong.
        detail: String,
    },

    /// The configured or stored attestation certificate and key are unusable.
    #[error("attestation certificate configuration: {detail}")]
    AttestationConfig {
        /// What was wrong.
        detail: String,
    },

    /// Reading or writing a file of the vault failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What the vault was doing, e.g. `cannot read`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Randomness(String),

    /// A cryptographic or encoding step failed inside a library (certificate
    /// generation, attestation signing, AES-GCM, CBOR). Not expected with
    /// valid configuration; the text says which step.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),

    /// The credential store failed.
    #[error("credential store failed: {0}")]
    Store(#[source] StoreError),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;
