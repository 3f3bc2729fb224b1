//! Microsoft Graph and OAuth over HTTPS: client credentials, authorization
//! code with PKCE through the real sign-in and consent pages, refresh tokens,
//! users/groups, TAPs, passkey provisioning with a software security key,
//! and every error a client must handle.

mod common;

use std::collections::HashMap;

use common::authn::{Attestation, Authenticator, b64u};
use common::*;
use entra_sim::{Sim, SimConfig};
use serde_json::{Value, json};

const LOGIN: &str = "login.microsoftonline.com";
const GRAPH: &str = "https://graph.microsoft.com/v1.0";
const TENANT: &str = "8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13";
const PANEL_ID: &str = "6bc01f6e-3da2-4c7e-9ac7-9f7d8c5e4a67";
const PANEL_SECRET: &str = "demo-panel-secret";
const READER_ID: &str = "7cd12a7f-4eb3-4d8f-8bd8-0a8e9d6f5b78";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";
const ADMIN_PW: &str = "Admin-Passw0rd!";
const ADELE: &str = "adele.vance@contoso.com";
const ADELE_ID: &str = "1c7b6a1f-8e5d-4d2f-8b72-4a2e3d0f9b12";
const GROUP: &str = "5abf0e5d-2c91-4b6d-8fb6-8e6c7b4d3f56";
const AAGUID: [u8; 16] = [
    0xee, 0x88, 0x28, 0x79, 0x72, 0x1c, 0x49, 0x13, 0x97, 0x75, 0x3d, 0xfc, 0xce, 0x97, 0x07, 0x2a,
];

/// The demo seed plus a read-only app ("reader": User.Read.All only, public client).
async fn start_with_reader(tag: &str) -> TestSim {
    let dir = temp_dir(tag);
    let mut seed: Value = serde_json::from_str(entra_sim::state::DEMO_SEED).expect("seed");
    seed["apps"].as_array_mut().expect("apps").push(json!({
        "clientId": READER_ID,
        "displayName": "Directory Reader",
        "clientSecret": "reader-secret",
        "redirectUris": ["https://reader.example/cb"],
        "appRoles": ["User.Read.All"],
        "delegatedScopes": ["User.Read", "User.Read.All"],
    }));
    let path = dir.join("seed.json");
    std::fs::write(&path, seed.to_string()).expect("seed file");
    let mut cfg = SimConfig::new(&dir);
    cfg.seed = Some(path);
    let sim = Sim::start(cfg).await.expect("sim starts");
    TestSim { sim, dir }
}

fn token_url() -> String {
    format!("https://{LOGIN}/{TENANT}/oauth2/v2.0/token")
}

async fn token_req(c: &reqwest::Client, form: &[(&str, &str)]) -> (u16, Value) {
    let r = c.post(token_url()).form(form).send().await.expect("token");
    let st = r.status().as_u16();
    (st, r.json().await.expect("token json"))
}

async fn app_token(c: &reqwest::Client, id: &str, secret: &str) -> String {
    let (st, v) = token_req(
        c,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().expect("expires_in") > 3000);
    assert!(v.get("refresh_token").is_none());
    v["access_token"].as_str().expect("at").to_string()
}

async fn g(
    c: &reqwest::Client,
    tok: &str,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let url = if url.starts_with("https://") {
        url.to_string()
    } else {
        format!("{GRAPH}{url}")
    };
    let mut rb = c.request(method, &url).bearer_auth(tok);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("graph");
    let st = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("graph json")
    };
    (st, v, h)
}

async fn get_json(c: &reqwest::Client, tok: &str, url: &str) -> (u16, Value) {
    let (s, v, _) = g(c, tok, reqwest::Method::GET, url, None).await;
    (s, v)
}

fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn client_credentials_users_paging_filter_select_and_groups() {
    let t = common::start("graph-users").await;
    let c = client(&t.sim);
    let tok = app_token(&c, PANEL_ID, PANEL_SECRET).await;
    // The token is JWT-shaped and carries Entra's claims.
    let payload = entra_sim::oauth::jwt_payload(&tok).expect("jwt");
    assert_eq!(payload["tid"], TENANT);
    assert_eq!(payload["appid"], PANEL_ID);
    assert_eq!(payload["aud"], "00000003-0000-0000-c000-000000000000");
    assert!(
        payload["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r == "UserAuthenticationMethod.ReadWrite.All")
    );

    // Paging: $top=2 over 5 users → 3 pages, following @odata.nextLink.
    let (s, v) = get_json(&c, &tok, "/users?$top=2").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users"
    );
    let mut seen: Vec<String> = v["value"]
        .as_array()
        .expect("v")
        .iter()
        .map(|u| u["userPrincipalName"].as_str().expect("upn").to_string())
        .collect();
    let mut next = v["@odata.nextLink"].as_str().map(str::to_string);
    let mut pages = 1;
    while let Some(link) = next {
        assert!(
            link.starts_with("https://graph.microsoft.com/v1.0/users?$top=2&$skiptoken="),
            "{link}"
        );
        let (s, v) = get_json(&c, &tok, &link).await;
        assert_eq!(s, 200);
        seen.extend(
            v["value"]
                .as_array()
                .expect("v")
                .iter()
                .map(|u| u["userPrincipalName"].as_str().expect("upn").to_string()),
        );
        next = v["@odata.nextLink"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    assert!(seen.contains(&ADELE.to_string()));
    // Default properties: the eleven Graph returns without $select.
    let (_, v) = get_json(&c, &tok, "/users?$top=1").await;
    let u0 = v["value"][0].as_object().expect("obj");
    assert_eq!(u0.len(), 11, "{u0:?}");
    assert!(u0.contains_key("businessPhones") && u0.contains_key("preferredLanguage"));

    // $filter on UPN (case-insensitive), with an apostrophe escaped, and $select.
    let (s, v) = get_json(&c, &tok, "/users?$filter=userPrincipalName%20eq%20'ADELE.VANCE@contoso.com'&$select=id,displayName,onPremisesSyncEnabled").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["value"].as_array().expect("v").len(), 1);
    assert_eq!(
        v["value"][0],
        json!({"id": ADELE_ID, "displayName": "Adele Vance", "onPremisesSyncEnabled": true})
    );
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,onPremisesSyncEnabled)"
    );
    let (_, v) = get_json(
        &c,
        &tok,
        "/users?$filter=startswith(displayName,'Mallory')&$select=displayName",
    )
    .await;
    assert_eq!(v["value"].as_array().expect("v").len(), 1);
    assert!(
        v["value"][0]["displayName"]
            .as_str()
            .expect("dn")
            .contains("O'Brien")
    );
    let (_, v) = get_json(&c, &tok, "/users?$filter=userPrincipalName%20in%20('adele.vance@contoso.com','yuki.tanaka@contoso.com')").await;
    assert_eq!(v["value"].as_array().expect("v").len(), 2);

    // One user by UPN and by id.
    let (s, v) = get_json(&c, &tok, &format!("/users/{ADELE}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], ADELE_ID);
    assert_eq!(
        v["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    );
    let (s, v) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE_ID}?$select=userPrincipalName"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["userPrincipalName"], ADELE);

    // Group members.
    let (s, v) = get_json(
        &c,
        &tok,
        &format!("/groups/{GROUP}/members?$select=id,userPrincipalName"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let members = v["value"].as_array().expect("members");
    assert_eq!(members.len(), 4);
    assert!(
        members
            .iter()
            .all(|m| m["@odata.type"] == "#microsoft.graph.user")
    );

    // Bad queries.
    for (url, code) in [
        ("/users?$top=0", "Request_BadRequest"),
        ("/users?$top=1000", "Request_BadRequest"),
        (
            "/users?$filter=jobTitle2%20eq%20'x'",
            "Request_UnsupportedQuery",
        ),
        ("/users?$filter=userPrincipalName%20eq", "BadRequest"),
        ("/users?$select=nope", "BadRequest"),
        ("/users?$skiptoken=forged", "Directory_ExpiredPageToken"),
        ("/users?$orderby=displayName", "BadRequest"),
    ] {
        let (s, v) = get_json(&c, &tok, url).await;
        assert_eq!(s, 400, "{url}: {v}");
        assert_eq!(err_code(&v), code, "{url}: {v}");
        assert!(v["error"]["innerError"]["request-id"].is_string());
    }
    let (s, v) = get_json(&c, &tok, "/users/nobody@contoso.com").await;
    assert_eq!((s, err_code(&v)), (404, "Request_ResourceNotFound"));
    let (s, v) = get_json(
        &c,
        &tok,
        "/groups/00000000-0000-0000-0000-000000000000/members",
    )
    .await;
    assert_eq!((s, err_code(&v)), (404, "Request_ResourceNotFound"));
    let (s, v) = get_json(&c, &tok, "/me").await;
    assert_eq!(
        (s, err_code(&v)),
        (400, "BadRequest"),
        "app tokens have no /me"
    );
    let (s, _) = get_json(&c, &tok, "https://graph.microsoft.com/beta/users").await;
    assert_eq!(s, 400);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn tokens_are_checked_and_app_roles_enforced() {
    let t = start_with_reader("graph-auth").await;
    let c = client(&t.sim);
    // No token, a malformed one, a forged one, an expired one.
    let r = c.get(format!("{GRAPH}/users")).send().await.expect("r");
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(err_code(&v), "InvalidAuthenticationToken");
    assert_eq!(v["error"]["message"], "Access token is empty.");
    let (s, v) = get_json(&c, "nodots", "/users").await;
    assert_eq!(s, 401);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("m")
            .starts_with("IDX14100")
    );
    let forged = format!("{}.{}.sig", b64u(b"{}"), b64u(br#"{"exp":99999999999}"#));
    let (s, v) = get_json(&c, &forged, "/users").await;
    assert_eq!((s, err_code(&v)), (401, "InvalidAuthenticationToken"));
    let r = c
        .patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"accessTokenLifetimeSecs": 1}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
    let short = app_token_lenient(&c, PANEL_ID, PANEL_SECRET).await;
    // The simulated clock moves past the 1 s lifetime: no waiting.
    set_clock(&c, json!({"advanceSecs": 2})).await;
    let (s, v) = get_json(&c, &short, "/users").await;
    assert_eq!(s, 401);
    assert_eq!(
        v["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
    set_clock(&c, json!({"offsetSecs": 0})).await;
    c.patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"accessTokenLifetimeSecs": 3599}))
        .send()
        .await
        .expect("patch");

    // The reader app may list users but not touch authentication methods.
    let reader = app_token(&c, READER_ID, "reader-secret").await;
    assert_eq!(get_json(&c, &reader, "/users").await.0, 200);
    let (s, v) = get_json(
        &c,
        &reader,
        &format!("/users/{ADELE}/authentication/fido2Methods"),
    )
    .await;
    assert_eq!((s, err_code(&v)), (403, "accessDenied"), "{v}");
    let (s, v, _) = g(
        &c,
        &reader,
        reqwest::Method::POST,
        &format!("/users/{ADELE}/authentication/temporaryAccessPassMethods"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, err_code(&v)), (403, "accessDenied"));
    let (s, v) = get_json(&c, &reader, &format!("/groups/{GROUP}/members")).await;
    assert_eq!((s, err_code(&v)), (403, "Authorization_RequestDenied"));

    // Token endpoint errors, in the AAD shape.
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, u64);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", PANEL_ID),
                ("client_secret", "wrong"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
            401,
            "invalid_client",
            7000215,
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", PANEL_ID),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
            401,
            "invalid_client",
            7000218,
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", PANEL_ID),
                ("client_secret", PANEL_SECRET),
                ("scope", "User.Read.All"),
            ],
            400,
            "invalid_scope",
            1002012,
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "11111111-1111-1111-1111-111111111111"),
                ("client_secret", "x"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
            400,
            "unauthorized_client",
            700016,
        ),
        (
            vec![("grant_type", "password"), ("client_id", PANEL_ID)],
            400,
            "unsupported_grant_type",
            70003,
        ),
        (
            vec![("client_id", PANEL_ID)],
            400,
            "invalid_request",
            900144,
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", PANEL_ID),
                ("code", "nope"),
                ("redirect_uri", "http://127.0.0.1/callback"),
            ],
            400,
            "invalid_grant",
            9002313,
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", PANEL_ID),
                ("refresh_token", "nope"),
            ],
            400,
            "invalid_grant",
            9002313,
        ),
    ];
    for (form, status, error, code) in cases {
        let (s, v) = token_req(&c, &form).await;
        assert_eq!(s, status, "{form:?}: {v}");
        assert_eq!(v["error"], error, "{form:?}: {v}");
        assert_eq!(v["error_codes"][0], code, "{form:?}: {v}");
        assert!(
            v["error_description"]
                .as_str()
                .expect("d")
                .starts_with(&format!("AADSTS{code}:"))
        );
        assert!(v["correlation_id"].is_string() && v["trace_id"].is_string());
    }
    // Unknown tenant.
    let r = c
        .post(format!("https://{LOGIN}/fabrikam.com/oauth2/v2.0/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 400);
    // client_secret_basic works too, and tenant by domain.
    let r = c
        .post(format!(
            "https://{LOGIN}/contoso.onmicrosoft.com/oauth2/v2.0/token"
        ))
        .basic_auth(PANEL_ID, Some(PANEL_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 200);
    t.sim.shutdown().await;
}

async fn app_token_lenient(c: &reqwest::Client, id: &str, secret: &str) -> String {
    let (st, v) = token_req(
        c,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    v["access_token"].as_str().expect("at").to_string()
}

#[tokio::test]
async fn temporary_access_pass_create_list_delete_and_sign_in() {
    let t = common::start("graph-tap").await;
    let c = client(&t.sim);
    let tok = app_token(&c, PANEL_ID, PANEL_SECRET).await;
    let url = format!("/users/{ADELE}/authentication/temporaryAccessPassMethods");
    let (s, v, h) = g(
        &c,
        &tok,
        reqwest::Method::POST,
        &url,
        Some(json!({"isUsableOnce": true, "lifetimeInMinutes": 60})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert!(h.contains_key("location"));
    let pass = v["temporaryAccessPass"]
        .as_str()
        .expect("pass shown once")
        .to_string();
    assert_eq!(v["isUsableOnce"], true);
    assert_eq!(v["lifetimeInMinutes"], 60);
    assert_eq!(v["isUsable"], true);
    assert_eq!(v["methodUsabilityReason"], "EnabledByPolicy");
    let id = v["id"].as_str().expect("id").to_string();
    // Listing never shows the pass again.
    let (s, v) = get_json(&c, &tok, &url).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().expect("v").len(), 1);
    assert_eq!(v["value"][0]["temporaryAccessPass"], Value::Null);
    let (s, v) = get_json(&c, &tok, &format!("{url}/{id}")).await;
    assert_eq!((s, v["id"].as_str()), (200, Some(id.as_str())));
    // A second TAP while one is active is refused.
    let (s, v, _) = g(&c, &tok, reqwest::Method::POST, &url, Some(json!({}))).await;
    assert_eq!(s, 400, "{v}");
    // The pass signs Adele in.
    let browser = client(&t.sim);
    let _ctx = sign_in_to_security_info(&browser, ADELE, &pass).await;
    let (_, v) = get_json(&c, &tok, &url).await;
    assert_eq!(v["value"][0]["methodUsabilityReason"], "OneTimeUsed");
    assert_eq!(v["value"][0]["isUsable"], false);
    // Delete; then 404.
    let (s, _, _) = g(
        &c,
        &tok,
        reqwest::Method::DELETE,
        &format!("{url}/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, v, _) = g(
        &c,
        &tok,
        reqwest::Method::DELETE,
        &format!("{url}/{id}"),
        None,
    )
    .await;
    assert_eq!((s, err_code(&v)), (404, "itemNotFound"));
    // startDateTime in the future: not usable yet.
    let (s, v, _) = g(
        &c,
        &tok,
        reqwest::Method::POST,
        &url,
        Some(json!({"startDateTime": "2099-01-01T00:00:00Z", "lifetimeInMinutes": 30})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["startDateTime"], "2099-01-01T00:00:00Z");
    assert_eq!(v["methodUsabilityReason"], "NotYetValid");
    // Bad bodies.
    for body in [
        json!({"lifetimeInMinutes": 5}),
        json!({"foo": 1}),
        json!({"isUsableOnce": "yes"}),
        json!([1]),
    ] {
        let (s, v, _) = g(
            &c,
            &tok,
            reqwest::Method::POST,
            &format!(
                "/users/{}/authentication/temporaryAccessPassMethods",
                "yuki.tanaka@contoso.com"
            ),
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 400, "{body}: {v}");
    }
    let r = c
        .post(format!("{GRAPH}{url}"))
        .bearer_auth(&tok)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 400);
    // Not synced: creation fails with "Sync user data".
    scenarios(&c, "jonas.mueller@contoso.com", json!({"notSynced": true})).await;
    let (s, v, _) = g(
        &c,
        &tok,
        reqwest::Method::POST,
        "/users/jonas.mueller@contoso.com/authentication/temporaryAccessPassMethods",
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 404, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("m")
            .contains("Sync user data"),
        "{v}"
    );
    let (s, _) = get_json(&c, &tok, "/users/jonas.mueller@contoso.com").await;
    assert_eq!(s, 404);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn throttling_slow_and_injected_failures() {
    let t = common::start("graph-throttle").await;
    let c = client(&t.sim);
    let tok = app_token(&c, PANEL_ID, PANEL_SECRET).await;
    c.patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"graphThrottle": {"every": 3, "retryAfterSecs": 7}}))
        .send()
        .await
        .expect("patch");
    let mut throttled = 0;
    for _ in 0..6 {
        let (s, v, h) = g(&c, &tok, reqwest::Method::GET, "/users?$top=1", None).await;
        if s == 429 {
            throttled += 1;
            assert_eq!(err_code(&v), "TooManyRequests");
            assert_eq!(h["retry-after"], "7");
        } else {
            assert_eq!(s, 200);
        }
    }
    assert_eq!(throttled, 2);
    c.patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"graphThrottle": null}))
        .send()
        .await
        .expect("patch");
    // failStep graph with failTimes 1: one 500, then fine.
    scenarios(&c, ADELE, json!({"failStep": "graph", "failTimes": 1})).await;
    let url = format!("/users/{ADELE}/authentication/fido2Methods");
    let (s, v) = get_json(&c, &tok, &url).await;
    assert_eq!((s, err_code(&v)), (500, "generalException"), "{v}");
    assert_eq!(get_json(&c, &tok, &url).await.0, 200);
    // slowMs delays calls about that user.
    scenarios(&c, ADELE, json!({"slowMs": 300})).await;
    let t0 = std::time::Instant::now();
    assert_eq!(get_json(&c, &tok, &url).await.0, 200);
    assert!(t0.elapsed().as_millis() >= 300);
    // client-request-id is echoed.
    let r = c
        .get(format!("{GRAPH}/users?$top=1"))
        .bearer_auth(&tok)
        .header("client-request-id", "abc-123")
        .send()
        .await
        .expect("r");
    assert_eq!(r.headers()["client-request-id"], "abc-123");
    assert!(r.headers().contains_key("request-id"));
    t.sim.shutdown().await;
}

