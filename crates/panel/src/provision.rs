//! Provisioning requests and the extension's endpoints.
//!
//! A request is created by an administrator ("+ Passkey ▸ Microsoft ▸
//! Create"); the page hands the `provision` message the server built to the
//! extension and records what the extension answered (`handoff`). From then
//! on the extension's service worker calls, with the request's bearer token:
//!
//! - `POST /api/ext/attestation`: the vault answers one
//!   `navigator.credentials.create` for the request's user, RP ID
//!   `login.microsoft.com`, while the request runs, once;
//! - `POST /api/ext/report`: progress and the final result, idempotent by
//!   (`requestId`, `seq`); a success binds the credential to the request
//!   and shows it on the user's Passkeys tab;
//! - `POST /api/ext/assertion`: a `navigator.credentials.get` with the
//!   user's vault key (sign-in checks).
//!
//! The token is 32 random bytes, given to the page once in the `provision`
//! message; the database keeps its SHA-256.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use protocol::panel::{
    ExtensionResponse, Mode, PanelEndpoints, PanelRequest, Provision, TargetUser,
};
use protocol::report::{AttestationRequest, JobReport, JobState};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Session, record};
use crate::crypto::{b64url, random_id, random_token, secret_hash};
use crate::error::{AppError, AppJson, AppResult};
use crate::users::{User, load_user, new_tap};
use crate::{AppState, now};

/// A request not finished this long after creation is no longer "running"
/// for the extension's endpoints (a TAP lives 60 minutes by default; a job
/// takes seconds to minutes).
pub const REQUEST_TTL_SECS: i64 = 30 * 60;
/// Sign-in checks with the new key are allowed while the request runs and
/// this long after it succeeded (the extension checks before its final
/// report; this covers a report that overtook the check).
pub const ASSERTION_GRACE_SECS: i64 = 10 * 60;

/// Requests the extension never finished: after [`REQUEST_TTL_SECS`] they
/// are failed, so the panel does not show them running forever. A success
/// reported later still wins (see `ext_report`).
fn expire_stale(conn: &rusqlite::Connection) -> AppResult<()> {
    let t = now();
    // Read first, so the common case (nothing stale) stays a read.
    let stale: Vec<String> = conn
        .prepare(
            "SELECT id FROM requests WHERE state NOT IN ('succeeded', 'failed', 'cancelled') AND created_at < ?1",
        )?
        .query_map([t - REQUEST_TTL_SECS], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if stale.is_empty() {
        return Ok(());
    }
    // The caller holds the connection's lock and no transaction.
    let tx = conn.unchecked_transaction()?;
    for id in &stale {
        tx.execute(
            "UPDATE requests SET state = 'failed', error_code = 'requestExpired',
                error_message = 'the extension reported no result within 30 minutes',
                error_hint = 'Open the extension''s Show Logs for this user, then start a new request.',
                updated_at = ?1, finished_at = ?1
             WHERE id = ?2 AND state NOT IN ('succeeded', 'failed', 'cancelled')",
            params![t, id],
        )?;
        discard_attested(&tx, id)?;
    }
    tx.commit()?;
    Ok(())
}

/// A request that ended in anything but success never had its attested key
/// accepted by Microsoft: the key leaves the vault, in the caller's
/// transaction, so a sign-in (which takes the user's newest key) cannot
/// pick it.
fn discard_attested(conn: &rusqlite::Connection, request_id: &str) -> AppResult<()> {
    let row: Option<(String, String, Option<String>)> = conn
        .query_row(
            "SELECT user_id, state, attested_credential_id FROM requests WHERE id = ?1",
            [request_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((user_id, state, Some(credential_id))) = row
        && is_final(&state)
        && state != "succeeded"
    {
        crate::store::delete_in(conn, &user_id, &credential_id)?;
    }
    Ok(())
}

const FINAL_STATES: &[&str] = &["succeeded", "failed", "cancelled"];

fn is_final(state: &str) -> bool {
    FINAL_STATES.contains(&state)
}

fn state_str(s: JobState) -> &'static str {
    match s {
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Succeeded => "succeeded",
        JobState::Failed => "failed",
        JobState::Cancelled => "cancelled",
    }
}

/// One request as stored.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: String,
    pub user_id: String,
    pub mode: String,
    pub via: String,
    pub requested_by: String,
    pub state: String,
    pub step: Option<String>,
    pub progress: f64,
    pub token_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub attested_at: Option<i64>,
    pub attested_credential_id: Option<String>,
    pub credential_id: Option<String>,
    pub key_name: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_hint: Option<String>,
}

impl RequestRow {
    fn view(&self) -> Value {
        json!({
            "id": self.id,
            "userId": self.user_id,
            "mode": self.mode,
            "via": self.via,
            "requestedBy": self.requested_by,
            "state": self.state,
            "step": self.step,
            "progress": self.progress,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "finishedAt": self.finished_at,
            "attested": self.attested_at.is_some(),
            "credentialId": self.credential_id,
            "keyName": self.key_name,
            "error": self.error_code.as_ref().map(|code| json!({
                "code": code,
                "message": self.error_message,
                "hint": self.error_hint,
            })),
        })
    }

    /// Still open for the extension: not final and not too old.
    fn running(&self, t: i64) -> bool {
        !is_final(&self.state) && t - self.created_at < REQUEST_TTL_SECS
    }
}

const REQUEST_COLUMNS: &str = "id, user_id, mode, via, requested_by, state, step, progress, token_hash, created_at, updated_at,
    finished_at, attested_at, attested_credential_id, credential_id, key_name, error_code, error_message, error_hint";

fn request_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        mode: r.get(2)?,
        via: r.get(3)?,
        requested_by: r.get(4)?,
        state: r.get(5)?,
        step: r.get(6)?,
        progress: r.get(7)?,
        token_hash: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        finished_at: r.get(11)?,
        attested_at: r.get(12)?,
        attested_credential_id: r.get(13)?,
        credential_id: r.get(14)?,
        key_name: r.get(15)?,
        error_code: r.get(16)?,
        error_message: r.get(17)?,
        error_hint: r.get(18)?,
    })
}

