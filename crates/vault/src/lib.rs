//! The vault: a virtual FIDO2 security key per user, in pure Rust.
//!
//! It answers the two WebAuthn ceremonies the way a roaming USB security key
//! behind a browser would, so relying parties (Microsoft Entra ID through
//! `login.microsoft.com/.../fido/create` or Graph `fido2Methods`) cannot tell
//! the difference:
//!
//! - [`Vault::make_credential`] takes `PublicKeyCredentialCreationOptions`
//!   and the origin the caller vouches for, makes an ES256 (P-256) key, and
//!   returns `RegistrationResponseJSON` with full **`packed` attestation and
//!   an `x5c` batch certificate** ([`Attestation`]). Microsoft refuses self
//!   attestation, so there is no self or `none` mode.
//! - [`Vault::get_assertion`] takes `PublicKeyCredentialRequestOptions` and
//!   returns `AuthenticationResponseJSON`, counting signatures.
//!
//! Flags are UP and UV (the administrator's request stands in for touch and
//! PIN), plus AT on registration; BE/BS are clear (device-bound key). Private
//! keys are sealed with AES-256-GCM under a [`MasterKey`] before they reach a
//! [`KeyStore`], and are only ever in clear inside this crate, wiped after use.
//!
//! # Wiring it up
//!
//! Three pieces, each with a file-based and an in-memory constructor:
//!
//! - the vault key ([`MasterKey`]): [`MasterKey::load_or_create_file`] (32
//!   raw bytes, created 0600 on first use) or [`MasterKey::from_env`]
//!   (base64);
//! - the attestation ([`Attestation`]): [`Attestation::load_or_generate`]
//!   (a CA and batch certificate generated once into a directory, AAGUID
//!   [`Aaguid::DEFAULT`] = `5eba1792-4170-4ad5-bb8b-55e33f0cff49` unless
//!   configured) or [`Attestation::from_pem`] (a certificate and key issued
//!   elsewhere, for tenants that allow-list AAGUIDs);
//! - the store ([`KeyStore`]): [`MemoryStore`] here, SQLite in the panel.
//!
//! ```no_run
//! # use std::{path::Path, sync::Arc};
//! # use vault::*;
//! # fn main() -> Result<(), VaultError> {
//! let vault = Vault::new(
//!     Arc::new(MemoryStore::new()), // the panel passes its SQLite store
//!     MasterKey::load_or_create_file(Path::new("/var/lib/panel/vault.key"))?,
//!     Attestation::load_or_generate(Path::new("/var/lib/panel/attestation"), Aaguid::DEFAULT)?,
//! );
//! println!("trust this CA for AAGUID {}:\n{}", vault.aaguid(), vault.attestation_ca_pem());
//! # Ok(())
//! # }
//! ```
//!
//! # Limits
//!
//! - RP ID checks approximate "registrable suffix" without the Public Suffix
//!   List (an RP ID must have two labels); callers choose the RP anyway.
//! - The `excludeCredentials` check and the insert are two store calls, not
//!   one transaction: two concurrent registrations for the same user could
//!   both pass it. The panel serialises registrations per request.
//! - Only ES256, no extensions (credProtect, hmac-secret, largeBlob are
//!   ignored, and `clientExtensionResults` is `{}`), no resident-key storage
//!   semantics beyond "newest credential of the user for the RP".
//!
//! # Why not 1Password's `passkey` crates
//!
//! `passkey-authenticator` 0.6 hard-codes `fmt: "none"` in `make_credential`
//! (no packed attestation, no `x5c`), keeps private keys in its `Passkey`
//! records as plain COSE keys handed to the store, and brings an async trait
//! and a mock framework along. Adding attestation would mean re-doing its
//! make_credential anyway. The authenticator proper is small (authenticator
//! data, a COSE key, a CBOR map, two signatures), so it is built here on
//! `p256` + `ciborium` + `rcgen`, and tested against an independent verifier
//! (`webauthn-rs-core`).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use vault::{Aaguid, Attestation, CreationOptions, MasterKey, MemoryStore, Vault};
//!
//! # fn main() -> Result<(), vault::VaultError> {
//! let vault = Vault::new(
//!     Arc::new(MemoryStore::new()),
//!     MasterKey::generate()?,
//!     Attestation::generate(Aaguid::DEFAULT)?,
//! );
//! let options = CreationOptions::microsoft(b"server-challenge".to_vec(), b"user-1".to_vec(), "a@contoso.com", "A");
//! let reg = vault.make_credential("entra-object-id", &options, vault::MICROSOFT_ORIGIN)?;
//! assert_eq!(reg.response.authenticator_attachment, "cross-platform");
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aaguid;
mod attestation;
mod error;
mod options;
pub mod profile;
mod response;
mod sealing;
mod store;
mod wire;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use zeroize::Zeroizing;