/// creationOptions → software key → POST fido2Methods; returns the key and the answer.
async fn provision(
    c: &reqwest::Client,
    tok: &str,
    upn: &str,
    key: &mut Authenticator,
    how: Attestation,
    origin: &str,
) -> (u16, Value) {
    let (s, opts) = get_json(
        c,
        tok,
        &format!("/users/{upn}/authentication/fido2Methods/creationOptions"),
    )
    .await;
    assert_eq!(s, 200, "{opts}");
    let pk = &opts["publicKey"];
    let challenge_s = pk["challenge"].as_str().expect("challenge");
    assert!(!challenge_s.contains('=') && !challenge_s.contains('+') && !challenge_s.contains('/'));
    let challenge = entra_sim::util::b64url_decode(challenge_s).expect("b64url");
    assert_eq!(challenge.len(), 32);
    let user_handle =
        entra_sim::util::b64url_decode(pk["user"]["id"].as_str().expect("uid")).expect("b64");
    let rp = pk["rp"]["id"].as_str().expect("rp").to_string();
    let made = key.create(&rp, origin, &challenge, &user_handle, how);
    let body = json!({
        "displayName": "Provisioned key",
        "publicKeyCredential": {
            "id": b64u(&made.credential_id),
            "response": {
                "clientDataJSON": b64u(&made.client_data_json),
                "attestationObject": b64u(&made.attestation_object),
            },
            "clientExtensionResults": {},
        }
    });
    let (s, v, _) = g(
        c,
        tok,
        reqwest::Method::POST,
        &format!("/users/{upn}/authentication/fido2Methods"),
        Some(body),
    )
    .await;
    (s, v)
}

