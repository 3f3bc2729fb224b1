//! Attestation and assertion checks, done by webauthn-rs-core (an independent
//! relying-party library) with Microsoft's rules on top: the RP ID is
//! `login.microsoft.com`, the challenge is whatever bytes the page used (the
//! UTF-8 of serverChallenge), user verification is required, and only full
//! `packed` attestation with an x5c chain is accepted.
//!
//! webauthn-rs reads certificates leniently (it accepted a batch certificate
//! that spells out BasicConstraints `cA FALSE`, which DER forbids and strict
//! verifiers refuse). So x5c is also checked with the strict decoder and
//! the FIDO certificate profile in `vault::profile`, the same checks the
//! vault runs on its own certificates: the simulator refuses what a strict
//! verifier refuses.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::attestation::verify_attestation_ca_chain;
use webauthn_rs_core::proto::{
    AttestationCaListBuilder, AttestationConveyancePreference, AttestationFormat,
    AttestationMetadata, AuthenticationState, AuthenticatorAttachment, Credential,
    ParsedAttestationData, PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState,
    UserVerificationPolicy,
};

use crate::model::Fido2Policy;
use crate::util::b64url;

pub const RP_ID: &str = "login.microsoft.com";
pub const ORIGIN: &str = "https://login.microsoft.com";

/// What a verified registration yields, kept until the key is named.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attested {
    pub credential: serde_json::Value,
    pub credential_id: String,
    pub aaguid: String,
    pub fmt: String,
}

/// Why a registration or sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The data could not be parsed at all.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// The ceremony failed: challenge, origin, RP ID, signature, counter...
    #[error("verification failed: {0}")]
    Failed(String),
    /// Valid, but the tenant's policy refuses it (attestation, AAGUID).
    #[error("rejected by policy: {0}")]
    Policy(String),
}

fn rp(origin: &str, rp_id: &str) -> Result<WebauthnCore, VerifyError> {
    let origin = url::Url::parse(origin).map_err(|e| VerifyError::Failed(e.to_string()))?;
    Ok(WebauthnCore::new_unsafe_experts_only(
        "Microsoft",
        rp_id,
        vec![origin],
        Duration::from_secs(300),
        None,
        None,
    ))
}

/// Builds the registration state for `challenge` (the exact bytes the page
/// passes as `publicKey.challenge`). webauthn-rs draws its own random
/// challenge, so the state is round-tripped through serde to put ours in.
pub fn registration_state(
    user_handle: &[u8],
    upn: &str,
    display_name: &str,
    exclude: Vec<Vec<u8>>,
    challenge: &[u8],
) -> Result<serde_json::Value, VerifyError> {
    let core = rp(ORIGIN, RP_ID)?;
    let builder = core
        .new_challenge_register_builder(user_handle, upn, display_name)
        .map_err(|e| VerifyError::Malformed(e.to_string()))?
        .attestation(AttestationConveyancePreference::Direct)
        .user_verification_policy(UserVerificationPolicy::Required)
        .authenticator_attachment(Some(AuthenticatorAttachment::CrossPlatform))
        .exclude_credentials(Some(exclude))
        // A security key is device-bound; synced passkeys are another policy.
        .reject_synchronised_authenticators(true);
    let (_ccr, state) = core
        .generate_challenge_register(builder)
        .map_err(|e| VerifyError::Failed(e.to_string()))?;
    let mut v = serde_json::to_value(&state).map_err(|e| VerifyError::Failed(e.to_string()))?;
    v["challenge"] = serde_json::Value::String(b64url(challenge));
    Ok(v)
}