fn load_request_in(conn: &rusqlite::Connection, id: &str) -> AppResult<Option<RequestRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1"),
            [id],
            request_from_row,
        )
        .optional()?)
}

fn load_request(state: &AppState, id: &str) -> AppResult<RequestRow> {
    load_request_in(&*state.db.lock()?, id)?
        .ok_or_else(|| AppError::not_found(format!("no provisioning request {id:?}")))
}

/// How a request reaches Microsoft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Via {
    /// The extension drives Security info in a private window.
    #[default]
    Extension,
    /// No browser: Graph `fido2Methods/creationOptions` → vault → `POST
    /// fido2Methods`. Needs "Allow self-service setup" in the FIDO2 policy.
    Graph,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    mode: Mode,
    #[serde(default)]
    via: Via,
    /// Manual mode: also issue a TAP and put it in the message, so the
    /// extension fills it in. Automatic mode always gets one.
    #[serde(default)]
    with_tap: bool,
    #[serde(default)]
    key_name: Option<String>,
    #[serde(default)]
    visible: bool,
}

/// One open request per user: a second would race the first in
/// Microsoft's Security info. Run in the transaction that inserts.
fn refuse_if_open(tx: &rusqlite::Transaction<'_>, user: &User, t: i64) -> AppResult<()> {
    let open: Option<String> = tx
        .query_row(
            "SELECT id FROM requests WHERE user_id = ?1 AND state NOT IN ('succeeded', 'failed', 'cancelled') AND created_at > ?2
             ORDER BY created_at DESC LIMIT 1",
            params![user.id, t - REQUEST_TTL_SECS],
            |r| r.get(0),
        )
        .optional()?;
    match open {
        Some(open) => Err(AppError::conflict(
            "requestOpen",
            format!(
                "a provisioning request for {} is still open ({open}); wait for it or cancel it",
                user.upn
            ),
        )),
        None => Ok(()),
    }
}

/// Ends an open request as failed with `e` (Microsoft's words and hint
/// when it was Microsoft), and puts it on the record.
fn record_failure(
    state: &AppState,
    session: &Session,
    user: &User,
    request_id: &str,
    e: &AppError,
    how: &str,
) -> AppResult<()> {
    let hint = match e {
        AppError::Upstream { hint, .. } => hint.clone(),
        _ => None,
    };
    // Internal details go to the log (where the response is built), not
    // to the request the page shows.
    let message = if e.status().is_server_error() && !matches!(e, AppError::Upstream { .. }) {
        "internal error; the server log has the details".to_string()
    } else {
        e.to_string()
    };
    state.db.tx(|tx| {
        fail_open_request(
            tx,
            request_id,
            "failed",
            e.code(),
            &message,
            hint.as_deref(),
        )?;
        record(
            tx,
            &session.account,
            "provision.failed",
            Some((&user.id, &user.upn)),
            &format!("{}{how} ({request_id})", e.code()),
        )
    })
}