#[tokio::test]
async fn passkey_provisioning_through_graph_then_sign_in_with_it() {
    let t = common::start("graph-fido").await;
    let c = client(&t.sim);
    let tok = app_token(&c, PANEL_ID, PANEL_SECRET).await;
    // creationOptions shape.
    let (s, opts) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE}/authentication/fido2Methods/creationOptions"),
    )
    .await;
    assert_eq!(s, 200);
    let pk = &opts["publicKey"];
    assert_eq!(
        pk["rp"],
        json!({"id": "login.microsoft.com", "name": "Microsoft"})
    );
    assert_eq!(pk["user"]["name"], ADELE);
    assert_eq!(pk["attestation"], "direct");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(pk["authenticatorSelection"]["requireResidentKey"], true);
    let deadline =
        entra_sim::graph::parse_datetime(opts["challengeTimeoutDateTime"].as_str().expect("t"))
            .expect("dt");
    let now = entra_sim::util::unix_now();
    assert!(deadline > now + 290 && deadline <= now + 301);
    let (s, _) = get_json(&c, &tok, &format!("/users/{ADELE}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes=10)")).await;
    assert_eq!(s, 400, "v1.0 has no custom challenge timeout");

    // Self and none attestation are refused, as by Security info.
    for how in [Attestation::None, Attestation::SelfSigned] {
        let mut k = Authenticator::new(AAGUID);
        let (s, v) = provision(&c, &tok, ADELE, &mut k, how, "https://login.microsoft.com").await;
        assert_eq!(s, 400, "{how:?}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .expect("m")
                .contains("rejected by the tenant's FIDO2 policy"),
            "{v}"
        );
    }
    // Wrong origin fails verification.
    let mut k = Authenticator::new(AAGUID);
    let (s, v) = provision(
        &c,
        &tok,
        ADELE,
        &mut k,
        Attestation::Full,
        "https://login.microsoftonline.com",
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("m")
            .contains("could not be verified"),
        "{v}"
    );

    // The real thing.
    let mut key = Authenticator::new(AAGUID);
    let (s, v) = provision(
        &c,
        &tok,
        ADELE,
        &mut key,
        Attestation::Full,
        "https://login.microsoft.com",
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["displayName"], "Provisioned key");
    assert_eq!(v["aaGuid"], key.aaguid_str());
    assert_eq!(v["attestationLevel"], "notAttested");
    let mid = v["id"].as_str().expect("id").to_string();
    let (s, v) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE}/authentication/fido2Methods"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().expect("v").len(), 1);
    let (s, v) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE}/authentication/fido2Methods/{mid}"),
    )
    .await;
    assert_eq!((s, v["id"].as_str()), (200, Some(mid.as_str())));
    // Next creationOptions excludes it.
    let (_, opts) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE}/authentication/fido2Methods/creationOptions"),
    )
    .await;
    assert_eq!(
        opts["publicKey"]["excludeCredentials"][0]["id"],
        mid.as_str()
    );

    // The provisioned key signs Adele in (login.microsoft.com/common/fido/get).
    let b = client(&t.sim);
    let html = open_security_info(&b).await;
    let flow = form(&html).fields["flowToken"].clone();
    let (st, page) = get(
        &b,
        &format!(
            "https://login.microsoft.com/common/fido/get?uiflavor=Web&ctx={}",
            entra_sim::util::urlenc(&flow)
        ),
    )
    .await;
    assert_eq!(st, 200, "{page}");
    let cfg = config(&page);
    let challenge =
        entra_sim::util::b64url_decode(cfg["oGetOptions"]["challenge"].as_str().expect("c"))
            .expect("b64");
    let a = key.get(
        "login.microsoft.com",
        "https://login.microsoft.com",
        &challenge,
    );
    let mut fields: HashMap<String, String> = form(&page).fields;
    fields.insert("credentialId".into(), b64u(&a.credential_id));
    fields.insert("clientDataJSON".into(), b64u(&a.client_data_json));
    fields.insert("authenticatorData".into(), b64u(&a.authenticator_data));
    fields.insert("signature".into(), b64u(&a.signature));
    fields.insert("userHandle".into(), b64u(&a.user_handle));
    let r = post_form(&b, "https://login.microsoft.com/common/fido/get", &fields).await;
    assert_eq!(r.status(), 303, "assertion accepted");

    // A challenge is single use, and bound to its user.
    let (s, opts) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE}/authentication/fido2Methods/creationOptions"),
    )
    .await;
    assert_eq!(s, 200);
    let ch = entra_sim::util::b64url_decode(opts["publicKey"]["challenge"].as_str().expect("c"))
        .expect("b64");
    let mut k2 = Authenticator::new(AAGUID);
    let made = k2.create(
        "login.microsoft.com",
        "https://login.microsoft.com",
        &ch,
        ADELE_ID.as_bytes(),
        Attestation::Full,
    );
    let body = json!({"displayName": "x", "publicKeyCredential": {"id": b64u(&made.credential_id), "response": {"clientDataJSON": b64u(&made.client_data_json), "attestationObject": b64u(&made.attestation_object)}}});
    let yuki = "/users/yuki.tanaka@contoso.com/authentication/fido2Methods";
    let (s, v, _) = g(&c, &tok, reqwest::Method::POST, yuki, Some(body.clone())).await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("m")
            .contains("another user"),
        "{v}"
    );
    let (s, v, _) = g(
        &c,
        &tok,
        reqwest::Method::POST,
        &format!("/users/{ADELE}/authentication/fido2Methods"),
        Some(body),
    )
    .await;
    assert_eq!(s, 400, "spent challenge: {v}");
    // Bad bodies.
    for body in [
        json!({}),
        json!({"publicKeyCredential": {"id": "x"}}),
        json!({"foo": 1}),
    ] {
        let (s, _, _) = g(&c, &tok, reqwest::Method::POST, yuki, Some(body)).await;
        assert_eq!(s, 400);
    }
    // Key limit and attestation-rejected scenarios.
    scenarios(&c, ADELE, json!({"keyLimitReached": true})).await;
    let (s, v) = provision(
        &c,
        &tok,
        ADELE,
        &mut Authenticator::new(AAGUID),
        Attestation::Full,
        "https://login.microsoft.com",
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"].as_str().expect("m").contains("limit"),
        "{v}"
    );
    scenarios(
        &c,
        ADELE,
        json!({"keyLimitReached": false, "attestationRejected": true}),
    )
    .await;
    let (s, _) = provision(
        &c,
        &tok,
        ADELE,
        &mut Authenticator::new(AAGUID),
        Attestation::Full,
        "https://login.microsoft.com",
    )
    .await;
    assert_eq!(s, 400);
    // Self-service setup off: the provisioning API is refused (Microsoft's known issue).
    c.patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"fido2Policy": {"allowSelfServiceSetup": false}}))
        .send()
        .await
        .expect("patch");
    let (s, v) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE}/authentication/fido2Methods/creationOptions"),
    )
    .await;
    assert_eq!(s, 403);
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("m")
            .contains("self-service")
    );
    // Delete.
    let (s, _, _) = g(
        &c,
        &tok,
        reqwest::Method::DELETE,
        &format!("/users/{ADELE}/authentication/fido2Methods/{mid}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, v) = get_json(
        &c,
        &tok,
        &format!("/users/{ADELE}/authentication/fido2Methods/{mid}"),
    )
    .await;
    assert_eq!((s, err_code(&v)), (404, "itemNotFound"));
    t.sim.shutdown().await;
}

