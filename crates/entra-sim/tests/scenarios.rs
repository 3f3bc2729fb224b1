//! Scenario switches and bad input, one behaviour per test.

mod common;

use common::*;
use serde_json::{Value, json};

const ADELE: &str = "adele.vance@contoso.com";
const LOGIN: &str = "login.microsoftonline.com";

/// Username page → next page for `upn`.
async fn after_username(c: &reqwest::Client, upn: &str) -> String {
    let html = open_security_info(c).await;
    text(submit(c, LOGIN, &html, &[("loginfmt", upn)]).await)
        .await
        .1
}

async fn new_key_code(c: &reqwest::Client, ctx: &str) -> (u16, Value) {
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/new")
        .header("SessionCtxV2", ctx)
        .json(&json!({"Type": 18}))
        .send()
        .await
        .expect("new");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn wrong_tap_shows_the_error_and_config_code() {
    let t = start("wrongtap").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({})).await;
    assert_eq!(
        scenarios(&c, ADELE, json!({"wrongTap": true}))
            .await
            .status(),
        200
    );
    let html = after_username(&c, ADELE).await;
    let (_, html) = text(submit(&c, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    let cfg = config(&html);
    assert_eq!(cfg["iErrorCode"], 130503);
    assert!(
        cfg["strServiceExceptionMessage"]
            .as_str()
            .unwrap_or("")
            .contains("Temporary Access Pass")
    );
    assert!(html.contains("id=\"passwordError\""));
    // Off again: the same TAP now works (it is multi-use).
    scenarios(&c, ADELE, json!({"wrongTap": false})).await;
    let (_, html) = text(submit(&c, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    assert_eq!(config(&html)["pgid"], "KmsiInterrupt");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn used_one_time_tap_is_refused() {
    let t = start("usedtap").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({"isUsableOnce": true})).await;
    let html = after_username(&c, ADELE).await;
    let (_, kmsi) = text(submit(&c, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    assert_eq!(config(&kmsi)["pgid"], "KmsiInterrupt");
    let c2 = client(&t.sim);
    let html = after_username(&c2, ADELE).await;
    // The spent TAP is gone, so ESTS shows the password page.
    assert!(html.contains("name=\"passwd\""), "{html}");
    let (_, html) = text(submit(&c2, LOGIN, &html, &[("passwd", &tap)]).await).await;
    assert_eq!(config(&html)["iErrorCode"], 50126);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn unpropagated_tap_lands_on_the_password_page() {
    let t = start("propagation").await;
    let c = client(&t.sim);
    scenarios(&c, ADELE, json!({"tapPropagationDelaySecs": 3600})).await;
    let tap = make_tap(&c, ADELE, json!({})).await;
    let html = after_username(&c, ADELE).await;
    assert!(html.contains("name=\"passwd\" id=\"i0118\""), "{html}");
    let (_, html) = text(submit(&c, LOGIN, &html, &[("passwd", &tap)]).await).await;
    assert_eq!(config(&html)["iErrorCode"], 50126);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn dom_variants_and_login_hint() {
    let t = start("variants").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({})).await;
    scenarios(&c, ADELE, json!({"domVariant": "passwd"})).await;
    let html = after_username(&c, ADELE).await;
    assert!(html.contains("name=\"passwd\" id=\"i0118\""));
    let (_, html) = text(submit(&c, LOGIN, &html, &[("passwd", &tap)]).await).await;
    assert_eq!(
        config(&html)["pgid"],
        "KmsiInterrupt",
        "TAP accepted in the password box"
    );
    scenarios(&c, ADELE, json!({"domVariant": "otc"})).await;
    let html = after_username(&client(&t.sim), ADELE).await;
    assert!(html.contains("name=\"otc\""));
    // login_hint skips the username page.
    scenarios(&c, ADELE, json!({"domVariant": null})).await;
    let url = format!(
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id={}&redirect_uri={}&response_type=code&response_mode=form_post&login_hint={ADELE}",
        entra_sim::login::MYSIGNINS_CLIENT_ID,
        entra_sim::util::urlenc(entra_sim::login::MYSIGNINS_REDIRECT)
    );
    let (_, html) = get(&client(&t.sim), &url).await;
    assert!(html.contains("name=\"accesspass\""), "{html}");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn proof_up_interrupt_then_kmsi() {
    let t = start("proofup").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({})).await;
    scenarios(&c, ADELE, json!({"proofUpRequired": true})).await;
    let html = after_username(&c, ADELE).await;
    let (_, html) = text(submit(&c, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    assert!(html.contains("id=\"ProofUpDescription\""));
    assert_eq!(config(&html)["pgid"], "ConvergedProofUpRedirect");
    let (_, html) = text(submit(&c, LOGIN, &html, &[]).await).await;
    assert_eq!(config(&html)["pgid"], "KmsiInterrupt");
    assert!(html.contains("id=\"idBtn_Back\""));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn key_limit_two_factor_and_policy_banners() {
    let t = start("banners").await;
    let c = client(&t.sim);
    // Password only = single factor: Security info demands two-factor sign-in.
    let html = after_username(&c, ADELE).await;
    let (_, kmsi) = text(submit(&c, LOGIN, &html, &[("passwd", "Adele-Passw0rd!")]).await).await;
    finish_kmsi(&c, &kmsi).await;
    let ctx: Value = c
        .post("https://mysignins.microsoft.com/api/session/authorize")
        .json(&json!({}))
        .send()
        .await
        .expect("a")
        .json()
        .await
        .expect("j");
    let ctx = ctx["sessionCtxV2"].as_str().expect("ctx").to_string();
    let (_, v) = new_key_code(&c, &ctx).await;
    assert_eq!(v["ErrorCode"], entra_sim::mysignins::EC_TWO_FACTOR, "{v}");

    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({})).await;
    let ctx = sign_in_to_security_info(&c, ADELE, &tap).await;
    scenarios(&c, ADELE, json!({"keyLimitReached": true})).await;
    let (_, v) = new_key_code(&c, &ctx).await;
    assert_eq!(v["ErrorCode"], entra_sim::mysignins::EC_KEY_LIMIT);
    assert!(
        v["ErrorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("10 security keys")
    );
    // The text follows the tenant's configured limit, in the API and on the page.
    let r = c
        .patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"fido2Policy": {"keyLimit": 3}}))
        .send()
        .await
        .expect("tenant");
    assert_eq!(r.status(), 200);
    let (_, v) = new_key_code(&c, &ctx).await;
    assert_eq!(v["ErrorCode"], entra_sim::mysignins::EC_KEY_LIMIT);
    let msg = v["ErrorMessage"].as_str().unwrap_or("");
    assert!(
        msg.contains("3 security keys") && !msg.contains("10"),
        "{msg}"
    );
    let (_, page) = get(&c, "https://mysignins.microsoft.com/security-info").await;
    assert!(page.contains("limit of 3 security keys"), "{page}");
    assert!(!page.contains("{limit}"), "{page}");
    scenarios(
        &c,
        ADELE,
        json!({"keyLimitReached": false, "twoFactorRequired": true}),
    )
    .await;
    let (_, v) = new_key_code(&c, &ctx).await;
    assert_eq!(v["ErrorCode"], entra_sim::mysignins::EC_TWO_FACTOR);
    scenarios(
        &c,
        ADELE,
        json!({"twoFactorRequired": false, "failStep": "new", "failTimes": 1}),
    )
    .await;
    let (s, _) = new_key_code(&c, &ctx).await;
    assert_eq!(s, 500, "injected failure");
    let (s, v) = new_key_code(&c, &ctx).await;
    assert_eq!(
        (s, v["ErrorCode"].clone()),
        (200, json!(0)),
        "failTimes=1 fails once"
    );
    // Without the SessionCtxV2 header: 401.
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/new")
        .json(&json!({"Type": 18}))
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 401);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn not_synced_user_gets_no_tap_and_is_unknown_to_sign_in() {
    let t = start("notsynced").await;
    let c = client(&t.sim);
    scenarios(&c, ADELE, json!({"notSynced": true})).await;
    let r = c
        .post(format!(
            "https://login.microsoftonline.com/__sim/users/{ADELE}/taps"
        ))
        .json(&json!({}))
        .send()
        .await
        .expect("tap");
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Sync user data")
    );
    let html = after_username(&c, ADELE).await;
    assert_eq!(config(&html)["iErrorCode"], 50034);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn locale_changes_text_not_dom() {
    let t = start("locale").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, "jonas.mueller@contoso.com", json!({})).await;
    let html = after_username(&c, "jonas.mueller@contoso.com").await;
    assert!(html.contains("lang=\"de\""));
    assert!(html.contains("Befristeten Zugriffspass eingeben"));
    assert!(html.contains("name=\"accesspass\"") && html.contains("id=\"idSIButton9\""));
    let (_, html) = text(submit(&c, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    assert!(html.contains("Angemeldet bleiben?"));
    // Accept-Language picks the language before the user is known.
    let r = client(&t.sim)
        .get("https://login.microsoftonline.com/")
        .header("Accept-Language", "ja-JP,ja;q=0.9")
        .send()
        .await
        .expect("r");
    let (_, html) = text(r).await;
    assert!(html.contains("サインイン") && html.contains("id=\"i0116\""));
    // The <script> display name is escaped wherever it appears.
    let (_, html) = get(&client(&t.sim), "https://login.microsoftonline.com/").await;
    assert!(!html.contains("<script>alert"));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn slow_pages_switch_delays_responses() {
    let t = start("slow").await;
    let c = client(&t.sim);
    scenarios(&c, ADELE, json!({"slowMs": 300})).await;
    let html = open_security_info(&c).await;
    let t0 = std::time::Instant::now();
    let _ = submit(&c, LOGIN, &html, &[("loginfmt", ADELE)]).await;
    assert!(t0.elapsed() >= std::time::Duration::from_millis(300));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_the_server_keeps_serving() {
    let t = start("bad").await;
    let c = client(&t.sim);
    // Unknown switch, bad step name, bad locale.
    for body in [
        json!({"noSuchSwitch": true}),
        json!({"failStep": "nope"}),
        json!({"locale": "xx"}),
    ] {
        assert_eq!(scenarios(&c, ADELE, body).await.status(), 400);
    }
    // Malformed JSON.
    let r = c
        .patch(format!(
            "https://login.microsoftonline.com/__sim/users/{ADELE}/scenarios"
        ))
        .body("{not json")
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 400);
    // Unknown user.
    assert_eq!(
        scenarios(&c, "nobody@contoso.com", json!({}))
            .await
            .status(),
        404
    );
    // Oversized body.
    let big = "x".repeat(entra_sim::app::BODY_LIMIT + 10);
    let r = c
        .post("https://login.microsoftonline.com/common/login")
        .body(big)
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 413);
    // Form post without a flow token, with an unknown one.
    let r = c
        .post("https://login.microsoftonline.com/common/login")
        .form(&[("loginfmt", ADELE)])
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 400);
    let r = c
        .post("https://login.microsoftonline.com/common/login")
        .form(&[("flowToken", "forged"), ("loginfmt", ADELE)])
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 400);
    // fido/create with a forged canary; newfido with garbage.
    let r = c
        .post("https://login.microsoft.com/8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13/fido/create")
        .form(&[("canary", "x")])
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 400);
    let r = c
        .post("https://mysignins.microsoft.com/api/post/newfido")
        .form(&[("canary", "x"), ("attestationObject", "%%%")])
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 400);
    // Unknown client id / redirect URI at authorize.
    let (s, html) = get(&c, "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=nope&redirect_uri=https://evil.example/").await;
    assert_eq!(s, 400);
    assert!(html.contains("AADSTS700016"));
    // Unknown host.
    let r = c
        .get(format!("https://127.0.0.1:{}/", t.sim.addr.port()))
        .send()
        .await;
    // The certificate has no IP SAN, so the client refuses before any request.
    assert!(r.is_err());
    // Still serving.
    assert_eq!(get(&c, "https://login.microsoftonline.com/").await.0, 200);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn every_html_page_sends_the_strict_csp() {
    let t = start("csp").await;
    let c = client(&t.sim);
    // Pages that must be HTML; `get` checks the CSP of each (common::assert_strict_csp).
    let html = [
        "https://login.microsoftonline.com/",
        "https://login.microsoftonline.com/nope",
        "https://login.microsoftonline.com/common/oauth2/v2.0/logout",
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=nope",
        "https://login.microsoft.com/common/fido/get?ctx=unknown",
        "https://login.microsoft.com/t/fido/create",
        "https://login.microsoft.com/nope",
    ];
    for u in html {
        let r = c.get(u).send().await.expect("r");
        let headers = r.headers().clone();
        let (_, body) = text(r).await;
        assert!(assert_strict_csp_seen(&headers), "{u} is not HTML");
        // The signed-out page has no script; every other one has some to check.
        assert!(
            u.ends_with("/logout") || body.contains("<script"),
            "{u} has a script to check"
        );
    }
    // Every host, its root and an unknown path: whatever is HTML has the CSP.
    for h in entra_sim::tls::HOSTS {
        for path in ["/", "/nope", "/securityinfo/AddSecurityInfo"] {
            let _ = get(&c, &format!("https://{h}{path}")).await;
        }
    }
    // Form posts answered with error pages, on both FIDO hosts and the legacy host.
    for (u, fields) in [
        (
            "https://login.microsoft.com/8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13/fido/create",
            vec![("canary", "x")],
        ),
        (
            "https://login.microsoft.com/common/fido/get",
            vec![("flowToken", "x")],
        ),
        (
            "https://mysignins.microsoft.com/api/post/newfido",
            vec![("canary", "x")],
        ),
        (
            "https://account.activedirectory.windowsazure.com/securityInfo/newfido",
            vec![("canary", "x")],
        ),
        (
            "https://login.microsoftonline.com/common/login",
            vec![("flowToken", "x")],
        ),
        ("https://login.microsoftonline.com/kmsi", vec![]),
        ("https://login.microsoftonline.com/common/consent", vec![]),
        ("https://login.microsoftonline.com/common/proofup", vec![]),
    ] {
        let r = c.post(u).form(&fields).send().await.expect("r");
        let headers = r.headers().clone();
        let (s, _) = text(r).await;
        assert_eq!(s, 400, "{u}");
        assert!(assert_strict_csp_seen(&headers), "{u} is not HTML");
    }
    t.sim.shutdown().await;
}

/// The response was HTML (its CSP has been checked by `text`).
fn assert_strict_csp_seen(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

#[tokio::test]
async fn logout_ends_the_session_with_a_signed_out_page() {
    let t = start("logout").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({})).await;
    sign_in_to_security_info(&c, ADELE, &tap).await;
    let r = c
        .get("https://login.microsoftonline.com/common/oauth2/v2.0/logout")
        .send()
        .await
        .expect("logout");
    let cleared = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap_or("").starts_with("ESTSAUTH=;"));
    let (s, html) = text(r).await;
    assert_eq!(s, 200);
    assert!(cleared, "ESTSAUTH cleared");
    assert!(html.contains("id=\"sim-message\""), "{html}");
    // Signed out: the next authorize shows the username page again.
    let (_, html) = get(&c, "https://login.microsoftonline.com/").await;
    assert!(html.contains("id=\"i0116\""), "{html}");
    t.sim.shutdown().await;
}

/// The page's skeleton: every `id`, `name` and `role` attribute, sorted.
fn skeleton(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for a in ["id", "name", "role"] {
        let pat = format!(" {a}=\"");
        let mut rest = html;
        while let Some(i) = rest.find(&pat) {
            let start = i + pat.len();
            let end = rest[start..].find('"').map_or(rest.len(), |e| e + start);
            out.push(format!("{a}={}", &rest[start..end]));
            rest = &rest[end..];
        }
    }
    out.sort();
    out
}

/// Every main page in one locale: (page, skeleton).
async fn pages_in(t: &TestSim, lang: &str, tap: &str) -> Vec<(&'static str, Vec<String>)> {
    let admin = client(&t.sim);
    let sc = |v: Value| scenarios(&admin, ADELE, v);
    assert_eq!(
        sc(json!({"locale": lang, "proofUpRequired": true, "domVariant": null}))
            .await
            .status(),
        200
    );
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "accept-language",
        reqwest::header::HeaderValue::from_str(lang).expect("header"),
    );
    let browser = || {
        builder(&t.sim)
            .default_headers(headers.clone())
            .build()
            .expect("client")
    };
    let mut pages = Vec::new();
    let c = browser();
    let html = open_security_info(&c).await;
    assert!(html.contains(&format!("lang=\"{lang}\"")), "{lang}: {html}");
    pages.push(("username", skeleton(&html)));
    let (_, html) = text(submit(&c, LOGIN, &html, &[("loginfmt", ADELE)]).await).await;
    pages.push(("TAP", skeleton(&html)));
    let (_, html) = text(submit(&c, LOGIN, &html, &[("accesspass", tap)]).await).await;
    pages.push(("proof-up", skeleton(&html)));
    let (_, html) = text(submit(&c, LOGIN, &html, &[]).await).await;
    pages.push(("KMSI", skeleton(&html)));
    let (_, html) = text(submit(&c, LOGIN, &html, &[("LoginOptions", "1")]).await).await;
    pages.push(("form_post", skeleton(&html)));
    assert_eq!(
        submit(&c, "mysignins.microsoft.com", &html, &[])
            .await
            .status(),
        303
    );
    let (_, html) = get(&c, "https://mysignins.microsoft.com/security-info").await;
    pages.push(("Security info", skeleton(&html)));
    let ctx: Value = c
        .post("https://mysignins.microsoft.com/api/session/authorize")
        .json(&json!({}))
        .send()
        .await
        .expect("authorize")
        .json()
        .await
        .expect("json");
    let ctx = ctx["sessionCtxV2"].as_str().expect("ctx");
    let (_, v) = new_key_code(&c, ctx).await;
    let data: Value = serde_json::from_str(v["Data"].as_str().expect("Data")).expect("json");
    let fields: std::collections::HashMap<String, String> = data["requestData"]
        .as_object()
        .expect("requestData")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let url = data["provisionUrl"].as_str().expect("url");
    let (_, html) = text(post_form(&c, url, &fields).await).await;
    pages.push(("fido/create", skeleton(&html)));
    // The ceremony failed in the browser: newfido's error answer.
    let mut f = form(&html).fields;
    f.insert("errorName".into(), "NotAllowedError".into());
    let action = form(&html).action;
    let (_, html) = text(post_form(&c, &action, &f).await).await;
    pages.push(("newfido", skeleton(&html)));
    let (_, html) = get(
        &c,
        "https://login.microsoftonline.com/common/oauth2/v2.0/logout",
    )
    .await;
    pages.push(("signed out", skeleton(&html)));
    let c2 = browser();
    let html = open_security_info(&c2).await;
    let flow = form(&html).fields["flowToken"].clone();
    let (_, html) = get(
        &c2,
        &format!(
            "https://login.microsoft.com/common/fido/get?ctx={}",
            entra_sim::util::urlenc(&flow)
        ),
    )
    .await;
    pages.push(("fido/get", skeleton(&html)));
    let (_, html) = get(&c2, "https://login.microsoftonline.com/nope").await;
    pages.push(("error", skeleton(&html)));
    for variant in ["passwd", "otc"] {
        sc(json!({"domVariant": variant})).await;
        let html = after_username(&browser(), ADELE).await;
        pages.push((variant, skeleton(&html)));
    }
    pages
}

#[tokio::test]
async fn every_main_page_has_the_same_ids_names_and_roles_in_every_locale() {
    let t = start("skeleton").await;
    let c = client(&t.sim);
    let tap = make_tap(&c, ADELE, json!({})).await;
    let en = pages_in(&t, "en", &tap).await;
    for lang in ["de", "fr", "ja"] {
        let other = pages_in(&t, lang, &tap).await;
        assert_eq!(other.len(), en.len());
        for ((page, want), (_, got)) in en.iter().zip(&other) {
            assert_eq!(got, want, "{page} in {lang}");
        }
    }
    t.sim.shutdown().await;
}
