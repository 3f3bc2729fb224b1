//! The batch attestation certificate and key behind `packed` attestation.
//!
//! WebAuthn §8.2 "packed" with an `x5c` chain: the authenticator signs
//! `authenticatorData | SHA-256(clientDataJSON)` with a batch key whose
//! certificate meets §8.2.1 (version 3; subject C, O, OU = "Authenticator
//! Attestation", CN; Basic Constraints CA=false; the `id-fido-gen-ce-aaguid`
//! extension with the AAGUID). Microsoft refuses self attestation, so this is
//! not optional.
//!
//! The certificates come from one of two places:
//! - generated: a vault attestation CA signs a batch certificate; the CA's
//!   private key is dropped right after, so nobody (not even the vault) can
//!   mint further certificates under that CA. Relying parties trust the CA
//!   PEM ([`Attestation::ca_pem`]).
//! - configured: a certificate chain and key issued elsewhere (PEM), for
//!   tenants that enforce attestation with their own trust anchors.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SerialNumber, SigningKey as _,
};

use rcgen::string::PrintableString;

use crate::aaguid::Aaguid;
use crate::error::{Result, VaultError};
use crate::profile::{self, ATTESTATION_OU, MAX_NAME_CHARS, ProfileError, Role};
use crate::sealing::fill_random;

/// OID 1.3.6.1.4.1.45724.1.1.4, id-fido-gen-ce-aaguid.
const AAGUID_EXTENSION_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4];
/// The same OID, DER encoded with its tag and length, for finding it in a
/// stored certificate that the strict decoder cannot read (old vaults).
const AAGUID_EXTENSION_OID_DER: &[u8] = &[
    0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xe5, 0x1c, 0x01, 0x01, 0x04,
];
/// OID 2.5.29.19, id-ce-basicConstraints.
const BASIC_CONSTRAINTS_OID: &[u64] = &[2, 5, 29, 19];
/// OID 2.5.29.14, id-ce-subjectKeyIdentifier.
const SUBJECT_KEY_IDENTIFIER_OID: &[u64] = &[2, 5, 29, 14];
/// Suffix of the files a renewal moves aside (see [`Renewal`]).
pub const REPLACED_SUFFIX: &str = ".replaced";

/// File names used by [`Attestation::load_or_generate`].
pub const CA_CERT_FILE: &str = "attestation-ca.pem";
/// See [`CA_CERT_FILE`].
pub const BATCH_CERT_FILE: &str = "attestation-batch.pem";
/// See [`CA_CERT_FILE`]. Written with mode 0600.
pub const BATCH_KEY_FILE: &str = "attestation-batch.key";

/// Names written into generated certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationNames {
    /// Subject C: ISO 3166 country of the vendor. Default `US`.
    pub country: String,
    /// Subject O: the vendor's legal name. Default `Passkey Vault`.
    pub organization: String,
}

impl Default for AttestationNames {
    fn default() -> Self {
        AttestationNames {
            country: "US".to_owned(),
            organization: "Passkey Vault".to_owned(),
        }
    }
}

/// The batch key and its certificate chain. Cheap to share behind an `Arc`.
pub struct Attestation {
    aaguid: Aaguid,
    batch_key: KeyPair,
    /// DER certificates, batch certificate first (the `x5c` array).
    x5c: Vec<Vec<u8>>,
    batch_pem: String,
    ca_pem: String,
    /// Set when [`Attestation::load_or_generate`] replaced stored certificates.
    renewal: Option<Renewal>,
}

/// What [`Attestation::load_or_generate`] did when the stored batch or CA
/// certificate broke the profile (vaults from before the strict profile):
/// a new CA and batch certificate for the same AAGUID and batch key, the
/// old files kept beside them with [`REPLACED_SUFFIX`].
#[derive(Debug, Clone)]
pub struct Renewal {
    /// Why the stored certificate was refused.
    pub reason: ProfileError,
    /// The directory whose certificates were replaced.
    pub dir: std::path::PathBuf,
}

