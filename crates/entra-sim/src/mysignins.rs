//! mysignins.microsoft.com: the Security info app (client-rendered by
//! `/static/securityinfo.js`) and its API; login.microsoft.com's
//! `/{tenant}/fido/create` page; and the legacy
//! account.activedirectory.windowsazure.com `securityinfo` API.
//!
//! Protocol (2026):
//! 1. `POST /api/session/authorize` → `{sessionCtxV2, requireNgcMfaForSecurityInfo}`
//! 2. `POST /api/authenticationmethods/new {"Type":18}` (header `SessionCtxV2`) →
//!    `{Type, VerificationState:1, Data:"<json string>", ErrorCode}`; Data holds
//!    `provisionUrl` and `requestData` (canary, serverChallenge, userId, memberName,
//!    userDisplayName, postBackUrl, ExcludeNextGenCredentialsJSON)
//! 3. form post of requestData to `provisionUrl?cid=...` → `navigator.credentials.create`
//! 4. form post to `postBackUrl` (`/api/post/newfido`) → `#context` / `#redirectUrl`
//! 5. `POST /api/authenticationmethods/verify {"Type":18,"VerificationData":"<json>"}` →
//!    `{VerificationState:2, DataUpdates:{FidoDevices:[...]}}`

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::html::Page;
use crate::locale::{limit_reached, t, table};
use crate::login::{MYSIGNINS_CLIENT_ID, MYSIGNINS_REDIRECT, error_page};
use crate::model::{DialogControls, Fido2Key, PasskeyFlow, SecurityInfoProtocol, User};
use crate::state::{MySession, PendingReg, SimState, pick_locale};
use crate::util::{
    b64url, b64url_decode, esc, json_for_script, random_bytes, random_uuid, unix_now, urlenc,
};
use crate::web::{cookie, form, set_cookie};

pub const MY_COOKIE: &str = "OhpAuth";
pub const NEWFIDO_URL: &str = "https://mysignins.microsoft.com/api/post/newfido";
pub const LEGACY_NEWFIDO_URL: &str =
    "https://account.activedirectory.windowsazure.com/securityInfo/newfido";

/// `ErrorCode` values of the method APIs.
pub const EC_KEY_LIMIT: u32 = 21;
pub const EC_TWO_FACTOR: u32 = 23;
pub const EC_POLICY_DISABLED: u32 = 24;
pub const EC_ATTESTATION_REJECTED: u32 = 30;
pub const EC_VERIFICATION_FAILED: u32 = 31;
pub const EC_BAD_NAME: u32 = 32;
/// The key's model (AAGUID) is not on the tenant's allowed list (`aaguidRestricted`).
pub const EC_AAGUID_NOT_ALLOWED: u32 = 34;

/// The anti-JSON-hijacking prefix the legacy API puts before its JSON.
const LEGACY_PREFIX: &str = ")]}',\n";

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/", get(security_info).post(signin_callback))
        .route("/security-info", get(security_info))
        .route("/api/session/authorize", post(session_authorize))
        .route("/api/authenticationmethods", get(list_methods))
        .route("/api/authenticationmethods/new", post(new_method))
        .route("/api/authenticationmethods/verify", post(verify_method))
        .route("/api/authenticationmethods/delete", post(delete_method))
        .route("/api/post/newfido", post(newfido))
        .fallback(not_found)
}

pub fn aad_router() -> Router<Arc<SimState>> {
    Router::new()
        .route(
            "/securityinfo/AddSecurityInfo",
            post(legacy_add).options(preflight),
        )
        .route(
            "/securityinfo/VerifySecurityInfo",
            post(legacy_verify).options(preflight),
        )
        .route("/securityInfo/newfido", post(newfido))
        .fallback(not_found)
}

async fn not_found() -> Response {
    AppError::NotFound("no such page or API on this host".into()).into_response()
}

// ---- sessions ----

fn my_session(s: &SimState, headers: &HeaderMap) -> Option<(String, MySession)> {
    let c = cookie(headers, MY_COOKIE)?;
    s.rt(|rt| rt.my.get(&c).cloned()).map(|m| (c, m))
}