fn pkce() -> (String, String) {
    let verifier = entra_sim::util::b64url(&entra_sim::util::random_bytes(32));
    let challenge = entra_sim::util::b64url(&entra_sim::util::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_url(scope: &str, challenge: &str, port: u16, extra: &str) -> String {
    format!(
        "https://{LOGIN}/{TENANT}/oauth2/v2.0/authorize?client_id={PANEL_ID}&response_type=code&redirect_uri={}&scope={}&state=st-1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        entra_sim::util::urlenc(&format!("http://127.0.0.1:{port}/callback")),
        entra_sim::util::urlenc(scope),
    )
}

/// Username → password → "Stay signed in?" Yes; returns the response after KMSI.
async fn sign_in_with_password(
    c: &reqwest::Client,
    url: &str,
    upn: &str,
    password: &str,
) -> reqwest::Response {
    let (s, html) = get(c, url).await;
    assert_eq!(s, 200, "{html}");
    assert_eq!(config(&html)["pgid"], "ConvergedSignIn");
    let (_, html) = text(submit(c, LOGIN, &html, &[("loginfmt", upn)]).await).await;
    assert!(html.contains("name=\"passwd\""), "{html}");
    let (_, html) = text(submit(c, LOGIN, &html, &[("passwd", password)]).await).await;
    assert_eq!(config(&html)["pgid"], "KmsiInterrupt", "{html}");
    submit(c, LOGIN, &html, &[("LoginOptions", "1")]).await
}

fn code_from(r: &reqwest::Response) -> (String, String) {
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    let u = url::Url::parse(&loc).expect("url");
    let q: HashMap<String, String> = u.query_pairs().into_owned().collect();
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"), "{loc}");
    (q.get("code").cloned().unwrap_or_default(), loc)
}

#[tokio::test]
async fn authorization_code_with_pkce_consent_and_refresh() {
    let t = common::start("graph-authcode").await;
    let c = client(&t.sim);
    let scope =
        "openid profile offline_access User.Read.All UserAuthenticationMethod.ReadWrite.All";
    // Unknown scopes go back to the client at once.
    let (v0, ch0) = pkce();
    let _ = v0;
    let r = c
        .get(authorize_url("openid Mail.Send", &ch0, 5555, ""))
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .expect("l")
            .contains("error=invalid_scope")
    );

    // The admin signs in; the consent page lists the scopes; Cancel → access_denied.
    let (verifier, challenge) = pkce();
    let r = sign_in_with_password(
        &c,
        &authorize_url(scope, &challenge, 5555, ""),
        ADMIN,
        ADMIN_PW,
    )
    .await;
    let (s, html) = text(r).await;
    assert_eq!(s, 200);
    assert_eq!(config(&html)["pgid"], "Consent", "{html}");
    for sc in [
        "User.Read.All",
        "UserAuthenticationMethod.ReadWrite.All",
        "offline_access",
    ] {
        assert!(html.contains(&format!("data-scope=\"{sc}\"")), "{sc}");
    }
    assert!(html.contains("id=\"idBtn_Back\"") && html.contains("id=\"idSIButton9\""));
    let r = submit(&c, LOGIN, &html, &[("cancel", "Cancel")]).await;
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    assert!(
        loc.starts_with("http://127.0.0.1:5555/callback?error=access_denied"),
        "{loc}"
    );
    assert!(loc.contains("AADSTS65004"));

    // Again (the session cookie skips the sign-in pages); Accept this time.
    let r = c
        .get(authorize_url(scope, &challenge, 5555, ""))
        .send()
        .await
        .expect("r");
    let (s, html) = text(r).await;
    assert_eq!((s, config(&html)["pgid"].as_str()), (200, Some("Consent")));
    let r = submit(&c, LOGIN, &html, &[("accept", "Accept")]).await;
    let (code, loc) = code_from(&r);
    assert!(
        loc.starts_with("http://127.0.0.1:5555/callback?code="),
        "{loc}"
    );

    // Redemption: wrong verifier, then the right one, then a replay.
    let redirect = "http://127.0.0.1:5555/callback";
    let (s, v) = token_req(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", PANEL_ID),
            ("code", &code),
            ("redirect_uri", redirect),
            (
                "code_verifier",
                "wrong-verifier-wrong-verifier-wrong-verifier",
            ),
        ],
    )
    .await;
    assert_eq!((s, v["error_codes"][0].as_u64()), (400, Some(50148)), "{v}");
    let (s, v) = token_req(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", PANEL_ID),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error_codes"][0].as_u64()),
        (400, Some(500112)),
        "{v}"
    );
    let (s, v) = token_req(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", PANEL_ID),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let at = v["access_token"].as_str().expect("at").to_string();
    let rt = v["refresh_token"].as_str().expect("rt").to_string();
    assert!(v["id_token"].is_string());
    assert!(
        v["scope"]
            .as_str()
            .expect("scope")
            .contains("https://graph.microsoft.com/User.Read.All")
    );
    let claims = entra_sim::oauth::jwt_payload(&at).expect("jwt");
    assert_eq!(claims["upn"], ADMIN);
    assert!(
        claims["scp"]
            .as_str()
            .expect("scp")
            .contains("UserAuthenticationMethod.ReadWrite.All")
    );
    let (s, v) = token_req(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", PANEL_ID),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!((s, v["error_codes"][0].as_u64()), (400, Some(54005)), "{v}");

    // The delegated token works: /me, users, a TAP for Adele (the admin holds the role).
    let (s, v) = get_json(&c, &at, "/me").await;
    assert_eq!((s, v["userPrincipalName"].as_str()), (200, Some(ADMIN)));
    let (s, v, _) = g(
        &c,
        &at,
        reqwest::Method::POST,
        &format!("/users/{ADELE}/authentication/temporaryAccessPassMethods"),
        Some(json!({"isUsableOnce": true})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    // No GroupMember scope in this token.
    let (s, v) = get_json(&c, &at, &format!("/groups/{GROUP}/members")).await;
    assert_eq!((s, err_code(&v)), (403, "Authorization_RequestDenied"));

    // Refresh: a new access token with the same scopes; a subset can be asked.
    let (s, v) = token_req(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", PANEL_ID),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["refresh_token"].is_string());
    let at2 = v["access_token"].as_str().expect("at").to_string();
    assert_ne!(at2, at);
    assert_eq!(get_json(&c, &at2, "/users?$top=1").await.0, 200);
    let (s, v) = token_req(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", PANEL_ID),
            ("refresh_token", &rt),
            ("scope", "GroupMember.Read.All"),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error_codes"][0].as_u64()),
        (400, Some(65001)),
        "not consented: {v}"
    );

    // Consent is remembered: a new browser, same admin → straight to the code.
    let c2 = client(&t.sim);
    let (_, challenge2) = pkce();
    let r = sign_in_with_password(
        &c2,
        &authorize_url(scope, &challenge2, 6000, ""),
        ADMIN,
        ADMIN_PW,
    )
    .await;
    let (code2, _) = code_from(&r);
    assert!(!code2.is_empty());
    // ... unless prompt=consent.
    let r = c2
        .get(authorize_url(scope, &challenge2, 6000, "&prompt=consent"))
        .send()
        .await
        .expect("r");
    let (_, html) = text(r).await;
    assert_eq!(config(&html)["pgid"], "Consent");

    // A user without an admin role cannot consent to .All permissions.
    let c3 = client(&t.sim);
    let tap = make_tap(&c, "yuki.tanaka@contoso.com", json!({})).await;
    let (_, html) = get(&c3, &authorize_url(scope, &challenge2, 6000, "")).await;
    let (_, html) = text(
        submit(
            &c3,
            LOGIN,
            &html,
            &[("loginfmt", "yuki.tanaka@contoso.com")],
        )
        .await,
    )
    .await;
    let (_, html) = text(submit(&c3, LOGIN, &html, &[("accesspass", &tap)]).await).await;
    let (s, html) = text(submit(&c3, LOGIN, &html, &[("LoginOptions", "1")]).await).await;
    assert_eq!(s, 403);
    assert_eq!(config(&html)["pgid"], "ConsentNeedAdmin");
    assert!(html.contains("AADSTS90094"));
    assert!(html.contains("lang=\"ja\""), "Yuki's pages are in Japanese");
    t.sim.shutdown().await;
}

#[tokio::test]
async fn delegated_calls_need_the_admin_role() {
    let t = common::start("graph-roles").await;
    let c = client(&t.sim);
    // The admin consents for the whole organisation.
    let scope = "openid UserAuthenticationMethod.ReadWrite.All User.Read.All";
    let (_, challenge) = pkce();
    let r = sign_in_with_password(
        &c,
        &authorize_url(scope, &challenge, 7000, ""),
        ADMIN,
        ADMIN_PW,
    )
    .await;
    let (_, html) = text(r).await;
    assert!(
        html.contains("id=\"idConsentOrg\""),
        "admins may consent for the organisation"
    );
    let r = submit(
        &c,
        LOGIN,
        &html,
        &[("accept", "Accept"), ("ConsentOrg", "1")],
    )
    .await;
    code_from(&r);
    // Adele (no role) now gets a token without a consent page...
    let b = client(&t.sim);
    let (verifier, challenge) = pkce();
    let r = sign_in_with_password(
        &b,
        &authorize_url(scope, &challenge, 7000, ""),
        ADELE,
        "Adele-Passw0rd!",
    )
    .await;
    let (code, _) = code_from(&r);
    let (s, v) = token_req(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", PANEL_ID),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:7000/callback"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let at = v["access_token"].as_str().expect("at").to_string();
    assert!(
        v.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    // ...but the scope alone does not let her manage others' methods.
    let (s, v, _) = g(
        &c,
        &at,
        reqwest::Method::POST,
        "/users/yuki.tanaka@contoso.com/authentication/temporaryAccessPassMethods",
        Some(json!({})),
    )
    .await;
    assert_eq!((s, err_code(&v)), (403, "accessDenied"), "{v}");
    let (s, v) = get_json(
        &c,
        &at,
        "/users/yuki.tanaka@contoso.com/authentication/fido2Methods/creationOptions",
    )
    .await;
    assert_eq!((s, err_code(&v)), (403, "accessDenied"), "{v}");
    // Reading her own methods is fine.
    assert_eq!(
        get_json(&c, &at, "/me/authentication/fido2Methods").await.0,
        200
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn accept_none_attestation_for_testing_is_off_by_default_and_not_for_enforcing_tenants() {
    let t = common::start("graph-none-switch").await;
    let c = client(&t.sim);
    let tok = app_token(&c, PANEL_ID, PANEL_SECRET).await;
    let tenant: Value = c
        .get("https://login.microsoftonline.com/__sim/tenant")
        .send()
        .await
        .expect("t")
        .json()
        .await
        .expect("json");
    assert_eq!(
        tenant["fido2Policy"]["acceptNoneAttestationForTesting"],
        false
    );
    c.patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"fido2Policy": {"acceptNoneAttestationForTesting": true}}))
        .send()
        .await
        .expect("patch");
    let (s, v) = provision(
        &c,
        &tok,
        ADELE,
        &mut Authenticator::new(AAGUID),
        Attestation::None,
        "https://login.microsoft.com",
    )
    .await;
    assert_eq!(s, 201, "{v}");
    // Enforcement wins over the testing switch.
    c.patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&json!({"fido2Policy": {"acceptNoneAttestationForTesting": true, "enforceAttestation": true, "trustedAttestationCas": [t.sim.ca_pem.clone()]}}))
        .send()
        .await
        .expect("patch");
    let (s, _) = provision(
        &c,
        &tok,
        ADELE,
        &mut Authenticator::new(AAGUID),
        Attestation::SelfSigned,
        "https://login.microsoft.com",
    )
    .await;
    assert_eq!(s, 400);
    t.sim.shutdown().await;
}
