//! The panel against the Entra ID simulator (crates/entra-sim) in process:
//! HTTPS on the Microsoft host names, resolved to the simulator and trusting
//! its CA (as `--resolve` and `--ca-file` do), and the OAuth sign-in walked
//! through the simulator's real sign-in and consent pages.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{StatusCode, header};
use entra_sim::{Sim, SimConfig, SimHandle};
use panel::graph::{GraphClient, TlsOptions};
use panel::{AppState, Config, Db};
use serde_json::{Value, json};

use super::{OWNER, TestPanel, Who};

pub const LOGIN: &str = "login.microsoftonline.com";
pub const SIM_ADMIN: (&str, &str) = ("admin@contoso.onmicrosoft.com", "Admin-Passw0rd!");
pub const ADELE: &str = "1c7b6a1f-8e5d-4d2f-8b72-4a2e3d0f9b12";

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "panel-sim-{tag}-{}-{}",
        std::process::id(),
        panel::crypto::random_id().unwrap()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The demo seed plus `extra_users` generated users.
pub fn seed_with_users(dir: &std::path::Path, extra_users: u32) -> PathBuf {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../entra-sim/seeds/demo.json");
    let mut seed: Value = serde_json::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    let users = seed["users"].as_array_mut().unwrap();
    for i in 0..extra_users {
        users.push(json!({
            "id": format!("10000000-0000-4000-8000-{i:012x}"),
            "userPrincipalName": format!("bulk{i:05}@contoso.com"),
            "displayName": format!("Bulk User {i:05}"),
        }));
    }
    let path = dir.join("seed.json");
    std::fs::write(&path, seed.to_string()).unwrap();
    path
}

pub async fn start_sim(tag: &str, seed: Option<PathBuf>) -> SimHandle {
    let mut cfg = SimConfig::new(temp_dir(tag));
    cfg.seed = seed;
    Sim::start(cfg).await.expect("simulator starts")
}

fn tls(sim: &SimHandle) -> TlsOptions {
    TlsOptions {
        ca_pem: Some(sim.ca_pem.as_bytes().to_vec()),
        insecure: false,
        resolve: entra_sim::tls::HOSTS
            .iter()
            .map(|h| (h.to_string(), sim.addr))
            .collect(),
    }
}

/// The panel configured for the simulator's demo tenant and app.
pub fn panel_for(sim: &SimHandle, public_url: &str) -> TestPanel {
    let db = Db::open_in_memory().unwrap();
    let store = Arc::new(panel::store::SqliteKeyStore::new(db.clone()));
    let vault = vault::Vault::new(
        store,
        vault::MasterKey::generate().unwrap(),
        vault::Attestation::generate(vault::Aaguid::DEFAULT).unwrap(),
    );
    let graph = GraphClient::new(
        "https://login.microsoftonline.com",
        "https://graph.microsoft.com",
        &tls(sim),
    )
    .unwrap();
    let mut config = Config::new(public_url);
    config.client_secret = Some("demo-panel-secret".into());
    let state = AppState::new(
        db,
        vault,
        panel::crypto::TokenKey::generate().unwrap(),
        graph,
        config,
    );
    let phc = panel::crypto::hash_password(OWNER.1).unwrap();
    panel::auth::insert_account(&state.db, OWNER.0, &phc, panel::auth::Role::Owner, true).unwrap();
    TestPanel {
        state,
        fake: Default::default(),
        ms: "https://login.microsoftonline.com".into(),
    }
}

/// A browser-like client for the simulator's pages.
pub fn browser(sim: &SimHandle) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem.as_bytes()).unwrap();
    let mut b = reqwest::Client::builder()
        .tls_certs_only([ca])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none());
    for h in entra_sim::tls::HOSTS {
        b = b.resolve(h, sim.addr);
    }
    b.build().unwrap()
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!(" {name}=\"");
    let start = tag.find(&pat)? + pat.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

/// The first form's action and its hidden inputs.
fn form(html: &str) -> (String, HashMap<String, String>) {
    let start = html.find("<form").expect("the page has a form");
    let tag_end = html[start..].find('>').unwrap() + start;
    let action = attr(&html[start..tag_end], "action").unwrap_or_default();
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| e + start);
    let mut fields = HashMap::new();
    for piece in html[start..end].split("<input").skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        if attr(tag, "type").as_deref() == Some("hidden")
            && let Some(name) = attr(tag, "name")
        {
            fields.insert(name, attr(tag, "value").unwrap_or_default());
        }
    }
    (action, fields)
}

async fn submit(c: &reqwest::Client, html: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let (action, mut fields) = form(html);
    for (k, v) in extra {
        fields.insert(k.to_string(), v.to_string());
    }
    let url = if action.starts_with("https://") {
        action
    } else {
        format!("https://{LOGIN}{action}")
    };
    c.post(url).form(&fields).send().await.unwrap()
}

/// Connect → Microsoft sign-in (password) → stay signed in → consent →
/// back to the panel's /callback; returns the panel's answer to it.
pub async fn connect(p: &TestPanel, sim: &SimHandle, owner: &Who) -> super::Answer {
    let a = p
        .call("POST", "/api/tenant/connect", owner, Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let url = a.json()["authorizeUrl"].as_str().unwrap().to_string();
    let c = browser(sim);
    let html = c.get(&url).send().await.unwrap().text().await.unwrap();
    let html = submit(&c, &html, &[("loginfmt", SIM_ADMIN.0)])
        .await
        .text()
        .await
        .unwrap();
    let html = submit(&c, &html, &[("passwd", SIM_ADMIN.1)])
        .await
        .text()
        .await
        .unwrap();
    let mut r = submit(&c, &html, &[("LoginOptions", "1")]).await;
    if r.status() == 200 {
        let html = r.text().await.unwrap();
        assert!(
            html.contains("data-scope=\"UserAuthenticationMethod.ReadWrite.All\""),
            "{html}"
        );
        r = submit(&c, &html, &[("accept", "Accept")]).await;
    }
    assert_eq!(r.status(), 303);
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_string();
    let path = location
        .strip_prefix(p.state.config.public_url.as_str())
        .unwrap_or_else(|| panic!("redirect to the panel: {location}"))
        .to_string();
    p.call("GET", &path, owner, None).await
}
