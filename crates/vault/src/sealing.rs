//! Encryption of credential private keys at rest.
//!
//! A credential's P-256 scalar is sealed with AES-256-GCM under the vault key
//! before it reaches a [`KeyStore`](crate::KeyStore). The sealed form is
//!
//! ```text
//! version (1) = 1 | key id (8) | nonce (12) | ciphertext (32) | tag (16)
//! ```
//!
//! The associated data binds the version, key id, user id, credential id and
//! RP ID, so a sealed key copied into another record fails to open. The key
//! id is a public fingerprint of the vault key (SHA-256 with a domain label,
//! truncated): it lets the vault tell "another vault key" from "altered
//! record", which need different fixes by an administrator.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::Path;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::Nonce;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};
use crate::options::b64url;

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const SCALAR_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// Length of a sealed private key.
pub(crate) const SEALED_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN + SCALAR_LEN + TAG_LEN;

/// The 32-byte key that encrypts credential private keys at rest.
///
/// It has no `Debug` showing its bytes, no `Serialize`, and is wiped from
/// memory when dropped. Its [`key_id`](MasterKey::key_id) is a public
/// fingerprint suitable for logs.
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
    id: [u8; KEY_ID_LEN],
}

impl MasterKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let key = Zeroizing::new(bytes);
        let digest = Sha256::new()
            .chain_update(b"passkey-vault key id v1\0")
            .chain_update(key.as_slice())
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        MasterKey { key, id }
    }

    /// A fresh random key from the operating system.
    ///
    /// # Errors
    /// [`VaultError::Randomness`] if the OS generator fails.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_random(bytes.as_mut_slice())?;
        Ok(Self::from_bytes(*bytes))
    }

    /// Decodes a key given as base64 (standard or URL alphabet, padding
    /// optional) of exactly 32 bytes. `source_name` says where the text came
    /// from, for the error message.
    ///
    /// # Errors
    /// [`VaultError::VaultKey`]; the message never repeats the text.
    pub fn from_base64(text: &str, source_name: &str) -> Result<Self> {
        let bad = |detail: &str| VaultError::VaultKey {
            source_name: source_name.to_owned(),
            detail: detail.to_owned(),
        };
        let text = text.trim();
        let unpadded = text.trim_end_matches('=');
        let engine = if unpadded.contains(['-', '_']) {
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
        } else {
            &base64::engine::general_purpose::STANDARD_NO_PAD
        };
        let decoded = Zeroizing::new(
            engine
                .decode(unpadded)
                .map_err(|_| bad("is not base64 of a 32-byte key"))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| bad("must decode to exactly 32 bytes"))?;
        Ok(Self::from_bytes(bytes))
    }

    /// Reads the key from an environment variable holding base64.
    ///
    /// # Errors
    /// [`VaultError::VaultKey`] if the variable is unset or not a valid key.
    pub fn from_env(var: &str) -> Result<Self> {
        let source_name = format!("environment variable {var}");
        let text = Zeroizing::new(std::env::var(var).map_err(|e| VaultError::VaultKey {
            source_name: source_name.clone(),
            detail: match e {
                std::env::VarError::NotPresent => "is not set".to_owned(),
                std::env::VarError::NotUnicode(_) => "is not valid UTF-8".to_owned(),
            },
        })?);
        Self::from_base64(&text, &source_name)
    }

    /// Loads the key file, creating it with 32 random bytes and mode 0600 when
    /// it does not exist.
    ///
    /// The file holds the 32 raw bytes (a base64 text of them is accepted
    /// too). On Unix an existing file readable or writable by group or others
    /// is refused, as ssh refuses such private keys: a vault key that other
    /// accounts can read protects nothing.
    ///
    /// # Errors
    /// [`VaultError::Io`] for file system failures, [`VaultError::VaultKey`]
    /// for a file with the wrong content or permissions.
    pub fn load_or_create_file(path: &Path) -> Result<Self> {
        match create_new_private(path) {
            Ok(mut file) => {
                let key = Self::generate()?;
                let io = |action, source| VaultError::Io {
                    action,
                    path: path.to_owned(),
                    source,
                };
                file.write_all(key.key.as_slice())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io("cannot write new vault key file", e))?;
                Ok(key)
            }
            // Another process may have created it in between: read theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::from_file(path),
            Err(e) => Err(VaultError::Io {
                action: "cannot create vault key file",
                path: path.to_owned(),
                source: e,
            }),
        }
    }

    /// Loads an existing key file (see [`load_or_create_file`](Self::load_or_create_file)).
    ///
    /// # Errors
    /// As for `load_or_create_file`; a missing file is an error here.
    pub fn from_file(path: &Path) -> Result<Self> {
        let source_name = path.display().to_string();
        let mut file = std::fs::File::open(path).map_err(|e| VaultError::Io {
            action: "cannot open vault key file",
            path: path.to_owned(),
            source: e,
        })?;
        check_private_mode(&file, &source_name)?;
        let mut content = Zeroizing::new(Vec::with_capacity(64));
        file.read_to_end(&mut content).map_err(|e| VaultError::Io {
            action: "cannot read vault key file",
            path: path.to_owned(),
            source: e,
        })?;
        if let Ok(bytes) = <[u8; 32]>::try_from(content.as_slice()) {
            return Ok(Self::from_bytes(bytes));
        }
        // Only text that looks like base64 is decoded as such, so a truncated
        // raw key is reported as that and not as "bad base64".
        let text = std::str::from_utf8(&content)
            .ok()
            .map(str::trim)
            .filter(|t| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/-_=".contains(&b))
            });
        match text {
            Some(text) => Self::from_base64(text, &source_name),
            None => Err(VaultError::VaultKey {
                source_name,
                detail: format!(
                    "must hold 32 raw bytes or their base64 (it has {} bytes)",
                    content.len()
                ),
            }),
        }
    }

    /// The public fingerprint of this key, 16 hex digits.
    pub fn key_id(&self) -> String {
        hex(&self.id)
    }

    /// Encrypts a 32-byte private scalar for one credential record.
    pub(crate) fn seal(&self, scalar: &[u8; SCALAR_LEN], binding: &Binding<'_>) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        // A random 96-bit nonce per seal: keys are sealed once per credential,
        // far below the 2^32 messages where random GCM nonces become a risk.
        fill_random(&mut nonce)?;
        let header = self.header();
        let aad = binding.aad(&header);
        let ciphertext = self
            .cipher()?
            .encrypt(
                &Nonce::<Aes256Gcm>::from(nonce),
                Payload {
                    msg: scalar,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Crypto("AES-GCM encryption failed".to_owned()))?;
        let mut sealed = Vec::with_capacity(SEALED_LEN);
        sealed.extend_from_slice(&header);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts a sealed private scalar; the result is wiped when dropped.
    pub(crate) fn open(
        &self,
        sealed: &[u8],
        binding: &Binding<'_>,
    ) -> Result<Zeroizing<[u8; SCALAR_LEN]>> {
        let credential_id = || b64url(binding.credential_id);
        if sealed.len() != SEALED_LEN || sealed[0] != VERSION {
            return Err(VaultError::CorruptRecord {
                credential_id: credential_id(),
                detail: format!(
                    "encrypted private key has {} bytes / format {}, expected {SEALED_LEN} / {VERSION}",
                    sealed.len(),
                    sealed.first().copied().unwrap_or(0)
                ),
            });
        }
        let (header, rest) = sealed.split_at(1 + KEY_ID_LEN);
        if header[1..] != self.id {
            return Err(VaultError::WrongVaultKey {
                credential_id: credential_id(),
                stored_key_id: hex(&header[1..]),
                current_key_id: self.key_id(),
            });
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::CorruptRecord {
            credential_id: credential_id(),
            detail: "nonce has the wrong length".to_owned(),
        })?;
        let aad = binding.aad(header);
        let plain = Zeroizing::new(
            self.cipher()?
                .decrypt(
                    &Nonce::<Aes256Gcm>::from(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| VaultError::TamperedKey {
                    credential_id: credential_id(),
                })?,
        );
        let mut out = Zeroizing::new([0u8; SCALAR_LEN]);
        if plain.len() != SCALAR_LEN {
            return Err(VaultError::CorruptRecord {
                credential_id: credential_id(),
                detail: "decrypted private key has the wrong length".to_owned(),
            });
        }
        out.copy_from_slice(&plain);
        Ok(out)
    }

    fn header(&self) -> [u8; 1 + KEY_ID_LEN] {
        let mut h = [0u8; 1 + KEY_ID_LEN];
        h[0] = VERSION;
        h[1..].copy_from_slice(&self.id);
        h
    }

    fn cipher(&self) -> Result<Aes256Gcm> {
        // From the slice, so no unwiped copy of the key lands on the stack.
        Aes256Gcm::new_from_slice(self.key.as_slice())
            .map_err(|_| VaultError::Crypto("AES-256-GCM refused a 32-byte key".to_owned()))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fingerprint only: the bytes must never reach a log.
        write!(f, "MasterKey(id {})", self.key_id())
    }
}

/// The record fields a sealed key is bound to.
pub(crate) struct Binding<'a> {
    pub user_id: &'a str,
    pub credential_id: &'a [u8],
    pub rp_id: &'a str,
}

impl Binding<'_> {
    fn aad(&self, header: &[u8]) -> Vec<u8> {
        // Length-prefixed so no two different bindings give the same bytes.
        let mut aad = Vec::with_capacity(64 + self.user_id.len() + self.rp_id.len());
        aad.extend_from_slice(b"passkey-vault credential key\0");
        aad.extend_from_slice(header);
        for part in [
            self.user_id.as_bytes(),
            self.credential_id,
            self.rp_id.as_bytes(),
        ] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part);
        }
        aad
    }
}

/// Fills `buf` from the operating system's generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| VaultError::Randomness(e.to_string()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    // Created 0600 from the start, never chmod-ed after: no window where
    // another account could open it.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
pub(crate) fn check_private_mode(file: &std::fs::File, source_name: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = file
        .metadata()
        .map_err(|e| VaultError::VaultKey {
            source_name: source_name.to_owned(),
            detail: format!("cannot read its permissions: {e}"),
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(VaultError::VaultKey {
            source_name: source_name.to_owned(),
            detail: format!(
                "is accessible by other accounts (mode {:o}); run chmod 600 on it",
                mode & 0o777
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_private_mode(_file: &std::fs::File, _source_name: &str) -> Result<()> {
    Ok(())
}
