//! Users → All Users (search, export), User details → Passkeys (list,
//! revoke), and Temporary Access Passes.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{Session, record};
use crate::crypto::{b64url, b64url_decode};
use crate::error::{AppError, AppResult};
use crate::graph::Fido2Method;
use crate::{AppState, now, tenant};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub upn: String,
    pub display_name: String,
    pub synced_at: i64,
    pub removed: bool,
}

/// A user the panel knows, by Entra object id, or 404.
pub fn load_user(state: &AppState, id: &str) -> AppResult<User> {
    let conn = state.db.lock()?;
    conn.query_row(
        "SELECT object_id, upn, display_name, synced_at, removed FROM users WHERE object_id = ?1",
        [id],
        |r| {
            Ok(User {
                id: r.get(0)?,
                upn: r.get(1)?,
                display_name: r.get(2)?,
                synced_at: r.get(3)?,
                removed: r.get(4)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| {
        AppError::not_found(format!(
            "no user {id:?} in the panel; sync the users from Entra ID first"
        ))
    })
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    /// Only users still waiting for a Microsoft passkey.
    #[serde(default)]
    waiting: bool,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// Escapes a search term for `LIKE ... ESCAPE '\'`.
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The condition behind "waiting for a Microsoft passkey".
const WITHOUT_PASSKEY: &str = " AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.object_id AND p.status = 'active')";

const USER_SUMMARY: &str = "SELECT u.object_id, u.upn, u.display_name,
    (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.object_id AND p.status = 'active') AS keys,
    (SELECT r.state FROM requests r WHERE r.user_id = u.object_id ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1) AS last_state
    FROM users u";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    Ok(json!({
        "id": r.get::<_, String>(0)?,
        "upn": r.get::<_, String>(1)?,
        "displayName": r.get::<_, String>(2)?,
        "passkeys": r.get::<_, i64>(3)?,
        "lastRequestState": r.get::<_, Option<String>>(4)?,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    _s: Session,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Value>> {
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let offset = q.offset.unwrap_or(0);
    let pattern = like_pattern(q.q.as_deref().unwrap_or("").trim());
    let conn = state.db.lock()?;
    let filter = format!(
        "WHERE u.removed = 0 AND (u.upn LIKE ?1 ESCAPE '\\' OR u.display_name LIKE ?1 ESCAPE '\\' OR u.object_id LIKE ?1 ESCAPE '\\'){}",
        if q.waiting { WITHOUT_PASSKEY } else { "" }
    );
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM users u {filter}"),
        [&pattern],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "{USER_SUMMARY} {filter} ORDER BY u.display_name COLLATE NOCASE, u.upn LIMIT ?2 OFFSET ?3"
    ))?;
    let users = stmt
        .query_map(params![pattern, limit, offset], summary)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(
        json!({ "users": users, "total": total, "limit": limit, "offset": offset }),
    ))
}

/// The users still waiting for a Microsoft passkey: in Entra, without an
/// active passkey bound by the panel. Each with its latest request's state,
/// so a bulk run can skip those already queued or running.
pub async fn waiting(State(state): State<AppState>, _s: Session) -> AppResult<Json<Value>> {
    let conn = state.db.lock()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT * FROM ({USER_SUMMARY} WHERE u.removed = 0) WHERE keys = 0 ORDER BY upn"
    ))?;
    let users = stmt
        .query_map([], summary)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "users": users })))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    /// Comma-separated object ids; all users when absent.
    ids: Option<String>,
}

/// One CSV field (RFC 4180 quoting). A leading `=`, `+`, `-`, `@`, tab or
/// CR gets a `'` so a spreadsheet does not run a display name as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The columns of `users.csv` (docs/users-csv.md).
pub const CSV_HEADER: &str = "objectId,userPrincipalName,displayName,passkeys,lastRequestState";