pub use aaguid::{Aaguid, ParseAaguidError};
pub use attestation::{
    Attestation, AttestationNames, BATCH_CERT_FILE, BATCH_KEY_FILE, CA_CERT_FILE, REPLACED_SUFFIX,
    Renewal,
};
pub use error::{Result, StoreError, VaultError};
pub use options::{COSE_ES256, CreationOptions, MICROSOFT_ORIGIN, MICROSOFT_RP_ID, RequestOptions};
pub use response::{
    Assertion, AssertionResponseJson, AttestationResponseJson, AuthenticationResponseJson,
    CredentialInfo, Registration, RegistrationResponseJson,
};
pub use sealing::MasterKey;
pub use store::{CredentialRecord, KeyStore, MemoryStore};

use options::{Origin, b64url};
use sealing::{Binding, fill_random};

/// Length of generated credential ids. Random, and nothing else: the id is
/// public and sent to every relying party, so it embeds no secret or
/// wrapped key.
const CREDENTIAL_ID_LEN: usize = 32;

/// The virtual authenticators of all users, over one store.
///
/// `Send + Sync`: share it behind an `Arc` between request handlers.
pub struct Vault {
    store: Arc<dyn KeyStore>,
    key: MasterKey,
    attestation: Attestation,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("key", &self.key)
            .field("attestation", &self.attestation)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// A vault over `store`, sealing keys with `key` and attesting with
    /// `attestation` (whose AAGUID becomes the authenticator's).
    pub fn new(store: Arc<dyn KeyStore>, key: MasterKey, attestation: Attestation) -> Self {
        Vault {
            store,
            key,
            attestation,
        }
    }

    /// The AAGUID of every authenticator of this vault.
    pub fn aaguid(&self) -> Aaguid {
        self.attestation.aaguid()
    }

    /// The attestation CA certificate(s), PEM: what a relying party that
    /// enforces attestation must trust.
    pub fn attestation_ca_pem(&self) -> &str {
        self.attestation.ca_pem()
    }

    /// The attestation material in use.
    pub fn attestation(&self) -> &Attestation {
        &self.attestation
    }

    /// Registers a new credential for `user_id` (authenticatorMakeCredential
    /// behind `navigator.credentials.create()`), as if on a page at `origin`.
    ///
    /// The origin is the caller's word (the extension's view of the tab, or
    /// the fixed Microsoft origin for Graph): the vault checks the RP ID
    /// against it exactly as a browser would, so a response is never made
    /// that a browser on that origin could not have made.
    ///
    /// # Errors
    /// [`VaultError::InvalidOrigin`], [`VaultError::RpIdMismatch`],
    /// [`VaultError::MalformedOptions`], [`VaultError::UnsupportedAlgorithm`],
    /// [`VaultError::CredentialExcluded`], and store, randomness or signing
    /// failures. Nothing is stored unless the call succeeds.
    pub fn make_credential(
        &self,
        user_id: &str,
        options: &CreationOptions,
        origin: &str,
    ) -> Result<Registration> {
        options.validate()?;
        let origin = Origin::parse(origin)?;
        let rp_id = origin.resolve_rp_id(options.rp_id.as_deref())?;
        if !options.allows_es256() {
            return Err(VaultError::UnsupportedAlgorithm {
                offered: options.algorithms.clone(),
            });
        }
        for excluded in &options.exclude_credentials {
            let held = self
                .store
                .load(user_id, excluded)
                .map_err(VaultError::Store)?;
            if held.is_some_and(|r| r.rp_id == rp_id) {
                return Err(VaultError::CredentialExcluded {
                    user_id: user_id.to_owned(),
                    rp_id,
                    credential_id: b64url(excluded),
                });
            }
        }

        let signing_key = new_signing_key()?;
        let public_key = signing_key
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        let mut credential_id = vec![0u8; CREDENTIAL_ID_LEN];
        fill_random(&mut credential_id)?;

        let aaguid = self.attestation.aaguid();
        let cose_key = wire::cose_es256_key(&public_key)?;
        let auth_data = wire::authenticator_data(
            &rp_id,
            wire::FLAG_UP | wire::FLAG_UV | wire::FLAG_AT,
            0,
            Some((&aaguid, &credential_id, &cose_key)),
        )?;
        let client_data =
            wire::client_data_json("webauthn.create", &options.challenge, &origin.serialized);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&wire::sha256(&client_data));
        let signature = self.attestation.sign(&signed)?;
        let attestation_object =
            wire::packed_attestation_object(&auth_data, &signature, self.attestation.x5c())?;

