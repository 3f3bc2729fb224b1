//! Administrator accounts, sessions, CSRF, login rate limiting, roles and
//! the audit log.
//!
//! - Passwords: argon2id PHC strings.
//! - Sessions: a random 32-byte id in an `HttpOnly`, `SameSite=Lax` cookie
//!   (`Secure` when the panel is served over TLS); the database keeps only
//!   its SHA-256. Lax, not Strict, because the OAuth redirect back from
//!   Microsoft is a cross-site top-level navigation that must carry the
//!   session; nothing state-changing is reachable by a GET.
//! - CSRF: a synchronizer token per session, returned by `/api/session` and
//!   `/api/login`, required in the `X-CSRF-Token` header of every call that
//!   is not GET/HEAD. The [`Session`] extractor checks it, so a handler that
//!   takes a `Session` cannot forget.
//! - Roles: an Owner may do everything, including managing accounts and the
//!   tenant connection; an Admin may look, and with "Edit users" also
//!   import, provision, revoke and issue TAPs.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::crypto::{
    dummy_password_hash, hash_password, random_token, secret_hash, verify_password,
};
use crate::error::{AppError, AppJson, AppResult};
use crate::{AppState, now};

pub const SESSION_COOKIE: &str = "panel_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session unused this long ends.
pub const SESSION_IDLE_SECS: i64 = 30 * 60;
/// A session ends this long after sign-in, used or not.
pub const SESSION_MAX_SECS: i64 = 12 * 60 * 60;
/// Failed sign-ins allowed per user name (and, times four, per client
/// address) within [`LIMIT_WINDOW_SECS`].
pub const MAX_FAILURES: usize = 5;
pub const LIMIT_WINDOW_SECS: i64 = 15 * 60;
pub const MIN_PASSWORD_LEN: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    Owner,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The "Edit users" permission (always true for owners).
    pub edit_users: bool,
}

/// A signed-in administrator, extracted from the session cookie; for
/// methods other than GET/HEAD, also proof that the CSRF token matched.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub id_hash: String,
    pub csrf: String,
}

impl Session {
    pub fn require_owner(&self) -> AppResult<()> {
        if self.account.role == Role::Owner {
            Ok(())
        } else {
            Err(AppError::forbidden("only an Owner may do this"))
        }
    }

    pub fn require_edit_users(&self) -> AppResult<()> {
        if self.account.edit_users {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "this account lacks the \"Edit users\" permission; ask an Owner",
            ))
        }
    }
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let cookie = cookie_value(&parts.headers, SESSION_COOKIE)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AppError::unauthorized("notSignedIn", "sign in first"))?;
        let id_hash = secret_hash(cookie);
        let t = now();
        let conn = state.db.lock()?;
        let row = conn
            .query_row(
                "SELECT s.csrf, s.created_at, s.last_seen, a.id, a.username, a.role, a.edit_users
                 FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = ?1",
                [&id_hash],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, bool>(6)?,
                    ))
                },
            )
            .optional()?;
        let expired =
            || AppError::unauthorized("sessionExpired", "your session has expired; sign in again");
        let Some((csrf, created, last_seen, id, username, role, edit_users)) = row else {
            return Err(expired());
        };
        if t - last_seen > SESSION_IDLE_SECS || t - created > SESSION_MAX_SECS {
            conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [&id_hash])?;
            return Err(expired());
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent.is_empty() {
                return Err(AppError::Csrf(
                    "missing X-CSRF-Token header; reload the page".into(),
                ));
            }
            if secret_hash(sent) != secret_hash(&csrf) {
                return Err(AppError::Csrf(
                    "CSRF token does not match; reload the page".into(),
                ));
            }
        }
        // Touch at most once a minute: keeps reads from turning into writes.
        if t - last_seen > 60 {
            conn.execute(
                "UPDATE sessions SET last_seen = ?1 WHERE id_hash = ?2",
                params![t, id_hash],
            )?;
        }
        let role = Role::parse(&role)
            .ok_or_else(|| AppError::internal(format!("account {id} has unknown role {role}")))?;
        Ok(Session {
            account: Account {
                id,
                username,
                role,
                edit_users: edit_users || role == Role::Owner,
            },
            id_hash,
            csrf,
        })
    }
}

