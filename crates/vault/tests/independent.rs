//! A second verification path that shares no code with webauthn-rs: the
//! attestation object is taken apart by hand (ciborium + a few lines of DER)
//! and every signature checked with `p256` directly — the packed signature
//! with the key of the x5c certificate, that certificate with the CA key, and
//! an assertion with the credential key from the authenticator data.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{DerSignature, VerifyingKey};
use sha2::{Digest, Sha256};
use vault::{
    Aaguid, Attestation, CreationOptions, MICROSOFT_ORIGIN, MICROSOFT_RP_ID, MasterKey,
    MemoryStore, RequestOptions, Vault,
};

/// DER prefix of a P-256 SubjectPublicKeyInfo; the 65-byte point follows.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

fn map_get<'a>(map: &'a Value, key: &Value) -> &'a Value {
    map.as_map()
        .expect("a CBOR map")
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .expect("key present")
}

/// One DER TLV at the start of `der`: (tag, whole TLV, contents, rest).
fn tlv(der: &[u8]) -> (u8, &[u8], &[u8], &[u8]) {
    let tag = der[0];
    let (len, header) = match der[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 => (der[2] as usize, 3),
        0x82 => (((der[2] as usize) << 8) | der[3] as usize, 4),
        other => panic!("unexpected DER length byte {other:#x}"),
    };
    (
        tag,
        &der[..header + len],
        &der[header..header + len],
        &der[header + len..],
    )
}

/// The subject public key of a P-256 certificate (the first SPKI in it).
fn cert_public_key(cert_der: &[u8]) -> VerifyingKey {
    let at = cert_der
        .windows(P256_SPKI_PREFIX.len())
        .position(|w| w == P256_SPKI_PREFIX)
        .expect("certificate has a P-256 SPKI");
    let start = at + P256_SPKI_PREFIX.len();
    VerifyingKey::from_sec1_bytes(&cert_der[start..start + 65]).expect("valid point")
}

/// Checks `cert_der`'s signature with `issuer`: Certificate ::= SEQUENCE {
/// tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }.
fn verify_cert_signature(cert_der: &[u8], issuer: &VerifyingKey) {
    let (_, _, cert, _) = tlv(cert_der);
    let (_, tbs, _, rest) = tlv(cert);
    let (_, _, _alg, rest) = tlv(rest);
    let (tag, _, bits, _) = tlv(rest);
    assert_eq!(tag, 0x03, "signatureValue is a BIT STRING");
    assert_eq!(bits[0], 0, "no unused bits");
    let sig = DerSignature::from_bytes(&bits[1..]).expect("DER ECDSA signature");
    issuer
        .verify(tbs, &sig)
        .expect("certificate signature verifies with the issuer key");
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM base64")
}

