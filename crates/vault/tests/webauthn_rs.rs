//! The vault's output checked by an independent verifier, webauthn-rs-core,
//! acting as the relying party: it writes the options, trusts only the
//! vault's attestation CA for the vault's AAGUID, and verifies the
//! registration and then assertions with the credential it registered.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use url::Url;
use vault::{
    Aaguid, Attestation, CreationOptions, MICROSOFT_ORIGIN, MICROSOFT_RP_ID, MasterKey,
    MemoryStore, Vault,
};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationCaList, AttestationCaListBuilder, AttestationConveyancePreference,
    AttestationFormat, AttestationMetadata, COSEAlgorithm, Credential, ParsedAttestationData,
    PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState, UserVerificationPolicy,
};

const USER: &str = "9f6e1a7c-0000-4000-8000-entra-object";

fn vault_with(aaguid: Aaguid) -> Vault {
    Vault::new(
        Arc::new(MemoryStore::new()),
        MasterKey::generate().expect("vault key"),
        Attestation::generate(aaguid).expect("attestation"),
    )
}

fn relying_party(rp_id: &str, origin: &str) -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "Relying party under test",
        rp_id,
        vec![Url::parse(origin).expect("origin url")],
        Duration::from_secs(300),
        None,
        None,
    )
}

/// The trust list a tenant that enforces attestation would hold: the
/// vault's CA, for the vault's AAGUID only.
fn trust(vault: &Vault, aaguid: Aaguid) -> AttestationCaList {
    let mut builder = AttestationCaListBuilder::new();
    builder
        .insert_device_pem(
            vault.attestation_ca_pem().as_bytes(),
            uuid::Uuid::from_bytes(*aaguid.as_bytes()),
            "Passkey Vault".to_owned(),
            BTreeMap::new(),
        )
        .expect("CA PEM parses");
    builder.build()
}

/// Options and state from webauthn-rs itself, as a real RP would issue.
fn rp_options(rp: &WebauthnCore) -> (String, RegistrationState) {
    let builder = rp
        .new_challenge_register_builder(b"user-handle-1", "adele@contoso.com", "Adele Vance")
        .expect("builder")
        .attestation(AttestationConveyancePreference::Direct)
        .user_verification_policy(UserVerificationPolicy::Required)
        .credential_algorithms(vec![COSEAlgorithm::ES256]);
    let (ccr, state) = rp.generate_challenge_register(builder).expect("challenge");
    (serde_json::to_string(&ccr).expect("options json"), state)
}

/// Round-trips a response through JSON text, as it would travel to an RP.
fn as_rp_sees<T: serde::Serialize, U: serde::de::DeserializeOwned>(value: &T) -> U {
    let text = serde_json::to_string(value).expect("serialise");
    serde_json::from_str(&text).expect("the RP parses the vault's JSON")
}

fn register(vault: &Vault, rp: &WebauthnCore, origin: &str) -> (Credential, vault::Registration) {
    let (options, state) = rp_options(rp);
    let reg = vault
        .make_credential_json(USER, &options, origin)
        .expect("make_credential");
    let cred = rp
        .register_credential(
            &as_rp_sees::<_, RegisterPublicKeyCredential>(&reg.response),
            &state,
            Some(&trust(vault, vault.aaguid())),
        )
        .expect("webauthn-rs accepts the registration against the vault CA");
    (cred, reg)
}

#[test]
fn registration_is_basic_packed_x5c_attestation_trusted_by_the_vault_ca() {
    let aaguid: Aaguid = "0b0a1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3"
        .parse()
        .expect("aaguid");
    let vault = vault_with(aaguid);
    let rp = relying_party("example.org", "https://example.org");
    let (cred, reg) = register(&vault, &rp, "https://example.org");

    assert_eq!(cred.attestation_format, AttestationFormat::Packed);
    assert!(
        matches!(&cred.attestation.data, ParsedAttestationData::Basic(chain) if chain.len() == 1),
        "expected Basic attestation with one x5c certificate, got {:?}",
        cred.attestation.data
    );
    match &cred.attestation.metadata {
        AttestationMetadata::Packed { aaguid: seen } => {
            assert_eq!(seen.as_bytes(), aaguid.as_bytes())
        }
        other => panic!("expected packed metadata with an AAGUID, got {other:?}"),
    }
    assert_eq!(cred.counter, 0);
    assert!(cred.user_verified);
    assert!(!cred.backup_eligible && !cred.backup_state);
    assert_eq!(
        cred.cred_id.as_slice(),
        reg.credential.credential_id.as_slice()
    );
    assert!(cred.cred_id.len() >= 32);
    assert_eq!(reg.response.authenticator_attachment, "cross-platform");
    assert_eq!(reg.response.response.transports, vec!["usb".to_owned()]);
}

