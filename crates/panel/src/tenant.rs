//! The Microsoft tenant connection: OAuth 2.0 authorization code + PKCE
//! started by an Owner, tokens sealed at rest and refreshed when needed, and
//! the user import from Graph.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Session, record};
use crate::crypto::{random_token, secret_hash};
use crate::error::{AppError, AppJson, AppResult};
use crate::graph::{TokenResponse, pkce_pair};
use crate::{AppState, now};

/// A sign-in started and not finished within this long is forgotten.
const PENDING_TTL_SECS: i64 = 10 * 60;
/// Refresh tokens of web apps stay valid 90 days after their last use
/// unless Microsoft says otherwise in `refresh_token_expires_in`.
const DEFAULT_REFRESH_LIFETIME_SECS: i64 = 90 * 24 * 60 * 60;
/// Refresh the access token when it has less than this left.
const REFRESH_MARGIN_SECS: i64 = 120;

fn not_connected() -> AppError {
    AppError::TenantNotConnected {
        code: "tenantNotConnected",
        message: "no Microsoft tenant is connected; an Owner can connect one on the Tenant page"
            .into(),
    }
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/callback", state.config.public_url.trim_end_matches('/'))
}

/// A tenant as typed by an Owner: a GUID, a domain, or `organizations`.
fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 253
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !t.starts_with('.')
}

pub async fn status(State(state): State<AppState>, _s: Session) -> AppResult<Json<Value>> {
    let conn = state.db.lock()?;
    let row = conn
        .query_row(
            "SELECT tenant_id, connected_by, connected_at, access_expires_at, refresh_expires_at, last_sync_at,
                    refresh_token IS NOT NULL FROM tenant WHERE id = 1",
            [],
            |r| {
                Ok(json!({
                    "connected": true,
                    "tenantId": r.get::<_, String>(0)?,
                    "connectedBy": r.get::<_, String>(1)?,
                    "connectedAt": r.get::<_, i64>(2)?,
                    "accessExpiresAt": r.get::<_, i64>(3)?,
                    "validUntil": r.get::<_, Option<i64>>(4)?,
                    "lastSyncAt": r.get::<_, Option<i64>>(5)?,
                    "canRefresh": r.get::<_, bool>(6)?,
                }))
            },
        )
        .optional()?;
    let users: i64 = conn.query_row("SELECT COUNT(*) FROM users WHERE removed = 0", [], |r| {
        r.get(0)
    })?;
    let mut v = row.unwrap_or_else(|| json!({"connected": false}));
    v["userCount"] = json!(users);
    v["insecureTls"] = json!(state.config.insecure_tls);
    v["now"] = json!(now());
    if let (Some(until), true) = (v["validUntil"].as_i64(), v["connected"] == json!(true)) {
        v["lapsed"] = json!(until <= now());
    }
    Ok(Json(v))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    #[serde(default)]
    tenant: Option<String>,
}

pub async fn connect(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<ConnectBody>,
) -> AppResult<Json<Value>> {
    session.require_owner()?;
    let tenant = body
        .tenant
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "organizations".into());
    if !valid_tenant(&tenant) {
        return Err(AppError::bad(
            "the tenant must be a tenant id (GUID), a domain like contoso.onmicrosoft.com, or empty",
        ));
    }
    let (verifier, challenge) = pkce_pair()?;
    let oauth_state = random_token()?;
    let sealed = state.tokens.seal("pkce_verifier", &verifier)?;
    let t = now();
    state.db.tx(|tx| {
        tx.execute(
            "DELETE FROM oauth_pending WHERE created_at < ?1",
            [t - PENDING_TTL_SECS],
        )?;
        tx.execute(
            "INSERT INTO oauth_pending (state_hash, session_hash, tenant, verifier, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![secret_hash(&oauth_state), session.id_hash, tenant, sealed, t],
        )?;
        Ok(())
    })?;
    let url = state.graph.authorize_url(
        &tenant,
        &state.config.client_id,
        &redirect_uri(&state),
        &oauth_state,
        &challenge,
    )?;
    Ok(Json(json!({ "authorizeUrl": url })))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn back_to_page(result: Result<&str, &str>) -> Response {
    let query = match result {
        Ok(msg) => format!(
            "?connected={}",
            url::form_urlencoded::byte_serialize(msg.as_bytes()).collect::<String>()
        ),
        Err(msg) => format!(
            "?connectError={}",
            url::form_urlencoded::byte_serialize(msg.as_bytes()).collect::<String>()
        ),
    };
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/{query}#tenant"))],
    )
        .into_response()
}