fn tenant_id(state: &AppState) -> AppResult<String> {
    state
        .db
        .lock()?
        .query_row("SELECT tenant_id FROM tenant WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| AppError::TenantNotConnected {
            code: "tenantNotConnected",
            message:
                "no Microsoft tenant is connected; an Owner can connect one on the Tenant page"
                    .into(),
        })
}

/// Where the extension calls back. The assertion URL only for automatic
/// mode: only then does the vault hold the new key for a sign-in check.
fn endpoints(state: &AppState, token: String, mode: Mode) -> PanelEndpoints {
    let base = state.config.public_url.trim_end_matches('/');
    PanelEndpoints {
        attestation_url: format!("{base}/api/ext/attestation"),
        report_url: format!("{base}/api/ext/report"),
        assertion_url: (mode == Mode::Automatic).then(|| format!("{base}/api/ext/assertion")),
        token,
    }
}

/// `POST /api/users/{id}/provision`: records the request, issues the TAP
/// (automatic mode, or manual with `withTap`), and returns the `provision`
/// message for the page to hand to the extension. The TAP and the token
/// are in this response only.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    AppJson(body): AppJson<CreateBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    session.require_edit_users()?;
    let user = load_user(&state, &id)?;
    if user.removed {
        return Err(AppError::bad(format!(
            "{} was removed from Entra ID at the last sync",
            user.upn
        )));
    }
    let tenant_id = tenant_id(&state)?;
    let key_name = body
        .key_name
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    let request_id = random_id()?;
    let token = random_token()?;
    if body.via == Via::Graph {
        if body.mode != Mode::Automatic {
            return Err(AppError::bad(
                "registering through Graph is automatic: the key comes from the vault",
            ));
        }
        return create_via_graph(&state, &session, &user, request_id, &token, key_name).await;
    }
    let mut message = Provision {
        request_id: request_id.clone(),
        mode: body.mode,
        tenant_id,
        user: TargetUser {
            object_id: user.id.clone(),
            upn: user.upn.clone(),
            display_name: user.display_name.clone(),
        },
        // A stand-in so validation checks everything else before a real
        // TAP is issued for nothing.
        tap: (body.mode == Mode::Automatic || body.with_tap).then(|| "placeholder".to_string()),
        panel: endpoints(&state, token.clone(), body.mode),
        key_name,
        visible: body.visible,
    };
    message
        .validate()
        .map_err(|e| AppError::bad(format!("cannot build the request for the extension: {e}")))?;
    let mode = match body.mode {
        Mode::Automatic => "automatic",
        Mode::Manual => "manual",
    };
    let t = now();
    // The row first, in the transaction that checks for an open request;
    // the TAP after, so a Graph failure leaves a failed request that says
    // why rather than a TAP without a request.
    state.db.tx_immediate(|tx| {
        refuse_if_open(tx, &user, t)?;
        tx.execute(
            "INSERT INTO requests (id, user_id, mode, requested_by, state, token_hash, created_at, updated_at, key_name)
             VALUES (?1, ?2, ?3, ?4, 'created', ?5, ?6, ?6, ?7)",
            params![request_id, user.id, mode, session.account.username, secret_hash(&token), t, message.key_name],
        )?;
        record(
            tx,
            &session.account,
            "provision.request",
            Some((&user.id, &user.upn)),
            &format!("{mode} ({request_id})"),
        )
    })?;
    if message.tap.is_some() {
        match new_tap(&state, &session, &user, "tap.issue").await {
            Ok(tap) => message.tap = Some(tap.temporary_access_pass),
            Err(e) => {
                record_failure(&state, &session, &user, &request_id, &e, "")?;
                return Err(e);
            }
        }
    }
    let request = load_request(&state, &request_id)?;
    let message = serde_json::to_value(PanelRequest::Provision(Box::new(message)))
        .map_err(|e| AppError::internal(format!("provision message: {e}")))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "request": request.view(), "message": message })),
    ))
}

