//! The attestation certificates against the FIDO certificate profile
//! (WebAuthn §8.2.1, RFC 5280), read by two independent strict decoders:
//! RustCrypto's `x509-cert`/`der` and rusticata's `x509-parser`. Each rule is
//! checked here on its own, from the decoders' output, not through
//! `vault::profile` (which is tested as a third opinion, and for naming the
//! rule a certificate breaks).
//!
//! Issue 11: Python's `cryptography` refused every registration because the
//! batch certificate wrote BasicConstraints `cA FALSE` out (a DEFAULT, which
//! DER forbids) and its CN had 68 characters (X.520 allows 64).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::{Decode as _, Encode as _};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{DerSignature, VerifyingKey};
use sha2::{Digest as _, Sha256};
use vault::profile::{self, Role, Rule};
use vault::{
    Aaguid, Attestation, AttestationNames, CreationOptions, MICROSOFT_ORIGIN, MasterKey,
    MemoryStore, RequestOptions, Vault,
};
use x509_parser::asn1_rs::Tag as PTag;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry;

/// The batch certificate the vault made before the fix, as generated then
/// (subject CN of 68 characters, BasicConstraints `30 03 01 01 00`).
const OLD_BATCH_DER: &[u8] = include_bytes!("data/old-batch-explicit-ca-false.der");
const OLD_BATCH_PEM: &str = include_str!("data/old-batch-explicit-ca-false.pem");
/// Chromium's CDP virtual authenticator's batch certificate: a third
/// party's, self-signed, without keyUsage or the AAGUID extension.
const CHROMIUM_BATCH_DER: &[u8] = include_bytes!("data/chromium-virtual-authenticator.der");

const AAGUID_OID: &str = "1.3.6.1.4.1.45724.1.1.4";

fn pem_der(pem: &str) -> Vec<Vec<u8>> {
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|block| {
            let body: String = block
                .split("-----END CERTIFICATE-----")
                .next()
                .expect("END line")
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            STANDARD.decode(body).expect("base64")
        })
        .collect()
}

/// (batch DER, CA DER, AAGUID) of one attestation.
fn pieces(att: &Attestation) -> (Vec<u8>, Vec<u8>, Aaguid) {
    let batch = pem_der(att.batch_certificate_pem()).remove(0);
    let ca = pem_der(att.ca_pem()).remove(0);
    (batch, ca, att.aaguid())
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vault-profile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every way the vault makes certificates: default and chosen names
/// (including a 64-character and a non-ASCII organization), written to a
/// directory, and renewed from an old vault's directory.
fn every_attestation() -> Vec<Attestation> {
    let mut out = vec![
        Attestation::generate(Aaguid::DEFAULT).expect("default"),
        Attestation::generate_with(
            "11111111-2222-4333-8444-555555555555"
                .parse()
                .expect("aaguid"),
            &AttestationNames {
                country: "DE".into(),
                organization: "Ä".repeat(64),
            },
        )
        .expect("64 characters"),
        Attestation::generate_with(
            Aaguid::from_bytes([0xab; 16]),
            &AttestationNames {
                country: "FR".into(),
                organization: "Société Générale des Clés".into(),
            },
        )
        .expect("accents"),
    ];
    let dir = temp_dir("every");
    out.push(Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("written"));
    std::fs::write(dir.join(vault::BATCH_CERT_FILE), OLD_BATCH_PEM).expect("seed old");
    let renewed = Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("renewed");
    assert!(renewed.renewal().is_some());
    out.push(renewed);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Decoder 1: RustCrypto. Decoding, then re-encoding to the same bytes, is
/// what makes it strict (DER has one encoding per value).
fn rustcrypto(der: &[u8]) -> x509_cert::Certificate {
    let cert = x509_cert::Certificate::from_der(der).expect("x509-cert decodes it");
    assert_eq!(
        cert.to_der().expect("re-encodes"),
        der,
        "x509-cert re-encodes it to the same bytes (DER)"
    );
    cert
}

/// Decoder 2: x509-parser, which must consume every byte.
fn rusticata(der: &[u8]) -> x509_parser::certificate::X509Certificate<'_> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).expect("x509-parser decodes it");
    assert!(rest.is_empty(), "no trailing bytes");
    cert
}

fn ext<'a>(
    cert: &'a x509_parser::certificate::X509Certificate<'a>,
    oid: &str,
) -> &'a x509_parser::extensions::X509Extension<'a> {
    let found: Vec<_> = cert
        .extensions()
        .iter()
        .filter(|e| e.oid.to_id_string() == oid)
        .collect();
    assert_eq!(found.len(), 1, "extension {oid} appears exactly once");
    found[0]
}

