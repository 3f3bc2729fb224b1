//! A tiny software security key for tests: P-256 credential keys (ring),
//! packed attestation with an x5c batch certificate from an rcgen CA, and
//! the few CBOR shapes WebAuthn needs.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

pub enum Cbor {
    U(u64),
    N(i64),
    B(Vec<u8>),
    T(String),
    A(Vec<Cbor>),
    M(Vec<(Cbor, Cbor)>),
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n < 256 {
        out.extend([m | 24, n as u8]);
    } else if n < 65536 {
        out.push(m | 25);
        out.extend((n as u16).to_be_bytes());
    } else {
        out.push(m | 26);
        out.extend((n as u32).to_be_bytes());
    }
}

impl Cbor {
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::U(n) => head(out, 0, *n),
            Cbor::N(n) => head(out, 1, (-1 - *n) as u64),
            Cbor::B(b) => {
                head(out, 2, b.len() as u64);
                out.extend(b);
            }
            Cbor::T(t) => {
                head(out, 3, t.len() as u64);
                out.extend(t.as_bytes());
            }
            Cbor::A(a) => {
                head(out, 4, a.len() as u64);
                for x in a {
                    x.encode(out);
                }
            }
            Cbor::M(m) => {
                head(out, 5, m.len() as u64);
                for (k, v) in m {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }
    pub fn bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

pub fn b64u(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn sha256(b: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .to_vec()
}

/// How the key attests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Attestation {
    /// packed with x5c (what Microsoft accepts)
    Full,
    /// packed without x5c (signed by the credential key)
    SelfSigned,
    /// fmt "none"
    None,
}

pub struct Authenticator {
    pub aaguid: [u8; 16],
    pub ca_pem: String,
    att_key: EcdsaKeyPair,
    att_cert_der: Vec<u8>,
    pub creds: Vec<(Vec<u8>, EcdsaKeyPair, Vec<u8>, u32)>,
}

pub struct Made {
    pub credential_id: Vec<u8>,
    pub client_data_json: Vec<u8>,
    pub attestation_object: Vec<u8>,
}

pub struct Assertion {
    pub credential_id: Vec<u8>,
    pub client_data_json: Vec<u8>,
    pub authenticator_data: Vec<u8>,
    pub signature: Vec<u8>,
    pub user_handle: Vec<u8>,
}

impl Authenticator {
    pub fn new(aaguid: [u8; 16]) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Test Key Vendor Root");
        ca.distinguished_name
            .push(DnType::OrganizationName, "Test Key Vendor");
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("ca");
        let att = KeyPair::generate().expect("att key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        // The simulator checks x5c strictly (WebAuthn §8.2.1, DER): CA false
        // as an empty SEQUENCE (rcgen's ExplicitNoCa spells out the DEFAULT),
        // C as a PrintableString.
        p.is_ca = IsCa::NoCa;
        let mut bc = rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
        bc.set_criticality(true);
        p.custom_extensions.push(bc);
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        p.distinguished_name.push(
            DnType::CountryName,
            rcgen::DnValue::PrintableString("US".try_into().expect("printable")),
        );
        p.distinguished_name
            .push(DnType::OrganizationName, "Test Key Vendor");
        p.distinguished_name
            .push(DnType::OrganizationalUnitName, "Authenticator Attestation");
        p.distinguished_name
            .push(DnType::CommonName, "Test Key Batch 1");
        let issuer = Issuer::new(ca, &ca_key);
        let cert = p.signed_by(&att, &issuer).expect("att cert");
        let rng = SystemRandom::new();
        let att_key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &att.serialize_der(), &rng)
                .expect("att pkcs8");
        Self {
            aaguid,
            ca_pem: ca_cert.pem(),
            att_key,
            att_cert_der: cert.der().to_vec(),
            creds: Vec::new(),
        }
    }

    pub fn aaguid_str(&self) -> String {
        let h: String = self.aaguid.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    /// navigator.credentials.create as a security key with UV does it.
    pub fn create(
        &mut self,
        rp_id: &str,
        origin: &str,
        challenge: &[u8],
        user_handle: &[u8],
        how: Attestation,
    ) -> Made {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("gen");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .expect("key");
        let pubkey = key.public_key().as_ref().to_vec();
        let cred_id = ring::rand::generate::<[u8; 32]>(&rng)
            .expect("rng")
            .expose()
            .to_vec();
        let cose = Cbor::M(vec![
            (Cbor::U(1), Cbor::U(2)),
            (Cbor::U(3), Cbor::N(-7)),
            (Cbor::N(-1), Cbor::U(1)),
            (Cbor::N(-2), Cbor::B(pubkey[1..33].to_vec())),
            (Cbor::N(-3), Cbor::B(pubkey[33..65].to_vec())),
        ])
        .bytes();
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(0x01 | 0x04 | 0x40);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend(self.aaguid);
        auth_data.extend((cred_id.len() as u16).to_be_bytes());
        auth_data.extend(&cred_id);
        auth_data.extend(cose);
        let cdj = serde_json::json!({
            "type": "webauthn.create",
            "challenge": b64u(challenge),
            "origin": origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes();
        let mut signed = auth_data.clone();
        signed.extend(sha256(&cdj));
        let (fmt, stmt) = match how {
            Attestation::Full => {
                let sig = self
                    .att_key
                    .sign(&rng, &signed)
                    .expect("sign")
                    .as_ref()
                    .to_vec();
                (
                    "packed",
                    Cbor::M(vec![
                        (Cbor::T("alg".into()), Cbor::N(-7)),
                        (Cbor::T("sig".into()), Cbor::B(sig)),
                        (
                            Cbor::T("x5c".into()),
                            Cbor::A(vec![Cbor::B(self.att_cert_der.clone())]),
                        ),
                    ]),
                )
            }
            Attestation::SelfSigned => {
                let sig = key.sign(&rng, &signed).expect("sign").as_ref().to_vec();
                (
                    "packed",
                    Cbor::M(vec![
                        (Cbor::T("alg".into()), Cbor::N(-7)),
                        (Cbor::T("sig".into()), Cbor::B(sig)),
                    ]),
                )
            }
            Attestation::None => ("none", Cbor::M(vec![])),
        };
        let att_obj = Cbor::M(vec![
            (Cbor::T("fmt".into()), Cbor::T(fmt.into())),
            (Cbor::T("attStmt".into()), stmt),
            (Cbor::T("authData".into()), Cbor::B(auth_data)),
        ])
        .bytes();
        self.creds
            .push((cred_id.clone(), key, user_handle.to_vec(), 0));
        Made {
            credential_id: cred_id,
            client_data_json: cdj,
            attestation_object: att_obj,
        }
    }

    /// navigator.credentials.get with the most recent credential.
    pub fn get(&mut self, rp_id: &str, origin: &str, challenge: &[u8]) -> Assertion {
        let rng = SystemRandom::new();
        let (cred_id, key, user, counter) = self.creds.last_mut().expect("a credential");
        *counter += 1;
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(0x01 | 0x04);
        auth_data.extend(counter.to_be_bytes());
        let cdj = serde_json::json!({"type": "webauthn.get", "challenge": b64u(challenge), "origin": origin, "crossOrigin": false})
            .to_string()
            .into_bytes();
        let mut signed = auth_data.clone();
        signed.extend(sha256(&cdj));
        let sig = key.sign(&rng, &signed).expect("sign").as_ref().to_vec();
        Assertion {
            credential_id: cred_id.clone(),
            client_data_json: cdj,
            authenticator_data: auth_data,
            signature: sig,
            user_handle: user.clone(),
        }
    }
}
