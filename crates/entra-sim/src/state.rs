//! The simulator's shared state: the persisted tenant (behind one mutex) and
//! the in-memory runtime records (sign-in flows, sessions, pending
//! registrations, tokens).
//!
//! Persistence: a change to the tenant only marks it dirty; a background
//! thread writes `state.json` (atomically: temp file + rename) at most every
//! [`SAVE_INTERVAL`], from a snapshot taken under the lock and serialised
//! outside it, so no request waits for the disk or for the serialisation of
//! the whole tenant. [`SimState::flush`] writes synchronously; the server
//! calls it on shutdown, and dropping the state flushes too.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use axum::http::HeaderMap;

use crate::SimConfig;
use crate::error::{AppError, StartError};
use crate::model::{Event, Tenant, User};
use crate::util::unix_now;

/// The shipped demo seed, used when no `--seed` is given.
pub const DEMO_SEED: &str = include_str!("../seeds/demo.json");

/// Step names accepted by the `failStep` scenario switch, each answered with
/// HTTP 500 (an error page on pages, JSON on APIs):
/// - `username`, `credential`, `proof-up`, `kmsi`: the sign-in page's form post
/// - `authorize`: issuing the code once signed in (after KMSI or with a session)
/// - `consent`: the consent page's Accept/Cancel post
/// - `token`: the token endpoint (authorization_code, refresh_token grants)
/// - `security-info`: the Security info page
/// - `session-authorize`, `new`, `verify`: the Security info API calls
/// - `fido-create`, `newfido`: the registration ceremony's pages
/// - `fido-get`: sign-in with a security key (page with login_hint, else the post)
/// - `graph`: a Graph call about the user
pub const STEPS: &[&str] = &[
    "username",
    "credential",
    "proof-up",
    "kmsi",
    "authorize",
    "consent",
    "token",
    "security-info",
    "session-authorize",
    "new",
    "fido-create",
    "newfido",
    "verify",
    "fido-get",
    "graph",
];

/// The OAuth request a sign-in flow will answer when it completes.
#[derive(Debug, Clone, Default)]
pub struct AuthzRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: String,
    pub state: String,
    pub nonce: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub prompt: Option<String>,
}

/// One sign-in in progress at login.microsoftonline.com, keyed by its flow token.
#[derive(Debug, Clone)]
pub struct Flow {
    pub created: u64,
    pub authz: AuthzRequest,
    pub user_id: Option<String>,
    pub login_hint: Option<String>,
    /// The credential step passed; waiting for interrupts / KMSI.
    pub authenticated: Option<AuthResult>,
    pub proof_up_shown: bool,
    /// "Ask later" was chosen on the skippable "More information required".
    pub more_info_skipped: bool,
    /// "Stay signed in?" was answered (Yes = true); the registration
    /// campaign comes after it, before the client gets its code.
    pub kmsi_persistent: Option<bool>,
    pub lang: String,
    /// Challenge of a pending `fido/get` ceremony (base64url of the bytes).
    pub fido_state: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct AuthResult {
    pub user_id: String,
    /// Multi-factor satisfied (TAP or FIDO2; a password alone is single factor).
    pub mfa: bool,
    pub method: String,
}

/// A signed-in session at login.microsoftonline.com (cookie ESTSAUTH).
#[derive(Debug, Clone)]
pub struct EstsSession {
    pub user_id: String,
    pub mfa: bool,
    pub method: String,
    pub created: u64,
}

/// An authorization code waiting to be redeemed.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub user_id: String,
    pub mfa: bool,
    pub authz: AuthzRequest,
    pub expires: u64,
    /// Set when redeemed, so a second redemption gets AADSTS54005.
    pub redeemed: bool,
}

/// A session of the Security info app (cookie on mysignins.microsoft.com).
#[derive(Debug, Clone)]
pub struct MySession {
    pub user_id: String,
    pub mfa: bool,
    pub created: u64,
    /// Set by `POST /api/session/authorize`; required by the method APIs.
    pub session_ctx: Option<String>,
}

/// A security-key registration between `new` and `verify`, keyed by canary.
#[derive(Debug, Clone)]
pub struct PendingReg {
    pub user_id: String,
    pub session: String,
    pub created: u64,
    pub server_challenge: String,
    pub legacy: bool,
    pub reg_state: serde_json::Value,
    /// Filled by newfido once the attestation verified.
    pub attested: Option<crate::webauthn::Attested>,
    pub done: bool,
}

/// A Graph access token.
#[derive(Debug, Clone)]
pub struct Token {
    pub client_id: String,
    /// Signed-in user for delegated tokens; `None` for app-only tokens.
    pub user_id: Option<String>,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    pub expires: u64,
}

