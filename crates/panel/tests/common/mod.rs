//! Shared test harness: the panel in process (driven with `oneshot`) and a
//! small fake of Microsoft's OAuth endpoints and Graph on 127.0.0.1, shaped
//! like the real responses (Graph v1.0 docs), with switches for failures.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use panel::graph::{GraphClient, TlsOptions};
use panel::{AppState, Config, Db, app};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub mod sim;

pub const TENANT: &str = "8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13";
pub const PANEL_URL: &str = "http://127.0.0.1:8787";
pub const OWNER: (&str, &str) = ("owner", "owner-password-123");

pub fn guid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

#[derive(Default)]
pub struct FakeMs {
    pub users: Vec<Value>,
    /// Users per page of `/users`, to exercise `@odata.nextLink`.
    pub page_size: usize,
    pub fido2: HashMap<String, Vec<Value>>,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub challenges: HashMap<String, String>,
    /// Switches.
    pub fail_users_page: Option<usize>,
    pub tap_error: Option<(u16, String)>,
    pub refresh_invalid: bool,
    /// Counters.
    pub taps_issued: u32,
    pub refreshes: u32,
    pub deleted: Vec<(String, String)>,
    pub last_tap_body: Option<Value>,
    /// The TAP each user holds (Entra allows one).
    pub taps: HashMap<String, String>,
}

pub type Fake = Arc<Mutex<FakeMs>>;

fn graph_err(status: StatusCode, code: &str, msg: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": msg}})),
    )
        .into_response()
}

fn jwt_with_tid(n: u32) -> String {
    let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.sig{n}",
        b(br#"{"alg":"none"}"#),
        b(format!(r#"{{"tid":"{TENANT}","n":{n}}}"#).as_bytes())
    )
}

fn authorized(f: &Fake, h: &HeaderMap) -> bool {
    let want = format!("Bearer {}", f.lock().unwrap().access_token);
    h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(want.as_str())
}

async fn authorize(State(f): State<Fake>, Query(q): Query<HashMap<String, String>>) -> Response {
    let code = format!("code-{}", q.get("state").map(String::len).unwrap_or(0));
    f.lock().unwrap().challenges.insert(
        code.clone(),
        q.get("code_challenge").cloned().unwrap_or_default(),
    );
    let location = format!(
        "{}?code={code}&state={}",
        q.get("redirect_uri").cloned().unwrap_or_default(),
        url::form_urlencoded::byte_serialize(
            q.get("state").cloned().unwrap_or_default().as_bytes()
        )
        .collect::<String>()
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn token(State(f): State<Fake>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut s = f.lock().unwrap();
    let bad = |d: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant", "error_description": d})),
        )
            .into_response()
    };
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(challenge) = s.challenges.remove(&code) else {
                return bad("AADSTS70008: unknown code");
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
            if computed != challenge {
                return bad("AADSTS501481: The Code_Verifier does not match the code_challenge");
            }
        }
        Some("refresh_token") => {
            if s.refresh_invalid || form.get("refresh_token") != Some(&s.refresh_token) {
                return bad("AADSTS700082: The refresh token has expired due to inactivity.");
            }
            s.refreshes += 1;
        }
        _ => return bad("unsupported grant"),
    }
    let n = s.refreshes + 1;
    s.access_token = jwt_with_tid(n);
    s.refresh_token = format!("refresh-{n}");
    axum::Json(json!({
        "token_type": "Bearer",
        "scope": "https://graph.microsoft.com/User.ReadBasic.All https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All",
        "expires_in": s.expires_in,
        "ext_expires_in": s.expires_in,
        "access_token": s.access_token,
        "refresh_token": s.refresh_token,
    }))
    .into_response()
}

async fn users(
    State(f): State<Fake>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&f, &h) {
        return graph_err(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        );
    }
    let s = f.lock().unwrap();
    let skip: usize = q
        .get("$skiptoken")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let page = skip / s.page_size.max(1);
    if s.fail_users_page == Some(page) {
        return graph_err(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "try later",
        );
    }
    let end = (skip + s.page_size.max(1)).min(s.users.len());
    let mut body = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,displayName)",
        "value": s.users[skip.min(end)..end],
    });
    if end < s.users.len() {
        body["@odata.nextLink"] = json!(format!("{}/v1.0/users?$skiptoken={end}", s.base()));
    }
    axum::Json(body).into_response()
}

impl FakeMs {
    fn base(&self) -> String {
        self.fido2
            .get("__base")
            .and_then(|v| v.first())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }
    fn has_user(&self, id: &str) -> bool {
        self.users.iter().any(|u| u["id"] == json!(id))
    }
}

