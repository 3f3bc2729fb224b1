//! login.microsoftonline.com: the converged sign-in pages, the OAuth 2.0
//! authorize and token endpoints; and login.microsoft.com's sign-in with a
//! security key (`/common/fido/get`).
//!
//! Pages (pgid in `$Config`):
//! - username: `ConvergedSignIn`, `input[type=email][name=loginfmt]#i0116`, `#idSIButton9` Next
//! - TAP: `ConvergedSignIn`, `input[name=accesspass]#i0118a` (ps=56), `#idSIButton9` Sign in
//! - password (and the `passwd` variant): `input[type=password][name=passwd]#i0118`
//! - one-time code variant: `input[name=otc]#idTxtBx_SAOTCC_OTC`
//! - proof-up: `ConvergedProofUpRedirect`, `#ProofUpDescription`, `#idSubmit_ProofUp_Redirect`
//! - KMSI: `KmsiInterrupt`, `div[role=heading][aria-level=1]`, `#idSIButton9` Yes, `#idBtn_Back` No

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;

use crate::error::AppError;
use crate::html::Page;
use crate::locale::{mkt, t, tf};
use crate::model::{Interrupt, SignInLayout, User};
use crate::state::{AuthCode, AuthResult, AuthzRequest, EstsSession, Flow, SimState, pick_locale};
use crate::util::{
    b64url, b64url_decode, esc, json_for_script, random_bytes, random_uuid, sha256, unix_now,
    urlenc,
};
use crate::web::{cookie, form, set_cookie};

/// The client id of "My Signins" (the Security info app).
pub const MYSIGNINS_CLIENT_ID: &str = "19db86c3-b2b9-44cc-b339-36da233a3be2";
pub const MYSIGNINS_REDIRECT: &str = "https://mysignins.microsoft.com/";
pub const ESTS_COOKIE: &str = "ESTSAUTH";

/// `iErrorCode` values the pages use.
pub const ERR_UNKNOWN_USER: u32 = 50034;
pub const ERR_BAD_PASSWORD: u32 = 50126;
pub const ERR_BAD_TAP: u32 = 130503;
pub const ERR_FIDO: u32 = 135011;

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/", get(root))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/authorize", get(authorize))
        .route("/{tenant}/login", post(login_post))
        .route("/{tenant}/login/continue", get(login_continue))
        .route("/{tenant}/proofup", post(proofup_post))
        .route("/{tenant}/proofup/skip", get(proofup_skip))
        .route("/{tenant}/proofup/setup", post(proofup_setup))
        .route("/{tenant}/campaign/skip", get(campaign_skip))
        .route("/{tenant}/campaign/accept", post(campaign_accept))
        .route("/{tenant}/authenticator/setup", post(authenticator_setup))
        .route("/kmsi", post(kmsi_post))
        .route("/{tenant}/consent", post(crate::oauth::consent_post))
        .route("/{tenant}/oauth2/v2.0/token", post(crate::oauth::token))
        .route("/{tenant}/oauth2/token", post(crate::oauth::token))
        .route("/{tenant}/oauth2/v2.0/logout", get(logout))
        .fallback(not_found)
}

pub fn fido_router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/{tenant}/fido/get", get(fido_get_page).post(fido_get_post))
        .route(
            "/{tenant}/fido/create",
            get(crate::mysignins::fido_create_get).post(crate::mysignins::fido_create_post),
        )
        .fallback(not_found)
}

async fn not_found(headers: HeaderMap) -> Response {
    let lang = pick_locale(None, &headers);
    error_page(
        lang,
        StatusCode::NOT_FOUND,
        "AADSTS90002",
        t(lang, "err_no_page"),
    )
}

/// A ConvergedError page: status, AADSTS code and message.
pub fn error_page(lang: &str, status: StatusCode, code: &str, message: &str) -> Response {
    let mut p = Page::new(lang, t(lang, "signin_title"));
    p.status = status;
    let config = json!({"pgid": "ConvergedError", "iErrorCode": code.trim_start_matches("AADSTS").parse::<u32>().unwrap_or(0), "strServiceExceptionMessage": format!("{code}: {message}")});
    p.inline_script(&format!(
        "//<![CDATA[\n$Config={};\n//]]>",
        json_for_script(&config)
    ));
    p.body.push_str(&format!(
        r#"<div class="sim-card"><div role="heading" aria-level="1" id="errorHeader">{}</div><div id="errorMessage" role="alert">{}: {}</div></div>"#,
        esc(t(lang, "page_error")),
        esc(code),
        esc(message)
    ));
    p.into_response()
}

/// Injected or internal failure shown as a sign-in error page.
fn page_err(lang: &str, e: AppError) -> Response {
    let status = e.status();
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        crate::log(&format!("page error: {e}"));
    }
    error_page(lang, status, "AADSTS90033", &e.to_string())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    response_mode: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
}

async fn root(State(s): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let q = AuthorizeQuery {
        client_id: Some(MYSIGNINS_CLIENT_ID.into()),
        redirect_uri: Some(MYSIGNINS_REDIRECT.into()),
        response_mode: Some("form_post".into()),
        response_type: Some("code".into()),
        state: Some("/security-info".into()),
        ..Default::default()
    };
    authorize_inner(&s, &headers, q).await
}

async fn authorize(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    q: Result<Query<AuthorizeQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let lang = pick_locale(None, &headers);
    if !crate::oauth::tenant_matches(&s, &tenant) {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS90002",
            &tf(lang, "err_tenant", &[("tenant", &tenant)]),
        );
    }
    match q {
        Ok(Query(q)) => authorize_inner(&s, &headers, q).await,
        Err(e) => error_page(lang, StatusCode::BAD_REQUEST, "AADSTS90014", &e.body_text()),
    }
}