fn subject_one<'a>(
    cert: &'a x509_parser::certificate::X509Certificate<'a>,
    oid: &x509_parser::der_parser::oid::Oid<'a>,
) -> &'a x509_parser::x509::AttributeTypeAndValue<'a> {
    let found: Vec<_> = cert.subject().iter_by_oid(oid).collect();
    assert_eq!(found.len(), 1, "subject attribute {oid} appears once");
    found[0]
}

fn check_batch_rules(batch: &[u8], ca: &[u8], aaguid: Aaguid) {
    let rc = rustcrypto(batch);
    let tbs = rc.tbs_certificate();
    let p = rusticata(batch);

    // X.509 v3, both decoders.
    assert_eq!(tbs.version(), x509_cert::Version::V3);
    assert_eq!(p.version(), x509_parser::x509::X509Version::V3);

    // Serial: positive, at most 20 octets, no needless leading zero.
    let serial = p.raw_serial();
    assert_eq!(serial, tbs.serial_number().as_bytes());
    assert!(!serial.is_empty() && serial.len() <= 20, "{serial:?}");
    assert_eq!(serial[0] & 0x80, 0, "positive");
    assert!(serial.len() == 1 || serial[0] != 0 || serial[1] & 0x80 != 0);

    // Subject C: PrintableString, ISO 3166 alpha-2.
    let c = subject_one(&p, &oid_registry::OID_X509_COUNTRY_NAME);
    assert_eq!(c.attr_value().tag(), PTag::PrintableString);
    let c = c.as_str().expect("country text");
    assert!(
        c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()),
        "{c}"
    );
    // Subject O: present, UTF8String, within 64 characters.
    let o = subject_one(&p, &oid_registry::OID_X509_ORGANIZATION_NAME);
    assert_eq!(o.attr_value().tag(), PTag::Utf8String);
    let o = o.as_str().expect("organization text");
    assert!(!o.is_empty() && o.chars().count() <= 64, "{o}");
    // Subject OU: exactly "Authenticator Attestation".
    let ou = subject_one(&p, &oid_registry::OID_X509_ORGANIZATIONAL_UNIT);
    assert_eq!(ou.attr_value().tag(), PTag::Utf8String);
    assert_eq!(ou.as_str().expect("OU text"), "Authenticator Attestation");
    // Subject CN: within X.520's 64 characters.
    let cn = subject_one(&p, &oid_registry::OID_X509_COMMON_NAME);
    let cn = cn.as_str().expect("CN text");
    assert!(!cn.is_empty() && cn.chars().count() <= 64, "CN {cn:?}");
    // The same names through RustCrypto.
    assert_eq!(
        tbs.subject().country().expect("C").map(|c| c.to_string()),
        Some(c.to_owned())
    );

    // BasicConstraints: present, CA false, encoded as the empty SEQUENCE.
    let bc = ext(&p, "2.5.29.19");
    assert_eq!(bc.value, [0x30, 0x00], "CA false is an empty SEQUENCE");
    match bc.parsed_extension() {
        ParsedExtension::BasicConstraints(v) => {
            assert!(!v.ca);
            assert!(v.path_len_constraint.is_none());
        }
        other => panic!("BasicConstraints: {other:?}"),
    }
    let (_, rc_bc) = tbs
        .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
        .expect("decodes")
        .expect("present");
    assert!(!rc_bc.ca);
    assert_eq!(rc_bc.to_der().expect("encode"), [0x30, 0x00]);

    // id-fido-gen-ce-aaguid: OCTET STRING of the AAGUID, not critical.
    let ag = ext(&p, AAGUID_OID);
    assert!(!ag.critical, "the AAGUID extension is not critical");
    let mut expected = vec![0x04, 0x10];
    expected.extend_from_slice(aaguid.as_bytes());
    assert_eq!(ag.value, expected);
    let octets = der::asn1::OctetString::from_der(ag.value).expect("one DER OCTET STRING");
    assert_eq!(octets.as_bytes(), aaguid.as_bytes());

    // keyUsage: digitalSignature, nothing else.
    let ku = p.key_usage().expect("decodes").expect("present");
    assert!(ku.value.digital_signature());
    assert_eq!(ku.value.flags, 1, "digitalSignature only");
    let (_, rc_ku) = tbs
        .get_extension::<x509_cert::ext::pkix::KeyUsage>()
        .expect("decodes")
        .expect("present");
    assert!(rc_ku.digital_signature() && !rc_ku.key_cert_sign());

    // Key identifiers: its own, and the CA's as authority.
    let ca_p = rusticata(ca);
    let ski_of = |c: &x509_parser::certificate::X509Certificate<'_>| match ext(c, "2.5.29.14")
        .parsed_extension()
    {
        ParsedExtension::SubjectKeyIdentifier(k) => k.0.to_vec(),
        other => panic!("SKI: {other:?}"),
    };
    assert_eq!(ski_of(&p).len(), 20);
    match ext(&p, "2.5.29.35").parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(aki) => assert_eq!(
            aki.key_identifier.as_ref().map(|k| k.0.to_vec()),
            Some(ski_of(&ca_p))
        ),
        other => panic!("AKI: {other:?}"),
    }
    assert_eq!(p.issuer(), ca_p.subject(), "issued by the CA");

    // Signed by the CA's key (x509-parser's TBS bytes, p256 verification).
    let ca_key = VerifyingKey::from_sec1_bytes(&ca_p.public_key().subject_public_key.data)
        .expect("CA key is P-256");
    let sig = DerSignature::from_bytes(&p.signature_value.data).expect("DER signature");
    ca_key
        .verify(p.tbs_certificate.as_ref(), &sig)
        .expect("the CA signed the batch certificate");

    // The third opinion agrees.
    let checked = profile::check_batch_certificate(batch).expect("profile");
    assert_eq!(checked.aaguid, Some(aaguid));
}

