//! Small cryptographic helpers: random secrets, hashes of secrets, password
//! hashing, and the sealing of OAuth tokens at rest.

use std::io::{Read as _, Write as _};
use std::path::Path;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

pub fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| AppError::internal(format!("random: {e}")))?;
    Ok(out)
}

/// A random secret of 32 bytes, base64url (43 characters).
pub fn random_token() -> AppResult<String> {
    Ok(b64url(&random_bytes::<32>()?))
}

/// A random id, 16 bytes in hex, for request ids (letters and digits only,
/// as the extension protocol wants).
pub fn random_id() -> AppResult<String> {
    Ok(hex(&random_bytes::<16>()?))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a high-entropy secret, hex: what the database keeps of session
/// ids and request tokens. A lookup by this hash reveals nothing usable
/// through timing, since an attacker cannot choose hashes.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// argon2id with the library's defaults (19 MiB, 2 passes), PHC string.
pub fn hash_password(password: &str) -> AppResult<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt_bytes = random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AppError::internal(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the account does not exist, so a wrong
/// user name costs as much time as a wrong password.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

/// AES-256-GCM for the tenant's OAuth tokens. Its own key (not the vault's):
/// the vault key protects credential private keys and never leaves the
/// vault crate.
///
/// Sealed form: `nonce (12) | ciphertext | tag (16)`; the associated data
/// names what the value is ("access_token", ...), so a sealed access token
/// cannot be swapped in for a refresh token.
pub struct TokenKey {
    cipher: Aes256Gcm,
}

impl TokenKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TokenKey {
            cipher: Aes256Gcm::new(&bytes.into()),
        }
    }

    pub fn generate() -> AppResult<Self> {
        Ok(Self::from_bytes(random_bytes::<32>()?))
    }

    /// Loads the key file, creating it (32 random bytes, mode 0600) on first
    /// start.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                let bytes = random_bytes::<32>().map_err(|e| e.to_string())?;
                file.write_all(&bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(Self::from_bytes(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut bytes = Vec::new();
                std::fs::File::open(path)
                    .and_then(|mut f| f.read_to_end(&mut bytes))
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let key: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| format!("{} must hold exactly 32 bytes", path.display()))?;
                Ok(Self::from_bytes(key))
            }
            Err(e) => Err(format!("cannot create {}: {e}", path.display())),
        }
    }

    pub fn seal(&self, what: &str, plain: &str) -> AppResult<Vec<u8>> {
        let nonce_bytes = random_bytes::<12>()?;
        let nonce = Nonce::<Aes256Gcm>::from(nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: what.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal("token encryption failed"))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, what: &str, sealed: &[u8]) -> AppResult<String> {
        if sealed.len() < 12 + 16 {
            return Err(AppError::internal(format!("sealed {what} is too short")));
        }
        let (nonce_bytes, body) = sealed.split_at(12);
        let nonce_arr: [u8; 12] = nonce_bytes
            .try_into()
            .map_err(|_| AppError::internal("nonce length"))?;
        let nonce = Nonce::<Aes256Gcm>::from(nonce_arr);
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: what.as_bytes(),
                },
            )
            .map_err(|_| {
                AppError::internal(format!(
                    "sealed {what} does not open with the token key (key file replaced?)"
                ))
            })?;
        String::from_utf8(plain).map_err(|_| AppError::internal(format!("{what} is not UTF-8")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_round_trip_and_are_bound_to_their_name() {
        let key = TokenKey::generate().expect("key");
        let sealed = key.seal("access_token", "eyJ.secret").expect("seal");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            key.open("access_token", &sealed).expect("open"),
            "eyJ.secret"
        );
        assert!(key.open("refresh_token", &sealed).is_err());
        assert!(
            TokenKey::generate()
                .expect("key")
                .open("access_token", &sealed)
                .is_err()
        );
    }

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let phc = hash_password("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong", &phc));
        assert!(!verify_password("correct horse", "not a phc string"));
    }
}