        let scalar = Zeroizing::new(<[u8; 32]>::from(signing_key.to_bytes()));
        let sealed = self.key.seal(
            &scalar,
            &Binding {
                user_id,
                credential_id: &credential_id,
                rp_id: &rp_id,
            },
        )?;
        let record = CredentialRecord {
            user_id: user_id.to_owned(),
            credential_id: credential_id.clone(),
            rp_id,
            user_handle: options.user_handle.clone(),
            user_name: options.user_name.clone(),
            aaguid,
            public_key: public_key.clone(),
            sealed_private_key: sealed,
            sign_count: 0,
            created_unix: now_unix(),
        };
        self.store.insert(&record).map_err(VaultError::Store)?;

        let id = b64url(&credential_id);
        Ok(Registration {
            response: RegistrationResponseJson {
                raw_id: id.clone(),
                id,
                kind: "public-key".to_owned(),
                response: AttestationResponseJson {
                    client_data_json: b64url(&client_data),
                    attestation_object: b64url(&attestation_object),
                    authenticator_data: b64url(&auth_data),
                    transports: vec!["usb".to_owned()],
                    public_key_algorithm: COSE_ES256,
                    public_key: b64url(&wire::p256_spki_der(&public_key)),
                },
                authenticator_attachment: "cross-platform".to_owned(),
                client_extension_results: serde_json::Map::new(),
            },
            credential: CredentialInfo::from(&record),
        })
    }

    /// [`make_credential`](Self::make_credential) from the options' JSON.
    ///
    /// # Errors
    /// As `make_credential`, and [`VaultError::MalformedOptions`].
    pub fn make_credential_json(
        &self,
        user_id: &str,
        options_json: &str,
        origin: &str,
    ) -> Result<Registration> {
        self.make_credential(user_id, &CreationOptions::from_json(options_json)?, origin)
    }

    /// Signs in with one of `user_id`'s credentials (authenticatorGetAssertion
    /// behind `navigator.credentials.get()`), as if on a page at `origin`.
    ///
    /// With `allowCredentials` the newest listed credential of the user for
    /// the RP ID is used; without, the user's newest credential for it. The
    /// signature counter goes up by one each time.
    ///
    /// # Errors
    /// [`VaultError::InvalidOrigin`], [`VaultError::RpIdMismatch`],
    /// [`VaultError::MalformedOptions`], [`VaultError::NoCredential`],
    /// [`VaultError::WrongVaultKey`], [`VaultError::TamperedKey`],
    /// [`VaultError::CorruptRecord`], and store failures.
    pub fn get_assertion(
        &self,
        user_id: &str,
        options: &RequestOptions,
        origin: &str,
    ) -> Result<Assertion> {
        options.validate()?;
        let origin = Origin::parse(origin)?;
        let rp_id = origin.resolve_rp_id(options.rp_id.as_deref())?;
        let no_credential = || VaultError::NoCredential {
            user_id: user_id.to_owned(),
            rp_id: rp_id.clone(),
            allow_list_len: options.allow_credentials.len(),
        };
        let record = self
            .store
            .list(user_id)
            .map_err(VaultError::Store)?
            .into_iter()
            .rev()
            .find(|r| {
                r.rp_id == rp_id
                    && (options.allow_credentials.is_empty()
                        || options.allow_credentials.contains(&r.credential_id))
            })
            .ok_or_else(no_credential)?;

        // Open the key before touching the counter, so a tampered record
        // does not burn counter values.
        let signing_key = self.open_key(&record)?;
        let sign_count = self
            .store
            .increment_sign_count(user_id, &record.credential_id)
            .map_err(VaultError::Store)?
            .ok_or_else(no_credential)?;

        let auth_data =
            wire::authenticator_data(&rp_id, wire::FLAG_UP | wire::FLAG_UV, sign_count, None)?;
        let client_data =
            wire::client_data_json("webauthn.get", &options.challenge, &origin.serialized);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&wire::sha256(&client_data));
        let signature: DerSignature = signing_key.sign(&signed);

        let id = b64url(&record.credential_id);
        let mut credential = CredentialInfo::from(&record);
        credential.sign_count = sign_count;
        Ok(Assertion {
            response: AuthenticationResponseJson {
                raw_id: id.clone(),
                id,
                kind: "public-key".to_owned(),
                response: AssertionResponseJson {
                    client_data_json: b64url(&client_data),
                    authenticator_data: b64url(&auth_data),
                    signature: b64url(signature.as_bytes()),
                    user_handle: Some(b64url(&record.user_handle)),
                },
                authenticator_attachment: "cross-platform".to_owned(),
                client_extension_results: serde_json::Map::new(),
            },
            credential,
        })
    }

    /// [`get_assertion`](Self::get_assertion) from the options' JSON.
    ///
    /// # Errors
    /// As `get_assertion`.
    pub fn get_assertion_json(
        &self,
        user_id: &str,
        options_json: &str,
        origin: &str,
    ) -> Result<Assertion> {
        self.get_assertion(user_id, &RequestOptions::from_json(options_json)?, origin)
    }

    /// The user's credentials, oldest first.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    pub fn credentials(&self, user_id: &str) -> Result<Vec<CredentialInfo>> {
        Ok(self
            .store
            .list(user_id)
            .map_err(VaultError::Store)?
            .iter()
            .map(CredentialInfo::from)
            .collect())
    }

    /// Deletes one of the user's credentials; `true` if it existed.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    pub fn delete_credential(&self, user_id: &str, credential_id: &[u8]) -> Result<bool> {
        self.store
            .delete(user_id, credential_id)
            .map_err(VaultError::Store)
    }

    fn open_key(&self, record: &CredentialRecord) -> Result<SigningKey> {
        let scalar = self.key.open(
            &record.sealed_private_key,
            &Binding {
                user_id: &record.user_id,
                credential_id: &record.credential_id,
                rp_id: &record.rp_id,
            },
        )?;
        let key =
            SigningKey::from_slice(scalar.as_slice()).map_err(|_| VaultError::CorruptRecord {
                credential_id: b64url(&record.credential_id),
                detail: "decrypted private key is not a P-256 scalar".to_owned(),
            })?;
        // Belt and braces: the key must match the public key the RP holds,
        // or every signature would fail verification far away from here.
        if key.verifying_key().to_sec1_point(false).as_bytes() != record.public_key.as_slice() {
            return Err(VaultError::CorruptRecord {
                credential_id: b64url(&record.credential_id),
                detail: "private key does not match the stored public key".to_owned(),
            });
        }
        Ok(key)
    }
}

