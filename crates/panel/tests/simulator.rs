//! The panel against the Entra ID simulator in process (no fakes): OAuth
//! with PKCE through the simulator's sign-in and consent pages, Graph user
//! import, TAP issuance accepted by the simulator, the Passkeys tab reading
//! Entra's list, and a Graph error surfacing clearly.

mod common;

use axum::http::{StatusCode, header};
use common::sim::{ADELE, connect, panel_for, start_sim};
use common::{PANEL_URL, TENANT};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_import_tap_and_passkeys_against_the_simulator() {
    let sim = start_sim("flow", None).await;
    let p = panel_for(&sim, PANEL_URL);
    let owner = p.owner().await;

    let a = connect(&p, &sim, &owner).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let loc = a.headers[header::LOCATION].to_str().unwrap();
    assert!(loc.contains(&format!("connected={TENANT}")), "{loc}");

    let s = p.call("POST", "/api/users/sync", &owner, None).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.json()["imported"], 5);
    let users = p
        .call("GET", "/api/users?q=adele", &owner, None)
        .await
        .json();
    assert_eq!(users["users"][0]["id"], ADELE);
    assert_eq!(users["users"][0]["upn"], "adele.vance@contoso.com");

    // The simulator issues a one-time TAP the panel never stores.
    let a = p
        .call("POST", &format!("/api/users/{ADELE}/tap"), &owner, None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let tap = a.json()["temporaryAccessPass"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(tap.len() >= 8);
    assert_eq!(a.json()["isUsableOnce"], true);
    let taps = sim
        .state
        .read(|t| t.users.iter().find(|u| u.id == ADELE).map(|u| u.taps.len()))
        .unwrap();
    assert_eq!(taps, 1, "the simulator holds the TAP");

    // The Passkeys tab asks Entra (none yet) without an error.
    let keys = p
        .call("GET", &format!("/api/users/{ADELE}/passkeys"), &owner, None)
        .await
        .json();
    assert!(keys.get("entraError").is_none(), "{keys}");
    assert_eq!(keys["passkeys"], json!([]));

    // An automatic request builds a message the extension accepts.
    let a = p
        .call(
            "POST",
            &format!("/api/users/{ADELE}/provision"),
            &owner,
            Some(json!({"mode": "automatic"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let msg = a.json()["message"].to_string();
    protocol::panel::parse_request_text(&msg).expect("valid provision message");

    // A Graph error comes back with Microsoft's words: an unknown user.
    p.state
        .db
        .lock()
        .unwrap()
        .execute(
            "INSERT INTO users (object_id, upn, display_name, synced_at) VALUES ('00000000-0000-4000-8000-00000000dead', 'gone@contoso.com', 'Gone', 0)",
            [],
        )
        .unwrap();
    let a = p
        .call(
            "POST",
            "/api/users/00000000-0000-4000-8000-00000000dead/tap",
            &owner,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft Graph refused")
    );
    assert!(
        a.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("sync the users")
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_through_graph_then_revoke_against_the_simulator() {
    let sim = start_sim("graph-api", None).await;
    let p = panel_for(&sim, PANEL_URL);
    let owner = p.owner().await;
    assert_eq!(
        connect(&p, &sim, &owner).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        p.call("POST", "/api/users/sync", &owner, None).await.status,
        StatusCode::OK
    );
    let sim_keys = || {
        sim.state
            .read(|t| {
                t.users
                    .iter()
                    .find(|u| u.id == ADELE)
                    .map(|u| u.fido2_keys.len())
            })
            .unwrap()
    };

    // Entra enforces attestation and trusts nobody: refused, nothing kept.
    let c = common::sim::browser(&sim);
    let policy = |enforce: bool| {
        json!({"fido2Policy": {"enabled": true, "allowSelfServiceSetup": true, "enforceAttestation": enforce,
            "allowedAaguids": [], "trustedAttestationCas": [], "keyLimit": 10}})
    };
    let r = c
        .patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&policy(true))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let a = p
        .call(
            "POST",
            &format!("/api/users/{ADELE}/provision"),
            &owner,
            Some(json!({"mode": "automatic", "via": "graph"})),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.text);
    assert!(
        a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("passkey registration"),
        "{}",
        a.text
    );
    assert_eq!(
        p.state.vault.credentials(ADELE).unwrap().len(),
        0,
        "the vault let go of the refused key"
    );
    assert_eq!(sim_keys(), 0);
    let reqs = p
        .call("GET", &format!("/api/users/{ADELE}/requests"), &owner, None)
        .await
        .json();
    assert_eq!(reqs["requests"][0]["state"], "failed");
    assert_eq!(reqs["requests"][0]["via"], "graph");

    // Attestation not enforced: registered, listed by Entra, shown active.
    c.patch("https://login.microsoftonline.com/__sim/tenant")
        .json(&policy(false))
        .send()
        .await
        .unwrap();
    let a = p
        .call(
            "POST",
            &format!("/api/users/{ADELE}/provision"),
            &owner,
            Some(json!({"mode": "automatic", "via": "graph"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let request = &a.json()["request"];
    assert_eq!(request["state"], "succeeded");
    let name = request["keyName"].as_str().unwrap().to_string();
    // IDM-{last 8 of the object id}-{6 random}-{yyyymmdd}
    let parts: Vec<&str> = name.split('-').collect();
    assert_eq!(parts.len(), 4, "{name}");
    assert_eq!((parts[0], parts[1]), ("IDM", &ADELE[ADELE.len() - 8..]));
    assert_eq!(parts[2].len(), 6);
    assert_eq!(parts[3].len(), 8);
    assert_eq!(sim_keys(), 1);
    let keys = p
        .call("GET", &format!("/api/users/{ADELE}/passkeys"), &owner, None)
        .await
        .json();
    let k = &keys["passkeys"][0];
    assert_eq!(k["status"], "active", "{keys}");
    assert_eq!(k["name"], json!(name));
    assert_eq!(k["inVault"], true);
    let credential_id = k["credentialId"].as_str().unwrap().to_string();

    // Revoke: gone in Entra and in the vault.
    let a = p
        .call(
            "DELETE",
            &format!("/api/users/{ADELE}/passkeys/{credential_id}"),
            &owner,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert_eq!(sim_keys(), 0);
    assert_eq!(p.state.vault.credentials(ADELE).unwrap().len(), 0);
    let keys = p
        .call("GET", &format!("/api/users/{ADELE}/passkeys"), &owner, None)
        .await
        .json();
    assert_eq!(keys["passkeys"][0]["status"], "revoked");
    sim.shutdown().await;
}
