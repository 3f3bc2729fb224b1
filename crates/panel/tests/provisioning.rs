//! Provisioning requests end to end on the server side: TAP issuance, the
//! `provision` message, the extension's attestation (verified by
//! webauthn-rs-core as Microsoft would), the once-only rule, reports, the
//! Passkeys tab, revocation, the waiting list, assertions and CORS.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{StatusCode, header};
use common::*;
use serde_json::{Value, json};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{
    AttestationCaListBuilder, AttestationConveyancePreference, COSEAlgorithm, Credential,
    PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState, UserVerificationPolicy,
};

const ORIGIN: &str = "https://login.microsoft.com";

fn microsoft() -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "Microsoft",
        "login.microsoft.com",
        vec![url::Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(300),
        None,
        None,
    )
}

fn creation_options(rp: &WebauthnCore, upn: &str) -> (Value, RegistrationState) {
    let builder = rp
        .new_challenge_register_builder(b"entra-user-handle", upn, "User")
        .unwrap()
        .attestation(AttestationConveyancePreference::Direct)
        .user_verification_policy(UserVerificationPolicy::Required)
        .credential_algorithms(vec![COSEAlgorithm::ES256]);
    let (ccr, state) = rp.generate_challenge_register(builder).unwrap();
    (serde_json::to_value(&ccr).unwrap(), state)
}

struct Started {
    request_id: String,
    token: String,
    message: Value,
}

