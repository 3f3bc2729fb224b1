//! The JSON API in process: sign-in, sessions, CSRF, rate limiting,
//! authorization on every route, the tenant connection, the user import,
//! the user list and export, and bad input.

mod common;

use axum::http::{StatusCode, header};
use common::*;
use serde_json::json;

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_returns_the_csrf_token() {
    let p = panel(0).await;
    let a = p.login(OWNER.0, OWNER.1).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let body = a.json();
    assert_eq!(body["account"]["role"], "owner");
    assert_eq!(body["csrfToken"].as_str().unwrap().len(), 43);
    assert!(
        a.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_rate_limited() {
    let p = panel(0).await;
    for _ in 0..panel::auth::MAX_FAILURES {
        let a = p.login(OWNER.0, "wrong-password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.code(), "badCredentials");
    }
    // Even the right password waits now.
    let a = p.login(OWNER.0, OWNER.1).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text);
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    // Another account is not locked out by it.
    let a = p.login("nobody", "whatever-password").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_limit() {
    let p = panel(0).await;
    // All sent at once: each password check takes a while on the blocking
    // pool, so without counting first they would all pass the limit check.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..(panel::auth::MAX_FAILURES * 3) {
        let state = p.state.clone();
        set.spawn(async move {
            let body = json!({"username": OWNER.0, "password": format!("wrong-{i}")});
            let req = axum::http::Request::builder()
                .method("POST")
                .uri("/api/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            tower::ServiceExt::oneshot(panel::app(state), req)
                .await
                .unwrap()
                .status()
        });
    }
    let mut refused = 0;
    let mut limited = 0;
    while let Some(status) = set.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, panel::auth::MAX_FAILURES, "password checks run");
    assert_eq!(limited, panel::auth::MAX_FAILURES * 2);
    assert_eq!(
        p.login(OWNER.0, OWNER.1).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_successful_sign_in_is_not_counted_as_a_failure() {
    let p = panel(0).await;
    for _ in 0..panel::auth::MAX_FAILURES + 1 {
        assert_eq!(p.login(OWNER.0, OWNER.1).await.status, StatusCode::OK);
    }
    for _ in 0..panel::auth::MAX_FAILURES - 1 {
        assert_eq!(
            p.login(OWNER.0, "wrong-password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // A success starts the user name's count over.
    assert_eq!(p.login(OWNER.0, OWNER.1).await.status, StatusCode::OK);
    for _ in 0..panel::auth::MAX_FAILURES {
        assert_eq!(
            p.login(OWNER.0, "wrong-password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn the_tls_warning_is_public_for_the_sign_in_page() {
    let mut p = panel(0).await;
    let a = p.call("GET", "/api/config", &Who::nobody(), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json(), json!({"insecureTls": false}));
    let mut config = (*p.state.config).clone();
    config.insecure_tls = true;
    p.state.config = std::sync::Arc::new(config);
    let a = p.call("GET", "/api/config", &Who::nobody(), None).await;
    assert_eq!(a.json(), json!({"insecureTls": true}));
    // And the page it serves has the banner to show.
    let page = p.call("GET", "/", &Who::nobody(), None).await;
    assert!(page.text.contains("id=\"tls-warning\""));
}

#[tokio::test]
async fn login_from_another_site_is_refused() {
    let p = panel(0).await;
    let who = Who {
        origin: Some("https://evil.example".into()),
        ..Default::default()
    };
    let a = p
        .call(
            "POST",
            "/api/login",
            &who,
            Some(json!({"username": OWNER.0, "password": OWNER.1})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let p = panel(0).await;
    let owner = p.owner().await;
    assert_eq!(
        p.call("GET", "/api/session", &owner, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        p.call("POST", "/api/logout", &owner, None).await.status,
        StatusCode::NO_CONTENT
    );
    let a = p.call("GET", "/api/session", &owner, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.code(), "sessionExpired");
}

#[tokio::test]
async fn idle_sessions_expire() {
    let p = panel(0).await;
    let owner = p.owner().await;
    p.state
        .db
        .lock()
        .unwrap()
        .execute(
            "UPDATE sessions SET last_seen = last_seen - ?1",
            [panel::auth::SESSION_IDLE_SECS + 1],
        )
        .unwrap();
    let a = p.call("GET", "/api/users", &owner, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.code(), "sessionExpired");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
}

#[tokio::test]
async fn csrf_token_is_required_and_must_match() {
    let p = panel(3).await;
    let owner = p.connected_and_synced().await;
    let a = p
        .call("POST", "/api/users/sync", &owner.without_csrf(), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.code(), "csrf");
    let wrong = Who {
        csrf: Some("not-the-token".into()),
        ..owner.clone()
    };
    let a = p.call("POST", "/api/users/sync", &wrong, None).await;
    assert_eq!(a.code(), "csrf");
    // Another session's token does not fit this session.
    let other = p.owner().await;
    let mixed = Who {
        csrf: other.csrf.clone(),
        ..owner.clone()
    };
    assert_eq!(
        p.call("POST", "/api/users/sync", &mixed, None).await.code(),
        "csrf"
    );
    assert_eq!(
        p.call("POST", "/api/users/sync", &owner, None).await.status,
        StatusCode::OK
    );
}

/// Who may call what: every route × no session / Admin without "Edit
/// users" / Admin with it / Owner. `None` means allowed (any status other
/// than 401/403).
#[tokio::test]
async fn authorization_on_every_route() {
    let p = panel(3).await;
    let owner = p.connected_and_synced().await;
    let viewer = p.admin(&owner, "viewer", false).await;
    let editor = p.admin(&owner, "editor", true).await;
    let u = guid(1);
    const ANY: u8 = 0; // any signed-in account
    const EDIT: u8 = 1; // "Edit users" (or Owner)
    const OWNER_ONLY: u8 = 2;
    let routes: Vec<(&str, String, Option<serde_json::Value>, u8)> = vec![
        ("GET", "/api/session".into(), None, ANY),
        (
            "POST",
            "/api/session/password".into(),
            Some(json!({"currentPassword": "x", "newPassword": "y"})),
            ANY,
        ),
        ("GET", "/api/accounts".into(), None, OWNER_ONLY),
        (
            "POST",
            "/api/accounts".into(),
            Some(json!({"username": "n", "password": "p", "role": "admin"})),
            OWNER_ONLY,
        ),
        ("DELETE", "/api/accounts/999".into(), None, OWNER_ONLY),
        ("GET", "/api/audit".into(), None, ANY),
        ("GET", "/api/tenant".into(), None, ANY),
        (
            "POST",
            "/api/tenant/connect".into(),
            Some(json!({})),
            OWNER_ONLY,
        ),
        ("GET", "/callback?state=x&code=y".into(), None, OWNER_ONLY),
        ("GET", "/api/users".into(), None, ANY),
        ("POST", "/api/users/sync".into(), None, EDIT),
        ("GET", "/api/users/export.csv".into(), None, ANY),
        ("GET", "/api/users/waiting".into(), None, ANY),
        ("GET", format!("/api/users/{u}"), None, ANY),
        ("GET", format!("/api/users/{u}/passkeys"), None, ANY),
        (
            "DELETE",
            format!("/api/users/{u}/passkeys/nope"),
            None,
            EDIT,
        ),
        ("POST", format!("/api/users/{u}/tap"), None, EDIT),
        (
            "POST",
            format!("/api/users/{u}/provision"),
            Some(json!({"mode": "manual"})),
            EDIT,
        ),
        ("GET", format!("/api/users/{u}/requests"), None, ANY),
        (
            "POST",
            format!("/api/users/{u}/assertion"),
            Some(json!({"publicKey": {}})),
            EDIT,
        ),
        ("GET", "/api/requests/nope".into(), None, ANY),
        (
            "POST",
            "/api/requests/nope/handoff".into(),
            Some(json!({"type": "pong"})),
            EDIT,
        ),
        ("POST", "/api/requests/nope/cancel".into(), None, EDIT),
        ("GET", "/api/vault".into(), None, ANY),
        ("POST", "/api/logout".into(), None, ANY),
        ("POST", "/api/tenant/disconnect".into(), None, OWNER_ONLY),
    ];
    for (method, path, body, need) in &routes {
        let label = format!("{method} {path}");
        let a = p.call(method, path, &Who::nobody(), body.clone()).await;
        if *path == "/callback?state=x&code=y" {
            // A browser navigation: answered with the page and the reason.
            let loc = a.headers[header::LOCATION].to_str().unwrap();
            assert!(loc.contains("connectError=sign+in+first"), "{loc}");
        } else {
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{label} without a session: {}",
                a.text
            );
            assert_eq!(a.code(), "notSignedIn", "{label}");
        }
        if *method != "GET" {
            let a = p
                .call(method, path, &viewer.without_csrf(), body.clone())
                .await;
            assert_eq!(a.code(), "csrf", "{label} without CSRF: {}", a.text);
        }
        for (who, name, allowed) in [
            (&viewer, "viewer", *need == ANY),
            (&editor, "editor", *need != OWNER_ONLY),
        ] {
            if *method == "POST" && path.ends_with("/logout") {
                continue; // would end the session for the rows below
            }
            let a = p.call(method, path, who, body.clone()).await;
            if path.starts_with("/callback") {
                let loc = a
                    .headers
                    .get(header::LOCATION)
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                assert_eq!(loc.contains("Owner"), !allowed, "{label} as {name}: {loc}");
                continue;
            }
            if allowed {
                assert!(
                    a.status != StatusCode::FORBIDDEN && a.status != StatusCode::UNAUTHORIZED,
                    "{label} as {name} must be allowed: {} {}",
                    a.status,
                    a.text
                );
            } else {
                assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{label} as {name}: {}",
                    a.text
                );
                assert_eq!(a.code(), "forbidden", "{label}");
            }
        }
    }
    // The extension's routes take the request token, not a session.
    for path in [
        "/api/ext/attestation",
        "/api/ext/report",
        "/api/ext/assertion",
    ] {
        let body =
            json!({"requestId": "r", "origin": "https://login.microsoft.com", "publicKey": {}});
        let a = p.call("POST", path, &owner, Some(body.clone())).await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{path} with a session only"
        );
        assert_eq!(a.code(), "badToken");
        let a = p
            .call(
                "POST",
                path,
                &Who::bearer("guessed-token-0000000000"),
                Some(body),
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{path} with a wrong token"
        );
    }
}

#[tokio::test]
async fn tenant_connects_with_pkce_and_reports_how_long_it_stays_valid() {
    let p = panel(0).await;
    let owner = p.owner().await;
    let t = p.call("GET", "/api/tenant", &owner, None).await.json();
    assert_eq!(t["connected"], false);
    let a = p
        .call("POST", "/api/tenant/connect", &owner, Some(json!({})))
        .await;
    let url = url::Url::parse(a.json()["authorizeUrl"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], format!("{PANEL_URL}/callback"));
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    assert_eq!(
        scopes,
        [
            "https://graph.microsoft.com/User.ReadBasic.All",
            "https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All",
            "offline_access"
        ],
        "the scopes the product needs and no more"
    );

    let a = p.connect(&owner).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(
        a.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .contains(TENANT)
    );
    let t = p.call("GET", "/api/tenant", &owner, None).await.json();
    assert_eq!(t["connected"], true);
    assert_eq!(t["tenantId"], TENANT);
    let valid_until = t["validUntil"].as_i64().unwrap();
    assert!(
        valid_until - t["now"].as_i64().unwrap() > 80 * 24 * 3600,
        "{t}"
    );

    // Tokens are sealed at rest.
    let conn = p.state.db.lock().unwrap();
    let (access, refresh): (Vec<u8>, Vec<u8>) = conn
        .query_row("SELECT access_token, refresh_token FROM tenant", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let fake = p.fake.lock().unwrap();
    assert!(
        !access
            .windows(fake.access_token.len())
            .any(|w| w == fake.access_token.as_bytes())
    );
    assert!(!refresh.windows(9).any(|w| w == b"refresh-1"));
}

#[tokio::test]
async fn a_replayed_or_foreign_oauth_answer_is_refused() {
    let p = panel(0).await;
    let owner = p.owner().await;
    let a = p
        .call("GET", "/callback?code=x&state=made-up", &owner, None)
        .await;
    let loc = a.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(loc.contains("connectError="), "{loc}");
    assert_eq!(
        p.call("GET", "/api/tenant", &owner, None).await.json()["connected"],
        false
    );
}

#[tokio::test]
async fn import_follows_every_next_link_and_resync_marks_removed_users() {
    let p = panel(7).await; // 4 pages of 2
    let owner = p.connected_and_synced().await;
    let list = p.call("GET", "/api/users", &owner, None).await.json();
    assert_eq!(list["total"], 7);
    assert_eq!(list["users"][0]["displayName"], "User 1");

    {
        let mut f = p.fake.lock().unwrap();
        f.users.remove(0);
        f.users[0]["displayName"] = json!("Renamed <script>alert(1)</script>");
        f.users.push(
            json!({"id": guid(99), "userPrincipalName": "new@contoso.com", "displayName": "New"}),
        );
        f.users
            .push(json!({"id": "not-a-guid", "userPrincipalName": "x@contoso.com"}));
    }
    let s = p.call("POST", "/api/users/sync", &owner, None).await.json();
    assert_eq!(s["imported"], 7);
    assert_eq!(s["added"], 1);
    assert_eq!(s["removed"], 1);
    assert_eq!(s["skipped"], 1);
    let found = p
        .call("GET", "/api/users?q=renamed", &owner, None)
        .await
        .json();
    assert_eq!(found["total"], 1);
    assert_eq!(
        found["users"][0]["displayName"],
        "Renamed <script>alert(1)</script>"
    );
    let audit = p.call("GET", "/api/audit", &owner, None).await.json();
    assert_eq!(audit["entries"][0]["action"], "users.sync");
}

#[tokio::test]
async fn a_failed_page_changes_nothing() {
    let p = panel(5).await;
    let owner = p.connected_and_synced().await;
    {
        let mut f = p.fake.lock().unwrap();
        f.users.truncate(1);
        f.users.extend((10..15).map(|i| json!({"id": guid(i), "userPrincipalName": format!("n{i}@c.com"), "displayName": "N"})));
        f.fail_users_page = Some(2);
    }
    let a = p.call("POST", "/api/users/sync", &owner, None).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft Graph refused the user list")
    );
    assert!(a.json()["error"]["hint"].as_str().is_some());
    let list = p.call("GET", "/api/users", &owner, None).await.json();
    assert_eq!(list["total"], 5, "the old list stays whole");
}

#[tokio::test]
async fn search_treats_wildcards_literally_and_pages() {
    let p = panel(5).await;
    let owner = p.connected_and_synced().await;
    assert_eq!(
        p.call("GET", "/api/users?q=%25", &owner, None).await.json()["total"],
        0
    );
    assert_eq!(
        p.call("GET", "/api/users?q=user3", &owner, None)
            .await
            .json()["total"],
        1
    );
    let page = p
        .call("GET", "/api/users?limit=2&offset=4", &owner, None)
        .await
        .json();
    assert_eq!(page["users"].as_array().unwrap().len(), 1);
    assert_eq!(page["total"], 5);
}

#[tokio::test]
async fn export_writes_the_documented_columns_for_the_selection() {
    let p = panel(3).await;
    let owner = p.connected_and_synced().await;
    p.fake.lock().unwrap().users[1]["displayName"] = json!("=HYPERLINK(\"x\"), Evil");
    p.call("POST", "/api/users/sync", &owner, None).await;
    let all = p.call("GET", "/api/users/export.csv", &owner, None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        all.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("users.csv")
    );
    let lines: Vec<&str> = all.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], panel::users::CSV_HEADER);
    assert_eq!(lines.len(), 4);
    assert!(
        all.text.contains("\"'=HYPERLINK(\"\"x\"\"), Evil\""),
        "{}",
        all.text
    );
    let picked = p
        .call(
            "GET",
            &format!("/api/users/export.csv?ids={},{}", guid(1), guid(3)),
            &owner,
            None,
        )
        .await;
    let lines: Vec<&str> = picked
        .text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with(&guid(1)));
    assert_eq!(lines[1], format!("{},user1@contoso.com,User 1,0,", guid(1)));
    let bad = p
        .call("GET", "/api/users/export.csv?ids=nope", &owner, None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_json_gets_the_error_shape() {
    let p = panel(0).await;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from("{\"username\": "))
        .unwrap();
    let a = p.raw(req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "badRequest");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );
    let a = p
        .call(
            "POST",
            "/api/login",
            &Who::nobody(),
            Some(json!({"username": "a", "password": "b", "extra": 1})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/login")
        .body(axum::body::Body::from("username=a"))
        .unwrap();
    assert_eq!(
        p.raw(req).await.status,
        StatusCode::BAD_REQUEST,
        "wrong content type"
    );
}

#[tokio::test]
async fn unknown_users_and_routes_are_404_with_a_message() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let a = p
        .call("GET", &format!("/api/users/{}", guid(77)), &owner, None)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sync the users")
    );
    let a = p.call("GET", "/api/nothing", &owner, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "notFound");
}

#[tokio::test]
async fn a_lapsed_connection_says_so_and_an_expired_access_token_is_refreshed() {
    let p = panel(2).await;
    let owner = p.connected_and_synced().await;
    // The access token ran out: the panel refreshes it quietly.
    p.state
        .db
        .lock()
        .unwrap()
        .execute("UPDATE tenant SET access_expires_at = 0", [])
        .unwrap();
    let a = p.call("POST", "/api/users/sync", &owner, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(p.fake.lock().unwrap().refreshes, 1);
    // Microsoft refuses the refresh token: the connection lapsed.
    p.state
        .db
        .lock()
        .unwrap()
        .execute("UPDATE tenant SET access_expires_at = 0", [])
        .unwrap();
    p.fake.lock().unwrap().refresh_invalid = true;
    let a = p.call("POST", "/api/users/sync", &owner, None).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    assert_eq!(a.code(), "tenantConnectionLapsed");
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connect the tenant again")
    );
}

#[tokio::test]
async fn nothing_works_on_graph_before_a_tenant_is_connected() {
    let p = panel(0).await;
    let owner = p.owner().await;
    let a = p.call("POST", "/api/users/sync", &owner, None).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "tenantNotConnected");
}

#[tokio::test]
async fn accounts_owner_manages_and_passwords_are_checked() {
    let p = panel(0).await;
    let owner = p.owner().await;
    let a = p
        .call(
            "POST",
            "/api/accounts",
            &owner,
            Some(json!({"username": "x", "password": "short", "role": "admin"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let _ = p.admin(&owner, "helper", false).await;
    let dup = p
        .call(
            "POST",
            "/api/accounts",
            &owner,
            Some(json!({"username": "HELPER", "password": "long-enough-pass", "role": "admin"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let list = p.call("GET", "/api/accounts", &owner, None).await.json();
    assert_eq!(list["accounts"].as_array().unwrap().len(), 2);
    let me = p.call("GET", "/api/session", &owner, None).await.json();
    let my_id = me["account"]["id"].as_i64().unwrap();
    let a = p
        .call("DELETE", &format!("/api/accounts/{my_id}"), &owner, None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    let p = panel(0).await;
    let first = p.owner().await;
    let second = p.owner().await;
    let a = p
        .call(
            "POST",
            "/api/session/password",
            &first,
            Some(json!({"currentPassword": OWNER.1, "newPassword": "a-brand-new-password"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert_eq!(
        p.call("GET", "/api/session", &second, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        p.call("GET", "/api/session", &first, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        p.login(OWNER.0, "a-brand-new-password").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn pages_carry_a_strict_csp_and_no_inline_script() {
    let p = panel(0).await;
    let a = p.call("GET", "/", &Who::nobody(), None).await;
    assert_eq!(a.status, StatusCode::OK);
    let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(!a.text.contains("<script>"), "no inline script");
    assert!(a.text.contains("<script src=\"app.js\""));
    let js = p.call("GET", "/app.js", &Who::nobody(), None).await;
    assert!(
        js.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        !js.text.contains("innerHTML"),
        "everything is rendered as text"
    );
    assert_eq!(
        p.call("GET", "/../Cargo.toml", &Who::nobody(), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