/// The client's address when the server knows it (not in `oneshot` tests).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Sign-in attempts per key (user name, client address) in a sliding
/// window. An attempt counts as a failure from before its password check
/// until it succeeds, so guesses sent in parallel cannot all pass the check
/// while none has been recorded yet. In memory: a restart forgets, which
/// costs an attacker a restart of the panel they cannot cause.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl LoginLimiter {
    /// Checks every `(key, max)` and, if none has used up its `max`,
    /// records one attempt at `t` for each, under one lock: `Err(seconds
    /// to wait)` otherwise, recording nothing.
    fn begin(&self, keys: &[(&str, usize)], t: i64) -> Result<(), u64> {
        // A poisoned lock (a panic elsewhere) must not open the gate: refuse.
        let mut map = self.failures.lock().map_err(|_| LIMIT_WINDOW_SECS as u64)?;
        for &(key, max) in keys {
            if let Some(q) = map.get_mut(key) {
                while q.front().is_some_and(|&at| t - at >= LIMIT_WINDOW_SECS) {
                    q.pop_front();
                }
                if q.len() >= max {
                    let wait = q
                        .front()
                        .map_or(1, |&first| (first + LIMIT_WINDOW_SECS - t).max(1) as u64);
                    return Err(wait);
                }
            }
        }
        // Bound memory under a spray of user names.
        if map.len() > 10_000 {
            map.retain(|_, q| q.back().is_some_and(|&at| t - at < LIMIT_WINDOW_SECS));
        }
        for &(key, _) in keys {
            map.entry(key.to_string()).or_default().push_back(t);
        }
        Ok(())
    }

    /// A successful sign-in: the user name's count starts over.
    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }

    /// A successful sign-in takes back its own attempt (recorded at `t`)
    /// from a shared key such as the client address, leaving the others'.
    fn undo(&self, key: &str, t: i64) {
        if let Ok(mut map) = self.failures.lock()
            && let Some(q) = map.get_mut(key)
            && let Some(i) = q.iter().rposition(|&at| at == t)
        {
            q.remove(i);
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> AppResult<HeaderValue> {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| AppError::internal(format!("cookie: {e}")))
}

/// Login CSRF: a cross-site page could sign the victim's browser into the
/// attacker's account. JSON bodies already force a CORS preflight; the
/// Origin check refuses the rest.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            origin == state.config.public_url.trim_end_matches('/')
                || origin.strip_prefix("http://") == Some(host)
                || origin.strip_prefix("https://") == Some(host)
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AppJson(body): AppJson<LoginBody>,
) -> AppResult<Response> {
    if !same_origin(&state, &headers) {
        return Err(AppError::forbidden("sign-in from another site is refused"));
    }
    let username = body.username.trim().to_string();
    if username.is_empty() || body.password.is_empty() {
        return Err(AppError::bad("enter a user name and a password"));
    }
    if username.len() > 128 || body.password.len() > 1024 {
        return Err(AppError::bad("user name or password is too long"));
    }
    let t = now();
    let user_key = format!("u:{}", username.to_lowercase());
    let ip_key = ip.map(|ip| format!("ip:{ip}"));
    let mut keys = vec![(user_key.as_str(), MAX_FAILURES)];
    if let Some(k) = &ip_key {
        keys.push((k.as_str(), MAX_FAILURES * 4));
    }
    // Counted before the (slow) password check, taken back on success.
    state
        .limiter
        .begin(&keys, t)
        .map_err(AppError::RateLimited)?;

    let row = {
        let conn = state.db.lock()?;
        conn.query_row(
            "SELECT id, password_hash FROM accounts WHERE username = ?1",
            [&username],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()?
    };
    // argon2 is deliberately slow: keep it off the async workers.
    let (phc, account_id) = match &row {
        Some((id, phc)) => (phc.clone(), Some(*id)),
        None => (dummy_password_hash().to_string(), None),
    };
    let password = body.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|e| AppError::internal(format!("password check: {e}")))?;
    let Some(account_id) = account_id.filter(|_| ok) else {
        // The attempt stays counted.
        return Err(AppError::unauthorized(
            "badCredentials",
            "wrong user name or password",
        ));
    };
    state.limiter.clear(&user_key);
    if let Some(k) = &ip_key {
        state.limiter.undo(k, t);
    }

    let sid = random_token()?;
    let csrf = random_token()?;
    state.db.tx(|tx| {
        // Old sessions of anyone are cleaned up here, on the rare write.
        tx.execute(
            "DELETE FROM sessions WHERE last_seen < ?1 OR created_at < ?2",
            params![t - SESSION_IDLE_SECS, t - SESSION_MAX_SECS],
        )?;
        tx.execute(
            "INSERT INTO sessions (id_hash, account_id, csrf, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![secret_hash(&sid), account_id, csrf, t],
        )?;
        Ok(())
    })?;
    let account = load_account(&state, account_id)?;
    let mut response = Json(json!({"account": account, "csrfToken": csrf})).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &sid, SESSION_MAX_SECS)?,
    );
    Ok(response)
}

