//! The certificate profile of `packed` attestation, checked with a strict
//! DER decoder: what the vault generates, what it accepts as configured
//! attestation, and what the simulator accepts in `x5c`.
//!
//! A strict verifier (Python's `cryptography`, and possibly Microsoft's)
//! refuses a whole registration when the batch certificate is not DER, so
//! "some parser accepts it" is not enough. The certificate is decoded with
//! RustCrypto's `x509-cert`, and then re-encoded: DER has exactly one
//! encoding per value, so any difference is a non-DER input (`der` itself
//! reads an explicitly written DEFAULT, such as BasicConstraints `cA FALSE`,
//! without complaint, which is why the round trip is needed). The extensions
//! whose insides matter are decoded and round-tripped the same way.
//!
//! Rules, each reported by name ([`Rule`]):
//! - batch certificate (WebAuthn §8.2.1): X.509 v3; subject C (ISO 3166
//!   alpha-2, PrintableString), O, OU exactly `Authenticator Attestation`, CN
//!   within the X.520 upper bound of 64 characters; BasicConstraints present
//!   with CA false; id-fido-gen-ce-aaguid, when present, a non-critical
//!   OCTET STRING of 16 bytes; keyUsage, when present, digitalSignature and
//!   no keyCertSign; a positive serial of at most 20 octets (RFC 5280).
//! - CA certificates (RFC 5280 §4.2.1): v3; BasicConstraints critical with
//!   CA true; keyUsage with keyCertSign; a subject key identifier, and an
//!   authority key identifier unless self-issued.
//!
//! keyUsage and the key identifiers are not demanded of the batch
//! certificate: §8.2.1 does not ask for them and real authenticators (a
//! YubiKey, Chromium's virtual authenticator) omit them. The vault's own
//! batch certificate carries both anyway (see its tests).

use std::fmt;

use x509_cert::Certificate;
use x509_cert::der::asn1::{OctetString, PrintableStringRef, Utf8StringRef};
use x509_cert::der::{Any, Decode, Encode, Tag, Tagged as _, oid::AssociatedOid};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use x509_cert::spki::ObjectIdentifier;
use x509_cert::time::Time;

use crate::aaguid::Aaguid;

/// id-fido-gen-ce-aaguid, 1.3.6.1.4.1.45724.1.1.4.
pub const AAGUID_EXTENSION_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");
/// The subject OU that §8.2.1 requires, literally.
pub const ATTESTATION_OU: &str = "Authenticator Attestation";
/// X.520 upper bound of CN and O (ub-common-name, ub-organization-name).
pub const MAX_NAME_CHARS: usize = 64;

const COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const ORGANIZATIONAL_UNIT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// The rule a certificate breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The bytes are not one DER certificate (X.690 §10-11, e.g. a DEFAULT
    /// value written out, trailing bytes, a non-minimal length).
    Der,
    /// The certificate is not X.509 version 3.
    Version,
    /// The serial number is not a positive INTEGER of at most 20 octets.
    SerialNumber,
    /// The validity times are misencoded or out of order.
    Validity,
    /// The outer and inner signature algorithms differ.
    SignatureAlgorithm,
    /// An extension appears twice.
    DuplicateExtension,
    /// Subject C.
    SubjectCountry,
    /// Subject O.
    SubjectOrganization,
    /// Subject OU.
    SubjectOrganizationalUnit,
    /// Subject CN.
    SubjectCommonName,
    /// BasicConstraints.
    BasicConstraints,
    /// The id-fido-gen-ce-aaguid extension.
    AaguidExtension,
    /// keyUsage.
    KeyUsage,
    /// Subject or authority key identifier.
    KeyIdentifier,
}

impl Rule {
    /// Where the rule comes from, for messages.
    pub fn reference(self) -> &'static str {
        match self {
            Rule::Der => "DER encoding (X.690)",
            Rule::Version => "X.509 v3 (WebAuthn §8.2.1)",
            Rule::SerialNumber => "serial number (RFC 5280 §4.1.2.2)",
            Rule::Validity => "validity (RFC 5280 §4.1.2.5)",
            Rule::SignatureAlgorithm => "signature algorithm (RFC 5280 §4.1.1.2)",
            Rule::DuplicateExtension => "unique extensions (RFC 5280 §4.2)",
            Rule::SubjectCountry => "subject C (WebAuthn §8.2.1)",
            Rule::SubjectOrganization => "subject O (WebAuthn §8.2.1)",
            Rule::SubjectOrganizationalUnit => "subject OU (WebAuthn §8.2.1)",
            Rule::SubjectCommonName => "subject CN (WebAuthn §8.2.1, X.520)",
            Rule::BasicConstraints => "Basic Constraints (WebAuthn §8.2.1, RFC 5280 §4.2.1.9)",
            Rule::AaguidExtension => "id-fido-gen-ce-aaguid extension (WebAuthn §8.2.1)",
            Rule::KeyUsage => "key usage (RFC 5280 §4.2.1.3)",
            Rule::KeyIdentifier => "key identifiers (RFC 5280 §4.2.1.1-2)",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reference())
    }
}