/// Verifies a registration against `state` and the tenant's FIDO2 policy.
pub fn verify_registration(
    state: &serde_json::Value,
    reg: &RegisterPublicKeyCredential,
    policy: &Fido2Policy,
    origin: &str,
) -> Result<Attested, VerifyError> {
    let state: RegistrationState = serde_json::from_value(state.clone())
        .map_err(|e| VerifyError::Failed(format!("registration state: {e}")))?;
    // Before webauthn-rs, as a strict parser fails the whole registration
    // on a non-DER certificate whatever else is right.
    strict_x5c(&reg.response.attestation_object)?;
    let core = rp(origin, RP_ID)?;
    let cred = core
        .register_credential(reg, &state, None)
        .map_err(|e| VerifyError::Failed(format!("{e:?}")))?;

    // Microsoft refuses self and none attestation even without enforcement.
    // The testing switch (documented as not Microsoft behaviour) lets them through.
    let testing_none = policy.accept_none_attestation_for_testing
        && !policy.enforce_attestation
        && matches!(
            cred.attestation.data,
            ParsedAttestationData::None | ParsedAttestationData::Self_
        );
    if !testing_none && cred.attestation_format != AttestationFormat::Packed {
        return Err(VerifyError::Policy(format!(
            "attestation format {:?} is not accepted; full packed attestation with x5c is required",
            cred.attestation_format
        )));
    }
    match &cred.attestation.data {
        _ if testing_none => {}
        ParsedAttestationData::Basic(chain) | ParsedAttestationData::AttCa(chain)
            if !chain.is_empty() => {}
        other => {
            return Err(VerifyError::Policy(format!(
                "attestation type {} is not accepted; an x5c batch certificate is required",
                match other {
                    ParsedAttestationData::Self_ => "self",
                    ParsedAttestationData::None => "none",
                    _ => "without certificate",
                }
            )));
        }
    }
    let aaguid = match &cred.attestation.metadata {
        AttestationMetadata::Packed { aaguid } => *aaguid,
        _ => uuid::Uuid::nil(),
    };
    let aaguid_s = aaguid.hyphenated().to_string();
    if !policy.allowed_aaguids.is_empty()
        && !policy
            .allowed_aaguids
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&aaguid_s))
    {
        return Err(VerifyError::Policy(format!(
            "AAGUID {aaguid_s} is not on the tenant's allow-list"
        )));
    }
    if policy.enforce_attestation {
        if policy.trusted_attestation_cas.is_empty() {
            return Err(VerifyError::Policy(
                "attestation is enforced but the tenant trusts no attestation CA".into(),
            ));
        }
        let mut builder = AttestationCaListBuilder::new();
        for pem in &policy.trusted_attestation_cas {
            builder
                .insert_device_pem(
                    pem.as_bytes(),
                    aaguid,
                    "trusted by tenant".into(),
                    Default::default(),
                )
                .map_err(|e| VerifyError::Policy(format!("trusted CA unreadable: {e:?}")))?;
        }
        let list = builder.build();
        match verify_attestation_ca_chain(
            &cred.attestation.data,
            &list,
            std::time::SystemTime::now(),
        ) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(VerifyError::Policy(
                    "the attestation does not chain to a trusted CA".into(),
                ));
            }
            Err(e) => {
                return Err(VerifyError::Policy(format!(
                    "the attestation chain is not trusted: {e:?}"
                )));
            }
        }
    }
    let credential_id = b64url(cred.cred_id.as_ref());
    let credential = serde_json::to_value(&cred).map_err(|e| VerifyError::Failed(e.to_string()))?;
    Ok(Attested {
        credential,
        credential_id,
        aaguid: aaguid_s,
        fmt: if testing_none {
            format!("{:?}", cred.attestation_format).to_ascii_lowercase()
        } else {
            "packed".into()
        },
    })
}

/// Refuses an attestation whose x5c certificates are not strict DER or
/// break the FIDO certificate profile (WebAuthn §8.2.1), naming the rule.
/// No x5c passes here: the attestation policy decides about that.
fn strict_x5c(attestation_object: &[u8]) -> Result<(), VerifyError> {
    let x5c = vault::profile::attestation_object_x5c(attestation_object)
        .map_err(VerifyError::Malformed)?;
    if let Some(x5c) = x5c {
        vault::profile::check_x5c(&x5c)
            .map_err(|e| VerifyError::Malformed(format!("attestation certificate: {e}")))?;
    }
    Ok(())
}

