//! The loopback-only control API under `/__sim/` (on every host; Microsoft
//! has no such path): scenario switches, TAPs for tests, and read-back of
//! what happened.
//!
//! - `GET  /__sim/health`
//! - `GET  /__sim/tenant`, `PATCH /__sim/tenant` (securityInfoProtocol, signInLayout, fido2Policy,
//!   graphThrottle, accessTokenLifetimeSecs)
//! - `GET  /__sim/apps` (app registrations with their client ids, secrets, scopes and roles)
//! - `GET  /__sim/users`, `GET /__sim/users/{id|upn}`
//! - `PATCH /__sim/users/{id|upn}/scenarios` (merge; `null` clears a field)
//! - `POST /__sim/users/{id|upn}/taps` {lifetimeMinutes, isUsableOnce, propagationDelaySecs}
//! - `GET  /__sim/users/{id|upn}/keys`
//! - `GET  /__sim/events?kind=&user=`
//! - `GET  /__sim/clock`, `PATCH /__sim/clock` {offsetSecs | advanceSecs}: the
//!   simulated clock offset every expiry check uses (canaries, FIDO and Graph
//!   challenges, TAPs, codes, tokens); runtime only, 0 after a restart

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::model::{Scenarios, Tap, User};
use crate::state::{STEPS, SimState};
use crate::util::{random_uuid, unix_now};

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route(
            "/__sim/health",
            get(|| async { axum::Json(json!({"ok": true})) }),
        )
        .route("/__sim/tenant", get(tenant).patch(patch_tenant))
        .route("/__sim/apps", get(apps))
        .route("/__sim/users", get(users))
        .route("/__sim/users/{id}", get(user))
        .route(
            "/__sim/users/{id}/scenarios",
            patch(patch_scenarios).put(patch_scenarios),
        )
        .route("/__sim/users/{id}/taps", post(create_tap))
        .route("/__sim/users/{id}/keys", get(keys))
        .route("/__sim/events", get(events))
        .route("/__sim/clock", get(clock).patch(patch_clock))
        .route("/__sim/timings", get(timings))
        .fallback(|| async { AppError::NotFound("no such control endpoint".into()) })
        .layer(middleware::from_fn(loopback_only))
        .with_state(state)
}

/// Refuses callers that are not on this machine. Requests without a peer
/// address come from in-process tests (`oneshot`).
async fn loopback_only(req: Request, next: Next) -> Response {
    if let Some(peer) = crate::server::peer(req.extensions()) {
        if !peer.ip().is_loopback() {
            return AppError::Forbidden("the control API answers loopback callers only".into())
                .into_response();
        }
    }
    next.run(req).await
}

async fn tenant(State(s): State<Arc<SimState>>) -> Response {
    s.read(|t| {
        axum::Json(json!({
            "id": t.id,
            "displayName": t.display_name,
            "domains": t.domains,
            "securityInfoProtocol": t.security_info_protocol,
            "signInLayout": t.sign_in_layout,
            "fido2Policy": t.fido2_policy,
            "graphThrottle": t.graph_throttle,
            "accessTokenLifetimeSecs": t.access_token_lifetime_secs,
            "users": t.users.len(),
        }))
        .into_response()
    })
}