#[test]
fn assertions_verify_with_the_registered_credential_and_count_up() {
    let vault = vault_with(Aaguid::DEFAULT);
    let rp = relying_party("example.org", "https://example.org");
    let (mut cred, reg) = register(&vault, &rp, "https://example.org");

    for expected in 1..=3u32 {
        let builder = rp
            .new_challenge_authenticate_builder(
                vec![cred.clone()],
                Some(UserVerificationPolicy::Required),
            )
            .expect("auth builder");
        let (rcr, state) = rp
            .generate_challenge_authenticate(builder)
            .expect("auth challenge");
        let assertion = vault
            .get_assertion_json(
                USER,
                &serde_json::to_string(&rcr).expect("json"),
                "https://example.org",
            )
            .expect("get_assertion");
        assert_eq!(assertion.credential.sign_count, expected);
        assert_eq!(
            assertion.response.response.user_handle.as_deref(),
            Some("dXNlci1oYW5kbGUtMQ"),
            "user handle is the RP's user.id"
        );
        let result = rp
            .authenticate_credential(
                &as_rp_sees::<_, PublicKeyCredential>(&assertion.response),
                &state,
            )
            .expect("webauthn-rs accepts the assertion");
        assert_eq!(result.counter(), expected);
        assert!(result.user_verified());
        assert_eq!(
            result.cred_id().as_slice(),
            reg.credential.credential_id.as_slice()
        );
        cred.counter = result.counter();
    }
}

#[test]
fn a_replayed_assertion_is_refused_by_the_counter() {
    let vault = vault_with(Aaguid::DEFAULT);
    let rp = relying_party("example.org", "https://example.org");
    let (mut cred, _) = register(&vault, &rp, "https://example.org");
    let builder = rp
        .new_challenge_authenticate_builder(vec![cred.clone()], None)
        .expect("builder");
    let (rcr, state) = rp
        .generate_challenge_authenticate(builder)
        .expect("challenge");
    let json = serde_json::to_string(&rcr).expect("json");
    let first = vault
        .get_assertion_json(USER, &json, "https://example.org")
        .expect("first");
    let result = rp
        .authenticate_credential(
            &as_rp_sees::<_, PublicKeyCredential>(&first.response),
            &state,
        )
        .expect("first accepted");
    cred.counter = result.counter();
    // The same signed response again: the RP's stored counter now equals it.
    let builder = rp
        .new_challenge_authenticate_builder(vec![cred], None)
        .expect("builder");
    let (_, mut state2) = rp
        .generate_challenge_authenticate(builder)
        .expect("challenge");
    // Reuse the first challenge so only the counter can fail.
    let mut v = serde_json::to_value(&state2).expect("state json");
    v["challenge"] = serde_json::to_value(&state).expect("state json")["challenge"].clone();
    state2 = serde_json::from_value(v).expect("state back");
    let replay = rp.authenticate_credential(
        &as_rp_sees::<_, PublicKeyCredential>(&first.response),
        &state2,
    );
    assert!(
        matches!(replay, Err(WebauthnError::CredentialPossibleCompromise)),
        "{replay:?}"
    );
}