/// Which certificate of a chain broke the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The batch (leaf) attestation certificate, `x5c[0]`.
    Batch,
    /// An intermediate CA certificate, `x5c[n]`.
    Intermediate(usize),
    /// A CA certificate relying parties are told to trust.
    Ca,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Batch => f.write_str("batch attestation certificate"),
            Role::Intermediate(n) => write!(f, "intermediate certificate x5c[{n}]"),
            Role::Ca => f.write_str("attestation CA certificate"),
        }
    }
}

/// A certificate that breaks the profile: which one, which rule, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {role} breaks the rule on {rule}: {detail}")]
pub struct ProfileError {
    /// The certificate at fault.
    pub role: Role,
    /// The rule broken.
    pub rule: Rule,
    /// What exactly is wrong.
    pub detail: String,
}

/// What the checks learnt about a batch certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchCertificate {
    /// The id-fido-gen-ce-aaguid extension's AAGUID, if the extension is there.
    pub aaguid: Option<Aaguid>,
    /// The subject public key (the BIT STRING's bytes: a SEC1 point for EC keys).
    pub public_key: Vec<u8>,
}

/// Checks a batch attestation certificate (DER) against the profile.
///
/// # Errors
/// The first rule broken, as a [`ProfileError`] with role [`Role::Batch`].
pub fn check_batch_certificate(der: &[u8]) -> Result<BatchCertificate, ProfileError> {
    let fail = failer(Role::Batch);
    let cert = decode(der, Role::Batch)?;
    let tbs = cert.tbs_certificate();
    let subject = tbs.subject();

    let country = single_attribute(subject, COUNTRY, Rule::SubjectCountry, Role::Batch)?;
    if country.tag() != Tag::PrintableString {
        return Err(fail(
            Rule::SubjectCountry,
            format!(
                "C is a {} where X.520 requires a PrintableString",
                country.tag()
            ),
        ));
    }
    let c = PrintableStringRef::new(country.value()).map_err(|e| {
        fail(
            Rule::SubjectCountry,
            format!("C is not a PrintableString: {e}"),
        )
    })?;
    if c.as_str().len() != 2 || !c.as_str().bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(fail(
            Rule::SubjectCountry,
            format!("C {:?} is not an ISO 3166 alpha-2 code", c.as_str()),
        ));
    }
    let o = directory_string(
        subject,
        ORGANIZATION,
        Rule::SubjectOrganization,
        Role::Batch,
    )?;
    if o.is_empty() || o.chars().count() > MAX_NAME_CHARS {
        return Err(fail(
            Rule::SubjectOrganization,
            format!(
                "O has {} characters; it must have 1 to {MAX_NAME_CHARS}",
                o.chars().count()
            ),
        ));
    }
    let ou = directory_string(
        subject,
        ORGANIZATIONAL_UNIT,
        Rule::SubjectOrganizationalUnit,
        Role::Batch,
    )?;
    if ou != ATTESTATION_OU {
        return Err(fail(
            Rule::SubjectOrganizationalUnit,
            format!("OU is {ou:?}; it must be exactly {ATTESTATION_OU:?}"),
        ));
    }
    let cn = directory_string(subject, COMMON_NAME, Rule::SubjectCommonName, Role::Batch)?;
    if cn.is_empty() || cn.chars().count() > MAX_NAME_CHARS {
        return Err(fail(
            Rule::SubjectCommonName,
            format!(
                "CN has {} characters; X.520 allows 1 to {MAX_NAME_CHARS}",
                cn.chars().count()
            ),
        ));
    }

    let exts = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
    match find::<BasicConstraints>(exts, Role::Batch)? {
        None => {
            return Err(fail(
                Rule::BasicConstraints,
                "the extension is missing; it must be present with CA false".into(),
            ));
        }
        Some((_, bc)) if bc.ca => {
            return Err(fail(
                Rule::BasicConstraints,
                "CA is true; a batch certificate must have CA false".into(),
            ));
        }
        Some((_, bc)) if bc.path_len_constraint.is_some() => {
            return Err(fail(
                Rule::BasicConstraints,
                "a path length constraint is set on a certificate that is not a CA".into(),
            ));
        }
        Some(_) => {}
    }
    if let Some((_, ku)) = find::<KeyUsage>(exts, Role::Batch)? {
        if !ku.digital_signature() {
            return Err(fail(
                Rule::KeyUsage,
                "keyUsage lacks digitalSignature, which attestation signatures need".into(),
            ));
        }
        if ku.key_cert_sign() {
            return Err(fail(
                Rule::KeyUsage,
                "keyUsage allows keyCertSign on a certificate that is not a CA".into(),
            ));
        }
    }
    let aaguid = match exts.iter().find(|e| e.extn_id == AAGUID_EXTENSION_OID) {
        None => None,
        Some(ext) => {
            if ext.critical {
                return Err(fail(
                    Rule::AaguidExtension,
                    "the extension is marked critical; it must not be".into(),
                ));
            }
            let value = OctetString::from_der(ext.extn_value.as_bytes()).map_err(|e| {
                fail(
                    Rule::AaguidExtension,
                    format!("the value is not one DER OCTET STRING: {e}"),
                )
            })?;
            let bytes: [u8; 16] = value.as_bytes().try_into().map_err(|_| {
                fail(
                    Rule::AaguidExtension,
                    format!(
                        "the OCTET STRING holds {} bytes; an AAGUID has 16",
                        value.as_bytes().len()
                    ),
                )
            })?;
            Some(Aaguid::from_bytes(bytes))
        }
    };
    let public_key = tbs
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| fail(Rule::Der, "the subject public key has unused bits".into()))?;
    Ok(BatchCertificate { aaguid, public_key })
}