async fn start(p: &TestPanel, who: &Who, user: &str, mode: &str) -> Started {
    let a = p
        .call(
            "POST",
            &format!("/api/users/{user}/provision"),
            who,
            Some(json!({"mode": mode})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let body = a.json();
    let message = body["message"].clone();
    Started {
        request_id: message["requestId"].as_str().unwrap().to_string(),
        token: message["panel"]["token"].as_str().unwrap().to_string(),
        message,
    }
}

fn report(request_id: &str, seq: u32, state: &str, extra: Value) -> Value {
    let mut r = json!({"requestId": request_id, "seq": seq, "state": state, "step": format!("step{seq}"),
        "progress": 0.5, "atMs": 1_700_000_000_000u64 + seq as u64});
    if let (Some(o), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    r
}

#[tokio::test]
async fn automatic_request_issues_a_one_time_tap_and_builds_a_valid_provision_message() {
    let p = panel(2).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    let m = &s.message;
    assert_eq!(m["type"], "provision");
    assert_eq!(m["mode"], "automatic");
    assert_eq!(m["tenantId"], TENANT);
    assert_eq!(
        m["user"],
        json!({"objectId": guid(1), "upn": "user1@contoso.com", "displayName": "User 1"})
    );
    assert!(m["tap"].as_str().unwrap().starts_with("TAP-1-"));
    assert_eq!(
        m["panel"]["attestationUrl"],
        format!("{PANEL_URL}/api/ext/attestation")
    );
    assert_eq!(
        m["panel"]["reportUrl"],
        format!("{PANEL_URL}/api/ext/report")
    );
    // The extension's own parser accepts it.
    protocol::panel::parse_request_text(&m.to_string()).expect("the extension accepts the message");
    // TAP: one-time, short, never stored in clear; the token only hashed.
    let tap_body = p.fake.lock().unwrap().last_tap_body.clone().unwrap();
    assert_eq!(
        tap_body,
        json!({"isUsableOnce": true, "lifetimeInMinutes": 60})
    );
    let conn = p.state.db.lock().unwrap();
    let dump: String = conn
        .query_row(
            "SELECT group_concat(COALESCE(token_hash,'') || COALESCE(step,'') || COALESCE(error_message,''), '|') FROM requests",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!dump.contains(m["tap"].as_str().unwrap()));
    assert!(!dump.contains(&s.token));
    let audit: String = conn
        .query_row(
            "SELECT group_concat(action || ':' || detail, '|') FROM audit",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        audit.contains("tap.issue") && audit.contains("provision.request"),
        "{audit}"
    );
    assert!(!audit.contains("TAP-"), "{audit}");
}

#[tokio::test]
async fn the_get_tap_button_returns_the_pass_once_and_graph_errors_are_clear() {
    let p = panel(2).await;
    let owner = p.connected_and_synced().await;
    let a = p
        .call("POST", &format!("/api/users/{}/tap", guid(2)), &owner, None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["isUsableOnce"], true);
    assert_eq!(a.json()["lifetimeInMinutes"], 60);
    assert!(
        a.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    p.fake.lock().unwrap().tap_error =
        Some((400, "Temporary Access Pass is disabled by policy".into()));
    let a = p
        .call("POST", &format!("/api/users/{}/tap", guid(2)), &owner, None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let e = &a.json()["error"];
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("disabled by policy"),
        "{e}"
    );
    assert!(
        e["hint"]
            .as_str()
            .unwrap()
            .contains("Authentication methods"),
        "{e}"
    );
    // A failed automatic start leaves its request failed, saying why.
    let a = p
        .call(
            "POST",
            &format!("/api/users/{}/provision", guid(2)),
            &owner,
            Some(json!({"mode": "automatic"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let rows: Vec<(String, String)> = p
        .state
        .db
        .lock()
        .unwrap()
        .prepare("SELECT state, error_message FROM requests")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "failed");
    assert!(rows[0].1.contains("disabled by policy"), "{rows:?}");
}

#[tokio::test]
async fn attestation_is_verified_by_webauthn_rs_and_a_second_one_is_refused() {
    let p = panel(2).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    let ext = Who::bearer(&s.token);
    let rp = microsoft();
    let (options, reg_state) = creation_options(&rp, "user1@contoso.com");

    let a = p
        .call(
            "POST",
            "/api/ext/attestation",
            &ext,
            Some(json!({"requestId": s.request_id, "origin": ORIGIN, "publicKey": options})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let response: RegisterPublicKeyCredential = serde_json::from_str(&a.text).unwrap();
    let vault_info = p.call("GET", "/api/vault", &owner, None).await.json();
    let mut trust = AttestationCaListBuilder::new();
    trust
        .insert_device_pem(
            vault_info["attestationCaPem"].as_str().unwrap().as_bytes(),
            vault_info["aaguid"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap(),
            "Passkey Vault".into(),
            BTreeMap::new(),
        )
        .unwrap();
    let cred: Credential = rp
        .register_credential(&response, &reg_state, Some(&trust.build()))
        .expect("Microsoft (webauthn-rs) accepts the vault's packed attestation");

    // Once only: the same call again is refused, even with fresh options.
    let (again, _) = creation_options(&rp, "user1@contoso.com");
    let a = p
        .call(
            "POST",
            "/api/ext/attestation",
            &ext,
            Some(json!({"requestId": s.request_id, "origin": ORIGIN, "publicKey": again})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "alreadyAttested");

    // The final report binds the credential and the Passkeys tab shows it
    // once Entra lists it.
    let cred_id = response.id.clone();
    let done = report(
        &s.request_id,
        9,
        "succeeded",
        json!({"progress": 1.0,
        "result": {"credentialId": cred_id, "keyName": "IDM-00000001-ABC123-20260101", "aaguid": vault_info["aaguid"]}}),
    );
    assert_eq!(
        p.call("POST", "/api/ext/report", &ext, Some(done.clone()))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Idempotent: the same report again changes nothing.
    assert_eq!(
        p.call("POST", "/api/ext/report", &ext, Some(done))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    p.fake.lock().unwrap().fido2.insert(
        guid(1),
        vec![json!({"id": cred_id, "displayName": "IDM-00000001-ABC123-20260101",
            "createdDateTime": "2026-01-01T00:00:00Z", "aaguid": vault_info["aaguid"], "model": "Passkey Vault"})],
    );
    let keys = p
        .call(
            "GET",
            &format!("/api/users/{}/passkeys", guid(1)),
            &owner,
            None,
        )
        .await
        .json();
    let list = keys["passkeys"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{keys}");
    assert_eq!(list[0]["credentialId"], json!(cred_id));
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[0]["name"], "IDM-00000001-ABC123-20260101");
    assert_eq!(list[0]["requestId"], json!(s.request_id));
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["state"], "succeeded");
    assert_eq!(r["reports"].as_array().unwrap().len(), 1);

    // Sign-in with the new key verifies too (the assertion endpoint).
    let builder = rp
        .new_challenge_authenticate_builder(vec![cred], Some(UserVerificationPolicy::Required))
        .unwrap();
    let (rcr, auth_state) = rp.generate_challenge_authenticate(builder).unwrap();
    let a = p
        .call("POST", "/api/ext/assertion", &ext, Some(json!({"requestId": s.request_id, "origin": ORIGIN, "publicKey": serde_json::to_value(&rcr).unwrap()})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let pkc: PublicKeyCredential = serde_json::from_str(&a.text).unwrap();
    let result = rp
        .authenticate_credential(&pkc, &auth_state)
        .expect("assertion verifies");
    assert_eq!(result.counter(), 1);

    // The user is no longer waiting for a passkey.
    let waiting = p
        .call("GET", "/api/users/waiting", &owner, None)
        .await
        .json();
    let ids: Vec<&str> = waiting["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [guid(2)]);
    let list = p
        .call("GET", "/api/users?waiting=true", &owner, None)
        .await
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["users"][0]["id"], json!(guid(2)));
}

#[tokio::test]
async fn attestation_only_for_that_users_microsoft_registration_while_running() {
    let p = panel(2).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    let ext = Who::bearer(&s.token);
    let rp = microsoft();
    let call = |origin: &'static str, options: Value, request_id: String| {
        let p = &p;
        let ext = ext.clone();
        async move {
            p.call(
                "POST",
                "/api/ext/attestation",
                &ext,
                Some(json!({"requestId": request_id, "origin": origin, "publicKey": options})),
            )
            .await
        }
    };
    // Another user's name.
    let (other, _) = creation_options(&rp, "user2@contoso.com");
    let a = call(ORIGIN, other, s.request_id.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    // Another origin / RP ID.
    let (opts, _) = creation_options(&rp, "user1@contoso.com");
    let a = call("https://evil.example", opts.clone(), s.request_id.clone()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    let mut other_rp = opts.clone();
    other_rp["publicKey"]["rp"]["id"] = json!("evil.example");
    let a = call(ORIGIN, other_rp, s.request_id.clone()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    // Malformed options are refused without using up the request.
    let a = call(
        ORIGIN,
        json!({"publicKey": {"challenge": "!!", "user": {"name": "user1@contoso.com"}}}),
        s.request_id.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    // Another request's token.
    let s2 = start(&p, &owner, &guid(2), "automatic").await;
    let a = call(ORIGIN, opts.clone(), s2.request_id.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    // Not while cancelled.
    let c = p
        .call(
            "POST",
            &format!("/api/requests/{}/cancel", s.request_id),
            &owner,
            None,
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    let a = call(ORIGIN, opts.clone(), s.request_id.clone()).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "requestNotRunning");
    // Not after the request's time is up.
    p.state
        .db
        .lock()
        .unwrap()
        .execute(
            "UPDATE requests SET created_at = created_at - 3600 WHERE id = ?1",
            [&s2.request_id],
        )
        .unwrap();
    let a = p
        .call(
            "POST",
            "/api/ext/attestation",
            &Who::bearer(&s2.token),
            Some(json!({"requestId": s2.request_id, "origin": ORIGIN, "publicKey": opts})),
        )
        .await;
    assert_eq!(a.code(), "requestNotRunning");
}

#[tokio::test]
async fn reports_drive_the_request_and_failures_carry_the_extensions_error() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    let ext = Who::bearer(&s.token);
    let accepted = p
        .call(
            "POST",
            &format!("/api/requests/{}/handoff", s.request_id),
            &owner,
            Some(json!({"type": "accepted", "requestId": s.request_id, "position": 0})),
        )
        .await;
    assert_eq!(accepted.json()["request"]["state"], "queued");
    for seq in [1, 3] {
        let r = report(&s.request_id, seq, "running", json!({}));
        assert_eq!(
            p.call("POST", "/api/ext/report", &ext, Some(r))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
    }
    // Seq 2 arrives late: kept, but the step stays at the newest.
    p.call(
        "POST",
        "/api/ext/report",
        &ext,
        Some(report(&s.request_id, 2, "running", json!({}))),
    )
    .await;
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["step"], "step3");
    assert_eq!(r["reports"].as_array().unwrap().len(), 3);

    let failed = report(
        &s.request_id,
        4,
        "failed",
        json!({"error": {"code": "tapNotFound",
        "message": "The Temporary Access Pass was not accepted", "hint": "Issue a new TAP"}}),
    );
    p.call("POST", "/api/ext/report", &ext, Some(failed)).await;
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["state"], "failed");
    assert_eq!(r["request"]["error"]["code"], "tapNotFound");
    assert_eq!(r["request"]["error"]["hint"], "Issue a new TAP");
    // A late progress report does not revive it.
    p.call(
        "POST",
        "/api/ext/report",
        &ext,
        Some(report(&s.request_id, 5, "running", json!({}))),
    )
    .await;
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["state"], "failed");
    let audit = p
        .call("GET", &format!("/api/audit?user={}", guid(1)), &owner, None)
        .await
        .json();
    assert_eq!(audit["entries"][0]["action"], "provision.failed");
    assert_eq!(audit["entries"][0]["actor"], "owner");
    // A new request may start now.
    start(&p, &owner, &guid(1), "manual").await;
}

#[tokio::test]
async fn a_request_nobody_finished_expires_and_frees_the_user() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    p.state
        .db
        .lock()
        .unwrap()
        .execute(
            "UPDATE requests SET created_at = created_at - 3600 WHERE id = ?1",
            [&s.request_id],
        )
        .unwrap();
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["state"], "failed");
    assert_eq!(r["request"]["error"]["code"], "requestExpired");
    assert!(
        r["request"]["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("Show Logs")
    );
    // A success the extension reports late still counts.
    let cred = "bGF0ZS1rZXk";
    p.state
        .db
        .lock()
        .unwrap()
        .execute(
            "UPDATE requests SET attested_credential_id = ?1 WHERE id = ?2",
            [cred, &s.request_id],
        )
        .unwrap();
    p.call(
        "POST",
        "/api/ext/report",
        &Who::bearer(&s.token),
        Some(report(
            &s.request_id,
            1,
            "succeeded",
            json!({"result": {"credentialId": cred, "keyName": "late"}}),
        )),
    )
    .await;
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["state"], "succeeded");
}

#[tokio::test]
async fn one_open_request_per_user_and_refusals_are_recorded() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "manual").await;
    let a = p
        .call(
            "POST",
            &format!("/api/users/{}/provision", guid(1)),
            &owner,
            Some(json!({"mode": "manual"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.code(), "requestOpen");
    let a = p
        .call("POST", &format!("/api/requests/{}/handoff", s.request_id), &owner,
            Some(json!({"type": "error", "code": "incognitoNotAllowed", "message": "\"Allow in Incognito\" is off", "hint": "Open chrome://extensions"})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["request"]["state"], "failed");
    assert_eq!(a.json()["request"]["error"]["code"], "incognitoNotAllowed");
    let a = p
        .call(
            "POST",
            &format!("/api/requests/{}/handoff", s.request_id),
            &owner,
            Some(json!({"type": "launch"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn manual_mode_needs_no_vault_and_binds_the_reported_key() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "manual").await;
    assert!(s.message.get("tap").is_none());
    let ext = Who::bearer(&s.token);
    let (opts, _) = creation_options(&microsoft(), "user1@contoso.com");
    let a = p
        .call(
            "POST",
            "/api/ext/attestation",
            &ext,
            Some(json!({"requestId": s.request_id, "origin": ORIGIN, "publicKey": opts})),
        )
        .await;
    assert_eq!(a.code(), "manualMode");
    let done = report(
        &s.request_id,
        1,
        "succeeded",
        json!({"result": {"credentialId": "aGFyZHdhcmUta2V5", "keyName": "YubiKey"}}),
    );
    p.call("POST", "/api/ext/report", &ext, Some(done)).await;
    let keys = p
        .call(
            "GET",
            &format!("/api/users/{}/passkeys", guid(1)),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(keys["passkeys"][0]["name"], "YubiKey");
    assert_eq!(
        keys["passkeys"][0]["status"], "notInEntra",
        "Entra does not list it (yet)"
    );
    assert_eq!(keys["passkeys"][0]["inVault"], false);
}

#[tokio::test]
async fn revoke_deletes_in_entra_and_in_the_vault() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    let ext = Who::bearer(&s.token);
    let (opts, _) = creation_options(&microsoft(), "user1@contoso.com");
    let a = p
        .call(
            "POST",
            "/api/ext/attestation",
            &ext,
            Some(json!({"requestId": s.request_id, "origin": ORIGIN, "publicKey": opts})),
        )
        .await;
    let cred_id = a.json()["id"].as_str().unwrap().to_string();
    p.call(
        "POST",
        "/api/ext/report",
        &ext,
        Some(report(
            &s.request_id,
            1,
            "succeeded",
            json!({"result": {"credentialId": cred_id, "keyName": "K1"}}),
        )),
    )
    .await;
    // Entra lists it under a method id of its own, and one key the panel
    // did not make.
    p.fake.lock().unwrap().fido2.insert(guid(1), vec![
        json!({"id": format!("{cred_id}="), "displayName": "K1", "createdDateTime": "2026-01-01T00:00:00Z"}),
        json!({"id": "other-method", "displayName": "Someone's YubiKey", "createdDateTime": "2025-01-01T00:00:00Z"}),
    ]);
    let keys = p
        .call(
            "GET",
            &format!("/api/users/{}/passkeys", guid(1)),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(keys["passkeys"].as_array().unwrap().len(), 2, "{keys}");
    assert_eq!(keys["passkeys"][0]["status"], "active");

    // Entra refuses: nothing changes here.
    let viewer = p.admin(&owner, "viewer", false).await;
    let a = p
        .call(
            "DELETE",
            &format!("/api/users/{}/passkeys/{cred_id}", guid(1)),
            &viewer,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let a = p
        .call(
            "DELETE",
            &format!("/api/users/{}/passkeys/{cred_id}", guid(1)),
            &owner,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert_eq!(
        p.fake.lock().unwrap().deleted,
        vec![(guid(1), format!("{cred_id}="))]
    );
    let keys = p
        .call(
            "GET",
            &format!("/api/users/{}/passkeys", guid(1)),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(keys["passkeys"][0]["status"], "revoked");
    assert_eq!(keys["passkeys"][0]["revokedBy"], "owner");
    assert_eq!(
        p.state.vault.credentials(&guid(1)).unwrap().len(),
        0,
        "gone from the vault"
    );
    let again = p
        .call(
            "DELETE",
            &format!("/api/users/{}/passkeys/{cred_id}", guid(1)),
            &owner,
            None,
        )
        .await;
    assert_eq!(again.code(), "alreadyRevoked");
    // A key only Entra knows is revoked by its method id.
    let a = p
        .call(
            "DELETE",
            &format!("/api/users/{}/passkeys/other-method", guid(1)),
            &owner,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let audit = p
        .call("GET", &format!("/api/audit?user={}", guid(1)), &owner, None)
        .await
        .json();
    assert_eq!(audit["entries"][0]["action"], "passkey.revoke");
    let a = p
        .call(
            "DELETE",
            &format!("/api/users/{}/passkeys/never-existed", guid(1)),
            &owner,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_success_for_a_key_the_vault_did_not_make_is_not_bound() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    let ext = Who::bearer(&s.token);
    p.call(
        "POST",
        "/api/ext/report",
        &ext,
        Some(report(
            &s.request_id,
            1,
            "succeeded",
            json!({"result": {"credentialId": "Zm9yZ2Vk", "keyName": "forged"}}),
        )),
    )
    .await;
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["state"], "failed");
    assert_eq!(r["request"]["error"]["code"], "credentialMismatch");
    let keys = p
        .call(
            "GET",
            &format!("/api/users/{}/passkeys", guid(1)),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(keys["passkeys"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_passkeys_tab_still_answers_when_entra_cannot_be_asked() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    p.state
        .db
        .lock()
        .unwrap()
        .execute("UPDATE tenant SET access_expires_at = 0", [])
        .unwrap();
    p.fake.lock().unwrap().refresh_invalid = true;
    let keys = p
        .call(
            "GET",
            &format!("/api/users/{}/passkeys", guid(1)),
            &owner,
            None,
        )
        .await;
    assert_eq!(keys.status, StatusCode::OK);
    assert_eq!(keys.json()["entraError"]["code"], "tenantConnectionLapsed");
}

#[tokio::test]
async fn extension_routes_answer_cors_for_the_extension_only() {
    let p = panel(0).await;
    let pre = |origin: &str| {
        axum::http::Request::builder()
            .method("OPTIONS")
            .uri("/api/ext/report")
            .header(header::ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let a = p.raw(pre(panel::EXTENSION_ORIGIN)).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        panel::EXTENSION_ORIGIN
    );
    assert!(
        a.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let a = p.raw(pre("https://evil.example")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(!a.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    // Not on the rest of the API.
    let a = p
        .raw(
            axum::http::Request::builder()
                .method("OPTIONS")
                .uri("/api/users")
                .header(header::ORIGIN, panel::EXTENSION_ORIGIN)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(!a.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    // The real call carries the header for the extension.
    let who = Who {
        origin: Some(panel::EXTENSION_ORIGIN.into()),
        bearer: Some("x".repeat(43)),
        ..Default::default()
    };
    let a = p
        .call(
            "POST",
            "/api/ext/report",
            &who,
            Some(report("nope", 1, "running", json!({}))),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        panel::EXTENSION_ORIGIN
    );
}

/// Starts an automatic request for user 1 and has the vault attest it;
/// returns the request and the new credential id.
async fn attested(p: &TestPanel, owner: &Who) -> (Started, String) {
    let s = start(p, owner, &guid(1), "automatic").await;
    let (opts, _) = creation_options(&microsoft(), "user1@contoso.com");
    let a = p
        .call(
            "POST",
            "/api/ext/attestation",
            &Who::bearer(&s.token),
            Some(json!({"requestId": s.request_id, "origin": ORIGIN, "publicKey": opts})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let id = a.json()["id"].as_str().unwrap().to_string();
    (s, id)
}

fn vault_ids(p: &TestPanel) -> Vec<String> {
    p.state
        .vault
        .credentials(&guid(1))
        .unwrap()
        .iter()
        .map(|c| panel::crypto::b64url(&c.credential_id))
        .collect()
}

#[tokio::test]
async fn keys_microsoft_never_accepted_leave_the_vault() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    // The accepted key.
    let (s, accepted) = attested(&p, &owner).await;
    let ok = report(
        &s.request_id,
        1,
        "succeeded",
        json!({"result": {"credentialId": accepted, "keyName": "K1"}}),
    );
    p.call("POST", "/api/ext/report", &Who::bearer(&s.token), Some(ok))
        .await;
    assert_eq!(vault_ids(&p), [accepted.as_str()]);

    // The extension reports a failure.
    let (s, _) = attested(&p, &owner).await;
    assert_eq!(vault_ids(&p).len(), 2);
    let failed = report(
        &s.request_id,
        1,
        "failed",
        json!({"error": {"code": "attestationRejected", "message": "no"}}),
    );
    p.call(
        "POST",
        "/api/ext/report",
        &Who::bearer(&s.token),
        Some(failed),
    )
    .await;
    assert_eq!(vault_ids(&p), [accepted.as_str()], "after a failure report");

    // The administrator cancels.
    let (s, _) = attested(&p, &owner).await;
    let c = p
        .call(
            "POST",
            &format!("/api/requests/{}/cancel", s.request_id),
            &owner,
            None,
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(vault_ids(&p), [accepted.as_str()], "after a cancel");

    // Nobody finishes it.
    let (s, _) = attested(&p, &owner).await;
    p.state
        .db
        .lock()
        .unwrap()
        .execute(
            "UPDATE requests SET created_at = created_at - 3600 WHERE id = ?1",
            [&s.request_id],
        )
        .unwrap();
    let r = p
        .call(
            "GET",
            &format!("/api/requests/{}", s.request_id),
            &owner,
            None,
        )
        .await
        .json();
    assert_eq!(r["request"]["error"]["code"], "requestExpired");
    assert_eq!(vault_ids(&p), [accepted.as_str()], "after expiry");

    // A success for another key than the vault made.
    let (s, _) = attested(&p, &owner).await;
    let forged = report(
        &s.request_id,
        1,
        "succeeded",
        json!({"result": {"credentialId": "Zm9yZ2Vk", "keyName": "forged"}}),
    );
    p.call(
        "POST",
        "/api/ext/report",
        &Who::bearer(&s.token),
        Some(forged),
    )
    .await;
    assert_eq!(vault_ids(&p), [accepted.as_str()], "after a mismatch");

    // So a sign-in (no allow list: the newest key) uses the accepted key.
    let a = p
        .call(
            "POST",
            &format!("/api/users/{}/assertion", guid(1)),
            &owner,
            Some(
                json!({"publicKey": {"challenge": "Y2hhbGxlbmdl", "rpId": "login.microsoft.com"}}),
            ),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["id"], json!(accepted));
}

#[tokio::test]
async fn the_attestation_needs_the_requests_user_by_name() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let s = start(&p, &owner, &guid(1), "automatic").await;
    let ext = Who::bearer(&s.token);
    let (opts, _) = creation_options(&microsoft(), "user1@contoso.com");
    let call = |options: Value| {
        let (p, ext, id) = (&p, ext.clone(), s.request_id.clone());
        async move {
            p.call(
                "POST",
                "/api/ext/attestation",
                &ext,
                Some(json!({"requestId": id, "origin": ORIGIN, "publicKey": options})),
            )
            .await
        }
    };
    let mut no_name = opts.clone();
    no_name["publicKey"]["user"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let a = call(no_name).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert_eq!(a.code(), "userNameMissing");
    let mut empty = opts.clone();
    empty["publicKey"]["user"]["name"] = json!("");
    assert_eq!(call(empty).await.code(), "userNameMissing");
    let mut other = opts.clone();
    other["publicKey"]["user"]["name"] = json!("user1@contoso.com.evil");
    let a = call(other).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert_eq!(a.code(), "userMismatch");
    // Refusals do not use up the request; the UPN in another case is the
    // same user.
    let mut upper = opts.clone();
    upper["publicKey"]["user"]["name"] = json!("USER1@Contoso.com");
    let a = call(upper).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

#[tokio::test]
async fn revoke_matches_entra_keys_by_credential_id_only() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let (s, cred_id) = attested(&p, &owner).await;
    let ok = report(
        &s.request_id,
        1,
        "succeeded",
        json!({"result": {"credentialId": cred_id, "keyName": "K1"}}),
    );
    p.call("POST", "/api/ext/report", &Who::bearer(&s.token), Some(ok))
        .await;
    // Entra does not list the vault's key, but another key of the same name.
    p.fake.lock().unwrap().fido2.insert(
        guid(1),
        vec![json!({"id": "someone-elses-key", "displayName": "K1", "createdDateTime": "2025-01-01T00:00:00Z"})],
    );
    let a = p
        .call(
            "DELETE",
            &format!("/api/users/{}/passkeys/{cred_id}", guid(1)),
            &owner,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert!(
        p.fake.lock().unwrap().deleted.is_empty(),
        "the other key with the same name stays in Entra"
    );
    assert!(vault_ids(&p).is_empty(), "the vault's key is gone");
    assert_eq!(p.fake.lock().unwrap().fido2[&guid(1)].len(), 1);
}

#[tokio::test]
async fn the_passkeys_tab_shows_entras_creation_time_for_matched_keys() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    let (s, cred_id) = attested(&p, &owner).await;
    let ok = report(
        &s.request_id,
        1,
        "succeeded",
        json!({"result": {"credentialId": cred_id, "keyName": "K1"}}),
    );
    p.call("POST", "/api/ext/report", &Who::bearer(&s.token), Some(ok))
        .await;
    async fn created(p: &TestPanel, owner: &Who) -> Value {
        let path = format!("/api/users/{}/passkeys", guid(1));
        p.call("GET", &path, owner, None).await.json()["passkeys"][0]["created"].clone()
    }
    // Not listed by Entra: the panel's own time (seconds).
    assert!(created(&p, &owner).await.is_i64());
    p.fake.lock().unwrap().fido2.insert(
        guid(1),
        vec![
            json!({"id": cred_id, "displayName": "K1", "createdDateTime": "2026-02-03T04:05:06Z"}),
        ],
    );
    assert_eq!(created(&p, &owner).await, json!("2026-02-03T04:05:06Z"));
    // Listed without a time: the panel's again.
    p.fake
        .lock()
        .unwrap()
        .fido2
        .insert(guid(1), vec![json!({"id": cred_id, "displayName": "K1"})]);
    assert!(created(&p, &owner).await.is_i64());
}

#[tokio::test]
async fn request_creation_is_atomic_and_a_tap_failure_is_recorded() {
    let p = panel(1).await;
    let owner = p.connected_and_synced().await;
    // Two at once for the same user: exactly one gets through.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (state, owner) = (p.state.clone(), owner.clone());
        set.spawn(async move {
            let req = axum::http::Request::builder()
                .method("POST")
                .uri(format!("/api/users/{}/provision", guid(1)))
                .header(
                    header::COOKIE,
                    format!("panel_session={}", owner.cookie.unwrap()),
                )
                .header("x-csrf-token", owner.csrf.unwrap())
                .header(header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(
                    json!({"mode": "automatic"}).to_string(),
                ))
                .unwrap();
            tower::ServiceExt::oneshot(panel::app(state), req)
                .await
                .unwrap()
                .status()
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let open: i64 = p
        .state
        .db
        .lock()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(open, 1);
    p.state
        .db
        .lock()
        .unwrap()
        .execute("UPDATE requests SET state = 'cancelled'", [])
        .unwrap();

    // Graph refuses the TAP: the request exists, failed, with the reason.
    p.fake.lock().unwrap().tap_error =
        Some((403, "Temporary Access Pass is disabled by policy".into()));
    let a = p
        .call(
            "POST",
            &format!("/api/users/{}/provision", guid(1)),
            &owner,
            Some(json!({"mode": "automatic"})),
        )
        .await;
    assert!(!a.status.is_success(), "{}", a.text);
    let list = p
        .call(
            "GET",
            &format!("/api/users/{}/requests", guid(1)),
            &owner,
            None,
        )
        .await
        .json();
    let newest = &list["requests"][0];
    assert_eq!(newest["state"], "failed", "{list}");
    assert_eq!(newest["error"]["code"], json!(a.code()));
    assert!(
        newest["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled by policy"),
        "{newest}"
    );
    // And the user is free for the next try.
    p.fake.lock().unwrap().tap_error = None;
    start(&p, &owner, &guid(1), "automatic").await;
}