/// The session for an API call: cookie plus the `SessionCtxV2` header from
/// `session/authorize` (the legacy API, cross-origin, has only the header).
fn api_session(
    s: &SimState,
    headers: &HeaderMap,
    cookie_required: bool,
) -> Result<(String, MySession, User), AppError> {
    let ctx = headers
        .get("SessionCtxV2")
        .or_else(|| headers.get("SessionCtx"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let found = if cookie_required {
        my_session(s, headers).filter(|(_, m)| m.session_ctx.is_some() && m.session_ctx == ctx)
    } else {
        ctx.as_ref().and_then(|c| {
            s.rt(|rt| {
                rt.my
                    .iter()
                    .find(|(_, m)| m.session_ctx.as_ref() == Some(c))
                    .map(|(k, m)| (k.clone(), m.clone()))
            })
        })
    };
    let Some((sid, m)) = found else {
        return Err(AppError::Unauthorized(
            "no Security info session: sign in, then call /api/session/authorize and send its sessionCtxV2 in the SessionCtxV2 header".into(),
        ));
    };
    let user = s
        .user(&m.user_id)
        .ok_or_else(|| AppError::Unauthorized("the session's user no longer exists".into()))?;
    Ok((sid, m, user))
}

fn login_redirect(path: &str) -> Response {
    Redirect::to(&format!(
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id={MYSIGNINS_CLIENT_ID}&redirect_uri={}&response_type=code&response_mode=form_post&scope=openid+profile&state={}&nonce={}",
        urlenc(MYSIGNINS_REDIRECT),
        urlenc(path),
        random_uuid()
    ))
    .into_response()
}

async fn security_info(State(s): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let Some((_, m)) = my_session(&s, &headers) else {
        return login_redirect("/security-info");
    };
    let Some(user) = s.user(&m.user_id) else {
        return login_redirect("/security-info");
    };
    s.slow(Some(&user.id)).await;
    let lang = pick_locale(Some(&user), &headers);
    if let Err(e) = s.maybe_fail(Some(&user.id), "security-info") {
        return error_page(lang, e.status(), "AADSTS90033", &e.to_string());
    }
    let (tenant_id, protocol, key_limit) = s.read(|t| {
        (
            t.id.clone(),
            t.security_info_protocol,
            t.fido2_policy.key_limit,
        )
    });
    let mut p = Page::new(
        lang,
        &format!("{} - {}", t(lang, "si_title"), "My Sign-Ins"),
    );
    let config = json!({
        "pgid": "SecurityInfo",
        "tenantId": tenant_id,
        "protocol": match protocol { SecurityInfoProtocol::V2026 => "v2026", SecurityInfoProtocol::Legacy => "legacy" },
        "legacyApi": "https://account.activedirectory.windowsazure.com/securityinfo",
        "upn": user.user_principal_name,
        "displayName": user.display_name,
        "busy": user.scenarios.busy_page,
        "controls": match user.scenarios.dialog_controls { DialogControls::Fluent => "fluent", DialogControls::Aria => "aria" },
        "nameNextDisabled": user.scenarios.name_next_disabled,
        "passkeyFlow": match user.scenarios.passkey_flow { PasskeyFlow::SecurityKey => "securityKey", PasskeyFlow::Passkey => "passkey" },
        "passkeyLabel": t(lang, user.scenarios.passkey_label.text_key()),
    });
    let mut strings = table(lang);
    // The banner for ErrorCode 21 names the tenant's limit, not a fixed 10.
    strings["limit_reached"] = Value::String(limit_reached(lang, key_limit));
    p.inline_script(&format!(
        "window.$SiConfig={};window.$Strings={};",
        json_for_script(&config),
        json_for_script(&strings)
    ));
    p.body.push_str(&format!(
        r#"<div id="root" class="si-root"><div class="si-loading" role="status">{}</div></div>"#,
        esc(t(lang, "loading"))
    ));
    p.script_src("/static/securityinfo.js");
    p.into_response()
}

/// The form_post from login.microsoftonline.com: redeem the code, start the session.
async fn signin_callback(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let lang = pick_locale(None, &headers);
    if let Some(err) = f.get("error") {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS50000",
            &crate::locale::tf(lang, "err_signin_failed", &[("error", err)]),
        );
    }
    let Some(code) = f.get("code") else {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS900144",
            t(lang, "err_no_code"),
        );
    };
    let Some(ac) = s.rt(|rt| rt.codes.remove(code)) else {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS54005",
            t(lang, "err_code_used"),
        );
    };
    if ac.expires < unix_now() || ac.authz.client_id != MYSIGNINS_CLIENT_ID {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS70008",
            t(lang, "err_code_expired"),
        );
    }
    let sid = b64url(&random_bytes(32));
    s.rt(|rt| {
        rt.my.insert(
            sid.clone(),
            MySession {
                user_id: ac.user_id.clone(),
                mfa: ac.mfa,
                created: unix_now(),
                session_ctx: None,
            },
        )
    });
    let state = f.get("state").cloned().unwrap_or_default();
    // Only local paths: the state is attacker-controllable.
    let target = if state.starts_with('/') && !state.starts_with("//") {
        state
    } else {
        "/security-info".into()
    };
    let mut resp = Redirect::to(&target).into_response();
    if let Ok(v) = set_cookie(MY_COOKIE, &sid).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