/// Checks a CA certificate (DER): an intermediate of `x5c` or a trust anchor.
///
/// # Errors
/// The first rule broken, as a [`ProfileError`] with `role`.
pub fn check_ca_certificate(der: &[u8], role: Role) -> Result<(), ProfileError> {
    let fail = failer(role);
    let cert = decode(der, role)?;
    let tbs = cert.tbs_certificate();
    let exts = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
    match find::<BasicConstraints>(exts, role)? {
        None => {
            return Err(fail(
                Rule::BasicConstraints,
                "the extension is missing; a CA certificate must have it with CA true".into(),
            ));
        }
        Some((critical, bc)) => {
            if !bc.ca {
                return Err(fail(
                    Rule::BasicConstraints,
                    "CA is false on a certificate used as a CA".into(),
                ));
            }
            if !critical {
                return Err(fail(
                    Rule::BasicConstraints,
                    "the extension is not marked critical, as a CA's must be".into(),
                ));
            }
        }
    }
    match find::<KeyUsage>(exts, role)? {
        None => {
            return Err(fail(
                Rule::KeyUsage,
                "keyUsage is missing; a CA certificate must have keyCertSign".into(),
            ));
        }
        Some((_, ku)) if !ku.key_cert_sign() => {
            return Err(fail(
                Rule::KeyUsage,
                "keyUsage lacks keyCertSign on a CA certificate".into(),
            ));
        }
        Some(_) => {}
    }
    if find::<SubjectKeyIdentifier>(exts, role)?.is_none() {
        return Err(fail(
            Rule::KeyIdentifier,
            "the subject key identifier is missing from a CA certificate".into(),
        ));
    }
    if tbs.subject() != tbs.issuer() && find::<AuthorityKeyIdentifier>(exts, role)?.is_none() {
        return Err(fail(
            Rule::KeyIdentifier,
            "the authority key identifier is missing from a certificate that is not self-issued"
                .into(),
        ));
    }
    Ok(())
}

/// Checks an `x5c` array: the batch certificate, then any intermediates.
///
/// # Errors
/// The first rule broken by any certificate, naming which one.
pub fn check_x5c<C: AsRef<[u8]>>(x5c: &[C]) -> Result<BatchCertificate, ProfileError> {
    let leaf = x5c.first().ok_or_else(|| ProfileError {
        role: Role::Batch,
        rule: Rule::Der,
        detail: "x5c holds no certificate".into(),
    })?;
    let batch = check_batch_certificate(leaf.as_ref())?;
    for (n, der) in x5c.iter().enumerate().skip(1) {
        check_ca_certificate(der.as_ref(), Role::Intermediate(n))?;
    }
    Ok(batch)
}