pub async fn get_request(
    State(state): State<AppState>,
    _s: Session,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    expire_stale(&*state.db.lock()?)?;
    let request = load_request(&state, &id)?;
    let conn = state.db.lock()?;
    let mut stmt = conn.prepare(
        "SELECT seq, state, step, progress, at_ms FROM request_reports WHERE request_id = ?1 ORDER BY seq",
    )?;
    let reports = stmt
        .query_map([&id], |r| {
            Ok(json!({
                "seq": r.get::<_, i64>(0)?,
                "state": r.get::<_, String>(1)?,
                "step": r.get::<_, Option<String>>(2)?,
                "progress": r.get::<_, f64>(3)?,
                "atMs": r.get::<_, i64>(4)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(
        json!({ "request": request.view(), "reports": reports }),
    ))
}

pub async fn list_for_user(
    State(state): State<AppState>,
    _s: Session,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let user: User = load_user(&state, &id)?;
    let conn = state.db.lock()?;
    expire_stale(&conn)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 50"
    ))?;
    let rows = stmt
        .query_map([&user.id], request_from_row)?
        .map(|r| r.map(|r| r.view()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "requests": rows })))
}

/// The default key name (DESIGN.md): `IDM-{last 8 of the object id}-{6
/// random A-Z0-9}-{yyyymmdd}`.
pub fn default_key_name(object_id: &str, unix: i64) -> AppResult<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let random = crate::crypto::random_bytes::<6>()?;
    let tag: String = random
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    let tail: String = object_id
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    Ok(format!("IDM-{tail}-{tag}-{y:04}{m:02}{d:02}"))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm), so no date crate is needed for one name.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// API mode: creation options from Graph, the credential from the vault,
/// registered with Graph, all while the administrator waits (seconds). A
/// Graph refusal removes the vault's credential again and leaves the
/// request failed with Microsoft's reason.
async fn create_via_graph(
    state: &AppState,
    session: &Session,
    user: &User,
    request_id: String,
    token: &str,
    key_name: Option<String>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let t = now();
    let key_name = match key_name {
        Some(k) => k,
        None => default_key_name(&user.id, t)?,
    };
    if key_name.chars().count() > 64 || key_name.chars().any(char::is_control) {
        return Err(AppError::bad("the key name must be at most 64 characters"));
    }
    state.db.tx_immediate(|tx| {
        refuse_if_open(tx, user, t)?;
        tx.execute(
            "INSERT INTO requests (id, user_id, mode, via, requested_by, state, step, token_hash, created_at, updated_at, key_name)
             VALUES (?1, ?2, 'automatic', 'graph', ?3, 'running', 'graph.creationOptions', ?4, ?5, ?5, ?6)",
            params![request_id, user.id, session.account.username, secret_hash(token), t, key_name],
        )?;
        record(tx, &session.account, "provision.request", Some((&user.id, &user.upn)), &format!("automatic through Graph ({request_id})"))
    })?;
    let outcome: AppResult<(String, Option<String>)> = async {
        let (_tenant, access) = crate::tenant::access_token(state).await?;
        let options = state
            .graph
            .fido2_creation_options(&access, &user.id)
            .await?;
        let rp = options
            .pointer("/publicKey/rp/id")
            .or_else(|| options.pointer("/rp/id"))
            .and_then(Value::as_str)
            .unwrap_or(vault::MICROSOFT_RP_ID);
        if rp != vault::MICROSOFT_RP_ID {
            return Err(AppError::Upstream {
                status: StatusCode::BAD_GATEWAY,
                code: "unexpectedRpId".into(),
                message: format!(
                    "Microsoft Graph asked for RP ID {rp}; the vault registers only {}",
                    vault::MICROSOFT_RP_ID
                ),
                hint: None,
            });
        }
        let registration = state.vault.make_credential_json(
            &user.id,
            &options.to_string(),
            vault::MICROSOFT_ORIGIN,
        )?;
        let credential_id = registration.response.id.clone();
        let credential = json!({
            "id": credential_id,
            "response": {
                "clientDataJSON": registration.response.response.client_data_json,
                "attestationObject": registration.response.response.attestation_object,
            },
            "clientExtensionResults": {},
        });
        match state
            .graph
            .register_fido2(&access, &user.id, &key_name, &credential)
            .await
        {
            Ok(method) => Ok((credential_id, method.aaguid)),
            Err(e) => {
                // Entra refused: the key must not linger in the vault.
                let _ = state
                    .vault
                    .delete_credential(&user.id, &registration.credential.credential_id);
                Err(e)
            }
        }
    }
    .await;
    let done = now();
    match outcome {
        Ok((credential_id, aaguid)) => {
            let aaguid = aaguid.unwrap_or_else(|| state.vault.aaguid().to_string());
            state.db.tx(|tx| {
                tx.execute(
                    "UPDATE requests SET state = 'succeeded', step = 'graph.registered', progress = 1, attested_at = ?1,
                        attested_credential_id = ?2, credential_id = ?2, updated_at = ?1, finished_at = ?1 WHERE id = ?3",
                    params![done, credential_id, request_id],
                )?;
                tx.execute(
                    "INSERT INTO passkeys (credential_id, user_id, request_id, key_name, aaguid, in_vault, created_at, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, 'active')",
                    params![credential_id, user.id, request_id, key_name, aaguid, done],
                )?;
                record(tx, &session.account, "provision.succeeded", Some((&user.id, &user.upn)), &format!("{key_name} through Graph ({request_id})"))
            })?;
            Ok((
                StatusCode::CREATED,
                Json(json!({ "request": load_request(state, &request_id)?.view() })),
            ))
        }
        Err(e) => {
            record_failure(state, session, user, &request_id, &e, " through Graph")?;
            Err(e)
        }
    }
}

