//! The page variants, fetched over the real HTTPS server: the fluent
//! sign-in layout, the skippable interrupts, the languages (right-to-left
//! ones included), transient errors of the wizard's API, the passkey flow's
//! switches and the key-model refusal at verify.

mod common;

use common::authn::{Attestation, Authenticator, b64u};
use common::*;
use serde_json::{Value, json};

const ADELE: &str = "adele.vance@contoso.com";
const JONAS: &str = "jonas.mueller@contoso.com";
const LOGIN: &str = "login.microsoftonline.com";

async fn set(c: &reqwest::Client, upn: &str, body: Value) -> Value {
    let r = scenarios(c, upn, body.clone()).await;
    assert_eq!(r.status(), 200, "scenarios {body}");
    r.json().await.expect("json")
}

async fn tenant_layout(c: &reqwest::Client, layout: &str) {
    let r = c
        .patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"signInLayout": layout}))
        .send()
        .await
        .expect("tenant");
    assert_eq!(r.status(), 200);
}

/// The values of every `id="..."` in `html`.
fn ids(html: &str) -> Vec<String> {
    html.split(" id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Ids Microsoft's classic layout has and the fluent one must not.
const CLASSIC_IDS: &[&str] = &[
    "i0116",
    "i0118",
    "i0118a",
    "idSIButton9",
    "idBtn_Back",
    "KmsiDescription",
    "ProofUpDescription",
    "idTxtBx_SAOTCC_OTC",
    "loginHeader",
    "i0281",
    "idA_PWD_SwitchToFido",
];

fn assert_fluent(html: &str) {
    for id in ids(html) {
        assert!(
            !CLASSIC_IDS.contains(&id.as_str()),
            "classic id {id} on a fluent page: {html}"
        );
        // Everything else is generated (React-style) or the $Config-free page's own.
        assert!(
            id.starts_with(":r") && id.ends_with(':'),
            "a stable id {id:?} on a fluent page"
        );
    }
    assert!(!html.contains("<input type=\"submit\""), "{html}");
    assert!(
        html.contains("data-testid=\"textButtonContainer\""),
        "{html}"
    );
    assert!(html.contains("data-testid=\"primaryButton\""), "{html}");
    assert!(html.contains("<h1 id=\":r"), "{html}");
}

/// Signs in up to the page after the TAP; returns its HTML.
async fn after_tap(c: &reqwest::Client, upn: &str) -> String {
    let tap = make_tap(c, upn, json!({"isUsableOnce": false})).await;
    after_tap_with(c, upn, &tap).await
}

async fn after_tap_with(c: &reqwest::Client, upn: &str, tap: &str) -> String {
    let html = open_security_info(c).await;
    let (_, html) = text(submit(c, LOGIN, &html, &[("loginfmt", upn)]).await).await;
    assert!(html.contains("name=\"accesspass\""), "{html}");
    let (st, html) = text(submit(c, LOGIN, &html, &[("accesspass", tap)]).await).await;
    assert_eq!(st, 200, "{html}");
    html
}

async fn events(c: &reqwest::Client, kind: &str, upn: &str) -> Vec<Value> {
    c.get(format!(
        "https://login.microsoftonline.com/__sim/events?kind={kind}&user={upn}"
    ))
    .send()
    .await
    .expect("events")
    .json::<Vec<Value>>()
    .await
    .expect("json")
}

#[tokio::test]
async fn fluent_username_page_has_no_stable_ids_and_offers_sign_in_options() {
    let t = common::start("fluent-user").await;
    let c = client(&t.sim);
    tenant_layout(&c, "fluent").await;
    let html = open_security_info(&c).await;
    assert_fluent(&html);
    assert_eq!(config(&html)["pgid"], "ConvergedSignIn");
    assert!(html.contains("type=\"email\" name=\"loginfmt\""), "{html}");
    assert!(html.contains(">Sign-in options</button>"), "{html}");
    assert!(
        html.contains("Face, fingerprint, PIN or security key"),
        "{html}"
    );
    assert!(
        html.contains("href=\"https://login.microsoft.com/common/fido/get?"),
        "{html}"
    );
    assert!(!html.contains("Sign in with a security key"), "{html}");
    // Generated ids change with every render.
    let again = open_security_info(&c).await;
    let (a, b) = (ids(&html), ids(&again));
    assert!(!a.is_empty());
    assert!(a.iter().all(|i| !b.contains(i)), "{a:?} {b:?}");
    // A wrong username: the error is a role=alert with a generated id.
    let (_, err) =
        text(submit(&c, LOGIN, &html, &[("loginfmt", "nobody@contoso.com")]).await).await;
    assert_fluent(&err);
    assert!(
        err.contains("role=\"alert\" class=\"fl-error\">This username"),
        "{err}"
    );
    tenant_layout(&c, "classic").await;
    let html = open_security_info(&c).await;
    assert!(html.contains("id=\"i0116\""));
}

#[tokio::test]
async fn fluent_credential_and_kmsi_pages_no_before_yes_told_by_the_submitter() {
    let t = common::start("fluent-kmsi").await;
    let c = client(&t.sim);
    set(&c, ADELE, json!({"signInLayout": "fluent"})).await;
    let tap = make_tap(&c, ADELE, json!({"isUsableOnce": false})).await;
    let html = open_security_info(&c).await;
    let (_, html) = text(submit(&c, LOGIN, &html, &[("loginfmt", ADELE)]).await).await;
    assert_fluent(&html);
    assert!(
        html.contains("type=\"password\" name=\"accesspass\" id=\":r"),
        "{html}"
    );
    let (_, kmsi) = text(submit(&c, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    assert_fluent(&kmsi);
    assert_eq!(config(&kmsi)["pgid"], "KmsiInterrupt");
    assert!(kmsi.contains("<h1 id=\":r"));
    assert!(kmsi.contains("data-testid=\"checkboxField\""), "{kmsi}");
    let no = kmsi
        .find("value=\"3\" data-testid=\"secondaryButton\"")
        .expect("No");
    let yes = kmsi
        .find("value=\"1\" data-testid=\"primaryButton\"")
        .expect("Yes");
    assert!(no < yes, "No comes before Yes");
    assert!(kmsi[..no].ends_with("<button type=\"submit\" name=\"LoginOptions\" "));
    // "No" as the submitter: the sign-in completes without a lasting cookie.
    let r = submit(&c, LOGIN, &kmsi, &[("LoginOptions", "3")]).await;
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let (st, html) = text(r).await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("action=\"https://mysignins.microsoft.com/\""));
    let ests = cookies
        .iter()
        .find(|c| c.starts_with("ESTSAUTH="))
        .expect("ESTS cookie");
    assert!(!ests.contains("Max-Age"), "{ests}");

    // The password box keeps its Microsoft test id.
    let c2 = client(&t.sim);
    set(&c2, ADELE, json!({"domVariant": "passwd"})).await;
    let html = open_security_info(&c2).await;
    let (_, html) = text(submit(&c2, LOGIN, &html, &[("loginfmt", ADELE)]).await).await;
    assert_fluent(&html);
    assert!(
        html.contains("name=\"passwd\" id=\":r") && html.contains("data-testid=\"i0118\""),
        "{html}"
    );
}

#[tokio::test]
async fn more_information_required_can_be_skipped_and_its_next_never_finishes() {
    let t = common::start("more-info").await;
    let c = client(&t.sim);
    set(&c, ADELE, json!({"interrupts": ["moreInfoSkippable"]})).await;
    let html = after_tap(&c, ADELE).await;
    assert_eq!(config(&html)["pgid"], "ConvergedProofUpRedirect", "{html}");
    assert!(html.contains("More information required"));
    assert!(!html.contains("id=\"ProofUpDescription\""), "{html}");
    let start = html
        .find("href=\"/common/proofup/skip?ctx=")
        .expect("Ask later")
        + 6;
    let href = html[start..html[start..].find('"').expect("end") + start].replace("&amp;", "&");
    assert!(html.contains(">Ask later</a>"), "{html}");
    // Next: the setup that cannot finish, recorded.
    let (_, setup) = text(submit(&c, LOGIN, &html, &[]).await).await;
    assert_eq!(config(&setup)["pgid"], "AuthenticatorSetup", "{setup}");
    assert_eq!(events(&c, "moreInfoAccepted", ADELE).await.len(), 1);
    let (_, again) = text(submit(&c, LOGIN, &setup, &[]).await).await;
    assert_eq!(config(&again)["pgid"], "AuthenticatorSetup");
    assert!(again.contains("role=\"alert\""), "{again}");
    // Ask later: on to "Stay signed in?" and Security info.
    let (st, kmsi) = get(&c, &format!("https://{LOGIN}{href}")).await;
    assert_eq!(st, 200, "{kmsi}");
    assert_eq!(config(&kmsi)["pgid"], "KmsiInterrupt", "{kmsi}");
    finish_kmsi(&c, &kmsi).await;
    assert_eq!(events(&c, "moreInfoSkipped", ADELE).await.len(), 1);
}

#[tokio::test]
async fn the_registration_campaign_comes_after_kmsi_and_skip_for_now_continues() {
    let t = common::start("campaign").await;
    let c = client(&t.sim);
    set(
        &c,
        ADELE,
        json!({"interrupts": ["registrationCampaign"], "signInLayout": "fluent", "locale": "es"}),
    )
    .await;
    let tap = make_tap(&c, ADELE, json!({"isUsableOnce": false})).await;
    let kmsi = after_tap_with(&c, ADELE, &tap).await;
    assert_eq!(config(&kmsi)["pgid"], "KmsiInterrupt");
    let (st, camp) = text(submit(&c, LOGIN, &kmsi, &[("LoginOptions", "1")]).await).await;
    assert_eq!(st, 200, "{camp}");
    assert_fluent(&camp);
    assert_eq!(config(&camp)["pgid"], "AuthenticatorRegistrationCampaign");
    assert!(
        camp.contains("Mantengamos la seguridad de su cuenta"),
        "{camp}"
    );
    assert!(camp.contains(">Omitir por ahora</a>"), "{camp}");
    assert!(camp.contains("Microsoft Authenticator"));
    let start = camp
        .find("href=\"/common/campaign/skip?ctx=")
        .expect("skip")
        + 6;
    let href = camp[start..camp[start..].find('"').expect("end") + start].replace("&amp;", "&");
    // Skip for now: the code goes to Security info; the KMSI answer holds.
    let r = c
        .get(format!("https://{LOGIN}{href}"))
        .send()
        .await
        .expect("skip");
    let persistent = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("ESTSAUTH=") && c.contains("Max-Age"));
    assert!(persistent, "Yes on KMSI makes the session last");
    let (st, html) = text(r).await;
    assert_eq!(st, 200, "{html}");
    let r = submit(&c, "mysignins.microsoft.com", &html, &[]).await;
    assert_eq!(r.status(), 303);
    assert!(events(&c, "campaignAccepted", ADELE).await.is_empty());

    // Next in another sign-in: Authenticator setup, which never finishes.
    let c2 = client(&t.sim);
    set(
        &c2,
        ADELE,
        json!({"signInLayout": "classic", "locale": null}),
    )
    .await;
    let kmsi = after_tap_with(&c2, ADELE, &tap).await;
    let (_, camp) = text(submit(&c2, LOGIN, &kmsi, &[("LoginOptions", "3")]).await).await;
    assert_eq!(config(&camp)["pgid"], "AuthenticatorRegistrationCampaign");
    assert!(
        camp.contains("Let&#39;s keep your account secure"),
        "{camp}"
    );
    assert!(camp.contains(">Skip for now</a>"));
    let (_, setup) = text(submit(&c2, LOGIN, &camp, &[]).await).await;
    assert_eq!(config(&setup)["pgid"], "AuthenticatorSetup");
    assert!(setup.contains("Start by getting the app"));
    assert_eq!(events(&c2, "campaignAccepted", ADELE).await.len(), 1);
}

#[tokio::test]
async fn every_language_renders_with_its_direction_and_market() {
    let t = common::start("langs").await;
    let c = client(&t.sim);
    let cases = [
        ("es", "ltr", "es", "es-ES", "Iniciar sesión"),
        ("ko", "ltr", "ko", "ko-KR", "로그인"),
        ("ar", "rtl", "ar", "ar-SA", "تسجيل الدخول"),
        ("he", "rtl", "he", "he-IL", "כניסה"),
        ("zh-Hans", "ltr", "zh-Hans", "zh-CN", "登录"),
        ("pt-BR", "ltr", "pt-BR", "pt-BR", "Entrar"),
        ("ru", "ltr", "ru", "ru-RU", "Вход"),
        ("it", "ltr", "it", "it-IT", "Accedi"),
        ("nl", "ltr", "nl", "nl-NL", "Aanmelden"),
        ("pl", "ltr", "pl", "pl-PL", "Zaloguj się"),
        ("tr", "ltr", "tr", "tr-TR", "Oturum açın"),
        ("de", "ltr", "de", "de-DE", "Anmelden"),
    ];
    for (code, dir, lang, mkt, title) in cases {
        set(&c, JONAS, json!({"locale": code})).await;
        let html = open_security_info(&c).await;
        let _ = html;
        // With the user known (after the username) the switch applies.
        let fresh = client(&t.sim);
        let html = open_security_info(&fresh).await;
        let (_, page) = text(submit(&fresh, LOGIN, &html, &[("loginfmt", JONAS)]).await).await;
        assert!(
            page.starts_with(&format!(
                "<!DOCTYPE html><html dir=\"{dir}\" lang=\"{lang}\">"
            )),
            "{code}: {}",
            &page[..120.min(page.len())]
        );
        assert_eq!(config(&page)["locale"]["mkt"], mkt, "{code}");
        assert!(page.contains(title), "{code}: {title}");
    }
    // The browser's language picks the page before the user is known.
    for (accept, lang, dir) in [
        ("he-IL,he;q=0.9", "he", "rtl"),
        ("zh-CN", "zh-Hans", "ltr"),
        ("pt", "pt-BR", "ltr"),
        ("ar-EG", "ar", "rtl"),
        ("es-AR,en;q=0.5", "es", "ltr"),
    ] {
        let r = c
            .get("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=19db86c3-b2b9-44cc-b339-36da233a3be2&redirect_uri=https%3A%2F%2Fmysignins.microsoft.com%2F&response_type=code")
            .header("accept-language", accept)
            .send()
            .await
            .expect("authorize");
        let (_, html) = text(r).await;
        assert!(
            html.starts_with(&format!(
                "<!DOCTYPE html><html dir=\"{dir}\" lang=\"{lang}\">"
            )),
            "{accept}: {}",
            &html[..100]
        );
    }
    let r = scenarios(&c, JONAS, json!({"locale": "xx"})).await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.expect("body");
    assert!(body.contains("zh-Hans") && body.contains("pt-BR"), "{body}");
}

/// Signs in and returns (client, sessionCtxV2) at Security info.
async fn security_info(t: &common::TestSim, upn: &str) -> (reqwest::Client, String) {
    let c = client(&t.sim);
    let tap = make_tap(&c, upn, json!({"isUsableOnce": false})).await;
    let ctx = sign_in_to_security_info(&c, upn, &tap).await;
    (c, ctx)
}

async fn new_call(c: &reqwest::Client, ctx: &str, body: Value) -> (u16, Value) {
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/new")
        .header("SessionCtxV2", ctx)
        .json(&body)
        .send()
        .await
        .expect("new");
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn transient_errors_answer_500_the_first_n_times_then_succeed() {
    let t = common::start("transient").await;
    let (c, ctx) = security_info(&t, ADELE).await;
    set(&c, ADELE, json!({"wizardTransientErrors": 2})).await;
    for _ in 0..2 {
        let (st, v) = new_call(&c, &ctx, json!({"Type": 18})).await;
        assert_eq!(st, 500, "{v}");
    }
    let (st, v) = new_call(&c, &ctx, json!({"Type": 18})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["ErrorCode"], 0, "{v}");
    // Setting the count again starts over.
    set(&c, ADELE, json!({"wizardTransientErrors": 1})).await;
    assert_eq!(new_call(&c, &ctx, json!({"Type": 18})).await.0, 500);
    assert_eq!(new_call(&c, &ctx, json!({"Type": 18})).await.0, 200);
    assert_eq!(events(&c, "transientError", ADELE).await.len(), 3);
    let r = scenarios(&c, ADELE, json!({"wizardTransientErrors": 1000})).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn security_info_carries_the_variant_switches_and_defaults() {
    let t = common::start("si-config").await;
    let (c, ctx) = security_info(&t, ADELE).await;
    let (_, html) = get(&c, "https://mysignins.microsoft.com/security-info").await;
    assert!(html.contains("\"controls\":\"fluent\""), "{html}");
    assert!(html.contains("\"nameNextDisabled\":true"), "{html}");
    assert!(html.contains("\"passkeyFlow\":\"securityKey\""), "{html}");
    let sc = set(
        &c,
        ADELE,
        json!({"dialogControls": "aria", "passkeyFlow": "passkey", "passkeyLabel": "Passkey (FIDO2)", "locale": "ar"}),
    )
    .await;
    assert_eq!(sc["nameNextDisabled"], true);
    let (_, html) = get(&c, "https://mysignins.microsoft.com/security-info").await;
    assert!(html.starts_with("<!DOCTYPE html><html dir=\"rtl\" lang=\"ar\">"));
    assert!(html.contains("\"controls\":\"aria\""), "{html}");
    assert!(html.contains("\"passkeyFlow\":\"passkey\""), "{html}");
    assert!(
        html.contains("\"passkeyLabel\":\"مفتاح المرور (FIDO2)\""),
        "{html}"
    );
    assert!(
        html.contains("\"m_passkey_authenticator\":\"مفتاح المرور في Microsoft Authenticator\"")
    );
    // null clears a switch to its default.
    let sc = set(&c, ADELE, json!({"passkeyLabel": null, "dialogControls": null, "interrupts": ["registrationCampaign"]})).await;
    assert_eq!(sc["passkeyLabel"], "Passkey (preview)");
    assert_eq!(sc["dialogControls"], "fluent");
    let sc = set(
        &c,
        ADELE,
        json!({"interrupts": null, "nameNextDisabled": false}),
    )
    .await;
    assert_eq!(sc["interrupts"], json!([]));
    assert_eq!(sc["nameNextDisabled"], false);
    let r = scenarios(&c, ADELE, json!({"passkeyLabel": "Passkey (beta)"})).await;
    assert_eq!(r.status(), 400);
    let r = scenarios(&c, ADELE, json!({"interrupts": ["nope"]})).await;
    assert_eq!(r.status(), 400);
    // "Passkey in Microsoft Authenticator" is recorded and stays pending.
    let (st, v) = new_call(&c, &ctx, json!({"Type": 18, "AuthenticatorPasskey": true})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["VerificationState"], 1);
    assert_eq!(
        events(&c, "authenticatorPasskeyChosen", ADELE).await.len(),
        1
    );
    // The script knows both dialog flavours and the retry.
    let (_, js) = get(&c, "https://mysignins.microsoft.com/static/securityinfo.js").await;
    for needle in [
        "role: \"button\", tabindex: \"0\"",
        "aria-disabled",
        "aria-labelledby",
        "S.try_again",
        "S.passkey_mfa_desc",
    ] {
        assert!(js.contains(needle), "securityinfo.js lacks {needle}");
    }
}

#[tokio::test]
async fn a_restricted_key_model_is_refused_at_verify_after_naming() {
    let t = common::start("aaguid").await;
    let (c, ctx) = security_info(&t, ADELE).await;
    set(&c, ADELE, json!({"aaguidRestricted": true, "locale": "ko"})).await;
    let (st, v) = new_call(&c, &ctx, json!({"Type": 18})).await;
    assert_eq!(st, 200, "{v}");
    let data: Value = serde_json::from_str(v["Data"].as_str().expect("Data")).expect("json");
    let rd = &data["requestData"];
    let mut key = Authenticator::new([7; 16]);
    let uid = entra_sim::util::b64url_decode(rd["userId"].as_str().expect("uid")).expect("b64");
    let made = key.create(
        "login.microsoft.com",
        "https://login.microsoft.com",
        rd["serverChallenge"].as_str().expect("sc").as_bytes(),
        &uid,
        Attestation::Full,
    );
    let vd = json!({"Name": "IDM-test", "Canary": rd["canary"], "AttestationObject": b64u(&made.attestation_object), "ClientDataJson": b64u(&made.client_data_json), "CredentialId": b64u(&made.credential_id)});
    let r = c
        .post("https://mysignins.microsoft.com/api/authenticationmethods/verify")
        .header("SessionCtxV2", &ctx)
        .json(&json!({"Type": 18, "VerificationData": vd.to_string()}))
        .send()
        .await
        .expect("verify");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["ErrorCode"], 34, "{v}");
    assert_eq!(
        v["ErrorMessage"],
        "조직에서 이 유형의 보안 키를 허용하지 않습니다. 다른 보안 키를 사용하거나 관리자에게 문의하세요."
    );
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
    assert_eq!(keys, json!([]));
}

#[tokio::test]
async fn the_attestation_refusal_reads_like_microsoft_in_every_language() {
    for l in entra_sim::locale::LANGS {
        let m = entra_sim::locale::t(l.code, "reg_rejected");
        assert!(
            l.code == "en" || m != entra_sim::locale::t("en", "reg_rejected"),
            "{}: reg_rejected is English",
            l.code
        );
        let a = entra_sim::locale::t(l.code, "aaguid_restricted");
        assert_ne!(a, m, "{}", l.code);
    }
    assert!(
        entra_sim::locale::t("en", "reg_rejected")
            .starts_with("This security key doesn't meet your organization's requirements")
    );
}