/// Where Microsoft sends the browser back. A browser navigation, so it
/// answers with a redirect to the page, carrying the outcome in the query.
pub async fn callback(
    State(state): State<AppState>,
    session: Result<Session, AppError>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    // A browser arrives here from Microsoft: even "not signed in" is
    // answered with the page, which shows the reason.
    let session = match session {
        Ok(s) => s,
        Err(e) => {
            return back_to_page(Err(&format!(
                "{e}; sign in to the panel, then connect the tenant again"
            )));
        }
    };
    match finish_connect(&state, &session, q).await {
        Ok(tenant_id) => back_to_page(Ok(&tenant_id)),
        Err(e) => {
            if e.status().is_server_error() && !matches!(e, AppError::Upstream { .. }) {
                crate::log(&format!("tenant connection: {e}"));
                back_to_page(Err("internal error; the server log has the details"))
            } else {
                back_to_page(Err(&e.to_string()))
            }
        }
    }
}

async fn finish_connect(
    state: &AppState,
    session: &Session,
    q: CallbackQuery,
) -> AppResult<String> {
    session.require_owner()?;
    let oauth_state = q
        .state
        .ok_or_else(|| AppError::bad("Microsoft's answer has no state"))?;
    let t = now();
    // Taken out in one step: a state is good for one answer only.
    let pending = state.db.tx(|tx| {
        let row = tx
            .query_row(
                "SELECT tenant, verifier, created_at FROM oauth_pending WHERE state_hash = ?1 AND session_hash = ?2",
                params![secret_hash(&oauth_state), session.id_hash],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()?;
        tx.execute(
            "DELETE FROM oauth_pending WHERE state_hash = ?1",
            [secret_hash(&oauth_state)],
        )?;
        Ok(row)
    })?;
    let Some((tenant, sealed_verifier, created)) = pending else {
        return Err(AppError::bad(
            "this sign-in was not started from this session (or was already used); start again with Connect",
        ));
    };
    if t - created > PENDING_TTL_SECS {
        return Err(AppError::bad(
            "the Microsoft sign-in took too long; start again with Connect",
        ));
    }
    if let Some(err) = q.error {
        let desc = q.error_description.unwrap_or_default();
        return Err(AppError::bad(format!(
            "Microsoft did not connect the tenant: {err}: {}",
            desc.lines().next().unwrap_or("")
        )));
    }
    let code = q
        .code
        .ok_or_else(|| AppError::bad("Microsoft's answer has no authorization code"))?;
    let verifier = state.tokens.open("pkce_verifier", &sealed_verifier)?;
    let tokens = state
        .graph
        .exchange_code(
            &tenant,
            &state.config.client_id,
            state.config.client_secret.as_deref(),
            &code,
            &verifier,
            &redirect_uri(state),
        )
        .await?;
    let tenant_id = tokens
        .tenant_id()
        .or_else(|| protocol::panel::is_guid(&tenant).then(|| tenant.clone()))
        .ok_or_else(|| {
            AppError::bad(
                "could not tell which tenant signed in; enter the tenant id and connect again",
            )
        })?;
    if !protocol::panel::is_guid(&tenant_id) {
        return Err(AppError::bad(format!(
            "the token names tenant {tenant_id:?}, which is not a tenant id"
        )));
    }
    store_tokens(
        state,
        &tenant_id,
        Some(&session.account.username),
        &tokens,
        None,
    )?;
    state
        .db
        .tx(|tx| record(tx, &session.account, "tenant.connect", None, &tenant_id))?;
    Ok(tenant_id)
}

/// Saves a token response (sealed). `previous_refresh` keeps the old
/// refresh token when a refresh answer has none.
fn store_tokens(
    state: &AppState,
    tenant_id: &str,
    connected_by: Option<&str>,
    tokens: &TokenResponse,
    previous_refresh: Option<&str>,
) -> AppResult<()> {
    let t = now();
    let access = state.tokens.seal("access_token", &tokens.access_token)?;
    let refresh_plain = tokens.refresh_token.as_deref().or(previous_refresh);
    let refresh = refresh_plain
        .map(|r| state.tokens.seal("refresh_token", r))
        .transpose()?;
    let access_exp = t + tokens.expires_in.unwrap_or(3600).max(60);
    let refresh_exp = refresh.as_ref().map(|_| {
        t + tokens
            .refresh_token_expires_in
            .unwrap_or(DEFAULT_REFRESH_LIFETIME_SECS)
    });
    state.db.tx(|tx| {
        match connected_by {
            Some(who) => {
                tx.execute(
                    "INSERT INTO tenant (id, tenant_id, connected_by, connected_at, access_token, access_expires_at, refresh_token, refresh_expires_at)
                     VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (id) DO UPDATE SET tenant_id = ?1, connected_by = ?2, connected_at = ?3, access_token = ?4,
                        access_expires_at = ?5, refresh_token = ?6, refresh_expires_at = ?7",
                    params![tenant_id, who, t, access, access_exp, refresh, refresh_exp],
                )?;
            }
            None => {
                tx.execute(
                    "UPDATE tenant SET access_token = ?1, access_expires_at = ?2, refresh_token = ?3, refresh_expires_at = ?4 WHERE id = 1",
                    params![access, access_exp, refresh, refresh_exp],
                )?;
            }
        }
        Ok(())
    })
}

/// The tenant id and a Graph access token valid for at least a couple of
/// minutes, refreshing it when needed.
pub async fn access_token(state: &AppState) -> AppResult<(String, String)> {
    let row = state
        .db
        .lock()?
        .query_row(
            "SELECT tenant_id, access_token, access_expires_at, refresh_token, refresh_expires_at FROM tenant WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        )
        .optional()?;
    let (tenant_id, access, access_exp, refresh, refresh_exp) = row.ok_or_else(not_connected)?;
    let t = now();
    if access_exp - REFRESH_MARGIN_SECS > t {
        return Ok((tenant_id, state.tokens.open("access_token", &access)?));
    }
    let lapsed = || AppError::TenantNotConnected {
        code: "tenantConnectionLapsed",
        message: "the tenant connection lapsed; an Owner must connect the tenant again".into(),
    };
    let refresh = refresh.ok_or_else(lapsed)?;
    if refresh_exp.is_some_and(|e| e <= t) {
        return Err(lapsed());
    }
    let refresh = state.tokens.open("refresh_token", &refresh)?;
    let tokens = state
        .graph
        .refresh(
            &tenant_id,
            &state.config.client_id,
            state.config.client_secret.as_deref(),
            &refresh,
        )
        .await?;
    store_tokens(state, &tenant_id, None, &tokens, Some(&refresh))?;
    Ok((tenant_id, tokens.access_token))
}

pub async fn disconnect(State(state): State<AppState>, session: Session) -> AppResult<StatusCode> {
    session.require_owner()?;
    state.db.tx(|tx| {
        let n = tx.execute("DELETE FROM tenant WHERE id = 1", [])?;
        if n == 0 {
            return Err(not_connected());
        }
        record(tx, &session.account, "tenant.disconnect", None, "")
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports (or re-syncs) every user from Graph. All pages are fetched
/// first; then one transaction adds, updates and marks as removed, so a
/// failure on page 7 changes nothing.
pub async fn sync_users(State(state): State<AppState>, session: Session) -> AppResult<Json<Value>> {
    session.require_edit_users()?;
    let (_tenant, token) = access_token(&state).await?;
    let fetched = state.graph.list_users(&token).await?;
    let mut seen = HashSet::new();
    let mut users = Vec::with_capacity(fetched.len());
    let mut skipped = 0u32;
    for u in fetched {
        let upn = u.user_principal_name.unwrap_or_default();
        if !protocol::panel::is_guid(&u.id) || upn.is_empty() || !seen.insert(u.id.clone()) {
            skipped += 1;
            continue;
        }
        let name = u
            .display_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| upn.clone());
        users.push((u.id, upn, name));
    }
    let t = now();
    let (added, removed) = state.db.tx(|tx| {
        let before: i64 = tx.query_row("SELECT COUNT(*) FROM users WHERE removed = 0", [], |r| r.get(0))?;
        let mut existing = 0i64;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS sync_seen (id TEXT PRIMARY KEY); DELETE FROM sync_seen;",
        )?;
        {
            let mut seen = tx.prepare("INSERT INTO sync_seen (id) VALUES (?1)")?;
            let mut exists = tx.prepare("SELECT EXISTS (SELECT 1 FROM users WHERE object_id = ?1)")?;
            let mut upsert = tx.prepare(
                "INSERT INTO users (object_id, upn, display_name, synced_at, removed) VALUES (?1, ?2, ?3, ?4, 0)
                 ON CONFLICT (object_id) DO UPDATE SET upn = ?2, display_name = ?3, synced_at = ?4, removed = 0",
            )?;
            for (id, upn, name) in &users {
                if exists.query_row([id], |r| r.get::<_, bool>(0))? {
                    existing += 1;
                }
                upsert.execute(params![id, upn, name, t])?;
                seen.execute([id])?;
            }
        }
        let removed = tx.execute(
            "UPDATE users SET removed = 1 WHERE removed = 0 AND object_id NOT IN (SELECT id FROM sync_seen)",
            [],
        )? as i64;
        tx.execute("DELETE FROM sync_seen", [])?;
        tx.execute("UPDATE tenant SET last_sync_at = ?1 WHERE id = 1", [t])?;
        let added = users.len() as i64 - existing;
        record(
            tx,
            &session.account,
            "users.sync",
            None,
            &format!("{} users ({added} new, {removed} removed; {before} before)", users.len()),
        )?;
        Ok((added, removed))
    })?;
    Ok(Json(json!({
        "imported": users.len(),
        "added": added,
        "removed": removed,
        "skipped": skipped,
    })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tenant_names() {
        for ok in [
            "organizations",
            "contoso.onmicrosoft.com",
            "8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13",
        ] {
            assert!(super::valid_tenant(ok), "{ok}");
        }
        for bad in ["", "a/b", "x?y=1", ".com", "a b"] {
            assert!(!super::valid_tenant(bad), "{bad}");
        }
    }
}