/// Sets a request's state unless it is already final (a final state is
/// never overwritten by the page).
fn fail_open_request(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    state: &str,
    code: &str,
    message: &str,
    hint: Option<&str>,
) -> AppResult<usize> {
    let t = now();
    let n = tx.execute(
        "UPDATE requests SET state = ?1, error_code = ?2, error_message = ?3, error_hint = ?4, updated_at = ?5, finished_at = ?5
         WHERE id = ?6 AND state NOT IN ('succeeded', 'failed', 'cancelled')",
        params![state, code, message, hint, t, id],
    )?;
    discard_attested(tx, id)?;
    Ok(n)
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// `POST /api/requests/{id}/handoff`: what the extension answered the
/// `provision` message (`accepted` or an `error` refusal), or the page's
/// own error when the extension could not be reached.
pub async fn handoff(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    AppJson(answer): AppJson<Value>,
) -> AppResult<Json<Value>> {
    session.require_edit_users()?;
    let request = load_request(&state, &id)?;
    let answer: ExtensionResponse = serde_json::from_value(answer).map_err(|e| {
        AppError::bad(format!(
            "the extension's answer is not one this panel understands: {e}"
        ))
    })?;
    let user = load_user(&state, &request.user_id)?;
    state.db.tx(|tx| {
        match &answer {
            ExtensionResponse::Accepted { request_id, position } => {
                if request_id != &request.id {
                    return Err(AppError::bad("the extension accepted a different request id"));
                }
                tx.execute(
                    "UPDATE requests SET state = 'queued', step = ?1, updated_at = ?2 WHERE id = ?3 AND state = 'created'",
                    params![
                        if *position == 0 { "starting".to_string() } else { format!("queued at position {position}") },
                        now(),
                        request.id
                    ],
                )?;
            }
            ExtensionResponse::Error(refusal) => {
                fail_open_request(
                    tx,
                    &request.id,
                    "failed",
                    &clip(&refusal.code, 64),
                    &clip(&refusal.message, 1000),
                    refusal.hint.as_deref().map(|h| clip(h, 1000)).as_deref(),
                )?;
                record(
                    tx,
                    &session.account,
                    "provision.refused",
                    Some((&user.id, &user.upn)),
                    &format!("{} ({})", clip(&refusal.code, 64), request.id),
                )?;
            }
            _ => {
                return Err(AppError::bad(
                    "expected the extension's \"accepted\" or \"error\" answer",
                ));
            }
        }
        Ok(())
    })?;
    Ok(Json(
        json!({ "request": load_request(&state, &id)?.view() }),
    ))
}

/// `POST /api/requests/{id}/cancel`: the administrator gave up (the page
/// also sends `cancel` to the extension).
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    session.require_edit_users()?;
    let request = load_request(&state, &id)?;
    let user = load_user(&state, &request.user_id)?;
    state.db.tx(|tx| {
        let n = fail_open_request(
            tx,
            &id,
            "cancelled",
            "cancelledByAdministrator",
            &format!("cancelled by {}", session.account.username),
            None,
        )?;
        if n == 0 {
            return Err(AppError::conflict(
                "requestFinished",
                format!("the request already ended ({})", request.state),
            ));
        }
        record(
            tx,
            &session.account,
            "provision.cancel",
            Some((&user.id, &user.upn)),
            &id,
        )
    })?;
    Ok(Json(
        json!({ "request": load_request(&state, &id)?.view() }),
    ))
}