/// A refresh token (delegated only, issued with `offline_access`).
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub client_id: String,
    pub user_id: String,
    pub mfa: bool,
    /// The Graph scopes and OIDC scopes granted.
    pub scopes: Vec<String>,
    pub expires: u64,
    /// Redeemed by a public client (no secret) at first; then no secret is required.
    pub public_client: bool,
}

/// A consent page waiting for Accept or Cancel.
#[derive(Debug, Clone)]
pub struct PendingConsent {
    pub res: AuthResult,
    pub authz: AuthzRequest,
    /// The scopes listed on the page.
    pub scopes: Vec<String>,
    pub created: u64,
    pub lang: String,
}

/// A Graph creationOptions challenge.
#[derive(Debug, Clone)]
pub struct GraphChallenge {
    pub user_id: String,
    pub reg_state: serde_json::Value,
    pub expires: u64,
}

#[derive(Default)]
pub struct Runtime {
    pub flows: HashMap<String, Flow>,
    pub ests: HashMap<String, EstsSession>,
    pub codes: HashMap<String, AuthCode>,
    pub my: HashMap<String, MySession>,
    pub regs: HashMap<String, PendingReg>,
    pub tokens: HashMap<String, Token>,
    pub graph_challenges: HashMap<String, GraphChallenge>,
    pub refresh: HashMap<String, RefreshToken>,
    /// Consent pages of the Graph authorize flow, by their flow token.
    pub consents: HashMap<String, PendingConsent>,
    /// `authenticationmethods/new` calls answered 500 so far by the
    /// `wizardTransientErrors` switch, by user id.
    pub transient_new: HashMap<String, u32>,
}

impl Runtime {
    /// Drops records past their useful life so a long demo does not grow without bound.
    fn prune(&mut self, now: u64) {
        self.flows.retain(|_, f| now < f.created + 3600);
        self.codes.retain(|_, c| now < c.expires);
        self.regs.retain(|_, r| now < r.created + 3600);
        self.tokens.retain(|_, t| now < t.expires);
        self.graph_challenges.retain(|_, c| now < c.expires + 600);
        self.refresh.retain(|_, r| now < r.expires);
        self.consents.retain(|_, c| now < c.created + 3600);
        self.ests.retain(|_, s| now < s.created + 86_400);
        self.my.retain(|_, s| now < s.created + 86_400);
    }
}

/// Longest a tenant change waits before the background writer saves it.
pub const SAVE_INTERVAL: Duration = Duration::from_millis(100);

/// One request the simulator served: when (Unix ms, real clock) and what.
#[derive(Debug, Clone)]
pub struct Served {
    pub start_ms: f64,
    pub end_ms: f64,
    /// `"GET login.microsoftonline.com/common/oauth2/v2.0/authorize"`: no
    /// query string, which may hold codes and hints.
    pub what: String,
}

/// How many request timings [`SimState::record_served`] keeps: a
/// provisioning makes about 30 requests, so this covers any benchmark run
/// while a long-running simulator stays near 1 MiB for them.
pub const MAX_SERVED_KEPT: usize = 10_000;

pub struct SimState {
    pub cfg: SimConfig,
    state_file: PathBuf,
    tenant: Mutex<Tenant>,
    pub rt: Mutex<Runtime>,
    graph_requests: AtomicU64,
    /// Seconds added to the wall clock for every expiry check of a request
    /// (`PATCH /__sim/clock`); runtime only, never saved.
    clock_offset: AtomicI64,
    /// The recent requests served, with when: benchmarks subtract the
    /// simulator's share from a provisioning's wall time (`GET /__sim/timings`).
    served: Mutex<VecDeque<Served>>,
    /// Bumped (under the tenant lock) by every [`SimState::write`].
    changes: AtomicU64,
    /// The change count last written to `state.json`. Held while a snapshot is
    /// taken and written, so saves never overtake each other.
    saved: Mutex<u64>,
    persister: Arc<Persister>,
}

/// The wake-up channel between [`SimState::write`] and the background writer.
#[derive(Default)]
struct Persister {
    /// Set by a write, cleared by the writer when it takes the work.
    pending: Mutex<bool>,
    wake: Condvar,
    /// A writer thread is running; without one, writes save synchronously.
    running: AtomicBool,
    stop: AtomicBool,
}

impl Persister {
    fn notify(&self) {
        let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *p = true;
        self.wake.notify_one();
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.running.store(false, Ordering::SeqCst);
        self.notify();
    }