/// Checks the client and redirect URI like ESTS does, before any page is shown.
fn validate_client(
    s: &SimState,
    lang: &str,
    client_id: &str,
    redirect_uri: &str,
) -> Result<(), (String, String)> {
    let mismatch = || {
        (
            "AADSTS50011".to_string(),
            tf(
                lang,
                "err_redirect_uri",
                &[("uri", redirect_uri), ("client", client_id)],
            ),
        )
    };
    if client_id == MYSIGNINS_CLIENT_ID {
        return if redirect_uri == MYSIGNINS_REDIRECT {
            Ok(())
        } else {
            Err(mismatch())
        };
    }
    let app = s.read(|t| t.apps.iter().find(|a| a.client_id == client_id).cloned());
    let Some(app) = app else {
        let tenant = s.read(|t| t.display_name.clone());
        return Err((
            "AADSTS700016".into(),
            tf(
                lang,
                "err_unknown_app",
                &[("client", client_id), ("tenant", &tenant)],
            ),
        ));
    };
    // Loopback redirect URIs match on any port, as Entra allows for native apps.
    let strip_port = |u: &str| -> String {
        match url::Url::parse(u) {
            Ok(mut p) if matches!(p.host_str(), Some("127.0.0.1") | Some("localhost")) => {
                let _ = p.set_port(None);
                p.to_string()
            }
            Ok(p) => p.to_string(),
            Err(_) => u.to_string(),
        }
    };
    let wanted = strip_port(redirect_uri);
    if app.redirect_uris.iter().any(|r| strip_port(r) == wanted) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

async fn authorize_inner(s: &Arc<SimState>, headers: &HeaderMap, q: AuthorizeQuery) -> Response {
    let lang = pick_locale(None, headers);
    let client_id = q.client_id.clone().unwrap_or_default();
    let redirect_uri = q.redirect_uri.clone().unwrap_or_default();
    if client_id.is_empty() {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS900144",
            t(lang, "err_no_client_id"),
        );
    }
    if q.response_type.as_deref().unwrap_or("code") != "code" {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS700054",
            t(lang, "err_response_type"),
        );
    }
    if let Err((code, msg)) = validate_client(s, lang, &client_id, &redirect_uri) {
        return error_page(lang, StatusCode::BAD_REQUEST, &code, &msg);
    }
    if q.code_challenge.is_some() && q.code_challenge_method.as_deref().unwrap_or("plain") != "S256"
    {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS501491",
            t(lang, "err_pkce_method"),
        );
    }
    let authz = AuthzRequest {
        client_id,
        redirect_uri,
        response_mode: q.response_mode.clone().unwrap_or_else(|| "query".into()),
        state: q.state.clone().unwrap_or_default(),
        nonce: q.nonce.clone().unwrap_or_default(),
        scope: q.scope.clone().unwrap_or_else(|| "openid profile".into()),
        code_challenge: q.code_challenge.clone(),
        prompt: q.prompt.clone(),
    };
    // Unknown scopes go back to the client before any page, as ESTS does.
    if authz.client_id != MYSIGNINS_CLIENT_ID {
        if let Err((code, msg)) = crate::oauth::check_authorize_scopes(&authz) {
            let mut params = vec![
                ("error", "invalid_scope".to_string()),
                ("error_description", format!("AADSTS{code}: {msg}")),
            ];
            if !authz.state.is_empty() {
                params.push(("state", authz.state.clone()));
            }
            return respond_to_client(lang, &authz, &params);
        }
    }
    let hint_user = q
        .login_hint
        .as_deref()
        .and_then(|h| s.user(h))
        .filter(|u| !u.scenarios.not_synced);

    // An existing session answers at once unless the client forces a prompt.
    if authz.prompt.as_deref() != Some("login") {
        if let Some(sess) =
            cookie(headers, ESTS_COOKIE).and_then(|c| s.rt(|rt| rt.ests.get(&c).cloned()))
        {
            let same = hint_user.as_ref().is_none_or(|u| u.id == sess.user_id);
            if same {
                let res = AuthResult {
                    user_id: sess.user_id.clone(),
                    mfa: sess.mfa,
                    method: sess.method.clone(),
                };
                return complete(s, headers, authz, res, None).await;
            }
        }
    }
    let token = b64url(&random_bytes(24));
    let lang = pick_locale(hint_user.as_ref(), headers);
    let flow = Flow {
        created: unix_now(),
        authz,
        user_id: hint_user.as_ref().map(|u| u.id.clone()),
        login_hint: q.login_hint.clone(),
        authenticated: None,
        proof_up_shown: false,
        more_info_skipped: false,
        kmsi_persistent: None,
        lang: lang.to_string(),
        fido_state: None,
    };
    s.rt(|rt| rt.flows.insert(token.clone(), flow));
    match hint_user {
        Some(u) => credential_page(s, lang, &token, &u, None).into_response(),
        None => {
            let layout = s.read(|t| t.sign_in_layout);
            username_page(
                layout,
                lang,
                &token,
                q.login_hint.as_deref().unwrap_or(""),
                None,
            )
            .into_response()
        }
    }
}

pub(crate) fn config_script(
    p: &mut Page,
    lang: &str,
    pgid: &str,
    flow: &str,
    err: Option<(u32, &str)>,
    extra: serde_json::Value,
) {
    let (mkt, lcid) = mkt(lang);
    let mut config = json!({
        "pgid": pgid,
        "sFT": flow,
        "sCtx": flow,
        "urlPost": "/common/login",
        "iErrorCode": err.map(|e| e.0).unwrap_or(0),
        "strServiceExceptionMessage": err.map(|e| e.1).unwrap_or(""),
        "correlationId": random_uuid(),
        "sessionId": random_uuid(),
        "locale": {"mkt": mkt, "lcid": lcid},
        "urlFidoLogin": format!("https://login.microsoft.com/common/fido/get?uiflavor=Web&ctx={}", urlenc(flow)),
    });
    if let (Some(obj), serde_json::Value::Object(more)) = (config.as_object_mut(), extra) {
        obj.extend(more);
    }
    p.inline_script(&format!(
        "//<![CDATA[\n$Config={};\n//]]>",
        json_for_script(&config)
    ));
}