fn load_account(state: &AppState, id: i64) -> AppResult<Account> {
    let conn = state.db.lock()?;
    conn.query_row(
        "SELECT id, username, role, edit_users FROM accounts WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
            ))
        },
    )
    .optional()?
    .and_then(|(id, username, role, edit)| {
        let role = Role::parse(&role)?;
        Some(Account {
            id,
            username,
            role,
            edit_users: edit || role == Role::Owner,
        })
    })
    .ok_or_else(|| AppError::not_found(format!("no account {id}")))
}

pub async fn logout(State(state): State<AppState>, session: Session) -> AppResult<Response> {
    state.db.lock()?.execute(
        "DELETE FROM sessions WHERE id_hash = ?1",
        [&session.id_hash],
    )?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0)?);
    Ok(response)
}

pub async fn session_info(
    State(state): State<AppState>,
    session: Session,
) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(json!({
        "account": session.account,
        "csrfToken": session.csrf,
        "insecureTls": state.config.insecure_tls,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// The password rule for every new password: the API's and the first
/// Owner's from the environment.
pub fn check_new_password(p: &str) -> AppResult<()> {
    if p.chars().count() < MIN_PASSWORD_LEN || p.len() > 1024 {
        return Err(AppError::bad(format!(
            "the password must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<PasswordBody>,
) -> AppResult<StatusCode> {
    check_new_password(&body.new_password)?;
    let phc: String = state.db.lock()?.query_row(
        "SELECT password_hash FROM accounts WHERE id = ?1",
        [session.account.id],
        |r| r.get(0),
    )?;
    let current = body.current_password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&current, &phc))
        .await
        .map_err(|e| AppError::internal(format!("password check: {e}")))?;
    if !ok {
        return Err(AppError::forbidden("the current password is wrong"));
    }
    let new = body.new_password;
    let phc = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| AppError::internal(format!("password hash: {e}")))??;
    state.db.tx(|tx| {
        tx.execute(
            "UPDATE accounts SET password_hash = ?1 WHERE id = ?2",
            params![phc, session.account.id],
        )?;
        // Other sessions of this account end: a changed password is often a
        // response to a leaked one.
        tx.execute(
            "DELETE FROM sessions WHERE account_id = ?1 AND id_hash != ?2",
            params![session.account.id, session.id_hash],
        )?;
        record(tx, &session.account, "password.change", None, "")?;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_accounts(
    State(state): State<AppState>,
    session: Session,
) -> AppResult<Json<serde_json::Value>> {
    session.require_owner()?;
    let conn = state.db.lock()?;
    let mut stmt = conn.prepare(
        "SELECT id, username, role, edit_users, created_at FROM accounts ORDER BY username",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let role: String = r.get(2)?;
            Ok(json!({
                "id": r.get::<_, i64>(0)?,
                "username": r.get::<_, String>(1)?,
                "role": role,
                "editUsers": r.get::<_, bool>(3)? || role == "owner",
                "createdAt": r.get::<_, i64>(4)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "accounts": rows })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAccount {
    username: String,
    password: String,
    role: Role,
    #[serde(default)]
    edit_users: bool,
}

/// The user name rule for every new account.
pub fn check_username(username: &str) -> AppResult<()> {
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_alphanumeric() || "._@-".contains(c))
    {
        return Err(AppError::bad(
            "user names are 1 to 64 letters, digits, '.', '_', '@' or '-'",
        ));
    }
    Ok(())
}

/// Creates an account (also used by `--demo-seed`).
pub fn insert_account(
    db: &crate::Db,
    username: &str,
    password_hash: &str,
    role: Role,
    edit_users: bool,
) -> AppResult<i64> {
    db.tx(|tx| {
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE username = ?1)",
            [username],
            |r| r.get(0),
        )?;
        if exists {
            return Err(AppError::conflict(
                "accountExists",
                format!("an account named {username:?} already exists"),
            ));
        }
        tx.execute(
            "INSERT INTO accounts (username, password_hash, role, edit_users, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![username, password_hash, role.as_str(), edit_users, now()],
        )?;
        Ok(tx.last_insert_rowid())
    })
}

pub async fn create_account(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<NewAccount>,
) -> AppResult<(StatusCode, Json<serde_json::Value>)> {
    session.require_owner()?;
    let username = body.username.trim().to_string();
    check_username(&username)?;
    check_new_password(&body.password)?;
    let password = body.password;
    let phc = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::internal(format!("password hash: {e}")))??;
    let id = insert_account(&state.db, &username, &phc, body.role, body.edit_users)?;
    state.db.tx(|tx| {
        record(
            tx,
            &session.account,
            "account.create",
            None,
            &format!("{username} ({})", body.role.as_str()),
        )
    })?;
    let account = load_account(&state, id)?;
    Ok((StatusCode::CREATED, Json(json!({ "account": account }))))
}

pub async fn delete_account(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    session.require_owner()?;
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::bad(format!("{id:?} is not an account id")))?;
    if id == session.account.id {
        return Err(AppError::bad("you cannot delete your own account"));
    }
    state.db.tx(|tx| {
        let username: Option<String> = tx
            .query_row("SELECT username FROM accounts WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let username = username.ok_or_else(|| AppError::not_found(format!("no account {id}")))?;
        tx.execute("DELETE FROM accounts WHERE id = ?1", [id])?;
        record(tx, &session.account, "account.delete", None, &username)
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Appends to the audit log inside the caller's transaction, so the entry
/// exists exactly when the change it describes does.
pub fn record(
    tx: &rusqlite::Transaction<'_>,
    actor: &Account,
    action: &str,
    target: Option<(&str, &str)>,
    detail: &str,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO audit (at, actor_id, actor, action, target_user_id, target_upn, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            now(),
            actor.id,
            actor.username,
            action,
            target.map(|t| t.0),
            target.map(|t| t.1),
            detail
        ],
    )?;
    Ok(())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<u32>,
    user: Option<String>,
}

pub async fn list_audit(
    State(state): State<AppState>,
    _session: Session,
    Query(q): Query<AuditQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let conn = state.db.lock()?;
    let mut stmt = conn.prepare(
        "SELECT at, actor, action, target_user_id, target_upn, detail FROM audit
         WHERE (?1 IS NULL OR target_user_id = ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![q.user, limit], |r| {
            Ok(json!({
                "at": r.get::<_, i64>(0)?,
                "actor": r.get::<_, String>(1)?,
                "action": r.get::<_, String>(2)?,
                "targetUserId": r.get::<_, Option<String>>(3)?,
                "targetUpn": r.get::<_, Option<String>>(4)?,
                "detail": r.get::<_, String>(5)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "entries": rows })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_max_attempts_and_forgets_after_the_window() {
        let l = LoginLimiter::default();
        let a = [("u:a", MAX_FAILURES), ("ip:1", MAX_FAILURES * 4)];
        for i in 0..MAX_FAILURES {
            assert_eq!(l.begin(&a, 100), Ok(()), "attempt {i}");
        }
        assert_eq!(l.begin(&a, 100), Err(LIMIT_WINDOW_SECS as u64));
        // A refused attempt is not counted against the other key.
        let ip_count = || l.failures.lock().unwrap()["ip:1"].len();
        assert_eq!(ip_count(), MAX_FAILURES);
        assert_eq!(l.begin(&[("u:b", MAX_FAILURES)], 100), Ok(()));
        l.undo("ip:1", 100);
        assert_eq!(ip_count(), MAX_FAILURES - 1);
        l.clear("u:b");
        assert_eq!(
            l.begin(&[("u:a", MAX_FAILURES)], 100 + LIMIT_WINDOW_SECS),
            Ok(())
        );
    }

    #[test]
    fn cookie_value_finds_the_named_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; panel_session=xyz; b=2"),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
