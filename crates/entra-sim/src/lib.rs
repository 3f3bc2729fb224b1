//! entra-sim: an offline, faithful stand-in for Microsoft Entra ID's sign-in,
//! Security info, FIDO and Graph endpoints, served over HTTPS on the real
//! hostnames (mapped to loopback by the browser's host-resolver rules).
//!
//! Use [`Sim::start`] from tests, or the `entra-sim` binary.
//!
//! - Sign-in pages: [`login`]; Security info and `fido/create`: [`mysignins`].
//! - OAuth 2.0 (authorize with PKCE and consent, token: authorization_code,
//!   refresh_token, client_credentials): [`oauth`].
//! - Microsoft Graph v1.0 subset (users, group members, TAPs, fido2Methods,
//!   creationOptions): [`graph`].
//! - Test control under `/__sim/` on every host (TAPs, keys, scenarios,
//!   tenant policy, apps, events): [`control`].
//! - The demo seed, its users and the Graph app's credentials:
//!   `crates/entra-sim/seeds/README.md`.
//!
//! Benchmark: `cargo run -p entra-sim --release --example bench -- --flows 50 --iterations 5`.

pub mod app;
pub mod cli;
pub mod control;
pub mod error;
pub mod fluent;
pub mod graph;
pub mod html;
pub mod locale;
pub mod login;
pub mod model;
pub mod mysignins;
pub mod oauth;
pub mod server;
pub mod state;
pub mod tls;
pub mod util;
pub mod web;
pub mod webauthn;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

pub use error::{AppError, StartError};
pub use state::SimState;

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Logs one line to stderr; stdout is reserved for the ready line.
pub fn log(msg: &str) {
    // The wall clock: a simulated clock offset must not make the log lie.
    eprintln!("[entra-sim {}] {msg}", util::iso8601(util::wall_now()));
}

/// Logs only when `ENTRA_SIM_DEBUG` is set.
pub fn debug(msg: &str) {
    if DEBUG.load(Ordering::Relaxed) {
        log(msg);
    }
}

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port. Must be loopback.
    pub listen: SocketAddr,
    /// Directory holding the certificates and the persisted tenant state.
    pub state_dir: PathBuf,
    /// Seed file used when the state directory has no tenant yet. `None`
    /// uses the shipped demo seed.
    pub seed: Option<PathBuf>,
    /// Extra delay added to every response, in milliseconds (default 0).
    pub latency_ms: u64,
}

impl SimConfig {
    /// Loopback, a free port, no added latency, the demo seed.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: state_dir.into(),
            seed: None,
            latency_ms: 0,
        }
    }
}

/// Entry point for starting a simulator.
pub struct Sim;

/// A running simulator. Dropping it does not stop it; call [`SimHandle::shutdown`].
pub struct SimHandle {
    pub addr: SocketAddr,
    /// base64 SHA-256 of the leaf certificate's SubjectPublicKeyInfo.
    pub spki: String,
    pub ca_pem_path: PathBuf,
    pub ca_pem: String,
    pub state: Arc<SimState>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sim {
    /// Creates or loads the certificates and the tenant, binds the listener and
    /// starts serving on the current tokio runtime.
    pub async fn start(cfg: SimConfig) -> Result<SimHandle, StartError> {
        if std::env::var_os("ENTRA_SIM_DEBUG").is_some() {
            DEBUG.store(true, Ordering::Relaxed);
        }
        if !cfg.listen.ip().is_loopback() {
            return Err(StartError::Listen(
                cfg.listen.to_string(),
                std::io::Error::other("the simulator only listens on loopback addresses"),
            ));
        }
        let pki = tls::load_or_create(&cfg.state_dir)?;
        let state = Arc::new(SimState::load(&cfg)?);
        state.start_persister();
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| StartError::Listen(cfg.listen.to_string(), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Listen(cfg.listen.to_string(), e))?;
        let (tx, rx) = watch::channel(false);
        let router = app::app(state.clone());
        let task = tokio::spawn(server::serve(
            listener,
            pki.server_config.clone(),
            router,
            rx,
        ));
        Ok(SimHandle {
            addr,
            spki: pki.spki,
            ca_pem_path: pki.ca_pem_path,
            ca_pem: pki.ca_pem,
            state,
            shutdown: tx,
            task,
        })
    }
}

impl SimHandle {
    /// The value for Chromium's `--host-resolver-rules`, mapping every served
    /// hostname to this listener.
    pub fn host_resolver_rules(&self) -> String {
        tls::HOSTS
            .iter()
            .map(|h| format!("MAP {h} {}", self.addr))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The single JSON line the binary prints when ready.
    pub fn ready_line(&self) -> String {
        // Built by hand so the keys keep the documented order.
        let s = |v: &str| serde_json::Value::String(v.to_string()).to_string();
        format!(
            "{{\"listen\":{},\"spki\":{},\"ca\":{},\"hostResolverRules\":{}}}",
            s(&self.addr.to_string()),
            s(&self.spki),
            s(&self.ca_pem_path.display().to_string()),
            s(&self.host_resolver_rules()),
        )
    }

    /// Stops accepting, lets in-flight requests finish (bounded), waits, and
    /// writes any tenant change the background writer has not saved yet.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        self.state.stop_persister();
    }
}