/// Verifies an assertion made over `challenge` by one of `credentials`.
/// Returns the credential id (base64url) and the credential with its counter updated.
pub fn verify_assertion(
    credentials: &[serde_json::Value],
    challenge: &[u8],
    assertion: &PublicKeyCredential,
) -> Result<(String, serde_json::Value), VerifyError> {
    let creds: Vec<Credential> = credentials
        .iter()
        .filter_map(|c| serde_json::from_value(c.clone()).ok())
        .collect();
    if creds.is_empty() {
        return Err(VerifyError::Failed("no security key is registered".into()));
    }
    let core = rp(ORIGIN, RP_ID)?;
    let builder = core
        .new_challenge_authenticate_builder(creds.clone(), Some(UserVerificationPolicy::Required))
        .map_err(|e| VerifyError::Failed(format!("{e:?}")))?;
    let (_rcr, state) = core
        .generate_challenge_authenticate(builder)
        .map_err(|e| VerifyError::Failed(format!("{e:?}")))?;
    let mut v = serde_json::to_value(&state).map_err(|e| VerifyError::Failed(e.to_string()))?;
    v["challenge"] = serde_json::Value::String(b64url(challenge));
    let state: AuthenticationState =
        serde_json::from_value(v).map_err(|e| VerifyError::Failed(e.to_string()))?;
    let result = core
        .authenticate_credential(assertion, &state)
        .map_err(|e| VerifyError::Failed(format!("{e:?}")))?;
    let used = creds
        .into_iter()
        .find(|c| c.cred_id.as_ref() as &[u8] == result.cred_id().as_ref() as &[u8])
        .ok_or_else(|| VerifyError::Failed("credential vanished".into()))?;
    let mut used = used;
    if result.needs_update() {
        used.counter = result.counter();
    }
    let id = b64url(used.cred_id.as_ref());
    let value = serde_json::to_value(&used).map_err(|e| VerifyError::Failed(e.to_string()))?;
    Ok((id, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"fmt": "packed", "attStmt": {"x5c": [cert]}}` in CBOR, by hand.
    fn packed_with(cert: &[u8]) -> Vec<u8> {
        let mut out = vec![0xa2, 0x63];
        out.extend_from_slice(b"fmt");
        out.push(0x66);
        out.extend_from_slice(b"packed");
        out.push(0x67);
        out.extend_from_slice(b"attStmt");
        out.extend_from_slice(&[0xa1, 0x63]);
        out.extend_from_slice(b"x5c");
        let len = u16::try_from(cert.len()).expect("small certificate");
        out.extend_from_slice(&[0x81, 0x59]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(cert);
        out
    }

    #[test]
    fn x5c_is_checked_as_strictly_as_a_strict_verifier_does() {
        // The vault's batch certificate before issue 11: webauthn-rs reads
        // it, Python's cryptography refuses it, and so does the simulator.
        let old = include_bytes!("../../vault/tests/data/old-batch-explicit-ca-false.der");
        match strict_x5c(&packed_with(old)) {
            Err(VerifyError::Malformed(why)) => {
                assert!(why.contains("BasicConstraints::ca"), "{why}")
            }
            other => panic!("the non-DER certificate passed: {other:?}"),
        }
        // A third party's certificate that follows §8.2.1 (no keyUsage, no
        // AAGUID extension) passes, as at Microsoft.
        let chromium = include_bytes!("../../vault/tests/data/chromium-virtual-authenticator.der");
        strict_x5c(&packed_with(chromium)).expect("Chromium's virtual authenticator");
        // No x5c is the policy's business, not this check's.
        let mut none = vec![0xa2, 0x63];
        none.extend_from_slice(b"fmt");
        none.push(0x64);
        none.extend_from_slice(b"none");
        none.push(0x67);
        none.extend_from_slice(b"attStmt");
        none.push(0xa0);
        strict_x5c(&none).expect("no x5c");
        assert!(matches!(
            strict_x5c(b"not cbor"),
            Err(VerifyError::Malformed(_))
        ));
    }
}