pub(crate) fn hidden(flow: &str) -> String {
    format!(
        r#"<input type="hidden" name="flowToken" value="{f}"><input type="hidden" name="ctx" value="{f}"><input type="hidden" name="canary" value="{c}">"#,
        f = esc(flow),
        c = esc(&b64url(&random_bytes(16)))
    )
}

fn shell(p: &mut Page, inner: &str) {
    p.body.push_str(&format!(
        r#"<div class="sim-bg"><div class="sim-card" id="lightbox"><div class="sim-logo" aria-label="Microsoft">Microsoft</div>{inner}</div></div>"#
    ));
    p.script_src("/static/login.js");
}

pub fn username_page(
    layout: SignInLayout,
    lang: &str,
    flow: &str,
    prefill: &str,
    err: Option<(u32, &str)>,
) -> Page {
    if layout == SignInLayout::Fluent {
        return crate::fluent::username_page(lang, flow, prefill, err);
    }
    let mut p = Page::new(lang, &format!("{} - Microsoft", t(lang, "signin_title")));
    config_script(
        &mut p,
        lang,
        "ConvergedSignIn",
        flow,
        err,
        json!({"sView": "username"}),
    );
    let error = err
        .map(|e| {
            format!(
                r#"<div id="usernameError" role="alert" class="sim-error">{}</div>"#,
                esc(e.1)
            )
        })
        .unwrap_or_default();
    let inner = format!(
        r#"<form name="f1" id="i0281" method="post" action="/common/login" novalidate autocomplete="off"><div role="heading" aria-level="1" id="loginHeader" class="sim-title">{title}</div>{error}<div id="usernameClientError" role="alert" class="sim-error" hidden></div><input type="email" name="loginfmt" id="i0116" maxlength="113" class="sim-input" aria-required="true" aria-label="{aria}" placeholder="{ph}" autocomplete="username" value="{prefill}">{hidden}<input type="hidden" name="ps" value="1"><div class="sim-links"><a id="idA_PWD_ForgotPassword" href="https://passwordreset.microsoftonline.com/">{cant}</a></div><div class="sim-buttons"><input type="submit" id="idSIButton9" class="sim-btn sim-primary" value="{next}"></div></form><div class="sim-options"><a id="idA_PWD_SwitchToFido" href="https://login.microsoft.com/common/fido/get?uiflavor=Web&amp;ctx={flowenc}">{fido}</a></div>"#,
        title = esc(t(lang, "signin_title")),
        aria = esc(t(lang, "signin_aria")),
        ph = esc(t(lang, "signin_placeholder")),
        prefill = esc(prefill),
        hidden = hidden(flow),
        cant = esc(t(lang, "cant_access")),
        next = esc(t(lang, "next")),
        flowenc = esc(&urlenc(flow)),
        fido = esc(t(lang, "signin_security_key")),
    );
    p.inline_script(&format!(
        "window.$Strings={};",
        json_for_script(&json!({"username_empty": t(lang, "username_empty"), "password_empty": t(lang, "password_empty")}))
    ));
    shell(&mut p, &inner);
    p
}

/// Which box the credential page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CredKind {
    AccessPass,
    Password,
    Otc,
}

fn tap_propagated(u: &User, now: u64) -> bool {
    u.taps.iter().any(|tap| {
        tap.usable(now)
            && now
                >= tap.created_at
                    + tap
                        .propagation_delay_secs
                        .max(u.scenarios.tap_propagation_delay_secs)
    })
}

fn cred_kind(u: &User, now: u64) -> CredKind {
    if !tap_propagated(u, now) {
        // A brand-new TAP that has not replicated yet: ESTS does not know the
        // user has one and falls back to the password page.
        return CredKind::Password;
    }
    match u.scenarios.dom_variant.as_deref() {
        Some("passwd") => CredKind::Password,
        Some("otc") => CredKind::Otc,
        _ => CredKind::AccessPass,
    }
}

fn credential_page(
    s: &SimState,
    lang: &str,
    flow: &str,
    u: &User,
    err: Option<(u32, &str)>,
) -> Page {
    let _ = s;
    credential_page_as(cred_kind(u, unix_now()), lang, flow, u, err)
}

/// The box a credential was posted from, shown again with its error: a
/// TAP that propagated in the meantime does not turn a password error into
/// a TAP page.
fn posted_kind(kind: &str) -> CredKind {
    match kind {
        "passwd" => CredKind::Password,
        "otc" => CredKind::Otc,
        _ => CredKind::AccessPass,
    }
}