impl fmt::Display for Renewal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the stored attestation certificates in {} were replaced: {}; a new attestation CA and \
             batch certificate were generated for the same AAGUID and batch key (the old files are \
             kept as *{REPLACED_SUFFIX}); credentials already registered are not affected, but \
             relying parties that trust the old attestation CA must now trust the new one",
            self.dir.display(),
            self.reason
        )
    }
}

impl fmt::Debug for Attestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key: rcgen's KeyPair holds the private key.
        f.debug_struct("Attestation")
            .field("aaguid", &self.aaguid)
            .field("x5c_len", &self.x5c.len())
            .finish_non_exhaustive()
    }
}

impl Attestation {
    /// A new attestation CA and batch certificate for `aaguid`, in memory,
    /// with the default [`AttestationNames`].
    ///
    /// # Errors
    /// [`VaultError::Crypto`] or [`VaultError::Randomness`] if key
    /// generation fails.
    pub fn generate(aaguid: Aaguid) -> Result<Self> {
        Self::generate_with(aaguid, &AttestationNames::default())
    }

    /// As [`generate`](Self::generate), with chosen subject names.
    ///
    /// # Errors
    /// As `generate`, and [`VaultError::AttestationConfig`] if the country
    /// is not an ISO 3166 alpha-2 code or the organization is empty or over
    /// 64 characters.
    pub fn generate_with(aaguid: Aaguid, names: &AttestationNames) -> Result<Self> {
        let batch_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| VaultError::Crypto(e.to_string()))?;
        Self::issue(aaguid, names, batch_key)
    }

    /// A new attestation CA, and under it a batch certificate for
    /// `batch_key`; the CA key is dropped on return (see the module docs).
    fn issue(aaguid: Aaguid, names: &AttestationNames, batch_key: KeyPair) -> Result<Self> {
        let rc = |e: rcgen::Error| VaultError::Crypto(e.to_string());
        let bad = |detail: String| VaultError::AttestationConfig { detail };
        if names.country.len() != 2 || !names.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(format!(
                "country {:?} is not an ISO 3166 alpha-2 code (two capital letters)",
                names.country
            )));
        }
        let country = PrintableString::try_from(names.country.as_str()).map_err(|_| {
            bad(format!(
                "country {:?} is not a PrintableString",
                names.country
            ))
        })?;
        let org_chars = names.organization.chars().count();
        if org_chars == 0 || org_chars > MAX_NAME_CHARS {
            return Err(bad(format!(
                "organization {:?} has {org_chars} characters; X.520 allows 1 to {MAX_NAME_CHARS}",
                names.organization
            )));
        }

        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rc)?;
        let mut ca = CertificateParams::default();
        ca.distinguished_name = DistinguishedName::new();
        ca.distinguished_name.push(
            DnType::CountryName,
            DnValue::PrintableString(country.clone()),
        );
        ca.distinguished_name
            .push(DnType::OrganizationName, names.organization.as_str());
        ca.distinguished_name.push(
            DnType::CommonName,
            name_within_limit(&names.organization, " Attestation CA"),
        );
        // rcgen writes SKI and a critical BasicConstraints (cA TRUE, pathLen
        // 0: the CA signs batch certificates only) for a CA.
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // Optional on a self-signed root (RFC 5280 §4.2.1.1), but some
        // path builders look for it.
        ca.use_authority_key_identifier_extension = true;
        ca.serial_number = Some(random_serial()?);
        // Fixed dates well in the past and far ahead: an attestation root
        // outlives the credentials it vouches for (hardware roots do 30+ years).
        ca.not_before = rcgen::date_time_ymd(2025, 1, 1);
        ca.not_after = rcgen::date_time_ymd(2055, 1, 1);
        let ca_cert = ca.self_signed(&ca_key).map_err(rc)?;

        let mut batch = CertificateParams::default();
        batch.distinguished_name = DistinguishedName::new();
        batch
            .distinguished_name
            .push(DnType::CountryName, DnValue::PrintableString(country));
        batch
            .distinguished_name
            .push(DnType::OrganizationName, names.organization.as_str());
        batch
            .distinguished_name
            .push(DnType::OrganizationalUnitName, ATTESTATION_OU);
        // X.520 caps CN at 64 characters; the AAGUID's first group tells
        // batches of different AAGUIDs apart without the whole UUID.
        let aaguid_text = aaguid.to_string();
        let short = aaguid_text.split('-').next().unwrap_or_default();
        batch.distinguished_name.push(
            DnType::CommonName,
            name_within_limit(&names.organization, &format!(" Batch {short}")),
        );
        // Not rcgen's IsCa::ExplicitNoCa: it writes the DEFAULT `cA FALSE`
        // out, which DER forbids and strict parsers refuse (issue 11). rcgen
        // cannot write CA false as DER requires, so BasicConstraints is added
        // by hand as an empty SEQUENCE (30 00), critical as on hardware keys.
        batch.is_ca = IsCa::NoCa;
        let mut basic_constraints =
            CustomExtension::from_oid_content(BASIC_CONSTRAINTS_OID, vec![0x30, 0x00]);
        basic_constraints.set_criticality(true);
        batch.custom_extensions.push(basic_constraints);
        // With IsCa::NoCa rcgen writes no subject key identifier; RFC 5280
        // recommends one: SHA-256 of the key, cut to 160 bits (RFC 7093 §2 #1).
        let mut ski = vec![0x04, 0x14];
        ski.extend_from_slice(&crate::wire::sha256(batch_key.public_key_raw())[..20]);
        batch
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                SUBJECT_KEY_IDENTIFIER_OID,
                ski,
            ));
        batch.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        batch.use_authority_key_identifier_extension = true;
        batch.serial_number = Some(random_serial()?);
        batch.not_before = rcgen::date_time_ymd(2025, 1, 1);
        batch.not_after = rcgen::date_time_ymd(2055, 1, 1);
        // §8.2.1: the AAGUID as an OCTET STRING, not critical.
        let mut ext_value = vec![0x04, 0x10];
        ext_value.extend_from_slice(aaguid.as_bytes());
        batch
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                AAGUID_EXTENSION_OID,
                ext_value,
            ));
        let issuer = Issuer::new(ca, ca_key);
        let batch_cert = batch.signed_by(&batch_key, &issuer).map_err(rc)?;
        // `issuer` (and with it the CA key) is dropped at the end of this
        // function on purpose: see the module docs.

        // Never hand out a certificate the vault itself would refuse.
        let generated = |e: ProfileError| {
            VaultError::Crypto(format!("generated certificate breaks the profile: {e}"))
        };
        profile::check_batch_certificate(batch_cert.der()).map_err(generated)?;
        profile::check_ca_certificate(ca_cert.der(), Role::Ca).map_err(generated)?;

        Ok(Attestation {
            aaguid,
            x5c: vec![batch_cert.der().to_vec()],
            batch_pem: batch_cert.pem(),
            ca_pem: ca_cert.pem(),
            batch_key,
            renewal: None,
        })
    }

    /// A configured batch certificate chain (batch certificate first, then
    /// any intermediates), its PKCS#8 P-256 private key, and the CA
    /// certificate(s) relying parties should trust, all PEM.
    ///
    /// Every certificate must be strict DER and follow the profile
    /// ([`crate::profile`]): the batch certificate WebAuthn §8.2.1, the
    /// intermediates and CA certificates RFC 5280's CA rules. The key must
    /// be P-256 and belong to the batch certificate, and an
    /// id-fido-gen-ce-aaguid extension must hold `aaguid`. This is not a
    /// path validation (signatures and dates are the relying party's).
    ///
    /// # Errors
    /// [`VaultError::AttestationConfig`] naming the failed check (for the
    /// profile: the certificate and the rule).
    pub fn from_pem(
        aaguid: Aaguid,
        batch_chain_pem: &str,
        batch_key_pem: &str,
        ca_pem: &str,
    ) -> Result<Self> {
        let bad = |detail: String| VaultError::AttestationConfig { detail };
        let x5c = pem_certificates(batch_chain_pem)
            .map_err(|e| bad(format!("batch certificate PEM: {e}")))?;
        let leaf = x5c
            .first()
            .ok_or_else(|| bad("the batch certificate PEM holds no certificate".to_owned()))?;
        let ca_certs =
            pem_certificates(ca_pem).map_err(|e| bad(format!("CA certificate PEM: {e}")))?;
        if ca_certs.is_empty() {
            return Err(bad("the CA PEM holds no certificate".to_owned()));
        }
        // rcgen's error text never includes key bytes.
        let batch_key =
            KeyPair::from_pem(batch_key_pem).map_err(|e| bad(format!("batch private key: {e}")))?;
        if batch_key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(bad(
                "the batch private key must be ECDSA P-256 (packed attestation with alg -7)"
                    .to_owned(),
            ));
        }
        let batch = profile::check_x5c(&x5c).map_err(|e| bad(e.to_string()))?;
        if batch.public_key != batch_key.public_key_raw() {
            return Err(bad(
                "the batch private key does not belong to the first certificate of the chain"
                    .to_owned(),
            ));
        }
        if let Some(found) = batch.aaguid {
            if found != aaguid {
                return Err(bad(format!(
                    "the batch certificate is for AAGUID {found}, but the vault is configured with {aaguid}"
                )));
            }
        }
        for ca in &ca_certs {
            // A certificate of the chain named as trust anchor was checked above.
            if !x5c.contains(ca) {
                profile::check_ca_certificate(ca, Role::Ca).map_err(|e| bad(e.to_string()))?;
            }
        }
        Ok(Attestation {
            aaguid,
            batch_pem: pem_encode(leaf),
            x5c,
            ca_pem: ca_pem.trim().to_owned() + "\n",
            batch_key,
            renewal: None,
        })
    }

    /// A configured attestation from files (`--attestation-cert`,
    /// `--attestation-key`, `--attestation-ca`): as
    /// [`from_pem`](Self::from_pem), with the key file held to mode 0600
    /// like the vault's own key. Without a CA file, the last certificate of
    /// the chain is what relying parties are told to trust (the issuer
    /// nearest the root that the operator supplied).
    ///
    /// # Errors
    /// [`VaultError::Io`] for unreadable files, otherwise as `from_pem`;
    /// each names the file at fault.
    pub fn from_pem_files(
        aaguid: Aaguid,
        cert: &Path,
        key: &Path,
        ca: Option<&Path>,
    ) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| VaultError::Io {
                action: "cannot read attestation file",
                path: p.to_owned(),
                source: e,
            })
        };
        let key_file = std::fs::File::open(key).map_err(|e| VaultError::Io {
            action: "cannot open attestation key",
            path: key.to_owned(),
            source: e,
        })?;
        crate::sealing::check_private_mode(&key_file, &key.display().to_string()).map_err(|e| {
            VaultError::AttestationConfig {
                detail: e.to_string(),
            }
        })?;
        let chain = read(cert)?;
        let key_pem = zeroize::Zeroizing::new(read(key)?);
        let ca_pem = match ca {
            Some(p) => read(p)?,
            None => pem_certificates(&chain)
                .ok()
                .and_then(|certs| certs.last().map(|der| pem_encode(der)))
                .unwrap_or_default(),
        };
        Self::from_pem(aaguid, &chain, &key_pem, &ca_pem)
    }

    /// Loads the attestation files from `dir`, generating and writing them
    /// on first use: [`CA_CERT_FILE`], [`BATCH_CERT_FILE`] and
    /// [`BATCH_KEY_FILE`] (mode 0600). A directory written for another
    /// AAGUID is refused rather than silently replaced, since relying
    /// parties may already trust its CA.
    ///
    /// Stored certificates that break the profile (written before it was
    /// enforced, e.g. with BasicConstraints `cA FALSE` spelt out) are
    /// replaced: a new CA and batch certificate for the same AAGUID and the
    /// stored batch key, the old files kept with [`REPLACED_SUFFIX`]. The
    /// CA changes too because its key was never kept. [`renewal`](Self::renewal)
    /// tells the caller, to log it.
    ///
    /// # Errors
    /// [`VaultError::Io`] for file system failures, otherwise as
    /// [`from_pem`](Self::from_pem).
    pub fn load_or_generate(dir: &Path, aaguid: Aaguid) -> Result<Self> {
        let ca_path = dir.join(CA_CERT_FILE);
        let batch_path = dir.join(BATCH_CERT_FILE);
        let key_path = dir.join(BATCH_KEY_FILE);
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| VaultError::Io {
                action: "cannot read attestation file",
                path: p.to_owned(),
                source: e,
            })
        };
        if key_path.exists() {
            let key_file = std::fs::File::open(&key_path).map_err(|e| VaultError::Io {
                action: "cannot open attestation key",
                path: key_path.clone(),
                source: e,
            })?;
            crate::sealing::check_private_mode(&key_file, &key_path.display().to_string())
                .map_err(|e| VaultError::AttestationConfig {
                    detail: e.to_string(),
                })?;
            let batch_pem = read(&batch_path)?;
            let ca_pem = read(&ca_path)?;
            let key_pem = zeroize::Zeroizing::new(read(&key_path)?);
            return match stored_profile_violation(&batch_pem, &ca_pem) {
                None => Self::from_pem(aaguid, &batch_pem, &key_pem, &ca_pem),
                Some(reason) => Self::renew(dir, aaguid, &batch_pem, &key_pem, reason),
            };
        }
        let generated = Self::generate(aaguid)?;
        std::fs::create_dir_all(dir).map_err(|e| VaultError::Io {
            action: "cannot create attestation directory",
            path: dir.to_owned(),
            source: e,
        })?;
        // Certificates first, key last: the key's presence marks a complete set.
        write_file(&ca_path, generated.ca_pem.as_bytes(), false)?;
        write_file(&batch_path, generated.batch_pem.as_bytes(), false)?;
        let key_pem = zeroize::Zeroizing::new(generated.batch_key.serialize_pem());
        write_file(&key_path, key_pem.as_bytes(), true)?;
        Ok(generated)
    }

    /// Replaces the stored certificates of `dir` (see
    /// [`load_or_generate`](Self::load_or_generate)).
    fn renew(
        dir: &Path,
        aaguid: Aaguid,
        batch_pem: &str,
        key_pem: &str,
        reason: ProfileError,
    ) -> Result<Self> {
        let bad = |detail: String| VaultError::AttestationConfig { detail };
        // The strict decoder cannot read the old certificate, so its AAGUID
        // is found by its bytes: a set made for another AAGUID stays refused.
        let old_aaguid = pem_certificates(batch_pem)
            .ok()
            .and_then(|certs| certs.first().and_then(|der| certificate_aaguid(der)));
        if let Some(found) = old_aaguid {
            if found != aaguid {
                return Err(bad(format!(
                    "the batch certificate is for AAGUID {found}, but the vault is configured with {aaguid}"
                )));
            }
        }
        let batch_key =
            KeyPair::from_pem(key_pem).map_err(|e| bad(format!("batch private key: {e}")))?;
        if batch_key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(bad(
                "the batch private key must be ECDSA P-256 (packed attestation with alg -7)"
                    .to_owned(),
            ));
        }
        let mut fresh = Self::issue(aaguid, &AttestationNames::default(), batch_key)?;
        for (name, content) in [
            (CA_CERT_FILE, fresh.ca_pem.as_bytes()),
            (BATCH_CERT_FILE, fresh.batch_pem.as_bytes()),
        ] {
            let path = dir.join(name);
            let keep = dir.join(format!("{name}{REPLACED_SUFFIX}"));
            std::fs::copy(&path, &keep).map_err(|e| VaultError::Io {
                action: "cannot keep the replaced attestation file as",
                path: keep.clone(),
                source: e,
            })?;
            // Written beside, then renamed over: a crash leaves the old or
            // the new file, never half of one.
            let tmp = dir.join(format!("{name}.tmp"));
            let _ = std::fs::remove_file(&tmp);
            write_file(&tmp, content, false)?;
            std::fs::rename(&tmp, &path).map_err(|e| VaultError::Io {
                action: "cannot replace attestation file",
                path: path.clone(),
                source: e,
            })?;
        }
        fresh.renewal = Some(Renewal {
            reason,
            dir: dir.to_owned(),
        });
        Ok(fresh)
    }

    /// Set when [`load_or_generate`](Self::load_or_generate) replaced
    /// stored certificates that broke the profile: what to log.
    pub fn renewal(&self) -> Option<&Renewal> {
        self.renewal.as_ref()
    }

    /// The AAGUID the batch certificate vouches for.
    pub fn aaguid(&self) -> Aaguid {
        self.aaguid
    }

    /// The certificate(s) a relying party must trust to accept this vault's
    /// attestations, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The batch certificate, PEM.
    pub fn batch_certificate_pem(&self) -> &str {
        &self.batch_pem
    }

    /// The `x5c` array: DER certificates, batch certificate first.
    pub(crate) fn x5c(&self) -> &[Vec<u8>] {
        &self.x5c
    }

    /// ECDSA P-256 / SHA-256 signature, DER, over `data` with the batch key.
    pub(crate) fn sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.batch_key
            .sign(data)
            .map_err(|e| VaultError::Crypto(e.to_string()))
    }
}

fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes)?;
    // Positive and without a leading zero byte, as RFC 5280 serials should be.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// `prefix` + `suffix`, with `prefix` cut (at a character) so the whole
/// stays within X.520's 64 characters.
fn name_within_limit(prefix: &str, suffix: &str) -> String {
    let room = MAX_NAME_CHARS.saturating_sub(suffix.chars().count());
    let cut: String = prefix.chars().take(room).collect();
    format!("{}{suffix}", cut.trim_end())
}

/// The first profile rule the stored PEM files break, if any. Unreadable
/// PEM is left to `from_pem`, which names it.
fn stored_profile_violation(batch_pem: &str, ca_pem: &str) -> Option<ProfileError> {
    let x5c = pem_certificates(batch_pem).ok()?;
    if x5c.is_empty() {
        return None;
    }
    if let Err(e) = profile::check_x5c(&x5c) {
        return Some(e);
    }
    pem_certificates(ca_pem)
        .ok()?
        .iter()
        .filter(|ca| !x5c.contains(ca))
        .find_map(|ca| profile::check_ca_certificate(ca, Role::Ca).err())
}

/// The AAGUID in a DER certificate's id-fido-gen-ce-aaguid extension, found
/// by its bytes (for old certificates the strict decoder refuses), by its encoding: OID, optional `critical` BOOLEAN, then the extnValue
/// OCTET STRING (18 bytes) wrapping an OCTET STRING of 16 bytes.
fn certificate_aaguid(der: &[u8]) -> Option<Aaguid> {
    let at = der
        .windows(AAGUID_EXTENSION_OID_DER.len())
        .position(|w| w == AAGUID_EXTENSION_OID_DER)?;
    let mut rest = der.get(at + AAGUID_EXTENSION_OID_DER.len()..)?;
    if rest.starts_with(&[0x01, 0x01]) {
        rest = rest.get(3..)?;
    }
    let value = rest.strip_prefix(&[0x04, 0x12, 0x04, 0x10])?;
    let bytes: [u8; 16] = value.get(..16)?.try_into().ok()?;
    Some(Aaguid::from_bytes(bytes))
}