fn check_ca_rules(ca: &[u8]) {
    let rc = rustcrypto(ca);
    let p = rusticata(ca);
    assert_eq!(rc.tbs_certificate().version(), x509_cert::Version::V3);
    assert_eq!(p.version(), x509_parser::x509::X509Version::V3);
    let serial = p.raw_serial();
    assert!(serial.len() <= 20 && serial[0] & 0x80 == 0);
    let bc = ext(&p, "2.5.29.19");
    assert!(bc.critical, "a CA's BasicConstraints is critical");
    match bc.parsed_extension() {
        ParsedExtension::BasicConstraints(v) => assert!(v.ca),
        other => panic!("BasicConstraints: {other:?}"),
    }
    let ku = p.key_usage().expect("decodes").expect("present");
    assert!(ku.critical);
    assert!(ku.value.key_cert_sign() && ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    let ski = match ext(&p, "2.5.29.14").parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => k.0.to_vec(),
        other => panic!("SKI: {other:?}"),
    };
    match ext(&p, "2.5.29.35").parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            assert_eq!(aki.key_identifier.as_ref().map(|k| k.0.to_vec()), Some(ski))
        }
        other => panic!("AKI: {other:?}"),
    }
    let cn = subject_one(&p, &oid_registry::OID_X509_COMMON_NAME);
    assert!(cn.as_str().expect("CN").chars().count() <= 64);
    profile::check_ca_certificate(ca, Role::Ca).expect("profile");
}

#[test]
fn every_certificate_the_vault_makes_follows_the_profile_in_both_strict_decoders() {
    for att in every_attestation() {
        let (batch, ca, aaguid) = pieces(&att);
        check_batch_rules(&batch, &ca, aaguid);
        check_ca_rules(&ca);
    }
}