async fn patch_tenant(State(s): State<Arc<SimState>>, body: Bytes) -> Result<Response, AppError> {
    let v: Value = crate::web::json(&body)?;
    let obj = v
        .as_object()
        .ok_or_else(|| AppError::bad("a JSON object is expected"))?;
    let protocol = obj
        .get("securityInfoProtocol")
        .map(|p| serde_json::from_value(p.clone()))
        .transpose()?;
    let layout = obj
        .get("signInLayout")
        .map(|p| serde_json::from_value(p.clone()))
        .transpose()?;
    let policy = obj
        .get("fido2Policy")
        .map(|p| serde_json::from_value(p.clone()))
        .transpose()?;
    let throttle = match obj.get("graphThrottle") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(t) => Some(Some(serde_json::from_value(t.clone())?)),
    };
    let lifetime = obj
        .get("accessTokenLifetimeSecs")
        .map(|v| {
            v.as_u64()
                .filter(|n| (1..=86_400).contains(n))
                .ok_or_else(|| AppError::bad("accessTokenLifetimeSecs must be 1..86400"))
        })
        .transpose()?;
    for k in obj.keys() {
        if ![
            "securityInfoProtocol",
            "signInLayout",
            "fido2Policy",
            "graphThrottle",
            "accessTokenLifetimeSecs",
        ]
        .contains(&k.as_str())
        {
            return Err(AppError::bad(format!("unknown tenant field {k:?}")));
        }
    }
    s.write(|t| {
        if let Some(p) = protocol {
            t.security_info_protocol = p;
        }
        if let Some(l) = layout {
            t.sign_in_layout = l;
        }
        if let Some(p) = policy {
            t.fido2_policy = p;
        }
        if let Some(th) = throttle {
            t.graph_throttle = th;
        }
        if let Some(l) = lifetime {
            t.access_token_lifetime_secs = l;
        }
    });
    Ok(tenant(State(s)).await)
}

/// `GET /__sim/timings?since=MS`: when the simulator was serving
/// Microsoft-side requests that ended at or after `since` (Unix ms, real
/// clock), as `{"intervals": [[startMs, endMs, "METHOD host/path"], ...]}`.
async fn timings(
    State(s): State<Arc<SimState>>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let mut since = 0.0;
    for pair in q
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("since", v)) => {
                since = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| AppError::bad("since must be a number of Unix milliseconds"))?;
            }
            _ => {
                return Err(AppError::bad(format!(
                    "unknown query {pair:?}; known: since"
                )));
            }
        }
    }
    let intervals: Vec<Value> = s
        .served_since(since)
        .into_iter()
        .map(|r| json!([r.start_ms, r.end_ms, r.what]))
        .collect();
    Ok(axum::Json(json!({ "intervals": intervals })).into_response())
}

/// Largest clock offset accepted, either way: ten years.
pub const MAX_CLOCK_OFFSET_SECS: i64 = 10 * 366 * 86_400;

async fn clock(State(s): State<Arc<SimState>>) -> Response {
    axum::Json(json!({
        "offsetSecs": s.clock_offset(),
        "now": crate::util::iso8601(s.now()),
        "wallClock": crate::util::iso8601(crate::util::wall_now()),
    }))
    .into_response()
}

/// `{"offsetSecs": n}` sets the offset, `{"advanceSecs": n}` adds to it.
async fn patch_clock(State(s): State<Arc<SimState>>, body: Bytes) -> Result<Response, AppError> {
    let v: Value = crate::web::json(&body)?;
    let obj = v
        .as_object()
        .ok_or_else(|| AppError::bad("a JSON object is expected"))?;
    for k in obj.keys() {
        if !["offsetSecs", "advanceSecs"].contains(&k.as_str()) {
            return Err(AppError::bad(format!(
                "unknown clock field {k:?}; known: offsetSecs, advanceSecs"
            )));
        }
    }
    let num = |k: &str| -> Result<Option<i64>, AppError> {
        obj.get(k)
            .map(|v| {
                v.as_i64()
                    .ok_or_else(|| AppError::bad(format!("{k} must be an integer (seconds)")))
            })
            .transpose()
    };
    let offset = match (num("offsetSecs")?, num("advanceSecs")?) {
        (Some(_), Some(_)) => {
            return Err(AppError::bad("give offsetSecs or advanceSecs, not both"));
        }
        (Some(o), None) => o,
        (None, Some(a)) => s.clock_offset().saturating_add(a),
        (None, None) => return Err(AppError::bad("offsetSecs or advanceSecs is required")),
    };
    if offset.abs() > MAX_CLOCK_OFFSET_SECS {
        return Err(AppError::bad(format!(
            "the clock offset must stay within ±{MAX_CLOCK_OFFSET_SECS} s"
        )));
    }
    s.set_clock_offset(offset);
    crate::log(&format!("clock offset set to {offset} s"));
    Ok(clock(State(s)).await)
}