async fn tap(
    State(f): State<Fake>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    if !authorized(&f, &h) {
        return graph_err(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "expired",
        );
    }
    let mut s = f.lock().unwrap();
    if let Some((status, msg)) = s.tap_error.clone() {
        return graph_err(StatusCode::from_u16(status).unwrap(), "badRequest", &msg);
    }
    if !s.has_user(&id) {
        return graph_err(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist"),
        );
    }
    if s.taps.contains_key(&id) {
        return graph_err(
            StatusCode::BAD_REQUEST,
            "badRequest",
            "The user already has a Temporary Access Pass. Delete it before creating a new one.",
        );
    }
    let method = format!("tap-method-{}", s.taps_issued + 1);
    s.taps.insert(id.clone(), method);
    s.taps_issued += 1;
    s.last_tap_body = serde_json::from_str(&body).ok();
    let lifetime = s
        .last_tap_body
        .as_ref()
        .and_then(|b| b["lifetimeInMinutes"].as_i64())
        .unwrap_or(60);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('x')/authentication/temporaryAccessPassMethods/$entity",
            "id": "a2b1e5a8-0000-0000-0000-000000000000",
            "temporaryAccessPass": format!("TAP-{}-{}", s.taps_issued, &id[..8]),
            "createdDateTime": "2026-01-01T00:00:00Z",
            "startDateTime": "2026-01-01T00:00:00Z",
            "lifetimeInMinutes": lifetime,
            "isUsableOnce": true,
            "isUsable": true,
            "methodUsabilityReason": "EnabledByPolicy"
        })),
    )
        .into_response()
}

async fn tap_list(State(f): State<Fake>, h: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&f, &h) {
        return graph_err(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "expired",
        );
    }
    let s = f.lock().unwrap();
    let value: Vec<Value> = s
        .taps
        .get(&id)
        .map(|m| json!({"id": m, "isUsableOnce": true}))
        .into_iter()
        .collect();
    axum::Json(json!({ "value": value })).into_response()
}

async fn tap_delete(
    State(f): State<Fake>,
    h: HeaderMap,
    Path((id, method)): Path<(String, String)>,
) -> Response {
    if !authorized(&f, &h) {
        return graph_err(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "expired",
        );
    }
    let mut s = f.lock().unwrap();
    if s.taps.get(&id) != Some(&method) {
        return graph_err(StatusCode::NOT_FOUND, "itemNotFound", "no such method");
    }
    s.taps.remove(&id);
    StatusCode::NO_CONTENT.into_response()
}

async fn fido2_list(State(f): State<Fake>, h: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&f, &h) {
        return graph_err(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "expired",
        );
    }
    let s = f.lock().unwrap();
    if !s.has_user(&id) {
        return graph_err(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            "no such user",
        );
    }
    axum::Json(json!({"value": s.fido2.get(&id).cloned().unwrap_or_default()})).into_response()
}

async fn fido2_delete(
    State(f): State<Fake>,
    h: HeaderMap,
    Path((id, method)): Path<(String, String)>,
) -> Response {
    if !authorized(&f, &h) {
        return graph_err(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "expired",
        );
    }
    let mut s = f.lock().unwrap();
    let list = s.fido2.entry(id.clone()).or_default();
    let before = list.len();
    list.retain(|m| m["id"] != json!(method));
    if list.len() == before {
        return graph_err(StatusCode::NOT_FOUND, "itemNotFound", "no such method");
    }
    s.deleted.push((id, method));
    StatusCode::NO_CONTENT.into_response()
}