fn credential_page_as(
    kind: CredKind,
    lang: &str,
    flow: &str,
    u: &User,
    err: Option<(u32, &str)>,
) -> Page {
    if u.scenarios.fluent() {
        let (b, title, ps, view) = match kind {
            CredKind::AccessPass => (
                ("accesspass", "password", "tap_placeholder", None),
                "tap_title",
                "56",
                "accesspass",
            ),
            CredKind::Password => (
                ("passwd", "password", "password_placeholder", Some("i0118")),
                "password_title",
                "2",
                "password",
            ),
            CredKind::Otc => (
                ("otc", "tel", "otc_placeholder", None),
                "otc_title",
                "56",
                "otc",
            ),
        };
        return crate::fluent::credential_page(
            lang,
            flow,
            &u.user_principal_name,
            b,
            title,
            ps,
            view,
            err,
        );
    }
    let (title, input, ps, view) = match kind {
        CredKind::AccessPass => (
            t(lang, "tap_title"),
            format!(
                r#"<input type="password" name="accesspass" id="i0118a" class="sim-input" autocomplete="off" aria-required="true" aria-label="{ph}" placeholder="{ph}">"#,
                ph = esc(t(lang, "tap_placeholder"))
            ),
            "56",
            "accesspass",
        ),
        CredKind::Password => (
            t(lang, "password_title"),
            format!(
                r#"<input type="password" name="passwd" id="i0118" class="sim-input" autocomplete="current-password" aria-required="true" aria-label="{ph}" placeholder="{ph}">"#,
                ph = esc(t(lang, "password_placeholder"))
            ),
            "2",
            "password",
        ),
        CredKind::Otc => (
            t(lang, "otc_title"),
            format!(
                r#"<input type="tel" name="otc" id="idTxtBx_SAOTCC_OTC" class="sim-input" autocomplete="off" aria-required="true" aria-label="{ph}" placeholder="{ph}">"#,
                ph = esc(t(lang, "otc_placeholder"))
            ),
            "56",
            "otc",
        ),
    };
    let mut p = Page::new(lang, &format!("{} - Microsoft", t(lang, "signin_title")));
    config_script(
        &mut p,
        lang,
        "ConvergedSignIn",
        flow,
        err,
        json!({"sView": view, "sPOST_Username": u.user_principal_name, "sErrTxt": err.map(|e| e.1).unwrap_or("")}),
    );
    let error = err
        .map(|e| {
            format!(
                r#"<div id="passwordError" role="alert" class="sim-error">{}</div>"#,
                esc(e.1)
            )
        })
        .unwrap_or_default();
    let forgot = if kind == CredKind::Password {
        format!(
            r#"<div class="sim-links"><a id="idA_PWD_ForgotPassword" href="https://passwordreset.microsoftonline.com/">{}</a></div>"#,
            esc(t(lang, "forgot_password"))
        )
    } else {
        String::new()
    };
    let inner = format!(
        r#"<div class="sim-identity" id="displayName" title="{upn}">{upn}</div><form name="f1" id="i0281" method="post" action="/common/login" novalidate autocomplete="off"><div role="heading" aria-level="1" id="loginHeader" class="sim-title">{title}</div>{error}<div id="passwordClientError" role="alert" class="sim-error" hidden></div>{input}<input type="hidden" name="login" value="{upn}"><input type="hidden" name="loginfmt" value="{upn}"><input type="hidden" name="ps" value="{ps}"><input type="hidden" name="type" value="11">{hidden}{forgot}<div class="sim-buttons"><input type="submit" id="idSIButton9" class="sim-btn sim-primary" value="{signin}"></div></form>"#,
        upn = esc(&u.user_principal_name),
        hidden = hidden(flow),
        signin = esc(t(lang, "sign_in_btn")),
    );
    p.inline_script(&format!(
        "window.$Strings={};",
        json_for_script(&json!({"username_empty": t(lang, "username_empty"), "password_empty": t(lang, "password_empty")}))
    ));
    shell(&mut p, &inner);
    p
}

fn kmsi_page(lang: &str, flow: &str, fluent: bool) -> Page {
    if fluent {
        return crate::fluent::kmsi_page(lang, flow);
    }
    let mut p = Page::new(lang, &format!("{} - Microsoft", t(lang, "signin_title")));
    config_script(
        &mut p,
        lang,
        "KmsiInterrupt",
        flow,
        None,
        json!({"urlPost": "/kmsi"}),
    );
    let inner = format!(
        r#"<form name="f1" id="i0281" method="post" action="/kmsi"><div role="heading" aria-level="1" class="sim-title">{title}</div><div id="KmsiDescription" class="sim-text">{desc}</div><label class="sim-check"><input type="checkbox" name="DontShowAgain" id="KmsiCheckboxField" value="true"> <span>{dont}</span></label><input type="hidden" name="LoginOptions" id="idLoginOptions" value="1"><input type="hidden" name="type" value="28">{hidden}<div class="sim-buttons"><input type="button" id="idBtn_Back" class="sim-btn" value="{no}"><input type="submit" id="idSIButton9" class="sim-btn sim-primary" value="{yes}"></div></form>"#,
        title = esc(t(lang, "kmsi_title")),
        desc = esc(t(lang, "kmsi_desc")),
        dont = esc(t(lang, "kmsi_dont_show")),
        hidden = hidden(flow),
        no = esc(t(lang, "no")),
        yes = esc(t(lang, "yes")),
    );
    shell(&mut p, &inner);
    p
}

fn proofup_page(lang: &str, flow: &str, upn: &str, fluent: bool) -> Page {
    if fluent {
        return crate::fluent::proofup_page(lang, flow, upn);
    }
    let mut p = Page::new(lang, &format!("{} - Microsoft", t(lang, "signin_title")));
    config_script(
        &mut p,
        lang,
        "ConvergedProofUpRedirect",
        flow,
        None,
        json!({"urlPost": "/common/proofup"}),
    );
    let inner = format!(
        r#"<div class="sim-identity" id="displayName">{upn}</div><form name="f1" id="i0281" method="post" action="/common/proofup"><div role="heading" aria-level="1" class="sim-title">{title}</div><div id="ProofUpDescription" class="sim-text">{desc}</div>{hidden}<div class="sim-links"><a id="useAnotherAccount" href="/common/oauth2/v2.0/logout">{other}</a></div><div class="sim-buttons"><input type="submit" id="idSubmit_ProofUp_Redirect" class="sim-btn sim-primary" value="{next}"></div></form>"#,
        upn = esc(upn),
        title = esc(t(lang, "proofup_title")),
        desc = esc(t(lang, "proofup_desc")),
        hidden = hidden(flow),
        other = esc(t(lang, "use_another")),
        next = esc(t(lang, "next")),
    );
    shell(&mut p, &inner);
    p
}

/// Sends the browser back to the client: an auto-submitting form for
/// `form_post`, a redirect otherwise.
pub fn respond_to_client(lang: &str, authz: &AuthzRequest, params: &[(&str, String)]) -> Response {
    if authz.response_mode == "form_post" {
        let mut p = Page::new(lang, t(lang, "working"));
        let fields: String = params
            .iter()
            .map(|(k, v)| {
                format!(
                    r#"<input type="hidden" name="{}" value="{}">"#,
                    esc(k),
                    esc(v)
                )
            })
            .collect();
        p.body.push_str(&format!(
            r#"<form method="POST" name="hiddenform" id="hiddenform" action="{}">{fields}<noscript><p>{}</p><input type="submit" value="{}"></noscript></form>"#,
            esc(&authz.redirect_uri),
            esc(t(lang, "noscript")),
            esc(t(lang, "redirecting"))
        ));
        p.inline_script("document.getElementById('hiddenform').submit();");
        return p.into_response();
    }
    let sep = if authz.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlenc(v)))
        .collect();
    Redirect::to(&format!("{}{sep}{}", authz.redirect_uri, q.join("&"))).into_response()
}