async fn apps(State(s): State<Arc<SimState>>) -> Response {
    s.read(|t| axum::Json(serde_json::to_value(&t.apps).unwrap_or(Value::Null)).into_response())
}

fn summary(u: &User) -> Value {
    json!({
        "id": u.id,
        "userPrincipalName": u.user_principal_name,
        "displayName": u.display_name,
        "onPremisesSyncEnabled": u.on_premises_sync_enabled,
        "roles": u.roles,
        "scenarios": u.scenarios,
        "fido2Keys": u.fido2_keys.len(),
        "taps": u.taps.len(),
    })
}

async fn users(State(s): State<Arc<SimState>>) -> Response {
    s.read(|t| axum::Json(Value::Array(t.users.iter().map(summary).collect())).into_response())
}

fn find(s: &SimState, id: &str) -> Result<User, AppError> {
    s.user(id)
        .ok_or_else(|| AppError::NotFound(format!("no user {id:?} in the tenant")))
}

async fn user(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let u = find(&s, &id)?;
    let mut v = summary(&u);
    v["taps"] = serde_json::to_value(&u.taps)?;
    v["fido2Keys"] = keys_json(&u);
    Ok(axum::Json(v).into_response())
}

fn keys_json(u: &User) -> Value {
    Value::Array(
        u.fido2_keys
            .iter()
            .map(|k| {
                json!({
                    "id": k.id,
                    "credentialId": k.credential_id,
                    "displayName": k.display_name,
                    "aaguid": k.aaguid,
                    "createdAt": crate::util::iso8601(k.created_at),
                    "registeredVia": k.registered_via,
                    "attestationLevel": k.attestation_level,
                    "counter": k.credential.get("counter").cloned().unwrap_or(Value::Null),
                    "lastUsedAt": k.last_used_at.map(crate::util::iso8601),
                })
            })
            .collect(),
    )
}

async fn keys(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let u = find(&s, &id)?;
    Ok(axum::Json(keys_json(&u)).into_response())
}

/// Validates switch values so a typo fails loudly instead of doing nothing.
pub fn check_scenarios(sc: &Scenarios) -> Result<(), AppError> {
    if let Some(step) = &sc.fail_step {
        if !STEPS.contains(&step.as_str()) {
            return Err(AppError::bad(format!(
                "failStep {step:?} is not one of {}",
                STEPS.join(", ")
            )));
        }
    }
    if let Some(l) = &sc.locale {
        if crate::locale::lang(l).is_none() {
            return Err(AppError::bad(format!(
                "locale {l:?} is not one of {}",
                crate::locale::codes().join(", ")
            )));
        }
    }
    if sc.wizard_transient_errors > 100 {
        return Err(AppError::bad("wizardTransientErrors must be 0..100"));
    }
    if let Some(d) = &sc.dom_variant {
        if !["accesspass", "passwd", "otc"].contains(&d.as_str()) {
            return Err(AppError::bad(format!(
                "domVariant {d:?} is not one of accesspass, passwd, otc"
            )));
        }
    }
    Ok(())
}