    /// Blocks until there is work (`true`) or the writer must stop (`false`).
    fn wait(&self) -> bool {
        let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        while !*p && !self.stop.load(Ordering::SeqCst) {
            p = self.wake.wait(p).unwrap_or_else(|p| p.into_inner());
        }
        *p = false;
        !self.stop.load(Ordering::SeqCst)
    }
}

impl SimState {
    /// Records a request the simulator served (the newest
    /// [`MAX_SERVED_KEPT`] are kept).
    pub fn record_served(&self, served: Served) {
        let mut q = self.served.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= MAX_SERVED_KEPT {
            q.pop_front();
        }
        q.push_back(served);
    }

    /// The recorded serving intervals that ended at or after `since_ms`.
    pub fn served_since(&self, since_ms: f64) -> Vec<Served> {
        let q = self.served.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().filter(|s| s.end_ms >= since_ms).cloned().collect()
    }

    /// Loads `state.json` from the state directory, or creates it from the seed.
    pub fn load(cfg: &SimConfig) -> Result<Self, StartError> {
        let state_file = cfg.state_dir.join("state.json");
        let tenant: Tenant = if state_file.is_file() {
            let text = std::fs::read_to_string(&state_file)
                .map_err(|e| StartError::Io(state_file.display().to_string(), e))?;
            serde_json::from_str(&text)
                .map_err(|e| StartError::Seed(format!("{}: {e}", state_file.display())))?
        } else {
            let (name, text) = match &cfg.seed {
                Some(p) => (
                    p.display().to_string(),
                    std::fs::read_to_string(p)
                        .map_err(|e| StartError::Io(p.display().to_string(), e))?,
                ),
                None => ("demo seed".to_string(), DEMO_SEED.to_string()),
            };
            serde_json::from_str(&text).map_err(|e| StartError::Seed(format!("{name}: {e}")))?
        };
        tenant.validate().map_err(StartError::Seed)?;
        let s = Self {
            cfg: cfg.clone(),
            state_file,
            tenant: Mutex::new(tenant),
            rt: Mutex::new(Runtime::default()),
            graph_requests: AtomicU64::new(0),
            clock_offset: AtomicI64::new(0),
            served: Mutex::new(VecDeque::new()),
            changes: AtomicU64::new(1),
            saved: Mutex::new(0),
            persister: Arc::default(),
        };
        s.flush()
            .map_err(|e| StartError::Io(s.state_file.display().to_string(), e))?;
        Ok(s)
    }

    /// Starts the background writer. Until it runs (and after
    /// [`SimState::stop_persister`]), every write saves synchronously.
    pub fn start_persister(self: &Arc<Self>) {
        let p = self.persister.clone();
        if p.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak: Weak<SimState> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("entra-sim-save".into())
            .spawn(move || {
                while p.wait() {
                    // Debounce: everything written in the next interval goes
                    // into the same save.
                    std::thread::sleep(SAVE_INTERVAL);
                    let Some(s) = weak.upgrade() else { break };
                    s.flush_logged();
                }
            });
        if let Err(e) = spawned {
            self.persister.running.store(false, Ordering::SeqCst);
            crate::log(&format!(
                "cannot start the state writer ({e}); saving synchronously"
            ));
        }
    }

    /// Stops the background writer and writes any unsaved change now.
    pub fn stop_persister(&self) {
        self.persister.stop();
        self.flush_logged();
    }

    /// Writes `state.json` now if the tenant changed since the last save.
    pub fn flush(&self) -> std::io::Result<()> {
        let mut saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
        let (change, snapshot) = {
            let t = self.tenant.lock().unwrap_or_else(|p| p.into_inner());
            let change = self.changes.load(Ordering::SeqCst);
            if change == *saved {
                return Ok(());
            }
            (change, t.clone())
        };
        let text = serde_json::to_vec_pretty(&snapshot).map_err(std::io::Error::other)?;
        crate::util::write_atomic(&self.state_file, &text, false)?;
        *saved = change;
        Ok(())
    }

    fn flush_logged(&self) {
        if let Err(e) = self.flush() {
            crate::log(&format!("cannot save {}: {e}", self.state_file.display()));
        }
    }