/// The sign-in is done: issue a code (after consent, for Graph clients).
async fn complete(
    s: &Arc<SimState>,
    headers: &HeaderMap,
    authz: AuthzRequest,
    res: AuthResult,
    set: Option<String>,
) -> Response {
    let user = s.user(&res.user_id);
    let lang = pick_locale(user.as_ref(), headers);
    if let Err(e) = s.maybe_fail(Some(&res.user_id), "authorize") {
        return page_err(lang, e);
    }
    if authz.client_id != MYSIGNINS_CLIENT_ID {
        if let Some(resp) = crate::oauth::consent_needed(s, lang, &authz, &res) {
            return with_cookie(resp, set);
        }
    }
    let resp = issue_code(s, lang, authz, res);
    with_cookie(resp, set)
}

pub fn issue_code(s: &SimState, lang: &str, authz: AuthzRequest, res: AuthResult) -> Response {
    let code = b64url(&random_bytes(32));
    let state = authz.state.clone();
    s.rt(|rt| {
        rt.codes.insert(
            code.clone(),
            AuthCode {
                user_id: res.user_id.clone(),
                mfa: res.mfa,
                authz: authz.clone(),
                expires: unix_now() + 600,
                redeemed: false,
            },
        )
    });
    let mut params = vec![("code", code)];
    if !state.is_empty() {
        params.push(("state", state));
    }
    params.push(("session_state", random_uuid()));
    respond_to_client(lang, &authz, &params)
}