#[test]
fn microsoft_page_call_with_arbitrary_challenge_bytes_verifies() {
    // On login.microsoft.com/{tenant}/fido/create the challenge is the UTF-8
    // bytes of a JWE string, not random bytes the RP chose for us.
    let server_challenge = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkExMjhHQ00ifQ.x.y.z.w";
    let vault = vault_with(Aaguid::DEFAULT);
    let options = CreationOptions::microsoft(
        server_challenge.as_bytes().to_vec(),
        b"\x01\x02\x03\x04".to_vec(),
        "adele@contoso.com",
        "Adele Vance",
    );
    let reg = vault
        .make_credential(USER, &options, MICROSOFT_ORIGIN)
        .expect("make_credential");

    // The RP state carries our challenge: take a real state and swap it in.
    let rp = relying_party(MICROSOFT_RP_ID, MICROSOFT_ORIGIN);
    let (_, state) = rp_options(&rp);
    let mut v = serde_json::to_value(&state).expect("state json");
    v["challenge"] = serde_json::Value::String(b64url(server_challenge.as_bytes()));
    let state: RegistrationState = serde_json::from_value(v).expect("state back");

    let cred = rp
        .register_credential(
            &as_rp_sees::<_, RegisterPublicKeyCredential>(&reg.response),
            &state,
            Some(&trust(&vault, vault.aaguid())),
        )
        .expect("accepted");
    assert!(matches!(
        cred.attestation.data,
        ParsedAttestationData::Basic(_)
    ));

    // clientDataJSON byte for byte as Chromium writes it.
    let client_data = decode(&reg.response.response.client_data_json);
    assert_eq!(
        String::from_utf8(client_data).expect("utf8"),
        format!(
            r#"{{"type":"webauthn.create","challenge":"{}","origin":"https://login.microsoft.com","crossOrigin":false}}"#,
            b64url(server_challenge.as_bytes())
        )
    );
}

#[test]
fn graph_creation_options_verify() {
    // Graph fido2Methods/creationOptions wraps the options under publicKey
    // with OData annotations; the vault must read it as is.
    let rp = relying_party(MICROSOFT_RP_ID, MICROSOFT_ORIGIN);
    let (options, state) = rp_options(&rp);
    let mut graph: serde_json::Value = serde_json::from_str(&options).expect("json");
    graph["@odata.type"] = "#microsoft.graph.webauthnCredentialCreationOptions".into();
    graph["challengeTimeoutDateTime"] = "2026-05-01T10:05:00Z".into();
    graph["publicKey"]["@odata.type"] =
        "microsoft.graph.webauthnPublicKeyCredentialCreationOptions".into();
    let vault = vault_with(Aaguid::DEFAULT);
    let reg = vault
        .make_credential_json(USER, &graph.to_string(), MICROSOFT_ORIGIN)
        .expect("make_credential");
    rp.register_credential(
        &as_rp_sees::<_, RegisterPublicKeyCredential>(&reg.response),
        &state,
        Some(&trust(&vault, vault.aaguid())),
    )
    .expect("accepted");
}

#[test]
fn attestation_is_refused_when_the_rp_does_not_trust_the_vault() {
    let vault = vault_with(Aaguid::DEFAULT);
    let rp = relying_party("example.org", "https://example.org");

    // Trusting another vault's CA: the chain does not verify.
    let stranger = vault_with(Aaguid::DEFAULT);
    let (options, state) = rp_options(&rp);
    let reg = vault
        .make_credential_json(USER, &options, "https://example.org")
        .expect("reg");
    let refused = rp.register_credential(
        &as_rp_sees::<_, RegisterPublicKeyCredential>(&reg.response),
        &state,
        Some(&trust(&stranger, Aaguid::DEFAULT)),
    );
    assert!(
        matches!(refused, Err(WebauthnError::AttestationChainNotTrusted(_))),
        "{refused:?}"
    );

    // Trusting the right CA for another AAGUID: the AAGUID allow-list bites.
    let (options, state) = rp_options(&rp);
    let reg = vault
        .make_credential_json(USER, &options, "https://example.org")
        .expect("reg");
    let refused = rp.register_credential(
        &as_rp_sees::<_, RegisterPublicKeyCredential>(&reg.response),
        &state,
        Some(&trust(&vault, Aaguid::from_bytes([0x11; 16]))),
    );
    assert!(
        matches!(refused, Err(WebauthnError::AttestationUntrustedAaguid)),
        "{refused:?}"
    );
}

