//! `failStep`: every step name answers HTTP 500 at its step (once, with
//! `failTimes: 1`), and the next attempt goes through. Table-driven over
//! `entra_sim::state::STEPS`.

mod common;

use std::collections::HashMap;

use common::authn::{Attestation, Authenticator, b64u};
use common::*;
use serde_json::{Value, json};

const ADMIN: &str = "admin@contoso.onmicrosoft.com";
const LOGIN: &str = "login.microsoftonline.com";
const TENANT: &str = "8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13";
const PANEL_ID: &str = "6bc01f6e-3da2-4c7e-9ac7-9f7d8c5e4a67";
const REDIRECT: &str = "http://127.0.0.1:5555/callback";
const AAGUID: [u8; 16] = [
    0x2f, 0xc0, 0x57, 0x9f, 0x81, 0x13, 0x47, 0xea, 0xb1, 0x16, 0xbb, 0x5a, 0x8d, 0xb9, 0x20, 0x2a,
];

/// One walk through every step, with at most one step armed to fail.
struct Walk {
    armed: Option<&'static str>,
    /// Every step the walk passed through, in order.
    covered: Vec<&'static str>,
    /// The step that answered 500.
    stopped: Option<&'static str>,
}

impl Walk {
    /// Records one request covering `steps`. Returns `true` when the armed
    /// step is among them (it must have answered 500; the walk stops there);
    /// otherwise the request must have answered `ok`.
    fn at(&mut self, steps: &[&'static str], status: u16, ok: u16, what: &str) -> bool {
        self.covered.extend_from_slice(steps);
        if let Some(a) = self.armed.filter(|a| steps.contains(a)) {
            assert_eq!(status, 500, "failStep {a}: {what}");
            self.stopped = Some(a);
            return true;
        }
        assert_eq!(status, ok, "failStep {:?}: {what}", self.armed);
        false
    }
}

/// Security info registration, sign-in with the new key, then the Graph app's
/// authorization code flow with consent, token and a Graph call. Stops at the
/// armed step.
async fn walk(t: &TestSim, tap: &str, armed: Option<&'static str>) -> Walk {
    let mut w = Walk {
        armed,
        covered: Vec::new(),
        stopped: None,
    };

    // Sign in to Security info with the TAP, through proof-up and KMSI.
    let c = client(&t.sim);
    let html = open_security_info(&c).await;
    let (s, html) = text(submit(&c, LOGIN, &html, &[("loginfmt", ADMIN)]).await).await;
    if w.at(&["username"], s, 200, "username post") {
        return w;
    }
    let (s, html) = text(submit(&c, LOGIN, &html, &[("accesspass", tap)]).await).await;
    if w.at(&["credential"], s, 200, "TAP post") {
        return w;
    }
    assert_eq!(config(&html)["pgid"], "ConvergedProofUpRedirect");
    let (s, html) = text(submit(&c, LOGIN, &html, &[]).await).await;
    if w.at(&["proof-up"], s, 200, "proof-up post") {
        return w;
    }
    assert_eq!(config(&html)["pgid"], "KmsiInterrupt");
    let (s, html) = text(submit(&c, LOGIN, &html, &[("LoginOptions", "1")]).await).await;
    if w.at(&["kmsi", "authorize"], s, 200, "KMSI post") {
        return w;
    }
    let r = submit(&c, "mysignins.microsoft.com", &html, &[]).await;
    assert_eq!(r.status(), 303, "form_post callback");
    let (s, _) = get(&c, "https://mysignins.microsoft.com/security-info").await;
    if w.at(&["security-info"], s, 200, "Security info page") {
        return w;
    }
    let r = c
        .post("https://mysignins.microsoft.com/api/session/authorize")
        .json(&json!({}))
        .send()
        .await
        .expect("session/authorize");
    let s = r.status().as_u16();
    if w.at(&["session-authorize"], s, 200, "session/authorize") {
        return w;
    }
    let v: Value = r.json().await.expect("json");
    let ctx = v["sessionCtxV2"].as_str().expect("ctx").to_string();

    // Register a security key.
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/new")
        .header("SessionCtxV2", &ctx)
        .json(&json!({"Type": 18}))
        .send()
        .await
        .expect("new");
    let s = r.status().as_u16();
    if w.at(&["new"], s, 200, "authenticationmethods/new") {
        return w;
    }
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["ErrorCode"], 0, "{v}");
    let data: Value = serde_json::from_str(v["Data"].as_str().expect("Data")).expect("Data json");
    let rd = &data["requestData"];
    let fields: HashMap<String, String> = rd
        .as_object()
        .expect("requestData")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let url = data["provisionUrl"].as_str().expect("url");
    let (s, page) = text(post_form(&c, url, &fields).await).await;
    if w.at(&["fido-create"], s, 200, "fido/create") {
        return w;
    }
    let opts = &config(&page)["oCreateOptions"];
    let user_handle =
        entra_sim::util::b64url_decode(opts["user"]["id"].as_str().expect("uid")).expect("b64");
    let mut key = Authenticator::new(AAGUID);
    let made = key.create(
        "login.microsoft.com",
        "https://login.microsoft.com",
        opts["challenge"].as_str().expect("challenge").as_bytes(),
        &user_handle,
        Attestation::Full,
    );
    let f = form(&page);
    let mut nf = f.fields.clone();
    nf.insert("credentialId".into(), b64u(&made.credential_id));
    nf.insert("clientDataJson".into(), b64u(&made.client_data_json));
    nf.insert("attestationObject".into(), b64u(&made.attestation_object));
    nf.insert("aaguid".into(), key.aaguid_str());
    let (s, _) = text(post_form(&c, &f.action, &nf).await).await;
    if w.at(&["newfido"], s, 200, "newfido") {
        return w;
    }
    let vd = json!({"Name": "walk key", "Canary": rd["canary"]});
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/verify")
        .header("SessionCtxV2", &ctx)
        .json(&json!({"Type": 18, "VerificationData": vd.to_string()}))
        .send()
        .await
        .expect("verify");
    let s = r.status().as_u16();
    if w.at(&["verify"], s, 200, "authenticationmethods/verify") {
        return w;
    }
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["VerificationState"], 2, "{v}");

    // Sign in with the key in a fresh browser (no login_hint: the post fails).
    let c2 = client(&t.sim);
    let html = open_security_info(&c2).await;
    let flow = form(&html).fields["flowToken"].clone();
    let (s, page) = get(
        &c2,
        &format!(
            "https://login.microsoft.com/common/fido/get?uiflavor=Web&ctx={}",
            entra_sim::util::urlenc(&flow)
        ),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    let challenge = entra_sim::util::b64url_decode(
        config(&page)["oGetOptions"]["challenge"]
            .as_str()
            .expect("c"),
    )
    .expect("b64");
    let a = key.get(
        "login.microsoft.com",
        "https://login.microsoft.com",
        &challenge,
    );
    let mut ff = form(&page).fields;
    ff.insert("credentialId".into(), b64u(&a.credential_id));
    ff.insert("clientDataJSON".into(), b64u(&a.client_data_json));
    ff.insert("authenticatorData".into(), b64u(&a.authenticator_data));
    ff.insert("signature".into(), b64u(&a.signature));
    ff.insert("userHandle".into(), b64u(&a.user_handle));
    let r = post_form(&c2, "https://login.microsoft.com/common/fido/get", &ff).await;
    let s = r.status().as_u16();
    let _ = text(r).await;
    if w.at(&["fido-get"], s, 303, "fido/get post") {
        return w;
    }

    // The Graph app: authorization code with PKCE and a forced consent page.
    let c3 = client(&t.sim);
    let verifier = entra_sim::util::b64url(&entra_sim::util::random_bytes(32));
    let pkce = entra_sim::util::b64url(&entra_sim::util::sha256(verifier.as_bytes()));
    let authorize = format!(
        "https://{LOGIN}/{TENANT}/oauth2/v2.0/authorize?client_id={PANEL_ID}&response_type=code&redirect_uri={}&scope={}&state=st&prompt=consent&code_challenge={pkce}&code_challenge_method=S256",
        entra_sim::util::urlenc(REDIRECT),
        entra_sim::util::urlenc("openid profile User.Read.All"),
    );
    let (_, html) = get(&c3, &authorize).await;
    let (_, html) = text(submit(&c3, LOGIN, &html, &[("loginfmt", ADMIN)]).await).await;
    let (_, html) = text(submit(&c3, LOGIN, &html, &[("accesspass", tap)]).await).await;
    let (_, html) = text(submit(&c3, LOGIN, &html, &[]).await).await;
    let (_, html) = text(submit(&c3, LOGIN, &html, &[("LoginOptions", "1")]).await).await;
    assert_eq!(config(&html)["pgid"], "Consent", "{html}");
    let r = submit(&c3, LOGIN, &html, &[("accept", "Accept")]).await;
    let s = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let _ = text(r).await;
    if w.at(&["consent"], s, 303, "consent post") {
        return w;
    }
    let q: HashMap<String, String> = url::Url::parse(&loc)
        .expect("redirect")
        .query_pairs()
        .into_owned()
        .collect();
    let code = q.get("code").expect("code").clone();
    let r = c3
        .post(format!("https://{LOGIN}/{TENANT}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", PANEL_ID),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .expect("token");
    let s = r.status().as_u16();
    let v: Value = r.json().await.expect("token json");
    if w.at(&["token"], s, 200, "token") {
        assert_eq!(v["error"], "temporarily_unavailable", "{v}");
        return w;
    }
    let tok = v["access_token"].as_str().expect("access_token");
    let r = c3
        .get(format!("https://graph.microsoft.com/v1.0/users/{ADMIN}"))
        .bearer_auth(tok)
        .send()
        .await
        .expect("graph");
    let s = r.status().as_u16();
    w.at(&["graph"], s, 200, "Graph GET /users/{id}");
    w
}

#[tokio::test]
async fn every_fail_step_fails_its_step_once_then_recovers() {
    let t = start("failsteps").await;
    let c = client(&t.sim);
    assert_eq!(
        scenarios(&c, ADMIN, json!({"proofUpRequired": true}))
            .await
            .status(),
        200
    );
    // Every walk registers a key; the default limit of 10 would end the table early.
    let r = c
        .patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"fido2Policy": {"keyLimit": 1000}}))
        .send()
        .await
        .expect("tenant");
    assert_eq!(r.status(), 200);
    // One multi-use TAP for all walks (Entra holds one per user).
    let tap = make_tap(&c, ADMIN, json!({})).await;
    // The walk passes every step name there is, and nothing else.
    let full = walk(&t, &tap, None).await.covered;
    let mut names = full.clone();
    names.sort();
    names.dedup();
    let mut steps = entra_sim::state::STEPS.to_vec();
    steps.sort();
    assert_eq!(names, steps, "the walk covers exactly the step names");
    for step in entra_sim::state::STEPS {
        let r = scenarios(&c, ADMIN, json!({"failStep": step, "failTimes": 1})).await;
        assert_eq!(r.status(), 200, "{step}");
        let w = walk(&t, &tap, Some(step)).await;
        assert_eq!(w.stopped, Some(*step), "{step} failed at its own step");
        // The switch is spent: the whole walk goes through again.
        let again = walk(&t, &tap, None).await;
        assert_eq!(again.covered, full, "after {step}");
    }
    t.sim.shutdown().await;
}