#[test]
fn the_attestation_signature_verifies_with_the_certificate_key() {
    use ciborium::Value;
    let vault = Vault::new(
        Arc::new(MemoryStore::new()),
        MasterKey::generate().expect("key"),
        Attestation::generate(Aaguid::DEFAULT).expect("attestation"),
    );
    let options = CreationOptions::microsoft(b"challenge".to_vec(), b"u".to_vec(), "u", "U");
    let reg = vault
        .make_credential("u", &options, MICROSOFT_ORIGIN)
        .expect("registered");
    let object = URL_SAFE_NO_PAD
        .decode(&reg.response.response.attestation_object)
        .expect("base64url");
    let client_data = URL_SAFE_NO_PAD
        .decode(&reg.response.response.client_data_json)
        .expect("base64url");
    let object: Value = ciborium::from_reader(object.as_slice()).expect("CBOR");
    let get = |map: &Value, key: &str| {
        map.as_map()
            .expect("map")
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v.clone())
            .expect(key)
    };
    assert_eq!(get(&object, "fmt").as_text(), Some("packed"));
    let auth_data = get(&object, "authData").into_bytes().expect("bytes");
    let att_stmt = get(&object, "attStmt");
    let sig = get(&att_stmt, "sig").into_bytes().expect("sig");
    let x5c = get(&att_stmt, "x5c").into_array().expect("x5c");
    let leaf = x5c[0].as_bytes().expect("DER").clone();

    let batch = profile::check_x5c(&[leaf.as_slice()]).expect("x5c follows the profile");
    // The key from each decoder, not from the vault.
    let rc = rustcrypto(&leaf);
    let rc_point = rc
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
        .expect("whole bytes")
        .to_vec();
    let p = rusticata(&leaf);
    assert_eq!(rc_point, p.public_key().subject_public_key.data.to_vec());
    assert_eq!(rc_point, batch.public_key);
    let key = VerifyingKey::from_sec1_bytes(&rc_point).expect("P-256");

    let mut signed = auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(&client_data));
    key.verify(&signed, &DerSignature::from_bytes(&sig).expect("DER"))
        .expect("sig verifies over authData || SHA-256(clientDataJSON)");
    // authData's AAGUID (after rpIdHash, flags, counter) is the extension's.
    assert_eq!(&auth_data[37..53], Aaguid::DEFAULT.as_bytes());
    assert_eq!(batch.aaguid, Some(Aaguid::DEFAULT));
}