/// The request whose token is in `Authorization: Bearer`, or 401. Checked
/// before the body is even parsed, so strangers learn nothing from error
/// messages about bodies.
fn authenticate_ext(state: &AppState, headers: &HeaderMap) -> AppResult<RequestRow> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::unauthorized("badToken", "missing Authorization: Bearer token"))?;
    // Looked up by the SHA-256 of a 256-bit secret: an attacker can neither
    // choose hashes nor learn anything from the timing of the lookup.
    let conn = state.db.lock()?;
    conn.query_row(
        &format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE token_hash = ?1"),
        [secret_hash(token)],
        request_from_row,
    )
    .optional()?
    .ok_or_else(|| {
        AppError::unauthorized(
            "badToken",
            "the token does not belong to any provisioning request",
        )
    })
}

/// Parses an extension body after [`authenticate_ext`], and checks it is
/// about the token's own request.
fn ext_body<T: serde::de::DeserializeOwned>(
    request: &RequestRow,
    body: &[u8],
    request_id: impl Fn(&T) -> &str,
) -> AppResult<T> {
    let value: T = serde_json::from_slice(body)
        .map_err(|e| AppError::bad(format!("malformed JSON body: {e}")))?;
    if request_id(&value) != request.id {
        return Err(AppError::forbidden("the token belongs to another request"));
    }
    Ok(value)
}

/// `POST /api/ext/attestation`.
pub async fn ext_attestation(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let request = authenticate_ext(&state, &headers)?;
    let body: AttestationRequest =
        ext_body(&request, &raw, |b: &AttestationRequest| &b.request_id)?;
    let t = now();
    if !request.running(t) {
        return Err(AppError::conflict(
            "requestNotRunning",
            format!("request {} is not running ({})", request.id, request.state),
        ));
    }
    if request.mode != "automatic" {
        return Err(AppError::conflict(
            "manualMode",
            "a manual request uses the administrator's own security key, not the vault",
        ));
    }
    if body.origin != vault::MICROSOFT_ORIGIN {
        return Err(AppError::bad(format!(
            "the vault answers only {} (Microsoft's security key registration), not {}",
            vault::MICROSOFT_ORIGIN,
            body.origin
        )));
    }
    let options = body.public_key.get("publicKey").unwrap_or(&body.public_key);
    if let Some(rp) = options.pointer("/rp/id").and_then(Value::as_str)
        && rp != vault::MICROSOFT_RP_ID
    {
        return Err(AppError::bad(format!(
            "the vault answers only RP ID {}, not {rp}",
            vault::MICROSOFT_RP_ID
        )));
    }
    let user = load_user(&state, &request.user_id)?;
    // Microsoft's page always names the user; a call without a name could
    // be for anyone, so it is refused rather than trusted.
    let name = options
        .pointer("/user/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        return Err(AppError::refused(
            "userNameMissing",
            format!(
                "the page's creation options name no user (publicKey.user.name); the vault makes a key only for this request's user, {}",
                user.upn
            ),
        ));
    }
    if name.to_lowercase() != user.upn.to_lowercase() {
        return Err(AppError::refused(
            "userMismatch",
            format!(
                "the page asks for a key for {name}, but this request is for {}",
                user.upn
            ),
        ));
    }
    let options_json = options.to_string();

    // One at a time, so the "once" check and the vault call cannot
    // interleave with a second call.
    let _guard = state.attest_lock.lock().await;
    let claimed = state.db.lock()?.execute(
        "UPDATE requests SET attested_at = ?1, updated_at = ?1 WHERE id = ?2 AND attested_at IS NULL",
        params![t, request.id],
    )?;
    if claimed == 0 {
        return Err(AppError::conflict(
            "alreadyAttested",
            format!("request {} already had its one attestation", request.id),
        ));
    }
    let registration = match state
        .vault
        .make_credential_json(&user.id, &options_json, &body.origin)
    {
        Ok(r) => r,
        Err(e) => {
            // No credential was made: release the claim so a corrected call
            // can still be answered.
            state.db.lock()?.execute(
                "UPDATE requests SET attested_at = NULL WHERE id = ?1",
                [&request.id],
            )?;
            return Err(e.into());
        }
    };
    let credential_id = b64url(&registration.credential.credential_id);
    let ended = state.db.tx(|tx| {
        tx.execute(
            "UPDATE requests SET attested_credential_id = ?1, state = CASE WHEN state IN ('created', 'queued') THEN 'running' ELSE state END
             WHERE id = ?2",
            params![credential_id, request.id],
        )?;
        // Cancelled or failed while the vault worked: the key is not wanted.
        let now_state: String =
            tx.query_row("SELECT state FROM requests WHERE id = ?1", [&request.id], |r| r.get(0))?;
        discard_attested(tx, &request.id)?;
        Ok(is_final(&now_state).then_some(now_state))
    })?;
    if let Some(ended) = ended {
        return Err(AppError::conflict(
            "requestNotRunning",
            format!(
                "request {} ended ({ended}) while the key was made",
                request.id
            ),
        ));
    }
    serde_json::to_value(&registration.response)
        .map(Json)
        .map_err(|e| AppError::internal(format!("registration JSON: {e}")))
}