#[test]
fn configured_certificate_files_survive_a_restart_and_verify() {
    let dir = std::env::temp_dir().join(format!("vault-att-{}-{}", std::process::id(), line!()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("generate");
    let again = Attestation::load_or_generate(&dir, Aaguid::DEFAULT).expect("reload");
    assert_eq!(
        first.ca_pem(),
        again.ca_pem(),
        "the CA is stable across restarts"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join(vault::BATCH_KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let refused = Attestation::load_or_generate(&dir, Aaguid::from_bytes([2; 16]));
    assert!(
        matches!(&refused, Err(vault::VaultError::AttestationConfig { detail }) if detail.contains("is for AAGUID")),
        "{refused:?}"
    );

    let vault = Vault::new(
        Arc::new(MemoryStore::new()),
        MasterKey::generate().expect("key"),
        again,
    );
    let rp = relying_party("example.org", "https://example.org");
    register(&vault, &rp, "https://example.org");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

#[test]
fn configured_chain_from_an_organisation_pki_verifies_against_its_root() {
    // What a tenant with its own PKI would configure: root -> intermediate
    // -> batch certificate, the batch key, and the root as trust anchor.
    use rcgen::{
        BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
        KeyUsagePurpose,
    };
    let aaguid: Aaguid = "11111111-2222-4333-8444-555555555555"
        .parse()
        .expect("aaguid");
    let ca_params = |cn: &str| {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        // RFC 5280: a CA certificate that is not self-issued names its issuer's key.
        p.use_authority_key_identifier_extension = true;
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p
    };
    let root_key = KeyPair::generate().expect("root key");
    let root_params = ca_params("Contoso Root");
    let root = root_params.self_signed(&root_key).expect("root");
    let mid_key = KeyPair::generate().expect("mid key");
    let mid_params = ca_params("Contoso Authenticators");
    let mid = mid_params
        .signed_by(&mid_key, &Issuer::from_params(&root_params, &root_key))
        .expect("intermediate");

    let batch_key = KeyPair::generate().expect("batch key");
    let mut batch = CertificateParams::default();
    batch.distinguished_name = rcgen::DistinguishedName::new();
    batch.distinguished_name.push(
        DnType::CountryName,
        rcgen::DnValue::PrintableString("DE".try_into().expect("printable")),
    );
    batch
        .distinguished_name
        .push(DnType::OrganizationName, "Contoso");
    batch
        .distinguished_name
        .push(DnType::OrganizationalUnitName, "Authenticator Attestation");
    batch
        .distinguished_name
        .push(DnType::CommonName, "Contoso Vault Batch 1");
    // CA false as DER writes it (an empty SEQUENCE); rcgen's ExplicitNoCa
    // spells out the DEFAULT and the vault refuses it.
    batch.is_ca = IsCa::NoCa;
    let mut bc = CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
    bc.set_criticality(true);
    batch.custom_extensions.push(bc);
    batch.not_before = rcgen::date_time_ymd(2025, 1, 1);
    let mut ext = vec![0x04, 0x10];
    ext.extend_from_slice(aaguid.as_bytes());
    batch
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4],
            ext,
        ));
    let batch_cert = batch
        .signed_by(&batch_key, &Issuer::from_params(&mid_params, &mid_key))
        .expect("batch");

    let attestation = Attestation::from_pem(
        aaguid,
        &(batch_cert.pem() + &mid.pem()),
        &batch_key.serialize_pem(),
        &root.pem(),
    )
    .expect("configured attestation loads");
    let vault = Vault::new(
        Arc::new(MemoryStore::new()),
        MasterKey::generate().expect("key"),
        attestation,
    );
    let rp = relying_party("example.org", "https://example.org");
    let (cred, _) = register(&vault, &rp, "https://example.org");
    assert!(
        matches!(&cred.attestation.data, ParsedAttestationData::Basic(chain) if chain.len() == 2),
        "x5c carries batch and intermediate: {:?}",
        cred.attestation.data
    );
}
