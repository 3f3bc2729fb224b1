//! Byte-exact encodings of the WebAuthn/CTAP2 structures the vault emits.

use ciborium::Value;
use sha2::{Digest, Sha256};

use crate::aaguid::Aaguid;
use crate::error::{Result, VaultError};
use crate::options::{COSE_ES256, b64url};

/// Authenticator data flags (WebAuthn §6.1).
pub(crate) const FLAG_UP: u8 = 0x01;
pub(crate) const FLAG_UV: u8 = 0x04;
pub(crate) const FLAG_AT: u8 = 0x40;

/// DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point:
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes) }.
/// The 65-byte point follows. Fixed, so no ASN.1 library is needed for it.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// `clientDataJSON` as a browser serialises it (WebAuthn §5.8.1.1): the
/// members in this order, compact, `crossOrigin` false.
pub(crate) fn client_data_json(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    // serde_json quotes and escapes exactly as JSON.stringify does for these
    // ASCII values.
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    format!(
        "{{\"type\":{},\"challenge\":{},\"origin\":{},\"crossOrigin\":false}}",
        quote(kind),
        quote(&b64url(challenge)),
        quote(origin)
    )
    .into_bytes()
}

/// The credential public key as a COSE_Key (RFC 9052 §7, RFC 9053 §2.1):
/// `{1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}` in CTAP2
/// canonical key order.
pub(crate) fn cose_es256_key(sec1_uncompressed: &[u8]) -> Result<Vec<u8>> {
    if sec1_uncompressed.len() != 65 || sec1_uncompressed[0] != 0x04 {
        return Err(VaultError::Crypto(
            "public key is not an uncompressed P-256 point".to_owned(),
        ));
    }
    let (x, y) = sec1_uncompressed[1..].split_at(32);
    let map = Value::Map(vec![
        (Value::from(1), Value::from(2)),
        (Value::from(3), Value::from(COSE_ES256)),
        (Value::from(-1), Value::from(1)),
        (Value::from(-2), Value::Bytes(x.to_vec())),
        (Value::from(-3), Value::Bytes(y.to_vec())),
    ]);
    cbor(&map)
}

/// SubjectPublicKeyInfo DER of an uncompressed P-256 point, the
/// `response.publicKey` of `RegistrationResponseJSON`.
pub(crate) fn p256_spki_der(sec1_uncompressed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(P256_SPKI_PREFIX.len() + sec1_uncompressed.len());
    out.extend_from_slice(&P256_SPKI_PREFIX);
    out.extend_from_slice(sec1_uncompressed);
    out
}

/// Authenticator data (WebAuthn §6.1): rpIdHash | flags | signCount (big
/// endian) | attestedCredentialData (registration only).
pub(crate) fn authenticator_data(
    rp_id: &str,
    flags: u8,
    sign_count: u32,
    attested: Option<(&Aaguid, &[u8], &[u8])>,
) -> Result<Vec<u8>> {
    let mut out =
        Vec::with_capacity(37 + attested.map_or(0, |(_, id, key)| 18 + id.len() + key.len()));
    out.extend_from_slice(&sha256(rp_id.as_bytes()));
    out.push(flags);
    out.extend_from_slice(&sign_count.to_be_bytes());
    if let Some((aaguid, credential_id, cose_key)) = attested {
        // §6.5.1: aaguid (16) | credentialIdLength (2, big endian) | id | key.
        let len = u16::try_from(credential_id.len())
            .map_err(|_| VaultError::Crypto("credential id longer than 65535 bytes".to_owned()))?;
        out.extend_from_slice(aaguid.as_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(credential_id);
        out.extend_from_slice(cose_key);
    }
    Ok(out)
}

/// The attestation object (WebAuthn §6.5.4) in `packed` format with an
/// `x5c` chain (§8.2): `{"fmt": "packed", "attStmt": {"alg": -7, "sig":
/// sig, "x5c": [...]}, "authData": authData}`, keys in CTAP2 canonical order.
pub(crate) fn packed_attestation_object(
    auth_data: &[u8],
    signature_der: &[u8],
    x5c: &[Vec<u8>],
) -> Result<Vec<u8>> {
    let att_stmt = Value::Map(vec![
        (Value::from("alg"), Value::from(COSE_ES256)),
        (Value::from("sig"), Value::Bytes(signature_der.to_vec())),
        (
            Value::from("x5c"),
            Value::Array(x5c.iter().map(|c| Value::Bytes(c.clone())).collect()),
        ),
    ]);
    let object = Value::Map(vec![
        (Value::from("fmt"), Value::from("packed")),
        (Value::from("attStmt"), att_stmt),
        (Value::from("authData"), Value::Bytes(auth_data.to_vec())),
    ]);
    cbor(&object)
}

fn cbor(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out)
        .map_err(|e| VaultError::Crypto(format!("CBOR encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_data_matches_browser_serialisation() {
        let json = client_data_json("webauthn.create", b"abc", "https://login.microsoft.com");
        assert_eq!(
            String::from_utf8(json).expect("utf8"),
            r#"{"type":"webauthn.create","challenge":"YWJj","origin":"https://login.microsoft.com","crossOrigin":false}"#
        );
    }

    #[test]
    fn cose_key_is_canonical_cbor() {
        let mut point = vec![0x04];
        point.extend([0xaa; 32]);
        point.extend([0xbb; 32]);
        let cose = cose_es256_key(&point).expect("cose");
        // a5 = map(5); 01 02; 03 26 (-7); 20 01 (-1: 1); 21 58 20 x; 22 58 20 y
        assert_eq!(
            &cose[..10],
            &[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]
        );
        assert_eq!(&cose[42..45], &[0x22, 0x58, 0x20]);
        assert_eq!(cose.len(), 77);
    }

    #[test]
    fn authenticator_data_layout() {
        let aaguid = Aaguid::from_bytes([9; 16]);
        let data = authenticator_data(
            "example.org",
            FLAG_UP | FLAG_UV | FLAG_AT,
            0,
            Some((&aaguid, &[1, 2, 3], &[0xa0])),
        )
        .expect("auth data");
        assert_eq!(&data[..32], &sha256(b"example.org"));
        assert_eq!(data[32], 0x45);
        assert_eq!(&data[33..37], &[0, 0, 0, 0]);
        assert_eq!(&data[37..53], &[9; 16]);
        assert_eq!(&data[53..], &[0, 3, 1, 2, 3, 0xa0]);
    }
}