/// Starts the fake Microsoft; returns its base URL and its state.
pub async fn start_fake_ms(user_count: u32, page_size: usize) -> (String, Fake) {
    let fake: Fake = Arc::new(Mutex::new(FakeMs {
        page_size,
        expires_in: 3600,
        ..Default::default()
    }));
    {
        let mut s = fake.lock().unwrap();
        for i in 1..=user_count {
            s.users.push(json!({
                "id": guid(i),
                "userPrincipalName": format!("user{i}@contoso.com"),
                "displayName": format!("User {i}"),
            }));
        }
    }
    let router = Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/v1.0/users", get(users))
        .route(
            "/v1.0/users/{id}/authentication/temporaryAccessPassMethods",
            post(tap).get(tap_list),
        )
        .route(
            "/v1.0/users/{id}/authentication/temporaryAccessPassMethods/{method}",
            axum::routing::delete(tap_delete),
        )
        .route(
            "/v1.0/users/{id}/authentication/fido2Methods",
            get(fido2_list),
        )
        .route(
            "/v1.0/users/{id}/authentication/fido2Methods/{method}",
            axum::routing::delete(fido2_delete),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    fake.lock()
        .unwrap()
        .fido2
        .insert("__base".into(), vec![json!(base.clone())]);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (base, fake)
}

pub struct TestPanel {
    pub state: AppState,
    pub fake: Fake,
    pub ms: String,
}

pub async fn panel_with_db(db: Db, users: u32, page_size: usize) -> TestPanel {
    let (ms, fake) = start_fake_ms(users, page_size).await;
    let store = Arc::new(panel::store::SqliteKeyStore::new(db.clone()));
    let vault = vault::Vault::new(
        store,
        vault::MasterKey::generate().unwrap(),
        vault::Attestation::generate(vault::Aaguid::DEFAULT).unwrap(),
    );
    let graph = GraphClient::new(&ms, &ms, &TlsOptions::default()).unwrap();
    let mut config = Config::new(PANEL_URL);
    config.authority = ms.clone();
    config.graph = ms.clone();
    let state = AppState::new(
        db,
        vault,
        panel::crypto::TokenKey::generate().unwrap(),
        graph,
        config,
    );
    let phc = panel::crypto::hash_password(OWNER.1).unwrap();
    // A migrated database may hold this account already.
    let _ = panel::auth::insert_account(&state.db, OWNER.0, &phc, panel::auth::Role::Owner, true);
    TestPanel { state, fake, ms }
}

pub async fn panel(users: u32) -> TestPanel {
    panel_with_db(Db::open_in_memory().unwrap(), users, 2).await
}

/// A signed-in browser: its cookie and CSRF token.
#[derive(Clone, Debug, Default)]
pub struct Who {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    pub origin: Option<String>,
}

impl Who {
    pub fn nobody() -> Self {
        Who::default()
    }
    pub fn without_csrf(&self) -> Self {
        Who {
            csrf: None,
            ..self.clone()
        }
    }
    pub fn bearer(token: &str) -> Self {
        Who {
            bearer: Some(token.to_string()),
            ..Default::default()
        }
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

impl TestPanel {
    pub async fn raw(&self, req: Request<Body>) -> Answer {
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 10 << 20)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, who: &Who, body: Option<Value>) -> Answer {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, format!("panel_session={c}"));
        }
        if let Some(c) = &who.csrf {
            b = b.header("x-csrf-token", c);
        }
        if let Some(t) = &who.bearer {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(o) = &who.origin {
            b = b.header(header::ORIGIN, o);
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        self.raw(req).await
    }

    pub async fn login(&self, user: &str, password: &str) -> Answer {
        self.call(
            "POST",
            "/api/login",
            &Who::nobody(),
            Some(json!({"username": user, "password": password})),
        )
        .await
    }

    pub async fn session(&self, user: &str, password: &str) -> Who {
        let a = self.login(user, password).await;
        assert_eq!(a.status, StatusCode::OK, "login: {}", a.text);
        let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
        let value = cookie
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("panel_session=")
            .unwrap()
            .to_string();
        Who {
            cookie: Some(value),
            csrf: a.json()["csrfToken"].as_str().map(str::to_string),
            ..Default::default()
        }
    }

    pub async fn owner(&self) -> Who {
        self.session(OWNER.0, OWNER.1).await
    }

    /// Creates an Admin account and signs it in.
    pub async fn admin(&self, owner: &Who, name: &str, edit_users: bool) -> Who {
        let a = self
            .call(
                "POST",
                "/api/accounts",
                owner,
                Some(json!({"username": name, "password": "admin-password-123", "role": "admin", "editUsers": edit_users})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        self.session(name, "admin-password-123").await
    }

    /// Connects the tenant the way a browser does: connect, follow the
    /// authorize redirect, land on /callback.
    pub async fn connect(&self, owner: &Who) -> Answer {
        let a = self
            .call("POST", "/api/tenant/connect", owner, Some(json!({})))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let url = a.json()["authorizeUrl"].as_str().unwrap().to_string();
        assert!(url.starts_with(&self.ms), "{url}");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = client.get(&url).send().await.unwrap();
        let location = r.headers()[header::LOCATION].to_str().unwrap().to_string();
        let path = location
            .strip_prefix(PANEL_URL)
            .expect("redirect to the panel");
        self.call("GET", path, owner, None).await
    }

    pub async fn connected_and_synced(&self) -> Who {
        let owner = self.owner().await;
        let a = self.connect(&owner).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        let loc = a.headers[header::LOCATION].to_str().unwrap();
        assert!(loc.contains("connected="), "{loc}");
        let s = self.call("POST", "/api/users/sync", &owner, None).await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        owner
    }
}
