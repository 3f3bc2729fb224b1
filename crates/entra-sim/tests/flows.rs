//! End-to-end flows over HTTPS: TAP sign-in, Security info registration with
//! a software security key, sign-in with that key.

mod common;

use common::authn::{Attestation, Authenticator, b64u};
use common::*;
use serde_json::{Value, json};

const ADELE: &str = "adele.vance@contoso.com";
const AAGUID: [u8; 16] = [
    0x2f, 0xc0, 0x57, 0x9f, 0x81, 0x13, 0x47, 0xea, 0xb1, 0x16, 0xbb, 0x5a, 0x8d, 0xb9, 0x20, 0x2a,
];

struct Started {
    ctx: String,
    data: Value,
}

async fn new_key(c: &reqwest::Client, ctx: &str) -> Value {
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/new")
        .header("SessionCtxV2", ctx)
        .json(&json!({"Type": 18}))
        .send()
        .await
        .expect("new");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

async fn begin(c: &reqwest::Client, upn: &str) -> Started {
    let tap = make_tap(c, upn, json!({"isUsableOnce": true})).await;
    let ctx = sign_in_to_security_info(c, upn, &tap).await;
    let v = new_key(c, &ctx).await;
    assert_eq!(v["ErrorCode"], 0, "{v}");
    let data: Value =
        serde_json::from_str(v["Data"].as_str().expect("Data is a string")).expect("Data parses");
    Started { ctx, data }
}

/// fido/create + newfido; returns the canary.
async fn create_and_post(
    c: &reqwest::Client,
    st: &Started,
    key: &mut Authenticator,
    how: Attestation,
    origin: &str,
) -> String {
    let rd = &st.data["requestData"];
    let url = format!(
        "{}?cid={}",
        st.data["provisionUrl"].as_str().expect("url"),
        "test-cid"
    );
    let fields: std::collections::HashMap<String, String> = rd
        .as_object()
        .expect("requestData")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let (status, page) = text(post_form(c, &url, &fields).await).await;
    assert_eq!(status, 200, "{page}");
    let cfg = config(&page);
    let opts = &cfg["oCreateOptions"];
    assert_eq!(opts["rp"]["id"], "login.microsoft.com");
    let challenge = opts["challenge"].as_str().expect("challenge");
    assert_eq!(challenge, rd["serverChallenge"].as_str().expect("sc"));
    let user_handle =
        entra_sim::util::b64url_decode(opts["user"]["id"].as_str().expect("uid")).expect("b64");
    let made = key.create(
        "login.microsoft.com",
        origin,
        challenge.as_bytes(),
        &user_handle,
        how,
    );
    let f = form(&page);
    let mut fields = f.fields.clone();
    fields.insert("credentialId".into(), b64u(&made.credential_id));
    fields.insert("clientDataJson".into(), b64u(&made.client_data_json));
    fields.insert("attestationObject".into(), b64u(&made.attestation_object));
    fields.insert("aaguid".into(), key.aaguid_str());
    fields.insert("transports".into(), "usb".into());
    let (status, html) = text(post_form(c, &f.action, &fields).await).await;
    assert_eq!(status, 200, "{html}");
    let redirect = data_content(&html, "redirectUrl");
    let canary = rd["canary"].as_str().expect("canary").to_string();
    assert_eq!(
        redirect,
        format!(
            "https://mysignins.microsoft.com/security-info#fidoProvisionSuccess={}",
            entra_sim::util::urlenc(&canary)
        )
    );
    let ctx: Value = serde_json::from_str(&data_content(&html, "context")).expect("context json");
    assert_eq!(ctx["canary"], canary.as_str());
    canary
}

/// One registration attempt in a fresh browser; returns the verify answer.
async fn attempt(t: &common::TestSim, key: &mut Authenticator) -> Value {
    let c = client(&t.sim);
    let st = begin(&c, ADELE).await;
    let canary = create_and_post(
        &c,
        &st,
        key,
        Attestation::Full,
        "https://login.microsoft.com",
    )
    .await;
    verify(&c, &st.ctx, json!({"Name": "k", "Canary": canary})).await
}

async fn verify(c: &reqwest::Client, ctx: &str, vd: Value) -> Value {
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/verify")
        .header("SessionCtxV2", ctx)
        .json(&json!({"Type": 18, "VerificationData": vd.to_string()}))
        .send()
        .await
        .expect("verify");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

fn vd(name: &str, canary: &str, key: &Authenticator, made: Option<&common::authn::Made>) -> Value {
    let _ = key;
    match made {
        Some(m) => {
            json!({"Name": name, "Canary": canary, "AttestationObject": b64u(&m.attestation_object), "ClientDataJson": b64u(&m.client_data_json), "CredentialId": b64u(&m.credential_id)})
        }
        None => json!({"Name": name, "Canary": canary}),
    }
}

#[tokio::test]
async fn full_registration_then_sign_in_with_the_key() {
    let t = common::start("flow").await;
    let c = client(&t.sim);
    let mut key = Authenticator::new(AAGUID);
    let st = begin(&c, ADELE).await;
    let canary = create_and_post(
        &c,
        &st,
        &mut key,
        Attestation::Full,
        "https://login.microsoft.com",
    )
    .await;
    // Name it; the attestation travels in VerificationData as on the real page.
    let v = verify(
        &c,
        &st.ctx,
        json!({"Name": "IDM-3f1d2c9e-AB12CD-20261122", "Canary": canary}),
    )
    .await;
    assert_eq!(v["VerificationState"], 2, "{v}");
    assert_eq!(
        v["DataUpdates"]["FidoDevices"][0]["Name"],
        "IDM-3f1d2c9e-AB12CD-20261122"
    );
    // The canary is single use.
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/verify")
        .header("SessionCtxV2", &st.ctx)
        .json(&json!({"Type": 18, "VerificationData": json!({"Name": "again", "Canary": canary}).to_string()}))
        .send()
        .await
        .expect("replay");
    assert_eq!(r.status(), 409);

    let keys: Value = c
        .get(format!(
            "https://login.microsoftonline.com/__sim/users/{ADELE}/keys"
        ))
        .send()
        .await
        .expect("keys")
        .json()
        .await
        .expect("json");
    assert_eq!(keys.as_array().expect("list").len(), 1);
    assert_eq!(keys[0]["aaguid"], key.aaguid_str());

    // Sign in with the key in a fresh browser.
    let c2 = client(&t.sim);
    let html = open_security_info(&c2).await;
    let flow = form(&html).fields["flowToken"].clone();
    let (st2, page) = get(
        &c2,
        &format!(
            "https://login.microsoft.com/common/fido/get?uiflavor=Web&ctx={}",
            entra_sim::util::urlenc(&flow)
        ),
    )
    .await;
    assert_eq!(st2, 200, "{page}");
    let cfg = config(&page);
    let challenge =
        entra_sim::util::b64url_decode(cfg["oGetOptions"]["challenge"].as_str().expect("c"))
            .expect("b64");
    let a = key.get(
        "login.microsoft.com",
        "https://login.microsoft.com",
        &challenge,
    );
    let mut fields = form(&page).fields;
    fields.insert("credentialId".into(), b64u(&a.credential_id));
    fields.insert("clientDataJSON".into(), b64u(&a.client_data_json));
    fields.insert("authenticatorData".into(), b64u(&a.authenticator_data));
    fields.insert("signature".into(), b64u(&a.signature));
    fields.insert("userHandle".into(), b64u(&a.user_handle));
    let r = post_form(&c2, "https://login.microsoft.com/common/fido/get", &fields).await;
    assert_eq!(r.status(), 303, "assertion accepted");
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    let (_, kmsi) = get(&c2, &loc).await;
    assert_eq!(config(&kmsi)["pgid"], "KmsiInterrupt");
    finish_kmsi(&c2, &kmsi).await;

    // Replaying the same assertion fails: the challenge is spent.
    let r = post_form(&c2, "https://login.microsoft.com/common/fido/get", &fields).await;
    assert_eq!(r.status(), 400);

    let events: Value = c
        .get("https://login.microsoftonline.com/__sim/events?kind=signin")
        .send()
        .await
        .expect("ev")
        .json()
        .await
        .expect("json");
    assert!(
        events
            .as_array()
            .expect("list")
            .iter()
            .any(|e| e["detail"].as_str().unwrap_or("").contains("fido2"))
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn self_and_none_attestation_are_refused() {
    let t = common::start("selfatt").await;
    for how in [Attestation::SelfSigned, Attestation::None] {
        let mut key = Authenticator::new(AAGUID);
        let c = client(&t.sim);
        let st = begin(&c, ADELE).await;
        let canary = create_and_post(&c, &st, &mut key, how, "https://login.microsoft.com").await;
        let v = verify(&c, &st.ctx, vd("k", &canary, &key, None)).await;
        assert_eq!(v["VerificationState"], 3, "{how:?}: {v}");
        assert_eq!(
            v["ErrorCode"],
            entra_sim::mysignins::EC_ATTESTATION_REJECTED,
            "{how:?}: {v}"
        );
    }
    t.sim.shutdown().await;
}

#[tokio::test]
async fn wrong_origin_and_wrong_challenge_fail_verification() {
    let t = common::start("origin").await;
    let mut key = Authenticator::new(AAGUID);
    // Each case in a fresh registration: a failed verify spends its canary.
    let c = client(&t.sim);
    let st = begin(&c, ADELE).await;
    let canary =
        create_and_post(&c, &st, &mut key, Attestation::Full, "https://evil.example").await;
    let v = verify(&c, &st.ctx, vd("k", &canary, &key, None)).await;
    assert_eq!(
        v["ErrorCode"],
        entra_sim::mysignins::EC_VERIFICATION_FAILED,
        "{v}"
    );
    // A credential made over another challenge, sent in VerificationData.
    let c = client(&t.sim);
    let st = begin(&c, ADELE).await;
    let canary = st.data["requestData"]["canary"]
        .as_str()
        .expect("canary")
        .to_string();
    let made = key.create(
        "login.microsoft.com",
        "https://login.microsoft.com",
        b"not the server challenge",
        b"u",
        Attestation::Full,
    );
    let v = verify(&c, &st.ctx, vd("k", &canary, &key, Some(&made))).await;
    assert_eq!(
        v["ErrorCode"],
        entra_sim::mysignins::EC_VERIFICATION_FAILED,
        "{v}"
    );
    // Wrong RP ID.
    let c = client(&t.sim);
    let st = begin(&c, ADELE).await;
    let canary = st.data["requestData"]["canary"]
        .as_str()
        .expect("canary")
        .to_string();
    let made = key.create(
        "evil.example",
        "https://login.microsoft.com",
        st.data["requestData"]["serverChallenge"]
            .as_str()
            .expect("sc")
            .as_bytes(),
        b"u",
        Attestation::Full,
    );
    let v = verify(&c, &st.ctx, vd("k", &canary, &key, Some(&made))).await;
    assert_eq!(
        v["ErrorCode"],
        entra_sim::mysignins::EC_VERIFICATION_FAILED,
        "{v}"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_verification_spends_the_canary() {
    let t = common::start("spent").await;
    let c = client(&t.sim);
    let mut key = Authenticator::new(AAGUID);
    let st = begin(&c, ADELE).await;
    let canary =
        create_and_post(&c, &st, &mut key, Attestation::Full, "https://evil.example").await;
    // A bad name is refused before the credential is looked at: the canary stays.
    let v = verify(&c, &st.ctx, vd(" ", &canary, &key, None)).await;
    assert_eq!(v["ErrorCode"], entra_sim::mysignins::EC_BAD_NAME, "{v}");
    let v = verify(&c, &st.ctx, vd("k", &canary, &key, None)).await;
    assert_eq!(
        v["ErrorCode"],
        entra_sim::mysignins::EC_VERIFICATION_FAILED,
        "{v}"
    );
    // The same canary with a now-valid credential: refused, the challenge is spent.
    let made = key.create(
        "login.microsoft.com",
        "https://login.microsoft.com",
        st.data["requestData"]["serverChallenge"]
            .as_str()
            .expect("sc")
            .as_bytes(),
        b"u",
        Attestation::Full,
    );
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/verify")
        .header("SessionCtxV2", &st.ctx)
        .json(&json!({"Type": 18, "VerificationData": vd("k", &canary, &key, Some(&made)).to_string()}))
        .send()
        .await
        .expect("retry");
    assert_eq!(r.status(), 409);
    // Nor can the ceremony be run again on it.
    let rd = &st.data["requestData"];
    let fields: std::collections::HashMap<String, String> = rd
        .as_object()
        .expect("requestData")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let url = st.data["provisionUrl"].as_str().expect("url");
    let (s, page) = text(post_form(&c, url, &fields).await).await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("AADSTS135010"), "{page}");
    let mut nf = std::collections::HashMap::new();
    nf.insert("canary".to_string(), canary.clone());
    nf.insert("credentialId".to_string(), b64u(&made.credential_id));
    nf.insert("clientDataJson".to_string(), b64u(&made.client_data_json));
    nf.insert(
        "attestationObject".to_string(),
        b64u(&made.attestation_object),
    );
    let (s, page) = text(post_form(&c, entra_sim::mysignins::NEWFIDO_URL, &nf).await).await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("AADSTS135010"), "{page}");
    // No key was added.
    let keys: Value = c
        .get(format!(
            "https://login.microsoftonline.com/__sim/users/{ADELE}/keys"
        ))
        .send()
        .await
        .expect("keys")
        .json()
        .await
        .expect("json");
    assert_eq!(keys.as_array().map(Vec::len), Some(0));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn enforced_attestation_needs_a_trusted_ca_and_allowed_aaguid() {
    let t = common::start("enforce").await;
    let c = client(&t.sim);
    let key_a = Authenticator::new(AAGUID);
    let set_policy = |cas: Vec<String>, aaguids: Vec<String>| {
        let c = c.clone();
        async move {
            let r = c
                .patch("https://login.microsoftonline.com/__sim/tenant")
                .json(&json!({"fido2Policy": {"enabled": true, "allowSelfServiceSetup": true, "enforceAttestation": true, "allowedAaguids": aaguids, "trustedAttestationCas": cas, "keyLimit": 10}}))
                .send()
                .await
                .expect("patch");
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        }
    };
    // Trusted CA of another vendor: rejected.
    let other = Authenticator::new([9; 16]);
    set_policy(vec![other.ca_pem.clone()], vec![]).await;
    let mut key = key_a;
    let v = attempt(&t, &mut key).await;
    assert_eq!(
        v["ErrorCode"],
        entra_sim::mysignins::EC_ATTESTATION_REJECTED,
        "{v}"
    );
    // Right CA, AAGUID not allowed: rejected.
    set_policy(
        vec![key.ca_pem.clone()],
        vec!["00000000-0000-0000-0000-000000000001".into()],
    )
    .await;
    let v = attempt(&t, &mut key).await;
    assert_eq!(
        v["ErrorCode"],
        entra_sim::mysignins::EC_ATTESTATION_REJECTED,
        "{v}"
    );
    // Right CA and AAGUID: accepted.
    set_policy(vec![key.ca_pem.clone()], vec![key.aaguid_str()]).await;
    let v = attempt(&t, &mut key).await;
    assert_eq!(v["VerificationState"], 2, "{v}");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn legacy_protocol_registers_through_add_security_info() {
    let t = common::start("legacy").await;
    let c = client(&t.sim);
    let r = c
        .patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"securityInfoProtocol": "legacy"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
    let tap = make_tap(&c, ADELE, json!({})).await;
    let ctx = sign_in_to_security_info(&c, ADELE, &tap).await;
    let r = c
        .post("https://account.activedirectory.windowsazure.com/securityinfo/AddSecurityInfo")
        .header("SessionCtxV2", &ctx)
        .json(&json!({"Type": 12}))
        .send()
        .await
        .expect("add");
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("text");
    let json_part = body.strip_prefix(")]}',\n").expect("legacy prefix");
    let v: Value = serde_json::from_str(json_part).expect("json");
    let data: Value = serde_json::from_str(v["Data"].as_str().expect("data")).expect("data json");
    assert_eq!(
        data["requestData"]["postBackUrl"],
        "https://account.activedirectory.windowsazure.com/securityInfo/newfido"
    );
    let mut key = Authenticator::new(AAGUID);
    let st = Started {
        ctx: ctx.clone(),
        data,
    };
    let canary = create_and_post(
        &c,
        &st,
        &mut key,
        Attestation::Full,
        "https://login.microsoft.com",
    )
    .await;
    let r = c
        .post("https://account.activedirectory.windowsazure.com/securityinfo/VerifySecurityInfo")
        .header("SessionCtxV2", &ctx)
        .json(&json!({"Type": 12, "VerificationData": json!({"Name": "legacy key", "Canary": canary}).to_string()}))
        .send()
        .await
        .expect("verify");
    let body = r.text().await.expect("text");
    let v: Value =
        serde_json::from_str(body.strip_prefix(")]}',\n").expect("prefix")).expect("json");
    assert_eq!(v["VerificationState"], 2, "{v}");
    t.sim.shutdown().await;
}
