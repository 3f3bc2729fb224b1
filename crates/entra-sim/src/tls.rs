//! The simulator's own PKI: a local CA and one leaf certificate for every
//! Microsoft hostname it serves, kept in the state directory so a browser
//! profile that trusts the CA (or pins the leaf's SPKI) keeps working across runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

use crate::error::StartError;
use crate::util::{civil_from_unix, wall_now};

/// The hostnames the simulator answers for, in the order they are listed in
/// the host-resolver rules.
pub const HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoft.com",
    "mysignins.microsoft.com",
    "api.mysignins.microsoft.com",
    "account.activedirectory.windowsazure.com",
    "graph.microsoft.com",
];

/// The certificate material of one simulator instance.
pub struct Pki {
    pub ca_pem_path: PathBuf,
    pub ca_pem: String,
    /// base64 (standard, padded) of SHA-256 over the leaf's SubjectPublicKeyInfo
    /// DER: the format Chromium's `--ignore-certificate-errors-spki-list` takes.
    pub spki: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

const CA: &str = "ca.pem";
const CA_KEY: &str = "ca-key.pem";
const LEAF: &str = "leaf.pem";
const LEAF_KEY: &str = "leaf-key.pem";

/// Loads the CA and leaf from `dir`, creating all four files when any is missing.
pub fn load_or_create(dir: &Path) -> Result<Pki, StartError> {
    let io = |path: &Path, e: std::io::Error| StartError::Io(path.display().to_string(), e);
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let complete = [CA, CA_KEY, LEAF, LEAF_KEY]
        .iter()
        .all(|f| dir.join(f).is_file());
    if !complete {
        create(dir)?;
    }
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| io(&p, e))
    };
    let ca_pem = read(CA)?;
    let leaf_pem = read(LEAF)?;
    let leaf_key_pem = read(LEAF_KEY)?;

    let leaf_key = KeyPair::from_pem(&leaf_key_pem)
        .map_err(|e| StartError::Pki(format!("{LEAF_KEY}: {e}")))?;
    let spki_hash =
        ring::digest::digest(&ring::digest::SHA256, &leaf_key.subject_public_key_info());
    let spki = base64::engine::general_purpose::STANDARD.encode(spki_hash.as_ref());

    // The chain sent to clients is leaf + CA so a client trusting only the CA verifies it.
    let mut chain: Vec<CertificateDer<'static>> = Vec::new();
    for pem in [&leaf_pem, &ca_pem] {
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| StartError::Pki(format!("certificate PEM: {e}")))?;
        chain.push(der);
    }
    let key = PrivateKeyDer::from_pem_slice(leaf_key_pem.as_bytes())
        .map_err(|e| StartError::Pki(format!("{LEAF_KEY}: {e}")))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Pki(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| StartError::Pki(e.to_string()))?;
    // HTTP/1.1 only: the simulator serves with hyper's http1 connection.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];

    let ca_pem_path = dir.join(CA);
    let ca_pem_path = std::fs::canonicalize(&ca_pem_path).unwrap_or(ca_pem_path);
    Ok(Pki {
        ca_pem_path,
        ca_pem,
        spki,
        server_config: Arc::new(config),
    })
}

fn create(dir: &Path) -> Result<(), StartError> {
    let pki = |e: rcgen::Error| StartError::Pki(e.to_string());
    let (y, m, d) = civil_from_unix(wall_now());
    // Backdated a day so clock skew between processes never makes it "not yet valid".
    let (py, pm, pd) = civil_from_unix(wall_now().saturating_sub(86_400));

    let ca_key = KeyPair::generate().map_err(pki)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "entra-sim local CA");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "entra-sim");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = rcgen::date_time_ymd(py as i32, pm as u8, pd as u8);
    ca_params.not_after = rcgen::date_time_ymd(y as i32 + 10, m as u8, d.min(28) as u8);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(pki)?;

    let leaf_key = KeyPair::generate().map_err(pki)?;
    let names: Vec<String> = HOSTS.iter().map(|h| h.to_string()).collect();
    let mut leaf_params = CertificateParams::new(names).map_err(pki)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "login.microsoftonline.com");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.not_before = rcgen::date_time_ymd(py as i32, pm as u8, pd as u8);
    // Under 398 days: Chromium refuses longer-lived leaf certificates.
    let (ey, em, ed) = civil_from_unix(wall_now() + 390 * 86_400);
    leaf_params.not_after = rcgen::date_time_ymd(ey as i32, em as u8, ed as u8);
    let issuer = Issuer::new(ca_params, &ca_key);
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).map_err(pki)?;

    write_private(&dir.join(CA_KEY), &ca_key.serialize_pem())?;
    write_private(&dir.join(LEAF_KEY), &leaf_key.serialize_pem())?;
    crate::util::write_atomic(&dir.join(LEAF), leaf_cert.pem().as_bytes(), true)
        .map_err(|e| StartError::Io(LEAF.into(), e))?;
    // The CA goes last: its presence alone does not mark the set complete.
    crate::util::write_atomic(&dir.join(CA), ca_cert.pem().as_bytes(), true)
        .map_err(|e| StartError::Io(CA.into(), e))?;
    Ok(())
}

fn write_private(path: &Path, pem: &str) -> Result<(), StartError> {
    crate::util::write_atomic(path, pem.as_bytes(), true)
        .map_err(|e| StartError::Io(path.display().to_string(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}