#[test]
fn regression_explicit_ca_false_is_refused() {
    // The old certificate's BasicConstraints value, as bytes: cA FALSE spelt
    // out. x509-parser reads it without complaint, as webauthn-rs (built on
    // it) did: that is how the defect went unseen.
    let p = rusticata(OLD_BATCH_DER);
    let bc = ext(&p, "2.5.29.19");
    assert_eq!(bc.value, [0x30, 0x03, 0x01, 0x01, 0x00]);

    // x509-cert/der decodes it: extension values are opaque OCTET STRINGs
    // to it, and `der` does not police DEFAULTs on input. Decoded, the
    // value's DER is different: the input was not DER.
    let cert = x509_cert::Certificate::from_der(OLD_BATCH_DER).expect("lenient read");
    assert_eq!(cert.to_der().expect("encode"), OLD_BATCH_DER);
    let value =
        x509_cert::ext::pkix::BasicConstraints::from_der(bc.value).expect("lenient value read");
    assert_eq!(value.to_der().expect("encode"), [0x30, 0x00]);

    // The profile check refuses it, naming the field as Python's
    // cryptography does ("EncodedDefault ... BasicConstraints::ca").
    let err = profile::check_batch_certificate(OLD_BATCH_DER).expect_err("refused");
    assert_eq!((err.role, err.rule), (Role::Batch, Rule::Der), "{err}");
    assert!(err.to_string().contains("BasicConstraints::ca"), "{err}");
    assert!(err.to_string().contains("DEFAULT"), "{err}");

    // And a configured attestation made of it is refused on load.
    // (Any P-256 key will do: the profile is checked before the key.)
    let dir = temp_dir("regression");
    Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("a key file");
    let key_pem = std::fs::read_to_string(dir.join(vault::BATCH_KEY_FILE)).expect("key");
    let refused = Attestation::from_pem(Aaguid::DEFAULT, OLD_BATCH_PEM, &key_pem, OLD_BATCH_PEM);
    match refused {
        Err(vault::VaultError::AttestationConfig { detail }) => {
            assert!(detail.contains("BasicConstraints::ca"), "{detail}")
        }
        other => panic!("the old certificate was accepted: {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn regression_common_name_over_64_characters_is_refused() {
    // The old CN, on an otherwise valid certificate.
    let old_cn = "Passkey Vault Batch Attestation 5eba1792-4170-4ad5-bb8b-55e33f0cff49";
    assert_eq!(old_cn.chars().count(), 68);
    let der = leaf(|p| {
        set_cn(p, old_cn);
    });
    let err = profile::check_batch_certificate(&der).expect_err("refused");
    assert_eq!(err.rule, Rule::SubjectCommonName, "{err}");
    assert!(err.to_string().contains("68 characters"), "{err}");
    // 64 is fine.
    let der = leaf(|p| set_cn(p, &"x".repeat(64)));
    profile::check_batch_certificate(&der).expect("64 characters pass");
}

#[test]
fn a_third_party_batch_certificate_passes() {
    // Chromium's virtual authenticator: no keyUsage, no AAGUID extension,
    // self-signed; §8.2.1 asks for none of those, so the profile accepts it
    // (and the simulator must, as Microsoft does).
    rustcrypto(CHROMIUM_BATCH_DER);
    rusticata(CHROMIUM_BATCH_DER);
    let batch = profile::check_batch_certificate(CHROMIUM_BATCH_DER).expect("accepted");
    assert_eq!(batch.aaguid, None);
}

// ---- each rule on its own: a valid leaf with one thing wrong ----

use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

fn set_cn(p: &mut CertificateParams, cn: &str) {
    p.distinguished_name.remove(DnType::CommonName);
    p.distinguished_name.push(DnType::CommonName, cn);
}

/// A self-signed leaf that follows the profile, changed by `edit`.
fn leaf(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(
        DnType::CountryName,
        DnValue::PrintableString("US".try_into().expect("printable")),
    );
    p.distinguished_name
        .push(DnType::OrganizationName, "Contoso");
    p.distinguished_name
        .push(DnType::OrganizationalUnitName, "Authenticator Attestation");
    p.distinguished_name
        .push(DnType::CommonName, "Contoso Batch");
    p.is_ca = IsCa::NoCa;
    p.custom_extensions.push(basic_constraints(&[0x30, 0x00]));
    p.custom_extensions.push(aaguid_ext(&[0x04, 0x10], false));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.serial_number = Some(SerialNumber::from_slice(&[0x42; 16]));
    edit(&mut p);
    let key = KeyPair::generate().expect("key");
    p.self_signed(&key).expect("cert").der().to_vec()
}

fn basic_constraints(value: &[u8]) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(&[2, 5, 29, 19], value.to_vec());
    e.set_criticality(true);
    e
}

fn aaguid_ext(prefix: &[u8], critical: bool) -> CustomExtension {
    let mut value = prefix.to_vec();
    value.extend_from_slice(&[7; 16][..usize::from(prefix[1])]);
    let mut e = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4], value);
    e.set_criticality(critical);
    e
}