/// A new P-256 key from the OS generator. Rejection sampling: 32 random
/// bytes are a valid scalar except with probability about 2^-32.
fn new_signing_key() -> Result<SigningKey> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    loop {
        fill_random(bytes.as_mut_slice())?;
        if let Ok(key) = SigningKey::from_slice(bytes.as_slice()) {
            return Ok(key);
        }
    }
}

fn now_unix() -> u64 {
    // A clock before 1970 is a broken host; 0 is an honest "unknown".
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_can_be_shared_between_request_handlers() {
        // The panel keeps one Vault in an Arc across axum handlers.
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Vault>();
        assert_send_sync::<MemoryStore>();
    }

    #[test]
    fn deleted_credentials_no_longer_sign() {
        let vault = Vault::new(
            Arc::new(MemoryStore::new()),
            MasterKey::from_bytes([1; 32]),
            Attestation::generate(Aaguid::DEFAULT).expect("attestation"),
        );
        let options = CreationOptions::microsoft(b"c".to_vec(), b"u".to_vec(), "u", "U");
        let reg = vault
            .make_credential("u", &options, MICROSOFT_ORIGIN)
            .expect("registered");
        assert_eq!(vault.credentials("u").expect("list").len(), 1);
        assert!(
            vault
                .delete_credential("u", &reg.credential.credential_id)
                .expect("delete")
        );
        let request = RequestOptions::new(MICROSOFT_RP_ID, b"c".to_vec(), vec![]);
        assert!(matches!(
            vault.get_assertion("u", &request, MICROSOFT_ORIGIN),
            Err(VaultError::NoCredential { .. })
        ));
    }
}
