//! The admin panel: a JSON API and the `www/` front end over one SQLite file.
//!
//! [`app`] builds the router from an [`AppState`]; `main.rs` only parses the
//! command line, opens the pieces and serves. Tests drive [`app`] in process.
//!
//! Modules, by what they own:
//! - [`db`]: the database and its versioned migrations;
//! - [`auth`]: administrator accounts, sessions, CSRF, login rate limits,
//!   roles, and the audit log;
//! - [`graph`]: the OAuth 2.0 client and the Microsoft Graph subset used;
//! - [`tenant`]: connecting the tenant, keeping its tokens fresh, importing
//!   users;
//! - [`users`]: the user list, CSV export, the Passkeys tab, revocation, TAPs;
//! - [`provision`]: provisioning requests and the extension's endpoints
//!   (attestation, report, assertion);
//! - [`store`]: the vault's key store on SQLite;
//! - [`web`]: static files, security headers and CORS;
//! - [`setup`]: start-up steps (the first Owner, the vault's attestation).

#![forbid(unsafe_code)]

pub mod auth;
pub mod crypto;
pub mod db;
pub mod error;
pub mod graph;
pub mod provision;
pub mod setup;
pub mod store;
pub mod tenant;
pub mod users;
pub mod web;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::{delete, get, post};

pub use db::Db;
pub use error::{AppError, AppResult};

/// The extension's fixed id (the manifest's `key`), whose service worker
/// calls the attestation, report and assertion endpoints.
pub const EXTENSION_ID: &str = "hecbpkpmfjdaabfmannfjnghmhoijkgp";
/// Its origin, the only one answered with CORS headers.
pub const EXTENSION_ORIGIN: &str = "chrome-extension://hecbpkpmfjdaabfmannfjnghmhoijkgp";

/// The delegated Graph permissions the panel asks for, and no more:
/// reading users' basic profiles (the import selects only id,
/// userPrincipalName and displayName, which `User.ReadBasic.All` covers),
/// and managing their authentication methods (TAPs, FIDO2 keys).
/// `offline_access` gives the refresh token that keeps the connection alive
/// without an administrator present.
pub const GRAPH_SCOPES: &[&str] = &[
    "https://graph.microsoft.com/User.ReadBasic.All",
    "https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All",
    "offline_access",
];

/// The "Passkey Provisioning Panel" app of the simulator's demo tenant; a
/// real deployment passes its own app registration with `--client-id`.
pub const DEMO_CLIENT_ID: &str = "6bc01f6e-3da2-4c7e-9ac7-9f7d8c5e4a67";

/// Settings that do not change while the panel runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The OAuth authority, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    /// The Graph root, e.g. `https://graph.microsoft.com`.
    pub graph: String,
    /// Where browsers reach the panel (`http://127.0.0.1:PORT`); the OAuth
    /// redirect URI and the extension's callback URLs are built from it.
    pub public_url: String,
    /// The app registration's client id.
    pub client_id: String,
    /// Its client secret, for a confidential client (PKCE is used either way).
    pub client_secret: Option<String>,
    /// Set when TLS verification of Microsoft is off: the UI warns.
    pub insecure_tls: bool,
    /// Serve the front end from this directory instead of the built-in copy.
    pub www_dir: Option<PathBuf>,
    /// Lifetime of the Temporary Access Passes the panel issues. Entra's
    /// minimum is 10 minutes; tenants may require more.
    pub tap_lifetime_minutes: u32,
}

impl Config {
    /// Defaults pointing at Microsoft, served at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Self {
        Config {
            authority: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com".into(),
            public_url: public_url.into(),
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: None,
            insecure_tls: false,
            www_dir: None,
            tap_lifetime_minutes: 60,
        }
    }

    /// Cookies get `Secure` when browsers reach the panel over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub vault: Arc<vault::Vault>,
    pub tokens: Arc<crypto::TokenKey>,
    pub graph: graph::GraphClient,
    pub config: Arc<Config>,
    pub limiter: Arc<auth::LoginLimiter>,
    /// Serialises attestations, so "only once" holds between the check and
    /// the vault call (the vault's own exclude check is not transactional).
    pub attest_lock: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    pub fn new(
        db: Db,
        vault: vault::Vault,
        tokens: crypto::TokenKey,
        graph: graph::GraphClient,
        config: Config,
    ) -> Self {
        AppState {
            db,
            vault: Arc::new(vault),
            tokens: Arc::new(tokens),
            graph,
            config: Arc::new(config),
            limiter: Arc::new(auth::LoginLimiter::default()),
            attest_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let ext = Router::new()
        .route("/api/ext/attestation", post(provision::ext_attestation))
        .route("/api/ext/report", post(provision::ext_report))
        .route("/api/ext/assertion", post(provision::ext_assertion))
        .layer(axum::middleware::from_fn(web::extension_cors));

    let api = Router::new()
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/session", get(auth::session_info))
        .route("/api/session/password", post(auth::change_password))
        .route(
            "/api/accounts",
            get(auth::list_accounts).post(auth::create_account),
        )
        .route("/api/accounts/{id}", delete(auth::delete_account))
        .route("/api/audit", get(auth::list_audit))
        .route("/api/tenant", get(tenant::status))
        .route("/api/tenant/connect", post(tenant::connect))
        .route("/api/tenant/disconnect", post(tenant::disconnect))
        .route("/api/users", get(users::list))
        .route("/api/users/sync", post(tenant::sync_users))
        .route("/api/users/export.csv", get(users::export_csv))
        .route("/api/users/waiting", get(users::waiting))
        .route("/api/users/{id}", get(users::detail))
        .route("/api/users/{id}/passkeys", get(users::passkeys))
        .route(
            "/api/users/{id}/passkeys/{credential_id}",
            delete(users::revoke_passkey),
        )
        .route("/api/users/{id}/tap", post(users::issue_tap))
        .route("/api/users/{id}/provision", post(provision::create))
        .route("/api/users/{id}/requests", get(provision::list_for_user))
        .route(
            "/api/users/{id}/assertion",
            post(provision::admin_assertion),
        )
        .route("/api/requests/{id}", get(provision::get_request))
        .route("/api/requests/{id}/handoff", post(provision::handoff))
        .route("/api/requests/{id}/cancel", post(provision::cancel))
        .route("/api/vault", get(provision::vault_info))
        .route("/callback", get(tenant::callback))
        .route("/api/config", get(web::public_config))
        .route("/healthz", get(|| async { "ok" }));

    Router::new()
        .merge(api)
        .merge(ext)
        .fallback(web::static_file)
        // Bodies are small JSON; 256 KiB is generous and bounds memory.
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(web::security_headers))
        .with_state(state)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One line on stderr, prefixed so it stands out among the other servers'
/// output in test logs. Never given secrets.
pub fn log(line: &str) {
    eprintln!("panel: {line}");
}