/// `POST /api/ext/report`.
pub async fn ext_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> AppResult<StatusCode> {
    let request = authenticate_ext(&state, &headers)?;
    let report: JobReport = ext_body(&request, &raw, |r: &JobReport| &r.request_id)?;
    if !report.progress.is_finite() {
        return Err(AppError::bad("progress must be a number from 0 to 1"));
    }
    let progress = f64::from(report.progress.clamp(0.0, 1.0));
    let step = report.step.as_deref().map(|s| clip(s, 200));
    let new_state = state_str(report.state);
    let user = load_user(&state, &request.user_id)?;
    state.db.tx(|tx| {
        let last_seq: Option<i64> = tx.query_row(
            "SELECT MAX(seq) FROM request_reports WHERE request_id = ?1",
            [&request.id],
            |r| r.get(0),
        )?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO request_reports (request_id, seq, state, step, progress, at_ms, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![request.id, report.seq, new_state, step, progress, report.at_ms as i64, now()],
        )?;
        if inserted == 0 {
            return Ok(()); // seen before: idempotent
        }
        let current = load_request_in(tx, &request.id)?
            .ok_or_else(|| AppError::internal("request vanished"))?;
        if !report.state.is_final() {
            // Late or out-of-order progress never moves a request back.
            if !is_final(&current.state) && last_seq.is_none_or(|s| i64::from(report.seq) > s) {
                tx.execute(
                    "UPDATE requests SET state = ?1, step = ?2, progress = ?3, updated_at = ?4 WHERE id = ?5",
                    params![new_state, step, progress, now(), request.id],
                )?;
            }
            return Ok(());
        }
        // A final report is applied once; only a success may replace a
        // failure or cancellation the panel recorded on its own, because
        // then the key exists in Entra and must be shown.
        if is_final(&current.state)
            && (current.state == "succeeded" || report.state != JobState::Succeeded)
        {
            return Ok(());
        }
        let t = now();
        match report.state {
            JobState::Succeeded => {
                let Some(key) = &report.result else {
                    fail_open_or_override(tx, &request.id, "badReport", "the extension reported success without the key", t)?;
                    return Ok(());
                };
                if current.mode == "automatic"
                    && current.attested_credential_id.as_deref() != Some(key.credential_id.as_str())
                {
                    fail_open_or_override(
                        tx,
                        &request.id,
                        "credentialMismatch",
                        "Microsoft registered a key the vault did not make for this request",
                        t,
                    )?;
                    return Ok(());
                }
                let key_name = clip(&key.key_name, 200);
                tx.execute(
                    "UPDATE requests SET state = 'succeeded', step = ?1, progress = 1, credential_id = ?2, key_name = ?3,
                        error_code = NULL, error_message = NULL, error_hint = NULL, updated_at = ?4, finished_at = ?4 WHERE id = ?5",
                    params![step, key.credential_id, key_name, t, request.id],
                )?;
                tx.execute(
                    "INSERT INTO passkeys (credential_id, user_id, request_id, key_name, aaguid, in_vault, created_at, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active') ON CONFLICT DO NOTHING",
                    params![
                        clip(&key.credential_id, 512),
                        request.user_id,
                        request.id,
                        key_name,
                        key.aaguid.as_deref().map(|a| clip(a, 64)),
                        // A success after the panel ended the request finds
                        // the vault's key already discarded.
                        current.mode == "automatic"
                            && crate::store::exists_in(tx, &request.user_id, &key.credential_id)?,
                        t
                    ],
                )?;
                record_as(tx, &request.requested_by, "provision.succeeded", &user, &format!("{key_name} ({})", request.id))?;
            }
            JobState::Failed | JobState::Cancelled => {
                let (code, message, hint) = match &report.error {
                    Some(e) => (clip(&e.code, 64), clip(&e.message, 1000), e.hint.as_deref().map(|h| clip(h, 1000))),
                    None => ("unknown".into(), "the extension reported a failure without details".into(), None),
                };
                tx.execute(
                    "UPDATE requests SET state = ?1, step = ?2, error_code = ?3, error_message = ?4, error_hint = ?5,
                        updated_at = ?6, finished_at = ?6 WHERE id = ?7",
                    params![new_state, step, code, message, hint, t, request.id],
                )?;
                discard_attested(tx, &request.id)?;
                record_as(tx, &request.requested_by, &format!("provision.{new_state}"), &user, &format!("{code} ({})", request.id))?;
            }
            JobState::Queued | JobState::Running => {}
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

fn fail_open_or_override(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    code: &str,
    message: &str,
    t: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE requests SET state = 'failed', error_code = ?1, error_message = ?2, updated_at = ?3, finished_at = ?3
         WHERE id = ?4 AND state != 'succeeded'",
        params![code, message, t, id],
    )?;
    discard_attested(tx, id)?;
    Ok(())
}

/// An audit entry on behalf of the administrator who asked for the request
/// (the extension reports it; the administrator is who provisioned).
fn record_as(
    tx: &rusqlite::Transaction<'_>,
    actor: &str,
    action: &str,
    user: &User,
    detail: &str,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO audit (at, actor_id, actor, action, target_user_id, target_upn, detail)
         VALUES (?1, (SELECT id FROM accounts WHERE username = ?2), ?2, ?3, ?4, ?5, ?6)",
        params![now(), actor, action, user.id, user.upn, detail],
    )?;
    Ok(())
}

/// `POST /api/ext/assertion`: sign-in check with the user's vault key, for
/// the request's user, for a while after the request.
pub async fn ext_assertion(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let request = authenticate_ext(&state, &headers)?;
    let body: AttestationRequest =
        ext_body(&request, &raw, |b: &AttestationRequest| &b.request_id)?;
    let t = now();
    let allowed = request.running(t)
        || (request.state == "succeeded"
            && request
                .finished_at
                .is_some_and(|f| t - f < ASSERTION_GRACE_SECS));
    if !allowed {
        return Err(AppError::conflict(
            "requestNotRunning",
            format!(
                "request {} no longer allows sign-in checks ({})",
                request.id, request.state
            ),
        ));
    }
    let options = body.public_key.get("publicKey").unwrap_or(&body.public_key);
    let assertion =
        state
            .vault
            .get_assertion_json(&request.user_id, &options.to_string(), &body.origin)?;
    serde_json::to_value(&assertion.response)
        .map(Json)
        .map_err(|e| AppError::internal(format!("assertion JSON: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssertionBody {
    #[serde(default)]
    origin: Option<String>,
    public_key: Value,
}

/// `POST /api/users/{id}/assertion`: the same for an administrator (tests,
/// and checking a key still works).
pub async fn admin_assertion(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    AppJson(body): AppJson<AssertionBody>,
) -> AppResult<Json<Value>> {
    session.require_edit_users()?;
    let user = load_user(&state, &id)?;
    let origin = body
        .origin
        .unwrap_or_else(|| vault::MICROSOFT_ORIGIN.to_string());
    // Signing in as the user is as strong as a TAP: on the record.
    state.db.tx(|tx| {
        record(
            tx,
            &session.account,
            "passkey.assert",
            Some((&user.id, &user.upn)),
            &origin,
        )
    })?;
    let options = body.public_key.get("publicKey").unwrap_or(&body.public_key);
    let assertion = state
        .vault
        .get_assertion_json(&user.id, &options.to_string(), &origin)?;
    serde_json::to_value(&assertion.response)
        .map(Json)
        .map_err(|e| AppError::internal(format!("assertion JSON: {e}")))
}

/// `GET /api/vault`: what a tenant that enforces attestation must trust.
pub async fn vault_info(State(state): State<AppState>, _s: Session) -> Json<Value> {
    Json(json!({
        "aaguid": state.vault.aaguid().to_string(),
        "attestationCaPem": state.vault.attestation_ca_pem(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn default_key_names_follow_the_pattern() {
        let n = default_key_name("1c7b6a1f-8e5d-4d2f-8b72-4a2e3d0f9b12", 1_767_225_600).unwrap();
        assert!(n.starts_with("IDM-3d0f9b12-"), "{n}");
        assert!(n.ends_with("-20260101"), "{n}");
        let tag = &n[13..19];
        assert!(
            tag.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "{n}"
        );
    }
}