async fn patch_scenarios(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let patch: Value = crate::web::json(&body)?;
    let Some(patch) = patch.as_object() else {
        return Err(AppError::bad(
            "a JSON object of scenario switches is expected",
        ));
    };
    let u = find(&s, &id)?;
    let mut current = serde_json::to_value(&u.scenarios)?;
    let defaults = serde_json::to_value(Scenarios::default())?;
    let known: Vec<String> = current
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for (k, v) in patch {
        if !known.contains(k) {
            return Err(AppError::bad(format!(
                "unknown scenario switch {k:?}; known: {}",
                known.join(", ")
            )));
        }
        // `null` clears a switch: its default (null for the optional ones).
        current[k] = if v.is_null() {
            defaults[k].clone()
        } else {
            v.clone()
        };
    }
    let sc: Scenarios = serde_json::from_value(current)
        .map_err(|e| AppError::bad(format!("scenario switches: {e}")))?;
    check_scenarios(&sc)?;
    s.write(|t| {
        if let Some(u) = t.user_mut(&u.id) {
            u.scenarios = sc.clone();
        }
    });
    if patch.contains_key("wizardTransientErrors") {
        // A new count starts over: the next N calls fail.
        s.rt(|rt| rt.transient_new.remove(&u.id));
    }
    Ok(axum::Json(serde_json::to_value(&sc)?).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TapReq {
    pub lifetime_minutes: Option<u64>,
    pub is_usable_once: Option<bool>,
    pub propagation_delay_secs: Option<u64>,
    pub start_date_time: Option<u64>,
}

/// The one place a TAP is made (control API and Graph): checks the user is
/// synced and has no TAP yet, as Entra allows only one.
pub fn make_tap(s: &SimState, id: &str, req: &TapReq) -> Result<(User, Tap), AppError> {
    let u = find(s, id)?;
    if u.scenarios.not_synced {
        return Err(AppError::graph(
            axum::http::StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{}' does not exist or one of its queried reference-property objects are not present. The user is not synced to Microsoft Entra ID: Sync user data by importing from Azure AD and try again.",
                u.id
            ),
        ));
    }
    let lifetime = req
        .lifetime_minutes
        .unwrap_or_else(|| s.read(|t| t.tap_default_lifetime_minutes));
    if !(10..=43_200).contains(&lifetime) {
        return Err(AppError::graph(
            axum::http::StatusCode::BAD_REQUEST,
            "badRequest",
            format!("lifetimeInMinutes must be between 10 and 43200, got {lifetime}"),
        ));
    }
    let now = unix_now();
    let tap = Tap {
        id: random_uuid(),
        pass: tap_pass(),
        created_at: now,
        start_at: req.start_date_time.unwrap_or(now),
        lifetime_minutes: lifetime,
        is_usable_once: req.is_usable_once.unwrap_or(false),
        used: false,
        propagation_delay_secs: req.propagation_delay_secs.unwrap_or(0),
    };
    let res = s.write(|t| {
        let Some(user) = t.user_mut(&u.id) else { return Err(AppError::NotFound("user vanished".into())) };
        user.taps.retain(|tp| tp.usable(now));
        if !user.taps.is_empty() {
            return Err(AppError::graph(
                axum::http::StatusCode::BAD_REQUEST,
                "badRequest",
                "The user already has a Temporary Access Pass. Delete it before creating a new one.",
            ));
        }
        user.taps.push(tap.clone());
        Ok(())
    });
    res?;
    s.record(
        "tap",
        Some(&u),
        true,
        &format!("TAP {} created, lifetime {lifetime} min", tap.id),
    );
    Ok((u, tap))
}

/// An 8-character pass from an alphabet without look-alikes, like Entra's.
fn tap_pass() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@#$%&";
    crate::util::random_bytes(8)
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

async fn create_tap(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let req: TapReq = if body.is_empty() {
        TapReq::default()
    } else {
        crate::web::json(&body)?
    };
    let (_, tap) = make_tap(&s, &id, &req)?;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(serde_json::to_value(&tap)?),
    )
        .into_response())
}

async fn events(
    State(s): State<Arc<SimState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let kind = q.get("kind");
    let user = q.get("user").map(|u| u.to_ascii_lowercase());
    s.read(|t| {
        let list: Vec<&crate::model::Event> = t
            .events
            .iter()
            .filter(|e| kind.is_none_or(|k| &e.kind == k))
            .filter(|e| {
                user.as_ref().is_none_or(|u| {
                    e.user_id.as_deref().map(str::to_ascii_lowercase).as_ref() == Some(u)
                        || e.upn.as_deref().map(str::to_ascii_lowercase).as_ref() == Some(u)
                })
            })
            .collect();
        axum::Json(json!(list)).into_response()
    })
}