/// The DER bodies of the `CERTIFICATE` blocks of a PEM text.
fn pem_certificates(text: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let body_and_more = &rest[start + BEGIN.len()..];
        let end = body_and_more
            .find(END)
            .ok_or_else(|| format!("certificate {} has no END line", out.len() + 1))?;
        let body: String = body_and_more[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| format!("certificate {} is not base64: {e}", out.len() + 1))?;
        out.push(der);
        rest = &body_and_more[end + END.len()..];
    }
    Ok(out)
}

fn pem_encode(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so each chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn write_file(path: &Path, content: &[u8], private: bool) -> Result<()> {
    let io = |source| VaultError::Io {
        action: "cannot write attestation file",
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(content)
        .and_then(|()| file.sync_all())
        .map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_batch_certificate_carries_the_aaguid() {
        let aaguid = Aaguid::from_bytes([7; 16]);
        let att = Attestation::generate(aaguid).expect("generate");
        assert_eq!(certificate_aaguid(&att.x5c[0]), Some(aaguid));
        let checked = profile::check_batch_certificate(&att.x5c[0]).expect("profile");
        assert_eq!(checked.aaguid, Some(aaguid));
        assert_eq!(checked.public_key, att.batch_key.public_key_raw());
        assert!(att.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        // The PEM we write is the DER we send.
        assert_eq!(
            pem_certificates(att.batch_certificate_pem()).expect("pem"),
            att.x5c
        );
    }

    #[cfg(unix)]
    #[test]
    fn configured_files_load_and_a_mismatched_aaguid_is_named() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("vault-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let aaguid = Aaguid::from_bytes([9; 16]);
        let a = Attestation::generate(aaguid).expect("generate");
        let (cert, key, ca) = (dir.join("c.pem"), dir.join("k.pem"), dir.join("ca.pem"));
        std::fs::write(&cert, &a.batch_pem).expect("write");
        std::fs::write(&ca, &a.ca_pem).expect("write");
        std::fs::write(&key, a.batch_key.serialize_pem()).expect("write");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let open = |id: Aaguid, ca: Option<&Path>| Attestation::from_pem_files(id, &cert, &key, ca);
        match open(aaguid, Some(&ca)) {
            Err(VaultError::AttestationConfig { detail }) => {
                assert!(detail.contains("chmod 600"), "{detail}")
            }
            other => panic!("a world-readable key was accepted: {other:?}"),
        }
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let loaded = open(aaguid, Some(&ca)).expect("loads");
        assert_eq!(loaded.aaguid(), aaguid);
        assert_eq!(loaded.ca_pem(), a.ca_pem());
        // Without a CA file the chain's last certificate stands in.
        let no_ca = open(aaguid, None).expect("loads without CA");
        assert_eq!(no_ca.ca_pem(), no_ca.batch_certificate_pem());
        match open(Aaguid::DEFAULT, Some(&ca)) {
            Err(VaultError::AttestationConfig { detail }) => {
                assert!(detail.contains(&aaguid.to_string()), "{detail}")
            }
            other => panic!("a mismatched AAGUID was accepted: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn configured_certificates_are_checked() {
        let a = Attestation::generate(Aaguid::DEFAULT).expect("generate");
        let b = Attestation::generate(Aaguid::DEFAULT).expect("generate");
        let a_key = a.batch_key.serialize_pem();
        let b_key = b.batch_key.serialize_pem();

        // The right pieces load.
        Attestation::from_pem(Aaguid::DEFAULT, &a.batch_pem, &a_key, &a.ca_pem).expect("loads");

        let cases: [(&str, Aaguid, &str, &str, &str, &str); 5] = [
            (
                "key of another certificate",
                Aaguid::DEFAULT,
                &a.batch_pem,
                &b_key,
                &a.ca_pem,
                "does not belong",
            ),
            (
                "AAGUID differs from configuration",
                Aaguid::from_bytes([1; 16]),
                &a.batch_pem,
                &a_key,
                &a.ca_pem,
                "is for AAGUID",
            ),
            (
                "CA certificate as batch certificate",
                Aaguid::DEFAULT,
                &a.ca_pem,
                &a_key,
                &a.ca_pem,
                "subject OU",
            ),
            (
                "no certificate at all",
                Aaguid::DEFAULT,
                "",
                &a_key,
                &a.ca_pem,
                "holds no certificate",
            ),
            (
                "key is not PEM",
                Aaguid::DEFAULT,
                &a.batch_pem,
                "garbage",
                &a.ca_pem,
                "batch private key",
            ),
        ];
        for (name, aaguid, chain, key, ca, expected) in cases {
            match Attestation::from_pem(aaguid, chain, key, ca) {
                Err(VaultError::AttestationConfig { detail }) => {
                    assert!(detail.contains(expected), "{name}: {detail}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