    /// The simulated clock offset in seconds (see [`crate::util::unix_now`]).
    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::SeqCst)
    }

    pub fn set_clock_offset(&self, secs: i64) {
        self.clock_offset.store(secs, Ordering::SeqCst);
    }

    /// This simulator's "now", also outside a request.
    pub fn now(&self) -> u64 {
        crate::util::wall_now().saturating_add_signed(self.clock_offset())
    }

    /// Runs `f` on the tenant without changing it.
    pub fn read<R>(&self, f: impl FnOnce(&Tenant) -> R) -> R {
        let t = self.tenant.lock().unwrap_or_else(|p| p.into_inner());
        f(&t)
    }

    /// Runs `f` on the tenant and persists the result: within
    /// [`SAVE_INTERVAL`] when the background writer runs, before returning otherwise.
    pub fn write<R>(&self, f: impl FnOnce(&mut Tenant) -> R) -> R {
        let r = {
            let mut t = self.tenant.lock().unwrap_or_else(|p| p.into_inner());
            let r = f(&mut t);
            self.changes.fetch_add(1, Ordering::SeqCst);
            r
        };
        if self.persister.running.load(Ordering::SeqCst) {
            self.persister.notify();
        } else {
            self.flush_logged();
        }
        r
    }

    /// Runs `f` on the runtime records.
    pub fn rt<R>(&self, f: impl FnOnce(&mut Runtime) -> R) -> R {
        let mut rt = self.rt.lock().unwrap_or_else(|p| p.into_inner());
        let now = unix_now();
        // Pruning is cheap next to a request; doing it inline avoids a timer task.
        if rt.flows.len() + rt.regs.len() + rt.tokens.len() + rt.graph_challenges.len() > 512 {
            rt.prune(now);
        }
        f(&mut rt)
    }

    pub fn user(&self, id_or_upn: &str) -> Option<User> {
        self.read(|t| t.user(id_or_upn).cloned())
    }

    pub fn record(&self, kind: &str, user: Option<&User>, success: bool, detail: &str) {
        let ev = Event {
            at: crate::util::unix_now_ms(),
            kind: kind.to_string(),
            user_id: user.map(|u| u.id.clone()),
            upn: user.map(|u| u.user_principal_name.clone()),
            success,
            detail: detail.to_string(),
        };
        crate::debug(&format!("event {kind} success={success} {detail}"));
        self.write(|t| {
            t.events.push(ev);
            // Keep the log bounded; the control API reads the recent past.
            if t.events.len() > 2000 {
                let cut = t.events.len() - 2000;
                t.events.drain(..cut);
            }
        });
    }

    /// Answers HTTP 500 when the user's `failStep` scenario names this step.
    pub fn maybe_fail(&self, user_id: Option<&str>, step: &str) -> Result<(), AppError> {
        let Some(uid) = user_id else { return Ok(()) };
        // Read first: the common case (no switch) must not rewrite state.json.
        let armed = self.read(|t| {
            t.user(uid)
                .is_some_and(|u| u.scenarios.fail_step.as_deref() == Some(step))
        });
        if !armed {
            return Ok(());
        }
        let fail = self.write(|t| {
            let Some(u) = t.user_mut(uid) else {
                return false;
            };
            let sc = &mut u.scenarios;
            if sc.fail_step.as_deref() != Some(step) {
                return false;
            }
            match sc.fail_times {
                None => true,
                Some(0) => false,
                Some(n) => {
                    sc.fail_times = Some(n - 1);
                    if n == 1 {
                        sc.fail_step = None;
                        sc.fail_times = None;
                    }
                    true
                }
            }
        });
        if fail {
            Err(AppError::Injected(step.to_string()))
        } else {
            Ok(())
        }
    }

    /// Sleeps for the user's `slowMs` scenario.
    pub async fn slow(&self, user_id: Option<&str>) {
        let Some(uid) = user_id else { return };
        let ms = self.read(|t| t.user(uid).map(|u| u.scenarios.slow_ms).unwrap_or(0));
        if ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
    }

    /// Counts a Graph request; `Some(retry_after)` when throttling says 429.
    pub fn graph_throttled(&self) -> Option<u64> {
        let n = self.graph_requests.fetch_add(1, Ordering::Relaxed) + 1;
        self.read(|t| {
            t.graph_throttle.as_ref().and_then(|th| {
                (th.every > 0 && n % (th.every as u64) == 0).then_some(th.retry_after_secs)
            })
        })
    }
}

impl Drop for SimState {
    fn drop(&mut self) {
        self.persister.stop();
        self.flush_logged();
    }
}

/// Picks the page language: the user's locale switch, then `Accept-Language`, then English.
pub fn pick_locale(user: Option<&User>, headers: &HeaderMap) -> &'static str {
    if let Some(l) = user
        .and_then(|u| u.scenarios.locale.as_deref())
        .and_then(crate::locale::lang)
    {
        return l.code;
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for part in accept.split(',') {
        let tag = part.split(';').next().unwrap_or("");
        if let Some(found) = crate::locale::for_tag(tag) {
            return found.code;
        }
    }
    "en"
}