pub async fn export_csv(
    State(state): State<AppState>,
    _s: Session,
    Query(q): Query<ExportQuery>,
) -> AppResult<Response> {
    let ids: Option<Vec<String>> = q.ids.map(|ids| {
        ids.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    if let Some(ids) = &ids {
        if ids.is_empty() {
            return Err(AppError::bad("select at least one user to export"));
        }
        if let Some(bad) = ids.iter().find(|i| !protocol::panel::is_guid(i)) {
            return Err(AppError::bad(format!("{bad:?} is not a user object id")));
        }
    }
    let rows: Vec<Value> = {
        let conn = state.db.lock()?;
        let mut stmt = conn.prepare(&format!(
            "{USER_SUMMARY} WHERE u.removed = 0 ORDER BY u.display_name COLLATE NOCASE, u.upn"
        ))?;
        let all = stmt
            .query_map([], summary)?
            .collect::<Result<Vec<_>, _>>()?;
        match &ids {
            None => all,
            Some(ids) => all
                .into_iter()
                .filter(|u| ids.iter().any(|i| u["id"] == json!(i)))
                .collect(),
        }
    };
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for u in &rows {
        let line = [
            u["id"].as_str().unwrap_or(""),
            u["upn"].as_str().unwrap_or(""),
            u["displayName"].as_str().unwrap_or(""),
            &u["passkeys"].to_string(),
            u["lastRequestState"].as_str().unwrap_or(""),
        ]
        .map(csv_field)
        .join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"users.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

pub async fn detail(
    State(state): State<AppState>,
    _s: Session,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let user = load_user(&state, &id)?;
    Ok(Json(json!({ "user": user })))
}

/// A passkey row as the Passkeys tab shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyView {
    /// base64url credential id when known (keys made by the panel).
    pub credential_id: Option<String>,
    /// Graph's method id when Entra listed the key.
    pub method_id: Option<String>,
    pub name: String,
    /// Seconds since the epoch (panel) or Graph's ISO time.
    pub created: Value,
    pub aaguid: Option<String>,
    pub model: Option<String>,
    /// `active` (in Entra), `revoked`, `notInEntra` (the panel bound it but
    /// Entra no longer lists it), `unverified` (Entra could not be asked).
    pub status: String,
    pub in_vault: bool,
    pub request_id: Option<String>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

struct LocalKey {
    credential_id: String,
    request_id: Option<String>,
    key_name: String,
    aaguid: Option<String>,
    in_vault: bool,
    created_at: i64,
    status: String,
    revoked_at: Option<i64>,
    revoked_by: Option<String>,
}

fn local_keys(state: &AppState, user_id: &str) -> AppResult<Vec<LocalKey>> {
    let conn = state.db.lock()?;
    let mut stmt = conn.prepare(
        "SELECT credential_id, request_id, key_name, aaguid, in_vault, created_at, status, revoked_at, revoked_by
         FROM passkeys WHERE user_id = ?1 ORDER BY created_at, rowid",
    )?;
    let rows = stmt
        .query_map([user_id], |r| {
            Ok(LocalKey {
                credential_id: r.get(0)?,
                request_id: r.get(1)?,
                key_name: r.get(2)?,
                aaguid: r.get(3)?,
                in_vault: r.get(4)?,
                created_at: r.get(5)?,
                status: r.get(6)?,
                revoked_at: r.get(7)?,
                revoked_by: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Whether Graph's method is the key with this credential id. Entra's
/// method id is derived from the credential id: accept it as is, in
/// standard base64, or with the padding Microsoft adds.
fn same_credential(m: &Fido2Method, credential_id: &str) -> bool {
    let id = m.id.trim_end_matches('=');
    if id == credential_id {
        return true;
    }
    if let Some(bytes) = b64url_decode(credential_id) {
        use base64::Engine as _;
        let std = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes);
        if id == std || id == b64url(&bytes) {
            return true;
        }
    }
    false
}

/// For showing the Passkeys tab only: the credential id, or else the same
/// name. Names are not unique, so nothing is ever deleted on this match.
fn same_key(m: &Fido2Method, credential_id: &str, name: &str) -> bool {
    same_credential(m, credential_id)
        || (m.display_name.as_deref() == Some(name) && !name.is_empty())
}

pub async fn passkeys(
    State(state): State<AppState>,
    _s: Session,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let user = load_user(&state, &id)?;
    let local = local_keys(&state, &user.id)?;
    // Entra is the truth for "is this key registered"; when it cannot be
    // asked the tab still shows what the panel knows, marked unverified.
    let entra: Result<Vec<Fido2Method>, AppError> = async {
        let (_t, token) = tenant::access_token(&state).await?;
        state.graph.list_fido2(&token, &user.id).await
    }
    .await;
    let mut views = Vec::new();
    let mut matched = vec![false; entra.as_ref().map_or(0, Vec::len)];
    for k in &local {
        let found = entra.as_ref().ok().and_then(|ms| {
            ms.iter()
                .position(|m| same_key(m, &k.credential_id, &k.key_name))
        });
        if let Some(i) = found {
            matched[i] = true;
        }
        let m = found.and_then(|i| entra.as_ref().ok().map(|ms| &ms[i]));
        let status = match (&k.status[..], &entra, m) {
            ("revoked", _, _) => "revoked",
            (_, Err(_), _) => "unverified",
            (_, Ok(_), Some(_)) => "active",
            (_, Ok(_), None) => "notInEntra",
        };
        views.push(PasskeyView {
            credential_id: Some(k.credential_id.clone()),
            method_id: m.map(|m| m.id.clone()),
            name: m
                .and_then(|m| m.display_name.clone())
                .unwrap_or_else(|| k.key_name.clone()),
            // Entra's registration time when it lists the key (what
            // Security info shows), else when the panel bound it.
            created: m
                .and_then(|m| m.created_date_time.clone())
                .map_or_else(|| json!(k.created_at), Value::String),
            aaguid: k
                .aaguid
                .clone()
                .or_else(|| m.and_then(|m| m.aaguid.clone())),
            model: m.and_then(|m| m.model.clone()),
            status: status.into(),
            in_vault: k.in_vault,
            request_id: k.request_id.clone(),
            revoked_at: k.revoked_at,
            revoked_by: k.revoked_by.clone(),
        });
    }
    if let Ok(ms) = &entra {
        for (m, seen) in ms.iter().zip(&matched) {
            if !seen {
                views.push(PasskeyView {
                    credential_id: None,
                    method_id: Some(m.id.clone()),
                    name: m.display_name.clone().unwrap_or_default(),
                    created: m
                        .created_date_time
                        .clone()
                        .map(Value::String)
                        .unwrap_or(Value::Null),
                    aaguid: m.aaguid.clone(),
                    model: m.model.clone(),
                    status: "active".into(),
                    in_vault: false,
                    request_id: None,
                    revoked_at: None,
                    revoked_by: None,
                });
            }
        }
    }
    let mut body = json!({ "user": user, "passkeys": views });
    if let Err(e) = entra {
        body["entraError"] = json!({"code": e.code(), "message": e.to_string()});
    }
    Ok(Json(body))
}

/// Revokes one passkey: first in Entra (Graph DELETE), then in the vault,
/// then marks it revoked. If Entra refuses, nothing changes here.
/// `key` is the credential id (base64url) or, for keys the panel did not
/// make, Graph's method id.
pub async fn revoke_passkey(
    State(state): State<AppState>,
    session: Session,
    Path((id, key)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    session.require_edit_users()?;
    let user = load_user(&state, &id)?;
    let local = local_keys(&state, &user.id)?
        .into_iter()
        .find(|k| k.credential_id == key);
    if local.as_ref().is_some_and(|k| k.status == "revoked") {
        return Err(AppError::conflict(
            "alreadyRevoked",
            "this passkey is already revoked",
        ));
    }
    let (_t, token) = tenant::access_token(&state).await?;
    let methods = state.graph.list_fido2(&token, &user.id).await?;
    // By credential id only: another key with the same name (a hardware
    // key named like the vault's) must not be the one deleted.
    let method = methods.iter().find(|m| match &local {
        Some(k) => same_credential(m, &k.credential_id),
        None => m.id == key,
    });
    if local.is_none() && method.is_none() {
        return Err(AppError::not_found(format!(
            "user {} has no passkey {key:?}",
            user.upn
        )));
    }
    if let Some(m) = method {
        state.graph.delete_fido2(&token, &user.id, &m.id).await?;
    }
    if let Some(k) = &local
        && k.in_vault
        && let Some(raw) = b64url_decode(&k.credential_id)
    {
        state.vault.delete_credential(&user.id, &raw)?;
    }
    let name = local
        .as_ref()
        .map(|k| k.key_name.clone())
        .or_else(|| method.and_then(|m| m.display_name.clone()))
        .unwrap_or_default();
    state.db.tx(|tx| {
        if local.is_some() {
            tx.execute(
                "UPDATE passkeys SET status = 'revoked', revoked_at = ?1, revoked_by = ?2 WHERE user_id = ?3 AND credential_id = ?4",
                params![now(), session.account.username, user.id, key],
            )?;
        }
        record(
            tx,
            &session.account,
            "passkey.revoke",
            Some((&user.id, &user.upn)),
            &format!("{name} ({key})"),
        )
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a one-time Temporary Access Pass. The pass is in this response
/// only: the panel never stores it.
pub async fn issue_tap(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Response> {
    session.require_edit_users()?;
    let user = load_user(&state, &id)?;
    let tap = new_tap(&state, &session, &user, "tap.issue").await?;
    Ok(Json(json!({
        "temporaryAccessPass": tap.temporary_access_pass,
        "lifetimeInMinutes": tap.lifetime_in_minutes,
        "startDateTime": tap.start_date_time,
        "isUsableOnce": tap.is_usable_once.unwrap_or(true),
    }))
    .into_response())
}

/// Asks Graph for a TAP and writes the audit entry (never the pass).
pub async fn new_tap(
    state: &AppState,
    session: &Session,
    user: &User,
    action: &str,
) -> AppResult<crate::graph::Tap> {
    let (_t, token) = tenant::access_token(state).await?;
    let (tap, replaced) = state
        .graph
        .create_tap(&token, &user.id, state.config.tap_lifetime_minutes)
        .await?;
    state.db.tx(|tx| {
        record(
            tx,
            &session.account,
            action,
            Some((&user.id, &user.upn)),
            &format!(
                "one-time, {} minutes{}",
                tap.lifetime_in_minutes
                    .unwrap_or(state.config.tap_lifetime_minutes as i64),
                if replaced > 0 {
                    ", replacing the previous one"
                } else {
                    ""
                }
            ),
        )
    })?;
    Ok(tap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a_b%"), "%a\\_b\\%%");
    }
}