fn with_cookie(mut resp: Response, set: Option<String>) -> Response {
    if let Some(c) = set {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn flow_of(s: &SimState, token: &str) -> Option<Flow> {
    s.rt(|rt| rt.flows.get(token).cloned())
}

fn expired_flow(lang: &str) -> Response {
    error_page(
        lang,
        StatusCode::BAD_REQUEST,
        "AADSTS50058",
        t(lang, "err_flow_expired"),
    )
}

async fn login_post(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let lang0 = pick_locale(None, &headers);
    let Some(token) = f.get("flowToken").or_else(|| f.get("ctx")).cloned() else {
        return error_page(
            lang0,
            StatusCode::BAD_REQUEST,
            "AADSTS90014",
            t(lang0, "err_no_flow_token"),
        );
    };
    let Some(flow) = flow_of(&s, &token) else {
        return expired_flow(lang0);
    };
    let credential = ["accesspass", "passwd", "otc"]
        .iter()
        .find_map(|k| f.get(*k).map(|v| (*k, v.clone())));
    match credential {
        None => username_step(&s, &headers, &token, flow, &f).await,
        Some((kind, value)) => credential_step(&s, &headers, &token, flow, kind, &value).await,
    }
}

async fn username_step(
    s: &Arc<SimState>,
    headers: &HeaderMap,
    token: &str,
    flow: Flow,
    f: &HashMap<String, String>,
) -> Response {
    let lang = flow.lang.clone();
    let name = f
        .get("loginfmt")
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    if name.is_empty() {
        let layout = s.read(|t| t.sign_in_layout);
        return username_page(
            layout,
            &lang,
            token,
            "",
            Some((90100, t(&lang, "username_empty"))),
        )
        .into_response();
    }
    let user = s
        .user(&name)
        .filter(|u| !u.scenarios.not_synced && u.account_enabled);
    let Some(user) = user else {
        s.record("signin", None, false, &format!("unknown user {name}"));
        let layout = s.read(|t| t.sign_in_layout);
        return username_page(
            layout,
            &lang,
            token,
            &name,
            Some((ERR_UNKNOWN_USER, t(&lang, "username_unknown"))),
        )
        .into_response();
    };
    s.slow(Some(&user.id)).await;
    let lang = pick_locale(Some(&user), headers).to_string();
    if let Err(e) = s.maybe_fail(Some(&user.id), "username") {
        return page_err(&lang, e);
    }
    s.rt(|rt| {
        if let Some(fl) = rt.flows.get_mut(token) {
            fl.user_id = Some(user.id.clone());
            fl.lang = lang.clone();
        }
    });
    credential_page(s, &lang, token, &user, None).into_response()
}

async fn credential_step(
    s: &Arc<SimState>,
    headers: &HeaderMap,
    token: &str,
    flow: Flow,
    kind: &str,
    value: &str,
) -> Response {
    let Some(uid) = flow.user_id.clone() else {
        let layout = s.read(|t| t.sign_in_layout);
        return username_page(
            layout,
            &flow.lang,
            token,
            "",
            Some((90100, t(&flow.lang, "username_empty"))),
        )
        .into_response();
    };
    let Some(user) = s.user(&uid) else {
        return expired_flow(&flow.lang);
    };
    s.slow(Some(&uid)).await;
    let lang = pick_locale(Some(&user), headers).to_string();
    if let Err(e) = s.maybe_fail(Some(&uid), "credential") {
        return page_err(&lang, e);
    }
    let value = value.trim();
    let now = unix_now();
    // The TAP box and the one-time-code box take a TAP; the password box only
    // in tenants whose page asks for the TAP there (the `passwd` variant).
    let tap_box = kind != "passwd" || user.scenarios.dom_variant.as_deref() == Some("passwd");
    if value.is_empty() {
        return credential_page_as(
            posted_kind(kind),
            &lang,
            token,
            &user,
            Some((90100, t(&lang, "password_empty"))),
        )
        .into_response();
    }

    // TAP check: the pass must exist, be usable, have propagated, and the
    // wrong-TAP switch must be off.
    let mut result: Option<AuthResult> = None;
    if tap_box {
        let ok = !user.scenarios.wrong_tap
            && s.write(|t| {
                let Some(u) = t.user_mut(&uid) else {
                    return false;
                };
                let delay = u.scenarios.tap_propagation_delay_secs;
                match u.taps.iter_mut().find(|tp| {
                    tp.pass == value
                        && tp.usable(now)
                        && now >= tp.created_at + tp.propagation_delay_secs.max(delay)
                }) {
                    Some(tp) => {
                        if tp.is_usable_once {
                            tp.used = true;
                        }
                        true
                    }
                    None => false,
                }
            });
        if ok {
            result = Some(AuthResult {
                user_id: uid.clone(),
                mfa: true,
                method: "tap".into(),
            });
        }
    }
    if result.is_none() && kind == "passwd" && user.password.as_deref() == Some(value) {
        result = Some(AuthResult {
            user_id: uid.clone(),
            mfa: false,
            method: "password".into(),
        });
    }
    let Some(res) = result else {
        let is_tap_page = kind != "passwd" || (tap_box && tap_propagated(&user, now));
        s.record("signin", Some(&user), false, &format!("{kind} rejected"));
        let err = if is_tap_page {
            (ERR_BAD_TAP, t(&lang, "tap_error"))
        } else {
            (ERR_BAD_PASSWORD, t(&lang, "password_error"))
        };
        return credential_page_as(posted_kind(kind), &lang, token, &user, Some(err))
            .into_response();
    };
    s.record(
        "signin",
        Some(&user),
        true,
        &format!("credential accepted: {}", res.method),
    );
    s.rt(|rt| {
        if let Some(fl) = rt.flows.get_mut(token) {
            fl.authenticated = Some(res);
        }
    });
    after_credential(s, headers, token).await
}

/// Interrupts after the credential: proof-up, then "Stay signed in?".
async fn after_credential(s: &Arc<SimState>, headers: &HeaderMap, token: &str) -> Response {
    let Some(flow) = flow_of(s, token) else {
        return expired_flow(pick_locale(None, headers));
    };
    let Some(res) = flow.authenticated.clone() else {
        return expired_flow(&flow.lang);
    };
    let Some(user) = s.user(&res.user_id) else {
        return expired_flow(&flow.lang);
    };
    let lang = pick_locale(Some(&user), headers);
    let fluent = user.scenarios.fluent();
    if user.scenarios.proof_up_required && !flow.proof_up_shown {
        return proofup_page(lang, token, &user.user_principal_name, fluent).into_response();
    }
    if user.scenarios.has(Interrupt::MoreInfoSkippable) && !flow.more_info_skipped {
        return crate::fluent::more_info_page(lang, token, &user.user_principal_name, fluent)
            .into_response();
    }
    kmsi_page(lang, token, fluent).into_response()
}

/// The signed-in user of a flow that passed its credential, with the page language.
fn flow_user(s: &SimState, headers: &HeaderMap, token: &str) -> Option<(Flow, User, &'static str)> {
    let flow = flow_of(s, token)?;
    let res = flow.authenticated.clone()?;
    let user = s.user(&res.user_id)?;
    let lang = pick_locale(Some(&user), headers);
    Some((flow, user, lang))
}

/// "Ask later" on the skippable "More information required".
async fn proofup_skip(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("ctx").cloned().unwrap_or_default();
    let Some((_, user, _)) = flow_user(&s, &headers, &token) else {
        return expired_flow(pick_locale(None, &headers));
    };
    s.rt(|rt| {
        if let Some(fl) = rt.flows.get_mut(&token) {
            fl.more_info_skipped = true;
        }
    });
    s.record("moreInfoSkipped", Some(&user), true, "Ask later");
    after_credential(&s, &headers, &token).await
}

/// "Next" on the skippable "More information required": a setup the
/// simulator cannot finish.
async fn proofup_setup(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authenticator_setup_page(
        &s,
        &headers,
        &body,
        Some((
            "moreInfoAccepted",
            "Next on the skippable More information required: Authenticator setup started",
        )),
        false,
    )
}

/// The Authenticator setup page that never completes, for the flow the
/// form names. `event` (kind, detail) is recorded first: an interrupt's
/// "Next" was pressed, which the tests look for. `waiting` is the page's
/// second state (after its own Next).
fn authenticator_setup_page(
    s: &SimState,
    headers: &HeaderMap,
    body: &Bytes,
    event: Option<(&str, &str)>,
    waiting: bool,
) -> Response {
    let token = form(body).get("flowToken").cloned().unwrap_or_default();
    let Some((_, user, lang)) = flow_user(s, headers, &token) else {
        return expired_flow(pick_locale(None, headers));
    };
    if let Some((kind, detail)) = event {
        s.record(kind, Some(&user), true, detail);
    }
    crate::fluent::authenticator_page(
        lang,
        &token,
        &user.user_principal_name,
        user.scenarios.fluent(),
        waiting,
    )
    .into_response()
}

/// "Skip for now" on the registration campaign: the sign-in completes.
async fn campaign_skip(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("ctx").cloned().unwrap_or_default();
    let lang0 = pick_locale(None, &headers);
    let Some(flow) = s.rt(|rt| rt.flows.remove(&token)) else {
        return expired_flow(lang0);
    };
    let (Some(res), Some(persistent)) = (flow.authenticated.clone(), flow.kmsi_persistent) else {
        s.rt(|rt| rt.flows.insert(token.clone(), flow));
        return expired_flow(lang0);
    };
    if let Some(u) = s.user(&res.user_id) {
        s.record("campaignSkipped", Some(&u), true, "Skip for now");
    }
    finish_signin(&s, &headers, &token, flow, res, persistent).await
}

/// "Next" on the registration campaign: Authenticator setup, which never finishes.
async fn campaign_accept(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authenticator_setup_page(
        &s,
        &headers,
        &body,
        Some((
            "campaignAccepted",
            "Next on the registration campaign: Microsoft Authenticator setup started",
        )),
        false,
    )
}

async fn authenticator_setup(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    authenticator_setup_page(&s, &headers, &body, None, true)
}

async fn login_continue(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("ctx").cloned().unwrap_or_default();
    after_credential(&s, &headers, &token).await
}

async fn proofup_post(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let token = f.get("flowToken").cloned().unwrap_or_default();
    // Injected failure before the flow moves on, so the same post can be retried.
    if let Some(fl) = flow_of(&s, &token) {
        if let Some(res) = &fl.authenticated {
            if let Err(e) = s.maybe_fail(Some(&res.user_id), "proof-up") {
                return page_err(&fl.lang, e);
            }
        }
    }
    let known = s.rt(|rt| match rt.flows.get_mut(&token) {
        Some(fl) if fl.authenticated.is_some() => {
            fl.proof_up_shown = true;
            true
        }
        _ => false,
    });
    if !known {
        return expired_flow(pick_locale(None, &headers));
    }
    after_credential(&s, &headers, &token).await
}

async fn kmsi_post(State(s): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    let token = f.get("flowToken").cloned().unwrap_or_default();
    let lang0 = pick_locale(None, &headers);
    let Some(flow) = s.rt(|rt| rt.flows.remove(&token)) else {
        return expired_flow(lang0);
    };
    let Some(res) = flow.authenticated.clone() else {
        return expired_flow(lang0);
    };
    if let Err(e) = s.maybe_fail(Some(&res.user_id), "kmsi") {
        // The flow stays usable so a retry of the same post works.
        s.rt(|rt| rt.flows.insert(token.clone(), flow.clone()));
        return page_err(&flow.lang, e);
    }
    s.slow(Some(&res.user_id)).await;
    let persistent = f.get("LoginOptions").map(String::as_str) == Some("1");
    // The registration campaign comes after "Stay signed in?", once.
    if let Some(user) = s.user(&res.user_id) {
        if user.scenarios.has(Interrupt::RegistrationCampaign) && flow.kmsi_persistent.is_none() {
            let mut fl = flow.clone();
            fl.kmsi_persistent = Some(persistent);
            s.rt(|rt| rt.flows.insert(token.clone(), fl));
            let lang = pick_locale(Some(&user), &headers);
            return crate::fluent::campaign_page(
                lang,
                &token,
                &user.user_principal_name,
                user.scenarios.fluent(),
            )
            .into_response();
        }
    }
    finish_signin(&s, &headers, &token, flow, res, persistent).await
}

/// The sign-in is over: an ESTS session (persistent after "Yes"), then the code.
async fn finish_signin(
    s: &Arc<SimState>,
    headers: &HeaderMap,
    _token: &str,
    flow: Flow,
    res: AuthResult,
    persistent: bool,
) -> Response {
    let sid = b64url(&random_bytes(32));
    s.rt(|rt| {
        rt.ests.insert(
            sid.clone(),
            EstsSession {
                user_id: res.user_id.clone(),
                mfa: res.mfa,
                method: res.method.clone(),
                created: unix_now(),
            },
        )
    });
    let mut c = set_cookie(ESTS_COOKIE, &sid);
    if persistent {
        c.push_str("; Max-Age=7776000");
    }
    complete(s, headers, flow.authz, res, Some(c)).await
}

async fn logout(State(s): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let user = cookie(&headers, ESTS_COOKIE)
        .and_then(|c| s.rt(|rt| rt.ests.remove(&c)))
        .and_then(|sess| s.user(&sess.user_id));
    let lang = pick_locale(user.as_ref(), &headers);
    let mut resp = crate::html::message_page(
        lang,
        StatusCode::OK,
        t(lang, "signed_out_title"),
        t(lang, "signed_out_desc"),
    );
    if let Ok(v) = crate::web::clear_cookie(ESTS_COOKIE).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

// ---- Sign in with a security key (login.microsoft.com) ----

async fn fido_get_page(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("ctx").cloned().unwrap_or_default();
    let Some(flow) = flow_of(&s, &token) else {
        return expired_flow(pick_locale(None, &headers));
    };
    let user = flow.user_id.as_deref().and_then(|u| s.user(u));
    let lang = pick_locale(user.as_ref(), &headers);
    if let Err(e) = s.maybe_fail(flow.user_id.as_deref(), "fido-get") {
        return page_err(lang, e);
    }
    let challenge = random_bytes(32);
    s.rt(|rt| {
        if let Some(fl) = rt.flows.get_mut(&token) {
            fl.fido_state = Some(json!({"challenge": b64url(&challenge), "issued": unix_now()}));
        }
    });
    // With a known user the key list narrows the browser's choice; without
    // one the ceremony is discoverable and the user handle names the user.
    let allow: Vec<serde_json::Value> = user
        .as_ref()
        .map(|u| {
            u.fido2_keys
                .iter()
                .map(|k| json!({"type": "public-key", "id": k.credential_id, "transports": ["usb", "nfc"]}))
                .collect()
        })
        .unwrap_or_default();
    let options = json!({
        "challenge": b64url(&challenge),
        "rpId": crate::webauthn::RP_ID,
        "timeout": 120000,
        "userVerification": "required",
        "allowCredentials": allow,
    });
    let mut p = Page::new(lang, t(lang, "fido_get_title"));
    config_script(
        &mut p,
        lang,
        "FidoGet",
        &token,
        None,
        json!({"oGetOptions": options, "urlPost": "/common/fido/get"}),
    );
    p.inline_script(&format!(
        "window.$Strings={};",
        json_for_script(&json!({"error": t(lang, "fido_get_error")}))
    ));
    let inner = format!(
        r#"<div role="heading" aria-level="1" class="sim-title">{title}</div><div id="fidoDescription" class="sim-text">{desc}</div><div id="fidoError" role="alert" class="sim-error" hidden></div><form name="fidoForm" id="fidoForm" method="post" action="/common/fido/get"><input type="hidden" name="flowToken" value="{flow}"><input type="hidden" name="credentialId" id="credentialId"><input type="hidden" name="clientDataJSON" id="clientDataJSON"><input type="hidden" name="authenticatorData" id="authenticatorData"><input type="hidden" name="signature" id="signature"><input type="hidden" name="userHandle" id="userHandle"><div class="sim-buttons"><input type="button" id="idBtn_Back" class="sim-btn" value="{back}"><input type="button" id="idSIButton9" class="sim-btn sim-primary" value="{retry}"></div></form>"#,
        title = esc(t(lang, "fido_get_title")),
        desc = esc(t(lang, "fido_get_desc")),
        flow = esc(&token),
        back = esc(t(lang, "back")),
        retry = esc(t(lang, "try_again")),
    );
    p.body.push_str(&format!(r#"<div class="sim-bg"><div class="sim-card" id="lightbox"><div class="sim-logo" aria-label="Microsoft">Microsoft</div>{inner}</div></div>"#));
    p.script_src("/static/fido-get.js");
    p.into_response()
}

async fn fido_get_post(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let lang0 = pick_locale(None, &headers);
    let token = f.get("flowToken").cloned().unwrap_or_default();
    let Some(flow) = flow_of(&s, &token) else {
        return expired_flow(lang0);
    };
    // One challenge, one attempt: taking it out makes a replay fail.
    let Some(fido) = s.rt(|rt| rt.flows.get_mut(&token).and_then(|fl| fl.fido_state.take())) else {
        return error_page(
            &flow.lang,
            StatusCode::BAD_REQUEST,
            "AADSTS135011",
            t(&flow.lang, "err_fido_no_challenge"),
        );
    };
    let issued = fido["issued"].as_u64().unwrap_or(0);
    if unix_now() > issued + 300 {
        return error_page(
            &flow.lang,
            StatusCode::BAD_REQUEST,
            "AADSTS135011",
            t(&flow.lang, "err_fido_expired"),
        );
    }
    let challenge = fido["challenge"]
        .as_str()
        .and_then(b64url_decode)
        .unwrap_or_default();
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let (Some(cred_id), Some(cdj), Some(ad), Some(sig)) = (
        b64url_decode(get("credentialId")).filter(|v| !v.is_empty()),
        b64url_decode(get("clientDataJSON")).filter(|v| !v.is_empty()),
        b64url_decode(get("authenticatorData")).filter(|v| !v.is_empty()),
        b64url_decode(get("signature")).filter(|v| !v.is_empty()),
    ) else {
        return error_page(
            &flow.lang,
            StatusCode::BAD_REQUEST,
            "AADSTS90014",
            t(&flow.lang, "err_fido_incomplete"),
        );
    };
    let user_handle = b64url_decode(get("userHandle")).filter(|v| !v.is_empty());
    // Find the user: the flow's, or the owner of the credential.
    let cred_b64 = b64url(&cred_id);
    let owner = s.read(|t| {
        t.users
            .iter()
            .find(|u| u.fido2_keys.iter().any(|k| k.credential_id == cred_b64))
            .cloned()
    });
    let Some(user) = owner else {
        s.record("signin", None, false, "fido: unknown credential");
        return fido_fail(&flow.lang, t(&flow.lang, "err_fido_unknown_key"));
    };
    // The page checked the switch when it knew the user (login_hint); without
    // one, the key's owner is known only now.
    if flow.user_id.is_none() {
        if let Err(e) = s.maybe_fail(Some(&user.id), "fido-get") {
            return page_err(&flow.lang, e);
        }
    }
    if flow.user_id.as_deref().is_some_and(|u| u != user.id) {
        return fido_fail(&flow.lang, t(&flow.lang, "err_fido_other_user"));
    }
    if let Some(h) = &user_handle {
        if h.as_slice() != user.id.as_bytes() {
            return fido_fail(&flow.lang, t(&flow.lang, "err_fido_handle"));
        }
    }
    let assertion = json!({
        "id": cred_b64,
        "rawId": cred_b64,
        "type": "public-key",
        "response": {
            "authenticatorData": b64url(&ad),
            "clientDataJSON": b64url(&cdj),
            "signature": b64url(&sig),
            "userHandle": user_handle.as_ref().map(|h| b64url(h)),
        },
        "extensions": {},
    });
    let assertion = match serde_json::from_value(assertion) {
        Ok(a) => a,
        Err(e) => return fido_fail(&flow.lang, &format!("malformed assertion: {e}")),
    };
    let creds: Vec<serde_json::Value> = user
        .fido2_keys
        .iter()
        .map(|k| k.credential.clone())
        .collect();
    match crate::webauthn::verify_assertion(&creds, &challenge, &assertion) {
        Ok((id, updated)) => {
            s.write(|t| {
                if let Some(u) = t.user_mut(&user.id) {
                    if let Some(k) = u.fido2_keys.iter_mut().find(|k| k.credential_id == id) {
                        k.credential = updated;
                        k.last_used_at = Some(unix_now());
                    }
                }
            });
            s.record(
                "signin",
                Some(&user),
                true,
                &format!("credential accepted: fido2 {id}"),
            );
            s.rt(|rt| {
                if let Some(fl) = rt.flows.get_mut(&token) {
                    fl.user_id = Some(user.id.clone());
                    fl.authenticated = Some(AuthResult {
                        user_id: user.id.clone(),
                        mfa: true,
                        method: "fido2".into(),
                    });
                }
            });
            Redirect::to(&format!(
                "https://login.microsoftonline.com/common/login/continue?ctx={}",
                urlenc(&token)
            ))
            .into_response()
        }
        Err(e) => {
            s.record("signin", Some(&user), false, &format!("fido: {e}"));
            fido_fail(&flow.lang, &e.to_string())
        }
    }
}

fn fido_fail(lang: &str, detail: &str) -> Response {
    error_page(
        lang,
        StatusCode::BAD_REQUEST,
        "AADSTS135011",
        &format!("{} {detail}", t(lang, "fido_get_error")),
    )
}

/// PKCE S256 check.
pub fn pkce_ok(challenge: &str, verifier: &str) -> bool {
    b64url(&sha256(verifier.as_bytes())) == challenge
}