#[test]
fn packed_attestation_and_assertion_verify_by_hand() {
    let aaguid = Aaguid::from_bytes(*b"independent-chk!");
    let vault = Vault::new(
        Arc::new(MemoryStore::new()),
        MasterKey::generate().expect("key"),
        Attestation::generate(aaguid).expect("attestation"),
    );
    let challenge = b"server challenge string".to_vec();
    let reg = vault
        .make_credential(
            "user",
            &CreationOptions::microsoft(challenge.clone(), b"uh".to_vec(), "u@contoso.com", "U"),
            MICROSOFT_ORIGIN,
        )
        .expect("registration");
    let r = &reg.response;
    assert_eq!(r.id, r.raw_id);
    assert_eq!(r.kind, "public-key");
    assert_eq!(r.response.public_key_algorithm, -7);

    // Attestation object: {"fmt", "attStmt", "authData"} in CTAP2 order.
    let att_bytes = b64(&r.response.attestation_object);
    let att: Value = ciborium::from_reader(att_bytes.as_slice()).expect("CBOR");
    let keys: Vec<_> = att
        .as_map()
        .expect("map")
        .iter()
        .map(|(k, _)| k.as_text().expect("text key").to_owned())
        .collect();
    assert_eq!(keys, ["fmt", "attStmt", "authData"]);
    assert_eq!(map_get(&att, &"fmt".into()).as_text(), Some("packed"));
    let stmt = map_get(&att, &"attStmt".into());
    assert_eq!(map_get(stmt, &"alg".into()), &Value::from(-7));
    let x5c = map_get(stmt, &"x5c".into()).as_array().expect("x5c array");
    assert_eq!(
        x5c.len(),
        1,
        "batch certificate only; the root is the RP's trust anchor"
    );
    let batch_der = x5c[0].as_bytes().expect("DER bytes");
    let sig = map_get(stmt, &"sig".into()).as_bytes().expect("sig bytes");
    let auth_data = map_get(&att, &"authData".into())
        .as_bytes()
        .expect("authData");
    assert_eq!(auth_data, &b64(&r.response.authenticator_data));

    // Authenticator data, field by field.
    assert_eq!(
        &auth_data[..32],
        Sha256::digest(MICROSOFT_RP_ID.as_bytes()).as_slice()
    );
    assert_eq!(auth_data[32], 0x45, "UP | UV | AT, nothing else");
    assert_eq!(&auth_data[33..37], &[0, 0, 0, 0], "sign count starts at 0");
    assert_eq!(&auth_data[37..53], aaguid.as_bytes());
    let id_len = u16::from_be_bytes([auth_data[53], auth_data[54]]) as usize;
    let cred_id = &auth_data[55..55 + id_len];
    assert_eq!(cred_id, b64(&r.raw_id).as_slice());
    let cose: Value = ciborium::from_reader(&auth_data[55 + id_len..]).expect("COSE key");
    assert_eq!(map_get(&cose, &1.into()), &Value::from(2));
    assert_eq!(map_get(&cose, &3.into()), &Value::from(-7));
    assert_eq!(map_get(&cose, &Value::from(-1)), &Value::from(1));
    let mut point = vec![0x04];
    point.extend(map_get(&cose, &Value::from(-2)).as_bytes().expect("x"));
    point.extend(map_get(&cose, &Value::from(-3)).as_bytes().expect("y"));
    let credential_key = VerifyingKey::from_sec1_bytes(&point).expect("credential key");
    let mut spki = P256_SPKI_PREFIX.to_vec();
    spki.extend(&point);
    assert_eq!(
        b64(&r.response.public_key),
        spki,
        "response.publicKey is the same key"
    );

    // Packed signature: authData | SHA-256(clientDataJSON), with the x5c key.
    let client_data = b64(&r.response.client_data_json);
    let mut signed = auth_data.to_vec();
    signed.extend(Sha256::digest(&client_data));
    let batch_key = cert_public_key(batch_der);
    batch_key
        .verify(&signed, &DerSignature::from_bytes(sig).expect("DER sig"))
        .expect("packed signature verifies with the batch certificate key");
    assert_ne!(batch_key, credential_key, "not self attestation");

    // The batch certificate is signed by the CA the vault publishes, and the
    // CA is self-signed.
    let ca_der = pem_der(vault.attestation_ca_pem());
    let ca_key = cert_public_key(&ca_der);
    verify_cert_signature(batch_der, &ca_key);
    verify_cert_signature(&ca_der, &ca_key);

    // An assertion verifies with the key from the authenticator data.
    let assertion = vault
        .get_assertion(
            "user",
            &RequestOptions::new(MICROSOFT_RP_ID, b"sign-in".to_vec(), vec![cred_id.to_vec()]),
            MICROSOFT_ORIGIN,
        )
        .expect("assertion");
    let a = &assertion.response.response;
    let a_data = b64(&a.authenticator_data);
    assert_eq!(a_data.len(), 37);
    assert_eq!(a_data[32], 0x05, "UP | UV");
    assert_eq!(&a_data[33..37], &[0, 0, 0, 1]);
    let a_client = b64(&a.client_data_json);
    assert!(
        String::from_utf8_lossy(&a_client)
            .starts_with(r#"{"type":"webauthn.get","challenge":"c2lnbi1pbg","#)
    );
    let mut a_signed = a_data.clone();
    a_signed.extend(Sha256::digest(&a_client));
    credential_key
        .verify(
            &a_signed,
            &DerSignature::from_bytes(&b64(&a.signature)).expect("DER sig"),
        )
        .expect("assertion signature verifies with the credential key");
    assert_eq!(a.user_handle.as_deref(), Some("dWg"));
}