#[test]
fn each_profile_rule_is_named_when_broken() {
    profile::check_batch_certificate(&leaf(|_| {})).expect("the base leaf passes");
    type Edit = Box<dyn FnOnce(&mut CertificateParams)>;
    let cases: Vec<(&str, Edit, Rule, &str)> = vec![
        (
            "rcgen's ExplicitNoCa",
            Box::new(|p| {
                p.custom_extensions.remove(0);
                p.is_ca = IsCa::ExplicitNoCa;
            }),
            Rule::Der,
            "BasicConstraints::ca",
        ),
        (
            "no BasicConstraints",
            Box::new(|p| {
                p.custom_extensions.remove(0);
            }),
            Rule::BasicConstraints,
            "missing",
        ),
        (
            "CA true",
            Box::new(|p| {
                p.custom_extensions[0] = basic_constraints(&[0x30, 0x03, 0x01, 0x01, 0xff]);
            }),
            Rule::BasicConstraints,
            "CA is true",
        ),
        (
            "country of three letters",
            Box::new(|p| {
                p.distinguished_name.push(
                    DnType::CountryName,
                    DnValue::PrintableString("USA".try_into().expect("printable")),
                );
            }),
            Rule::SubjectCountry,
            "ISO 3166",
        ),
        (
            "country as UTF8String",
            Box::new(|p| {
                p.distinguished_name.push(DnType::CountryName, "US");
            }),
            Rule::SubjectCountry,
            "PrintableString",
        ),
        (
            "no organization",
            Box::new(|p| {
                p.distinguished_name.remove(DnType::OrganizationName);
            }),
            Rule::SubjectOrganization,
            "missing",
        ),
        (
            "another OU",
            Box::new(|p| {
                p.distinguished_name
                    .push(DnType::OrganizationalUnitName, "Authenticator attestation");
            }),
            Rule::SubjectOrganizationalUnit,
            "exactly",
        ),
        (
            "no CN",
            Box::new(|p| {
                p.distinguished_name.remove(DnType::CommonName);
            }),
            Rule::SubjectCommonName,
            "missing",
        ),
        (
            "critical AAGUID extension",
            Box::new(|p| {
                p.custom_extensions[1] = aaguid_ext(&[0x04, 0x10], true);
            }),
            Rule::AaguidExtension,
            "critical",
        ),
        (
            "AAGUID of 15 bytes",
            Box::new(|p| {
                p.custom_extensions[1] = aaguid_ext(&[0x04, 0x0f], false);
            }),
            Rule::AaguidExtension,
            "15 bytes",
        ),
        (
            "AAGUID not an OCTET STRING",
            Box::new(|p| {
                p.custom_extensions[1] = aaguid_ext(&[0x0c, 0x10], false);
            }),
            Rule::AaguidExtension,
            "OCTET STRING",
        ),
        (
            "keyUsage without digitalSignature",
            Box::new(|p| {
                p.key_usages = vec![KeyUsagePurpose::KeyAgreement];
            }),
            Rule::KeyUsage,
            "digitalSignature",
        ),
        (
            "keyUsage with keyCertSign",
            Box::new(|p| {
                p.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyCertSign,
                ];
            }),
            Rule::KeyUsage,
            "keyCertSign",
        ),
        (
            "serial of 21 octets",
            Box::new(|p| {
                p.serial_number = Some(SerialNumber::from_slice(&[0x42; 21]));
            }),
            Rule::SerialNumber,
            "21 octets",
        ),
    ];
    for (name, edit, rule, words) in cases {
        let der = leaf(edit);
        let err = profile::check_batch_certificate(&der)
            .expect_err(&format!("{name}: the certificate was accepted"));
        assert_eq!(err.rule, rule, "{name}: {err}");
        assert!(err.to_string().contains(words), "{name}: {err}");
        assert!(
            err.to_string().contains(rule.reference()),
            "{name}: the message names the rule: {err}"
        );
    }
}

#[test]
fn non_der_bytes_are_refused_by_the_profile() {
    let good = leaf(|_| {});
    // Trailing bytes.
    let mut trailing = good.clone();
    trailing.push(0);
    let err = profile::check_batch_certificate(&trailing).expect_err("trailing byte");
    assert_eq!(err.rule, Rule::Der, "{err}");
    // BER's TRUE (any non-zero byte) where DER demands FF: keyUsage's
    // critical flag, `06 03 55 1d 0f 01 01 ff` rewritten with 01.
    let ku_critical = [0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff];
    let at = good
        .windows(ku_critical.len())
        .position(|w| w == ku_critical)
        .expect("keyUsage, critical");
    let mut ber = good.clone();
    ber[at + 7] = 0x01;
    let err = profile::check_batch_certificate(&ber).expect_err("BER boolean");
    assert_eq!(err.rule, Rule::Der, "{err}");
}