async fn session_authorize(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some((sid, m)) = my_session(&s, &headers) else {
        return Err(AppError::Unauthorized(
            "not signed in to My Sign-Ins".into(),
        ));
    };
    s.slow(Some(&m.user_id)).await;
    s.maybe_fail(Some(&m.user_id), "session-authorize")?;
    let ctx = b64url(&random_bytes(48));
    s.rt(|rt| {
        if let Some(ms) = rt.my.get_mut(&sid) {
            ms.session_ctx = Some(ctx.clone());
        }
    });
    Ok(axum::Json(json!({
        "sessionCtxV2": ctx,
        "requireNgcMfaForSecurityInfo": true,
        // The token refresh with ngcmfa claims succeeds when the sign-in was
        // multi-factor; a TAP counts.
        "isNgcMfaSatisfied": m.mfa,
        "expiresIn": 3600,
    }))
    .into_response())
}

fn method_list(user: &User) -> Vec<Value> {
    let mut v: Vec<Value> = Vec::new();
    for m in &user.other_methods {
        let ty = match m.kind.as_str() {
            "phone" => 1,
            "email" => 8,
            "microsoftAuthenticator" => 6,
            _ => 0,
        };
        v.push(json!({"Type": ty, "Kind": m.kind, "DisplayName": m.display}));
    }
    for k in &user.fido2_keys {
        v.push(json!({
            "Type": 18,
            "Kind": "fido2",
            "Id": k.id,
            "DisplayName": k.display_name,
            "CredentialId": k.credential_id,
            "AaGuid": k.aaguid,
            "CreationTime": crate::util::iso8601(k.created_at),
        }));
    }
    v
}

async fn list_methods(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (_, _, user) = api_session(&s, &headers, true)?;
    Ok(axum::Json(json!({"Methods": method_list(&user)})).into_response())
}

#[derive(serde::Deserialize)]
struct TypeReq {
    #[serde(rename = "Type")]
    ty: i64,
    /// The picker's "Passkey in Microsoft Authenticator" (the simulator's
    /// own field: that flow continues on a phone, which it does not have).
    #[serde(rename = "AuthenticatorPasskey", default)]
    authenticator_passkey: bool,
}