/// The `x5c` certificates (DER, batch first) of an attestation object
/// (CBOR, as in `response.attestationObject`), for [`check_x5c`]. `Ok(None)`
/// when it carries no `x5c` (`none`, self attestation, other formats):
/// whether that is acceptable is the relying party's policy.
///
/// # Errors
/// A plain description when the CBOR or its shape is malformed.
pub fn attestation_object_x5c(attestation_object: &[u8]) -> Result<Option<Vec<Vec<u8>>>, String> {
    use ciborium::Value;
    let object: Value = ciborium::from_reader(attestation_object)
        .map_err(|e| format!("attestationObject is not CBOR: {e}"))?;
    let member = |map: &Value, key: &str| -> Result<Option<Value>, String> {
        let entries = map
            .as_map()
            .ok_or_else(|| format!("expected a CBOR map holding {key:?}"))?;
        Ok(entries
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v.clone()))
    };
    let Some(stmt) = member(&object, "attStmt")? else {
        return Err("attestationObject has no attStmt".into());
    };
    let Some(x5c) = member(&stmt, "x5c")? else {
        return Ok(None);
    };
    let certs = x5c
        .into_array()
        .map_err(|_| "attStmt.x5c is not an array".to_owned())?;
    certs
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            c.into_bytes()
                .map_err(|_| format!("attStmt.x5c[{n}] is not a byte string"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn failer(role: Role) -> impl Fn(Rule, String) -> ProfileError {
    move |rule, detail| ProfileError { role, rule, detail }
}

/// Decodes strictly and runs the rules every certificate shares.
fn decode(der: &[u8], role: Role) -> Result<Certificate, ProfileError> {
    let fail = failer(role);
    let cert = Certificate::from_der(der)
        .map_err(|e| fail(Rule::Der, format!("the strict decoder refuses it: {e}")))?;
    let tbs = cert.tbs_certificate();
    let exts = tbs.extensions().map(Vec::as_slice).unwrap_or_default();

    // The extensions first, so a non-DER one is named rather than reported
    // as a difference somewhere in the certificate.
    for (i, ext) in exts.iter().enumerate() {
        if exts[..i].iter().any(|e| e.extn_id == ext.extn_id) {
            return Err(fail(
                Rule::DuplicateExtension,
                format!("extension {} appears more than once", ext.extn_id),
            ));
        }
    }
    canonical::<BasicConstraints>(exts, role, "BasicConstraints")?;
    canonical::<KeyUsage>(exts, role, "KeyUsage")?;
    canonical::<SubjectKeyIdentifier>(exts, role, "SubjectKeyIdentifier")?;
    canonical::<AuthorityKeyIdentifier>(exts, role, "AuthorityKeyIdentifier")?;

    for (name, time) in [
        ("notBefore", tbs.validity().not_before),
        ("notAfter", tbs.validity().not_after),
    ] {
        let year = time.to_date_time().year();
        let utc = matches!(time, Time::UtcTime(_));
        if utc != (year < 2050) {
            return Err(fail(
                Rule::Validity,
                format!(
                    "{name} ({year}) is a {}; dates before 2050 must be UTCTime, later ones GeneralizedTime",
                    if utc { "UTCTime" } else { "GeneralizedTime" }
                ),
            ));
        }
    }
    if tbs.validity().not_before.to_unix_duration() > tbs.validity().not_after.to_unix_duration() {
        return Err(fail(
            Rule::Validity,
            "notBefore is later than notAfter".into(),
        ));
    }

    let again = cert
        .to_der()
        .map_err(|e| fail(Rule::Der, format!("cannot be re-encoded: {e}")))?;
    if again != der {
        let at = again
            .iter()
            .zip(der)
            .position(|(a, b)| a != b)
            .unwrap_or(again.len().min(der.len()));
        return Err(fail(
            Rule::Der,
            format!(
                "not the DER encoding of its own contents (first difference at byte {at}): a DEFAULT value written out, a non-minimal length or integer, or an unsorted SET"
            ),
        ));
    }

    if tbs.version() != x509_cert::Version::V3 {
        return Err(fail(
            Rule::Version,
            format!("version is {:?}; it must be v3", tbs.version()),
        ));
    }
    let serial = tbs.serial_number().as_bytes();
    if serial.len() > 20 {
        return Err(fail(
            Rule::SerialNumber,
            format!("{} octets; at most 20 are allowed", serial.len()),
        ));
    }
    match serial.first() {
        Some(b) if b & 0x80 != 0 => {
            return Err(fail(Rule::SerialNumber, "negative".into()));
        }
        _ if serial.iter().all(|b| *b == 0) => {
            return Err(fail(Rule::SerialNumber, "zero; it must be positive".into()));
        }
        _ => {}
    }
    if cert.signature_algorithm() != tbs.signature() {
        return Err(fail(
            Rule::SignatureAlgorithm,
            "signatureAlgorithm differs from the TBSCertificate's signature field".into(),
        ));
    }
    Ok(cert)
}

/// The extension `T` decoded from its extnValue, with its criticality.
fn find<T>(exts: &[Extension], role: Role) -> Result<Option<(bool, T)>, ProfileError>
where
    T: for<'a> Decode<'a> + AssociatedOid,
{
    let Some(ext) = exts.iter().find(|e| e.extn_id == T::OID) else {
        return Ok(None);
    };
    let value = T::from_der(ext.extn_value.as_bytes()).map_err(|e| ProfileError {
        role,
        rule: Rule::Der,
        detail: format!("extension {} does not decode: {e}", T::OID),
    })?;
    Ok(Some((ext.critical, value)))
}

/// Refuses an extension `T` whose value is not the DER of what it decodes to.
fn canonical<T>(exts: &[Extension], role: Role, name: &str) -> Result<(), ProfileError>
where
    T: for<'a> Decode<'a> + Encode + AssociatedOid,
{
    let Some(ext) = exts.iter().find(|e| e.extn_id == T::OID) else {
        return Ok(());
    };
    let raw = ext.extn_value.as_bytes();
    let fail = |detail: String| ProfileError {
        role,
        rule: Rule::Der,
        detail,
    };
    let value =
        T::from_der(raw).map_err(|e| fail(format!("{name} extension does not decode: {e}")))?;
    let again = value
        .to_der()
        .map_err(|e| fail(format!("{name} extension cannot be re-encoded: {e}")))?;
    if again == raw {
        return Ok(());
    }
    // The case strict parsers report most (rcgen's IsCa::ExplicitNoCa):
    // named the way Python's cryptography names it.
    if T::OID == BasicConstraints::OID && again == [0x30, 0x00] {
        return Err(fail(
            "BasicConstraints::ca writes out the DEFAULT value FALSE; DER forbids encoding a DEFAULT, so CA false must be an empty SEQUENCE (30 00)"
                .into(),
        ));
    }
    Err(fail(format!(
        "the {name} extension's value is not DER (it re-encodes differently)"
    )))
}

/// The one attribute `oid` of `name`, refusing none or several.
fn single_attribute(
    name: &x509_cert::name::Name,
    oid: ObjectIdentifier,
    rule: Rule,
    role: Role,
) -> Result<&Any, ProfileError> {
    let mut found = name.iter().filter(|a| a.oid == oid).map(|a| &a.value);
    let first = found.next().ok_or_else(|| ProfileError {
        role,
        rule,
        detail: "missing from the subject".into(),
    })?;
    if found.next().is_some() {
        return Err(ProfileError {
            role,
            rule,
            detail: "appears more than once in the subject".into(),
        });
    }
    Ok(first)
}

/// The one attribute `oid` of `name` as text: a UTF8String (what §8.2.1
/// names) or a PrintableString (its ASCII subset).
fn directory_string(
    name: &x509_cert::name::Name,
    oid: ObjectIdentifier,
    rule: Rule,
    role: Role,
) -> Result<String, ProfileError> {
    let value = single_attribute(name, oid, rule, role)?;
    let fail = |detail: String| ProfileError { role, rule, detail };
    match value.tag() {
        Tag::Utf8String => Utf8StringRef::new(value.value())
            .map(|s| s.as_str().to_owned())
            .map_err(|e| fail(format!("not valid UTF-8: {e}"))),
        Tag::PrintableString => PrintableStringRef::new(value.value())
            .map(|s| s.as_str().to_owned())
            .map_err(|e| fail(format!("not a valid PrintableString: {e}"))),
        other => Err(fail(format!(
            "a {other}; WebAuthn §8.2.1 asks for a UTF8String"
        ))),
    }
}
