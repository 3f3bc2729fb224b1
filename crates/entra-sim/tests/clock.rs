//! The simulated clock (`PATCH /__sim/clock`): every expiry the simulator
//! enforces, tested by moving "now" instead of waiting.

mod common;

use common::authn::{Attestation, Authenticator, b64u};
use common::*;
use serde_json::{Value, json};

const ADELE: &str = "adele.vance@contoso.com";
const LOGIN: &str = "login.microsoftonline.com";
const TENANT: &str = "8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13";
const PANEL_ID: &str = "6bc01f6e-3da2-4c7e-9ac7-9f7d8c5e4a67";
const PANEL_SECRET: &str = "demo-panel-secret";
const AAGUID: [u8; 16] = [
    0x2f, 0xc0, 0x57, 0x9f, 0x81, 0x13, 0x47, 0xea, 0xb1, 0x16, 0xbb, 0x5a, 0x8d, 0xb9, 0x20, 0x2a,
];

async fn app_token(c: &reqwest::Client) -> String {
    let v: Value = c
        .post(format!("https://{LOGIN}/{TENANT}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", PANEL_ID),
            ("client_secret", PANEL_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn graph(
    c: &reqwest::Client,
    tok: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = c
        .request(method, format!("https://graph.microsoft.com/v1.0{path}"))
        .bearer_auth(tok);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("graph");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Signs in to Security info and starts a security key registration; returns
/// (sessionCtxV2, the `new` answer's Data).
async fn start_registration(c: &reqwest::Client) -> (String, Value) {
    let tap = make_tap(c, ADELE, json!({})).await;
    let ctx = sign_in_to_security_info(c, ADELE, &tap).await;
    let v: Value = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/new")
        .header("SessionCtxV2", &ctx)
        .json(&json!({"Type": 18}))
        .send()
        .await
        .expect("new")
        .json()
        .await
        .expect("json");
    assert_eq!(v["ErrorCode"], 0, "{v}");
    let data = serde_json::from_str(v["Data"].as_str().expect("Data")).expect("Data json");
    (ctx, data)
}

#[tokio::test]
async fn the_clock_control_api_sets_advances_and_validates() {
    let t = start("clock-api").await;
    let c = client(&t.sim);
    let v: Value = c
        .get("https://login.microsoftonline.com/__sim/clock")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["offsetSecs"], 0);
    assert_eq!(
        set_clock(&c, json!({"advanceSecs": 60})).await["offsetSecs"],
        60
    );
    assert_eq!(
        set_clock(&c, json!({"advanceSecs": 60})).await["offsetSecs"],
        120
    );
    assert_eq!(
        set_clock(&c, json!({"offsetSecs": -5})).await["offsetSecs"],
        -5
    );
    assert_eq!(t.sim.state.clock_offset(), -5);
    for bad in [
        json!({}),
        json!({"offsetSecs": 1, "advanceSecs": 1}),
        json!({"advanceSecs": "soon"}),
        json!({"offsetSecs": 1_000_000_000_i64}),
        json!({"speed": 2}),
    ] {
        let r = c
            .patch("https://login.microsoftonline.com/__sim/clock")
            .json(&bad)
            .send()
            .await
            .expect("patch");
        assert_eq!(r.status(), 400, "{bad}");
    }
    assert_eq!(
        t.sim.state.clock_offset(),
        -5,
        "a refused patch changes nothing"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn the_registration_canary_expires_after_ten_minutes() {
    let t = start("clock-canary").await;
    let c = client(&t.sim);
    let (ctx, data) = start_registration(&c).await;
    let rd = &data["requestData"];
    let fields: std::collections::HashMap<String, String> = rd
        .as_object()
        .expect("requestData")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let url = data["provisionUrl"].as_str().expect("url").to_string();
    // Just inside the lifetime the ceremony page still opens.
    set_clock(&c, json!({"advanceSecs": 599})).await;
    let (s, page) = text(post_form(&c, &url, &fields).await).await;
    assert_eq!(s, 200, "{page}");
    // Past it: the page refuses, and so does verify.
    set_clock(&c, json!({"advanceSecs": 2})).await;
    let (s, page) = text(post_form(&c, &url, &fields).await).await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("AADSTS135010"), "{page}");
    let mut key = Authenticator::new(AAGUID);
    let challenge = rd["serverChallenge"].as_str().expect("sc");
    let made = key.create(
        "login.microsoft.com",
        "https://login.microsoft.com",
        challenge.as_bytes(),
        ADELE.as_bytes(),
        Attestation::Full,
    );
    let vd = json!({"Name": "k", "Canary": rd["canary"], "AttestationObject": b64u(&made.attestation_object), "ClientDataJson": b64u(&made.client_data_json), "CredentialId": b64u(&made.credential_id)});
    let v: Value = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/verify")
        .header("SessionCtxV2", &ctx)
        .json(&json!({"Type": 18, "VerificationData": vd.to_string()}))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(
        v["ErrorCode"],
        entra_sim::mysignins::EC_VERIFICATION_FAILED,
        "{v}"
    );
    assert_eq!(
        v["ErrorMessage"],
        entra_sim::locale::t("en", "challenge_expired"),
        "{v}"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn the_fido_get_challenge_expires_after_five_minutes() {
    let t = start("clock-fidoget").await;
    let c = client(&t.sim);
    let html = open_security_info(&c).await;
    let flow = form(&html).fields["flowToken"].clone();
    let page_url = format!(
        "https://login.microsoft.com/common/fido/get?uiflavor=Web&ctx={}",
        entra_sim::util::urlenc(&flow)
    );
    // An answer that cannot be verified; what matters is which check refuses it.
    let answer = |flow: &str| {
        let mut f = std::collections::HashMap::new();
        f.insert("flowToken".to_string(), flow.to_string());
        for k in [
            "credentialId",
            "clientDataJSON",
            "authenticatorData",
            "signature",
        ] {
            f.insert(k.to_string(), b64u(b"not a real answer"));
        }
        f
    };
    let post = "https://login.microsoft.com/common/fido/get";
    // Within the lifetime the challenge is checked and the unknown key refused.
    let (s, _) = get(&c, &page_url).await;
    assert_eq!(s, 200);
    set_clock(&c, json!({"advanceSecs": 299})).await;
    let (s, page) = text(post_form(&c, post, &answer(&flow)).await).await;
    assert_eq!(s, 400);
    assert!(page.contains("not registered"), "{page}");
    assert!(!page.contains("has expired"), "{page}");
    // A new challenge, answered too late.
    let (s, _) = get(&c, &page_url).await;
    assert_eq!(s, 200);
    set_clock(&c, json!({"advanceSecs": 301})).await;
    let (s, page) = text(post_form(&c, post, &answer(&flow)).await).await;
    assert_eq!(s, 400);
    assert!(
        page.contains("The security key challenge has expired."),
        "{page}"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn the_graph_creation_options_challenge_expires_after_five_minutes() {
    let t = start("clock-graph").await;
    let c = client(&t.sim);
    let tok = app_token(&c).await;
    let mut key = Authenticator::new(AAGUID);
    let path = format!("/users/{ADELE}/authentication/fido2Methods");
    for (wait, ok) in [(299, true), (301, false)] {
        let (s, opts) = graph(
            &c,
            &tok,
            reqwest::Method::GET,
            &format!("{path}/creationOptions"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{opts}");
        let pk = &opts["publicKey"];
        let challenge =
            entra_sim::util::b64url_decode(pk["challenge"].as_str().expect("challenge"))
                .expect("b64url");
        let user = entra_sim::util::b64url_decode(pk["user"]["id"].as_str().expect("uid"))
            .expect("b64url");
        let rp = pk["rp"]["id"].as_str().expect("rp").to_string();
        let made = key.create(
            &rp,
            "https://login.microsoft.com",
            &challenge,
            &user,
            Attestation::Full,
        );
        set_clock(&c, json!({"advanceSecs": wait})).await;
        let body = json!({
            "displayName": format!("key after {wait} s"),
            "publicKeyCredential": {
                "id": b64u(&made.credential_id),
                "response": {
                    "clientDataJSON": b64u(&made.client_data_json),
                    "attestationObject": b64u(&made.attestation_object),
                },
                "clientExtensionResults": {},
            }
        });
        let (s, v) = graph(&c, &tok, reqwest::Method::POST, &path, Some(body)).await;
        if ok {
            assert_eq!(s, 201, "{wait} s: {v}");
        } else {
            assert_eq!(s, 400, "{wait} s: {v}");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("The challenge has expired"),
                "{v}"
            );
        }
    }
    t.sim.shutdown().await;
}

#[tokio::test]
async fn a_temporary_access_pass_expires_at_the_end_of_its_lifetime() {
    let t = start("clock-tap").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({"lifetimeMinutes": 10})).await;
    let after_username = |c: reqwest::Client| async move {
        let html = open_security_info(&c).await;
        let (_, html) = text(submit(&c, LOGIN, &html, &[("loginfmt", ADELE)]).await).await;
        (c, html)
    };
    set_clock(&c, json!({"advanceSecs": 599})).await;
    let (_, html) = after_username(client(&t.sim)).await;
    assert!(html.contains("name=\"accesspass\""), "still valid: {html}");
    set_clock(&c, json!({"advanceSecs": 2})).await;
    // Expired: ESTS no longer offers the TAP box, and the pass is refused.
    let (c2, html) = after_username(client(&t.sim)).await;
    assert!(html.contains("name=\"passwd\""), "expired: {html}");
    let (_, html) = text(submit(&c2, LOGIN, &html, &[("passwd", &tap)]).await).await;
    assert_eq!(config(&html)["iErrorCode"], 50126, "{html}");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn a_pass_that_propagates_while_the_password_page_shows_keeps_the_password_error() {
    let t = start("clock-propagation").await;
    let c = client(&t.sim);
    scenarios(&c, ADELE, json!({"tapPropagationDelaySecs": 60})).await;
    let tap = make_tap(&c, ADELE, json!({})).await;
    let html = open_security_info(&c).await;
    let (_, html) = text(submit(&c, LOGIN, &html, &[("loginfmt", ADELE)]).await).await;
    assert!(
        html.contains("name=\"passwd\""),
        "not propagated yet: {html}"
    );
    set_clock(&c, json!({"advanceSecs": 120})).await;
    // Typed into the password box as the pass propagated: the box that was
    // posted comes back with the password error, not the TAP page with it
    // (which would read as a wrong TAP).
    let (_, html) = text(submit(&c, LOGIN, &html, &[("passwd", &tap)]).await).await;
    assert!(html.contains("name=\"passwd\""), "{html}");
    assert!(!html.contains("name=\"accesspass\""), "{html}");
    assert_eq!(config(&html)["iErrorCode"], 50126, "{html}");
    // Signing in again, the TAP box is there and takes the pass.
    let c2 = client(&t.sim);
    let html = open_security_info(&c2).await;
    let (_, html) = text(submit(&c2, LOGIN, &html, &[("loginfmt", ADELE)]).await).await;
    let (_, kmsi) = text(submit(&c2, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    assert_eq!(config(&kmsi)["pgid"], "KmsiInterrupt", "{kmsi}");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn an_access_token_expires_at_the_end_of_its_lifetime() {
    let t = start("clock-token").await;
    let c = client(&t.sim);
    let tok = app_token(&c).await;
    let lifetime = t.sim.state.read(|tn| tn.access_token_lifetime_secs) as i64;
    set_clock(&c, json!({"advanceSecs": lifetime - 5})).await;
    assert_eq!(
        graph(&c, &tok, reqwest::Method::GET, "/users", None)
            .await
            .0,
        200
    );
    set_clock(&c, json!({"advanceSecs": 10})).await;
    let (s, v) = graph(&c, &tok, reqwest::Method::GET, "/users", None).await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(
        v["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
    // A token issued under the shifted clock is valid under it.
    let fresh = app_token(&c).await;
    assert_eq!(
        graph(&c, &fresh, reqwest::Method::GET, "/users", None)
            .await
            .0,
        200
    );
    t.sim.shutdown().await;
}