#[test]
fn an_old_vault_gets_a_new_certificate_and_its_credentials_keep_working() {
    let dir = temp_dir("renewal");
    let store = Arc::new(MemoryStore::new());
    let master = [5u8; 32];
    let first = Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("generated");
    let first_key = pieces(&first).0;
    let first_key = rusticata(&first_key).public_key().raw.to_vec();
    let vault = Vault::new(store.clone(), MasterKey::from_bytes(master), first);
    let options = CreationOptions::microsoft(b"c".to_vec(), b"u".to_vec(), "u", "U");
    vault
        .make_credential("u", &options, MICROSOFT_ORIGIN)
        .expect("registered before the upgrade");
    drop(vault);

    // What a vault made by the old code holds.
    std::fs::write(dir.join(vault::BATCH_CERT_FILE), OLD_BATCH_PEM).expect("seed");
    std::fs::write(
        dir.join(vault::CA_CERT_FILE),
        include_str!("data/old-ca.pem"),
    )
    .expect("seed");

    // Another AAGUID still refuses the directory, and changes nothing.
    let other = Attestation::load_or_generate(&dir, Aaguid::from_bytes([3; 16]));
    assert!(
        matches!(&other, Err(vault::VaultError::AttestationConfig { detail }) if detail.contains("is for AAGUID")),
        "{other:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(vault::BATCH_CERT_FILE)).expect("read"),
        OLD_BATCH_PEM
    );

    let renewed = Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("renewed");
    let renewal = renewed.renewal().expect("reported").clone();
    assert_eq!(renewal.reason.rule, Rule::Der);
    assert!(
        renewal.to_string().contains("BasicConstraints::ca"),
        "{renewal}"
    );
    assert!(
        renewal.to_string().contains("trust the new one"),
        "{renewal}"
    );
    assert_eq!(renewed.aaguid(), Aaguid::DEFAULT);
    let (batch, ca, aaguid) = pieces(&renewed);
    check_batch_rules(&batch, &ca, aaguid);
    check_ca_rules(&ca);
    // Same batch key, new certificates, old ones kept aside.
    assert_eq!(rusticata(&batch).public_key().raw, first_key.as_slice());
    assert_eq!(
        std::fs::read_to_string(dir.join(format!(
            "{}{}",
            vault::BATCH_CERT_FILE,
            vault::REPLACED_SUFFIX
        )))
        .expect("kept"),
        OLD_BATCH_PEM
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(vault::BATCH_CERT_FILE)).expect("read"),
        renewed.batch_certificate_pem()
    );

    // The credential made before still signs.
    let vault = Vault::new(store, MasterKey::from_bytes(master), renewed);
    vault
        .get_assertion(
            "u",
            &RequestOptions::new(vault::MICROSOFT_RP_ID, b"c".to_vec(), vec![]),
            MICROSOFT_ORIGIN,
        )
        .expect("the old credential still signs");
    vault
        .make_credential("u", &options, MICROSOFT_ORIGIN)
        .expect("and new ones register");

    // Next start: nothing left to renew, the same certificates.
    let again = Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("reload");
    assert!(again.renewal().is_none());
    assert_eq!(again.ca_pem(), vault.attestation_ca_pem());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configured_names_are_checked_before_generating() {
    for (names, words) in [
        (
            AttestationNames {
                country: "usa".into(),
                organization: "X".into(),
            },
            "ISO 3166",
        ),
        (
            AttestationNames {
                country: "US".into(),
                organization: "x".repeat(65),
            },
            "65 characters",
        ),
        (
            AttestationNames {
                country: "US".into(),
                organization: String::new(),
            },
            "0 characters",
        ),
    ] {
        match Attestation::generate_with(Aaguid::DEFAULT, &names) {
            Err(vault::VaultError::AttestationConfig { detail }) => {
                assert!(detail.contains(words), "{detail}")
            }
            other => panic!("{names:?}: {other:?}"),
        }
    }
}