/// A serverChallenge shaped like a compact JWE: five base64url parts.
fn server_challenge() -> String {
    format!(
        "{}..{}.{}.{}",
        b64url(br#"{"alg":"dir","enc":"A256GCM","kid":"sim"}"#),
        b64url(&random_bytes(12)),
        b64url(&random_bytes(96)),
        b64url(&random_bytes(16))
    )
}

fn api_error(ty: i64, code: u32, msg: &str) -> Value {
    json!({"Type": ty, "VerificationState": 3, "Data": null, "VerificationContext": null, "ErrorCode": code, "ErrorMessage": msg})
}

/// Common body of `new` (Type 18) and legacy `AddSecurityInfo` (Type 12).
fn start_registration(
    s: &SimState,
    sid: &str,
    m: &MySession,
    user: &User,
    ty: i64,
    legacy: bool,
    lang: &str,
) -> Result<Value, AppError> {
    let (tenant_id, policy) = s.read(|t| (t.id.clone(), t.fido2_policy.clone()));
    if !policy.enabled || !policy.allow_self_service_setup {
        return Ok(api_error(
            ty,
            EC_POLICY_DISABLED,
            t(lang, "policy_disabled"),
        ));
    }
    if !m.mfa || user.scenarios.two_factor_required {
        return Ok(api_error(ty, EC_TWO_FACTOR, t(lang, "two_factor")));
    }
    if user.scenarios.key_limit_reached || user.fido2_keys.len() >= policy.key_limit {
        return Ok(api_error(
            ty,
            EC_KEY_LIMIT,
            &limit_reached(lang, policy.key_limit),
        ));
    }
    let canary = b64url(&random_bytes(32));
    let challenge = server_challenge();
    let exclude: Vec<Vec<u8>> = user
        .fido2_keys
        .iter()
        .filter_map(|k| b64url_decode(&k.credential_id))
        .collect();
    let reg_state = crate::webauthn::registration_state(
        user.id.as_bytes(),
        &user.user_principal_name,
        &user.display_name,
        exclude,
        challenge.as_bytes(),
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    s.rt(|rt| {
        rt.regs.insert(
            canary.clone(),
            PendingReg {
                user_id: user.id.clone(),
                session: sid.to_string(),
                created: unix_now(),
                server_challenge: challenge.clone(),
                legacy,
                reg_state,
                attested: None,
                done: false,
            },
        )
    });
    let exclude_json: Vec<Value> = user
        .fido2_keys
        .iter()
        .map(|k| json!({"type": "public-key", "id": k.credential_id, "transports": ["usb", "nfc"]}))
        .collect();
    let data = json!({
        "provisionUrl": format!("https://login.microsoft.com/{tenant_id}/fido/create"),
        "requestData": {
            "canary": canary,
            "serverChallenge": challenge,
            "userId": b64url(user.id.as_bytes()),
            "memberName": user.user_principal_name,
            "userDisplayName": user.display_name,
            "postBackUrl": if legacy { LEGACY_NEWFIDO_URL } else { NEWFIDO_URL },
            "ExcludeNextGenCredentialsJSON": Value::Array(exclude_json).to_string(),
        }
    });
    Ok(
        json!({"Type": ty, "VerificationState": 1, "Data": data.to_string(), "VerificationContext": null, "ErrorCode": 0}),
    )
}

async fn new_method(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let (sid, m, user) = api_session(&s, &headers, true)?;
    let req: TypeReq = crate::web::json(&body)?;
    s.slow(Some(&user.id)).await;
    s.maybe_fail(Some(&user.id), "new")?;
    if req.ty != 18 {
        return Err(AppError::bad(format!(
            "method Type {} cannot be added here; this simulator supports security keys (Type 18)",
            req.ty
        )));
    }
    if s.read(|t| t.security_info_protocol) == SecurityInfoProtocol::Legacy {
        return Err(AppError::bad(
            "this tenant uses the legacy AddSecurityInfo API (Type 12)",
        ));
    }
    if req.authenticator_passkey {
        s.record(
            "authenticatorPasskeyChosen",
            Some(&user),
            true,
            "Passkey in Microsoft Authenticator chosen in Security info",
        );
        // Pending forever: the phone would finish it.
        let data = json!({"authenticatorPasskey": true, "pollUrl": null});
        return Ok(axum::Json(json!({"Type": 18, "VerificationState": 1, "Data": data.to_string(), "VerificationContext": null, "ErrorCode": 0})).into_response());
    }
    // wizardTransientErrors: the first N calls of this user fail with 500.
    let limit = user.scenarios.wizard_transient_errors;
    if limit > 0 {
        let fail = s.rt(|rt| {
            let n = rt.transient_new.entry(user.id.clone()).or_insert(0);
            if *n < limit {
                *n += 1;
                true
            } else {
                false
            }
        });
        if fail {
            s.record(
                "transientError",
                Some(&user),
                false,
                "authenticationmethods/new answered 500 (wizardTransientErrors)",
            );
            return Err(AppError::Injected("new (transient)".into()));
        }
    }
    let lang = pick_locale(Some(&user), &headers);
    Ok(axum::Json(start_registration(&s, &sid, &m, &user, 18, false, lang)?).into_response())
}

#[derive(serde::Deserialize)]
struct VerifyReq {
    #[serde(rename = "Type")]
    ty: i64,
    #[serde(rename = "VerificationData")]
    data: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct VerificationData {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Canary")]
    canary: String,
    #[serde(rename = "AttestationObject")]
    attestation_object: Option<String>,
    #[serde(rename = "ClientDataJson")]
    client_data_json: Option<String>,
    #[serde(rename = "CredentialId")]
    credential_id: Option<String>,
    #[serde(rename = "Transports")]
    transports: Option<Value>,
}

/// How long a registration (canary and serverChallenge) stays usable, from `new`.
pub const REG_LIFETIME_SECS: u64 = 600;

/// The answer to a verify on a canary that was verified before (passed or failed).
fn spent_canary() -> AppError {
    AppError::Conflict(
        "this registration was verified already (successfully or not); the challenge cannot be used twice. Start again with Add sign-in method".into(),
    )
}

/// Common body of `verify` and legacy `VerifySecurityInfo`.
fn finish_registration(
    s: &SimState,
    m: &MySession,
    user: &User,
    ty: i64,
    data: &str,
    lang: &str,
) -> Result<Value, AppError> {
    let vd: VerificationData = serde_json::from_str(data)
        .map_err(|e| AppError::bad(format!("VerificationData is not the expected JSON: {e}")))?;
    if vd.canary.is_empty() {
        return Err(AppError::bad("VerificationData has no Canary"));
    }
    let Some(reg) = s.rt(|rt| rt.regs.get(&vd.canary).cloned()) else {
        return Err(AppError::bad(
            "unknown or expired Canary; start again with Add sign-in method",
        ));
    };
    if reg.user_id != m.user_id {
        return Err(AppError::Forbidden(
            "this registration belongs to another session".into(),
        ));
    }
    if reg.done {
        return Err(spent_canary());
    }
    // The name is checked first and may be corrected: nothing about the
    // credential has been looked at yet.
    let name = vd.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Ok(api_error(ty, EC_BAD_NAME, t(lang, "name_empty")));
    }
    // Single use from here: whatever happens next, success or failure, spends
    // the canary (no retries on one challenge; a new one needs Add sign-in
    // method again). Taken atomically, so concurrent verifies cannot both pass.
    let newly = s.rt(|rt| match rt.regs.get_mut(&vd.canary) {
        Some(r) if !r.done => {
            r.done = true;
            true
        }
        _ => false,
    });
    if !newly {
        return Err(spent_canary());
    }
    if unix_now() > reg.created + REG_LIFETIME_SECS {
        return Ok(api_error(
            ty,
            EC_VERIFICATION_FAILED,
            t(lang, "challenge_expired"),
        ));
    }
    // The attestation comes from VerificationData; newfido kept a copy for
    // pages (legacy) that cannot carry it across origins.
    let stored = reg.attested.clone();
    let (ao, cdj, cid) = match (
        &vd.attestation_object,
        &vd.client_data_json,
        &vd.credential_id,
    ) {
        (Some(a), Some(c), Some(i)) => (a.clone(), c.clone(), i.clone()),
        _ => match &stored {
            Some(st) => (
                st.credential["attestationObject"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                st.credential["clientDataJson"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                st.credential_id.clone(),
            ),
            None => {
                return Err(AppError::bad(
                    "VerificationData lacks AttestationObject, ClientDataJson and CredentialId, and no newfido post was received for this Canary",
                ));
            }
        },
    };
    let (Some(ao_b), Some(cdj_b), Some(cid_b)) =
        (b64url_decode(&ao), b64url_decode(&cdj), b64url_decode(&cid))
    else {
        return Err(AppError::bad(
            "AttestationObject, ClientDataJson and CredentialId must be base64url",
        ));
    };
    let reg_json = json!({
        "id": b64url(&cid_b),
        "rawId": b64url(&cid_b),
        "type": "public-key",
        "response": {"attestationObject": b64url(&ao_b), "clientDataJSON": b64url(&cdj_b), "transports": vd.transports.clone().filter(|v| v.is_array())},
        "extensions": {},
    });
    let rpk = serde_json::from_value(reg_json)
        .map_err(|e| AppError::bad(format!("credential does not parse: {e}")))?;
    let policy = s.read(|t| t.fido2_policy.clone());
    if user.scenarios.key_limit_reached || user.fido2_keys.len() >= policy.key_limit {
        return Ok(api_error(
            ty,
            EC_KEY_LIMIT,
            &limit_reached(lang, policy.key_limit),
        ));
    }
    if user.scenarios.aaguid_restricted {
        s.record(
            "registration",
            Some(user),
            false,
            "key model not allowed (aaguidRestricted scenario)",
        );
        return Ok(api_error(
            ty,
            EC_AAGUID_NOT_ALLOWED,
            t(lang, "aaguid_restricted"),
        ));
    }
    if user.scenarios.attestation_rejected {
        s.record(
            "registration",
            Some(user),
            false,
            "attestation rejected (scenario)",
        );
        return Ok(api_error(
            ty,
            EC_ATTESTATION_REJECTED,
            t(lang, "reg_rejected"),
        ));
    }
    let attested = match crate::webauthn::verify_registration(
        &reg.reg_state,
        &rpk,
        &policy,
        crate::webauthn::ORIGIN,
    ) {
        Ok(a) => a,
        Err(crate::webauthn::VerifyError::Policy(why)) => {
            s.record(
                "registration",
                Some(user),
                false,
                &format!("attestation rejected: {why}"),
            );
            let mut v = api_error(ty, EC_ATTESTATION_REJECTED, t(lang, "reg_rejected"));
            v["ErrorDetail"] = Value::String(why);
            return Ok(v);
        }
        Err(e) => {
            s.record(
                "registration",
                Some(user),
                false,
                &format!("verification failed: {e}"),
            );
            let mut v = api_error(ty, EC_VERIFICATION_FAILED, t(lang, "reg_failed"));
            v["ErrorDetail"] = Value::String(e.to_string());
            return Ok(v);
        }
    };
    let key = Fido2Key {
        id: attested.credential_id.clone(),
        credential_id: attested.credential_id.clone(),
        display_name: name.to_string(),
        aaguid: attested.aaguid.clone(),
        model: String::new(),
        created_at: unix_now(),
        attestation_level: if policy.enforce_attestation {
            "attested".into()
        } else {
            "notAttested".into()
        },
        attestation_certificates: Vec::new(),
        registered_via: if reg.legacy {
            "securityInfoLegacy".into()
        } else {
            "securityInfo".into()
        },
        credential: attested.credential.clone(),
        last_used_at: None,
    };
    let dup = s.write(|t| {
        if t.users.iter().any(|u| {
            u.fido2_keys
                .iter()
                .any(|k| k.credential_id == key.credential_id)
        }) {
            return true;
        }
        if let Some(u) = t.user_mut(&user.id) {
            u.fido2_keys.push(key.clone());
        }
        false
    });
    if dup {
        return Ok(api_error(
            ty,
            EC_VERIFICATION_FAILED,
            t(lang, "key_already_registered"),
        ));
    }
    s.record(
        "registration",
        Some(user),
        true,
        &format!(
            "security key {} ({}) aaguid {}",
            key.display_name, key.credential_id, key.aaguid
        ),
    );
    let updated = s.user(&user.id).unwrap_or_else(|| user.clone());
    let devices: Vec<Value> = updated
        .fido2_keys
        .iter()
        .map(|k| json!({"Id": k.id, "Name": k.display_name, "CredentialId": k.credential_id, "AaGuid": k.aaguid, "CreationTime": crate::util::iso8601(k.created_at)}))
        .collect();
    Ok(
        json!({"Type": ty, "VerificationState": 2, "ErrorCode": 0, "DataUpdates": {"FidoDevices": devices}}),
    )
}

async fn verify_method(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let (_, m, user) = api_session(&s, &headers, true)?;
    let req: VerifyReq = crate::web::json(&body)?;
    s.slow(Some(&user.id)).await;
    s.maybe_fail(Some(&user.id), "verify")?;
    if req.ty != 18 {
        return Err(AppError::bad(format!(
            "Type {} is not a security key registration (18)",
            req.ty
        )));
    }
    let lang = pick_locale(Some(&user), &headers);
    Ok(axum::Json(finish_registration(&s, &m, &user, 18, &req.data, lang)?).into_response())
}

#[derive(serde::Deserialize)]
struct DeleteReq {
    #[serde(rename = "Type")]
    ty: i64,
    #[serde(rename = "Id")]
    id: String,
}

async fn delete_method(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let (_, _, user) = api_session(&s, &headers, true)?;
    let req: DeleteReq = crate::web::json(&body)?;
    if req.ty != 18 {
        return Err(AppError::bad(
            "only security keys (Type 18) can be deleted here",
        ));
    }
    let removed = s.write(|t| {
        t.user_mut(&user.id)
            .map(|u| {
                let before = u.fido2_keys.len();
                u.fido2_keys.retain(|k| k.id != req.id);
                before != u.fido2_keys.len()
            })
            .unwrap_or(false)
    });
    if !removed {
        return Err(AppError::NotFound(format!(
            "no security key with Id {}",
            req.id
        )));
    }
    Ok(axum::Json(json!({"Type": 18, "ErrorCode": 0})).into_response())
}

// ---- legacy API on account.activedirectory.windowsazure.com ----

fn cors(mut resp: Response, headers: &HeaderMap) -> Response {
    if headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        == Some("https://mysignins.microsoft.com")
    {
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("https://mysignins.microsoft.com"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, sessionctx, sessionctxv2"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

async fn preflight(headers: HeaderMap, method: Method) -> Response {
    let _ = method;
    cors(StatusCode::NO_CONTENT.into_response(), &headers)
}

fn legacy_json(v: Value) -> Response {
    let mut r = format!("{LEGACY_PREFIX}{v}").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

async fn legacy_add(State(s): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let r = async {
        let (sid, m, user) = api_session(&s, &headers, false)?;
        let req: TypeReq = crate::web::json(&body)?;
        s.slow(Some(&user.id)).await;
        s.maybe_fail(Some(&user.id), "new")?;
        if req.ty != 12 {
            return Err(AppError::bad(format!(
                "AddSecurityInfo Type {} is not a security key (12)",
                req.ty
            )));
        }
        let lang = pick_locale(Some(&user), &headers);
        start_registration(&s, &sid, &m, &user, 12, true, lang)
    }
    .await;
    cors(
        match r {
            Ok(v) => legacy_json(v),
            Err(e) => e.into_response(),
        },
        &headers,
    )
}

async fn legacy_verify(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = async {
        let (_, m, user) = api_session(&s, &headers, false)?;
        let req: VerifyReq = crate::web::json(&body)?;
        s.slow(Some(&user.id)).await;
        s.maybe_fail(Some(&user.id), "verify")?;
        if req.ty != 12 {
            return Err(AppError::bad(format!(
                "VerifySecurityInfo Type {} is not a security key (12)",
                req.ty
            )));
        }
        let lang = pick_locale(Some(&user), &headers);
        finish_registration(&s, &m, &user, 12, &req.data, lang)
    }
    .await;
    cors(
        match r {
            Ok(v) => legacy_json(v),
            Err(e) => e.into_response(),
        },
        &headers,
    )
}

// ---- login.microsoft.com/{tenant}/fido/create ----

pub async fn fido_create_get(headers: HeaderMap) -> Response {
    let lang = pick_locale(None, &headers);
    error_page(
        lang,
        StatusCode::METHOD_NOT_ALLOWED,
        "AADSTS90056",
        t(lang, "err_fido_create_get"),
    )
}

pub async fn fido_create_post(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let lang0 = pick_locale(None, &headers);
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let canary = get("canary");
    let Some(reg) = s.rt(|rt| rt.regs.get(canary).cloned()) else {
        return error_page(
            lang0,
            StatusCode::BAD_REQUEST,
            "AADSTS135010",
            t(lang0, "err_canary_unknown"),
        );
    };
    let user = s.user(&reg.user_id);
    let lang = pick_locale(user.as_ref(), &headers);
    let Some(user) = user else {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS135010",
            t(lang, "err_reg_user_gone"),
        );
    };
    let tenant_id = s.read(|t| t.id.clone());
    if tenant != tenant_id {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS90002",
            &crate::locale::tf(lang, "err_tenant", &[("tenant", &tenant)]),
        );
    }
    if get("serverChallenge") != reg.server_challenge {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS135010",
            t(lang, "err_challenge_mismatch"),
        );
    }
    if reg.done || unix_now() > reg.created + REG_LIFETIME_SECS {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS135010",
            t(lang, "err_reg_used"),
        );
    }
    let post_back = get("postBackUrl");
    let expected = if reg.legacy {
        LEGACY_NEWFIDO_URL
    } else {
        NEWFIDO_URL
    };
    if post_back != expected {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS50011",
            t(lang, "err_postback"),
        );
    }
    s.slow(Some(&user.id)).await;
    if let Err(e) = s.maybe_fail(Some(&user.id), "fido-create") {
        return error_page(lang, e.status(), "AADSTS90033", &e.to_string());
    }
    let exclude: Value =
        serde_json::from_str(get("ExcludeNextGenCredentialsJSON")).unwrap_or(Value::Array(vec![]));
    let options = json!({
        "rp": {"id": crate::webauthn::RP_ID, "name": "Microsoft"},
        "user": {"id": get("userId"), "name": get("memberName"), "displayName": get("userDisplayName")},
        "challenge": reg.server_challenge,
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
        "timeout": 180000,
        "excludeCredentials": exclude,
        "authenticatorSelection": {"authenticatorAttachment": "cross-platform", "requireResidentKey": true, "residentKey": "required", "userVerification": "required"},
        "attestation": "direct",
        "extensions": {"credProps": true, "hmacCreateSecret": true},
    });
    let mut p = Page::new(lang, t(lang, "fido_create_title"));
    let config = json!({"pgid": "FidoCreate", "cid": q.get("cid").cloned().unwrap_or_default(), "oCreateOptions": options, "canary": canary, "postBackUrl": post_back});
    p.inline_script(&format!(
        "//<![CDATA[\n$Config={};\nwindow.$Strings={};\n//]]>",
        json_for_script(&config),
        json_for_script(
            &json!({"error": t(lang, "fido_create_error"), "retry": t(lang, "try_again")})
        )
    ));
    p.body.push_str(&format!(
        r#"<div class="sim-bg"><div class="sim-card" id="lightbox"><div class="sim-logo" aria-label="Microsoft">Microsoft</div><div role="heading" aria-level="1" class="sim-title">{title}</div><div id="fidoDescription" class="sim-text">{desc}</div><div id="fidoError" role="alert" class="sim-error" hidden></div><form id="fidoForm" method="post" action="{action}"><input type="hidden" name="canary" value="{canary}"><input type="hidden" name="authenticator" value="cross-platform"><input type="hidden" name="transports"><input type="hidden" name="aaguid"><input type="hidden" name="credentialId"><input type="hidden" name="clientDataJson"><input type="hidden" name="attestationObject"><input type="hidden" name="clientExtensionResults"><input type="hidden" name="errorName"><input type="hidden" name="errorMessage"><div class="sim-buttons"><input type="button" id="idSIButton9" class="sim-btn sim-primary" value="{retry}" hidden></div></form></div></div>"#,
        title = esc(t(lang, "fido_create_title")),
        desc = esc(t(lang, "fido_create_desc")),
        action = esc(post_back),
        canary = esc(canary),
        retry = esc(t(lang, "try_again")),
    ));
    p.script_src("/static/fido-create.js");
    p.into_response()
}

// ---- newfido (both hosts) ----

async fn newfido(State(s): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    let lang0 = pick_locale(None, &headers);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let canary = get("canary");
    let Some(reg) = s.rt(|rt| rt.regs.get(&canary).cloned()) else {
        return error_page(
            lang0,
            StatusCode::BAD_REQUEST,
            "AADSTS135010",
            t(lang0, "err_canary_unknown"),
        );
    };
    let user = s.user(&reg.user_id);
    let lang = pick_locale(user.as_ref(), &headers);
    s.slow(Some(&reg.user_id)).await;
    if let Err(e) = s.maybe_fail(Some(&reg.user_id), "newfido") {
        return error_page(lang, e.status(), "AADSTS90033", &e.to_string());
    }
    // A verified (or failed) registration takes no new credential.
    if reg.done {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS135010",
            t(lang, "err_reg_used"),
        );
    }
    let failed = !get("errorName").is_empty() || get("attestationObject").is_empty();
    let fields = ["credentialId", "clientDataJson", "attestationObject"];
    let malformed = !failed
        && fields
            .iter()
            .any(|k| b64url_decode(&get(k)).is_none_or(|v| v.is_empty()));
    if malformed {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS90014",
            t(lang, "err_newfido_malformed"),
        );
    }
    let context = json!({
        "canary": canary,
        "success": !failed,
        "authenticator": get("authenticator"),
        "transports": get("transports"),
        "aaguid": get("aaguid"),
        "credentialId": get("credentialId"),
        "clientDataJson": get("clientDataJson"),
        "attestationObject": get("attestationObject"),
        "clientExtensionResults": get("clientExtensionResults"),
        "errorName": get("errorName"),
        "errorMessage": get("errorMessage"),
    });
    if !failed {
        s.rt(|rt| {
            if let Some(r) = rt.regs.get_mut(&canary) {
                r.attested = Some(crate::webauthn::Attested {
                    credential: context.clone(),
                    credential_id: get("credentialId"),
                    aaguid: get("aaguid"),
                    fmt: String::new(),
                });
            }
        });
    }
    let frag = if failed {
        "fidoProvisionError"
    } else {
        "fidoProvisionSuccess"
    };
    let redirect = format!(
        "https://mysignins.microsoft.com/security-info#{frag}={}",
        urlenc(&canary)
    );
    let mut p = Page::new(lang, t(lang, "working"));
    p.body.push_str(&format!(
        r#"<div id="context" data-content="{}"></div><div id="redirectUrl" data-content="{}"></div>"#,
        esc(&context.to_string()),
        esc(&redirect)
    ));
    p.inline_script(
        "try{sessionStorage.setItem('fidoProvisionContext',document.getElementById('context').dataset.content);}catch(e){}location.replace(document.getElementById('redirectUrl').dataset.content);",
    );
    p.into_response()
}
