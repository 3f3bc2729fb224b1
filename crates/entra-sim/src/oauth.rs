//! The OAuth 2.0 side of login.microsoftonline.com for Graph clients (the
//! Microsoft identity platform v2.0 endpoints):
//!
//! - `/{tenant}/oauth2/v2.0/authorize`: authorization code flow with PKCE
//!   (S256). The sign-in pages are the ones in [`crate::login`]; after them
//!   comes the consent page (below) when the app+user has not consented to
//!   every requested scope yet. Consent is remembered per app and user.
//! - `/{tenant}/oauth2/v2.0/token`: `authorization_code` (with the
//!   `code_verifier` check), `refresh_token` and `client_credentials`.
//!
//! Tokens are JWT-shaped strings (header.payload.signature, base64url JSON,
//! claims as Entra puts them: `aud`, `iss`, `tid`, `appid`, `oid`, `scp` or
//! `roles`, `exp`, ...) whose signature is random: Graph accepts only tokens
//! this process issued and still holds, so they are bound to tenant, app,
//! user (delegated) or app (roles), scopes and expiry. They do not survive a
//! restart, as a client must cope with anyway.
//!
//! Errors use the AAD JSON shape: `error`, `error_description` starting with
//! the `AADSTSnnnnn:` code, `error_codes`, `timestamp`, `trace_id`,
//! `correlation_id`, `error_uri`.
//!
//! Clients: a redirect URI on the loopback interface (`http://127.0.0.1`,
//! `http://localhost`) is a native ("Mobile and desktop") redirect: it matches
//! any port and its code can be redeemed without a client secret (PKCE
//! protects it). Any other redirect URI is a web redirect: when the app has a
//! secret, redemption needs it (`AADSTS7000218`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::html::Page;
use crate::locale::{mkt, t};
use crate::model::{App, User};
use crate::state::{
    AuthResult, AuthzRequest, PendingConsent, RefreshToken, SimState, Token, pick_locale,
};
use crate::util::{b64url, esc, iso8601, json_for_script, random_bytes, random_uuid, unix_now};
use crate::web::form;

/// Microsoft Graph's application id (the `aud` of its tokens).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Microsoft Graph's resource URI.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Refresh tokens live 90 days, as Entra's do.
pub const REFRESH_LIFETIME_SECS: u64 = 90 * 86_400;
/// Authorization codes live 10 minutes.
pub const CODE_LIFETIME_SECS: u64 = 600;

/// OpenID Connect scopes: they name no Graph permission.
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Directory roles that may consent on behalf of the organisation (and so
/// may consent to permissions that need admin consent).
pub const CONSENT_ROLES: &[&str] = &[
    "Global Administrator",
    "Privileged Role Administrator",
    "Cloud Application Administrator",
    "Application Administrator",
];

/// Delegated permissions the simulator knows, with their consent-page
/// texts (en, de, fr, ja). Scopes not in this table are `invalid_scope`.
const SCOPES: &[(&str, [&str; 4])] = &[
    (
        "openid",
        [
            "Sign you in",
            "Sie anmelden",
            "Vous connecter",
            "サインイン",
        ],
    ),
    (
        "profile",
        [
            "View your basic profile",
            "Ihr grundlegendes Profil anzeigen",
            "Afficher votre profil de base",
            "基本プロファイルの表示",
        ],
    ),
    (
        "email",
        [
            "View your email address",
            "Ihre E-Mail-Adresse anzeigen",
            "Afficher votre adresse e-mail",
            "メール アドレスの表示",
        ],
    ),
    (
        "offline_access",
        [
            "Maintain access to data you have given it access to",
            "Zugriff auf Daten beibehalten, für die Sie Zugriff erteilt haben",
            "Conserver l'accès aux données auxquelles vous lui avez donné accès",
            "アクセス権を付与したデータへのアクセスの維持",
        ],
    ),
    (
        "User.Read",
        [
            "Sign you in and read your profile",
            "Sie anmelden und Ihr Profil lesen",
            "Vous connecter et lire votre profil",
            "サインインとユーザー プロファイルの読み取り",
        ],
    ),
    (
        "User.ReadBasic.All",
        [
            "Read all users' basic profiles",
            "Grundlegende Profile aller Benutzer lesen",
            "Lire les profils de base de tous les utilisateurs",
            "すべてのユーザーの基本プロファイルの読み取り",
        ],
    ),
    (
        "User.Read.All",
        [
            "Read all users' full profiles",
            "Vollständige Profile aller Benutzer lesen",
            "Lire les profils complets de tous les utilisateurs",
            "すべてのユーザーの完全なプロファイルの読み取り",
        ],
    ),
    (
        "User.ReadWrite.All",
        [
            "Read and write all users' full profiles",
            "Vollständige Profile aller Benutzer lesen und schreiben",
            "Lire et écrire les profils complets de tous les utilisateurs",
            "すべてのユーザーの完全なプロファイルの読み取りと書き込み",
        ],
    ),
    (
        "Directory.Read.All",
        [
            "Read directory data",
            "Verzeichnisdaten lesen",
            "Lire les données d'annuaire",
            "ディレクトリ データの読み取り",
        ],
    ),
    (
        "Directory.ReadWrite.All",
        [
            "Read and write directory data",
            "Verzeichnisdaten lesen und schreiben",
            "Lire et écrire les données d'annuaire",
            "ディレクトリ データの読み取りと書き込み",
        ],
    ),
    (
        "Group.Read.All",
        [
            "Read all groups",
            "Alle Gruppen lesen",
            "Lire tous les groupes",
            "すべてのグループの読み取り",
        ],
    ),
    (
        "GroupMember.Read.All",
        [
            "Read group memberships",
            "Gruppenmitgliedschaften lesen",
            "Lire les appartenances aux groupes",
            "グループ メンバーシップの読み取り",
        ],
    ),
    (
        "UserAuthenticationMethod.Read",
        [
            "Read your authentication methods",
            "Ihre Authentifizierungsmethoden lesen",
            "Lire vos méthodes d'authentification",
            "ユーザーの認証方法の読み取り",
        ],
    ),
    (
        "UserAuthenticationMethod.ReadWrite",
        [
            "Read and write your authentication methods",
            "Ihre Authentifizierungsmethoden lesen und schreiben",
            "Lire et écrire vos méthodes d'authentification",
            "ユーザーの認証方法の読み取りと書き込み",
        ],
    ),
    (
        "UserAuthenticationMethod.Read.All",
        [
            "Read all users' authentication methods",
            "Authentifizierungsmethoden aller Benutzer lesen",
            "Lire les méthodes d'authentification de tous les utilisateurs",
            "すべてのユーザーの認証方法の読み取り",
        ],
    ),
    (
        "UserAuthenticationMethod.ReadWrite.All",
        [
            "Read and write all users' authentication methods",
            "Authentifizierungsmethoden aller Benutzer lesen und schreiben",
            "Lire et écrire les méthodes d'authentification de tous les utilisateurs",
            "すべてのユーザーの認証方法の読み取りと書き込み",
        ],
    ),
    (
        "UserAuthMethod-Passkey.Read.All",
        [
            "Read all users' passkey authentication methods",
            "Passkey-Authentifizierungsmethoden aller Benutzer lesen",
            "Lire les méthodes d'authentification par clé d'accès de tous les utilisateurs",
            "すべてのユーザーのパスキー認証方法の読み取り",
        ],
    ),
    (
        "UserAuthMethod-Passkey.ReadWrite.All",
        [
            "Read and write all users' passkey authentication methods",
            "Passkey-Authentifizierungsmethoden aller Benutzer lesen und schreiben",
            "Lire et écrire les méthodes d'authentification par clé d'accès de tous les utilisateurs",
            "すべてのユーザーのパスキー認証方法の読み取りと書き込み",
        ],
    ),
    (
        "UserAuthMethod-TAP.Read.All",
        [
            "Read all users' Temporary Access Pass methods",
            "Befristete Zugriffspass-Methoden aller Benutzer lesen",
            "Lire les méthodes Passe d'accès temporaire de tous les utilisateurs",
            "すべてのユーザーの一時アクセス パス方式の読み取り",
        ],
    ),
    (
        "UserAuthMethod-TAP.ReadWrite.All",
        [
            "Read and write all users' Temporary Access Pass methods",
            "Befristete Zugriffspass-Methoden aller Benutzer lesen und schreiben",
            "Lire et écrire les méthodes Passe d'accès temporaire de tous les utilisateurs",
            "すべてのユーザーの一時アクセス パス方式の読み取りと書き込み",
        ],
    ),
];

fn lang_index(lang: &str) -> usize {
    match lang {
        "de" => 1,
        "fr" => 2,
        "ja" => 3,
        _ => 0,
    }
}

/// The canonical spelling of a known scope (scope names are case-insensitive).
pub fn canonical_scope(name: &str) -> Option<&'static str> {
    SCOPES
        .iter()
        .map(|(k, _)| *k)
        .find(|k| k.eq_ignore_ascii_case(name))
}

/// Whether a delegated permission needs an administrator's consent.
pub fn needs_admin_consent(scope: &str) -> bool {
    scope.ends_with(".All")
}

/// The scopes of an authorize or token request, split and normalised.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Scopes {
    /// Graph permissions, canonical spelling (`User.Read.All`).
    pub graph: Vec<String>,
    /// OIDC scopes (`openid`, `profile`, `email`, `offline_access`).
    pub oidc: Vec<String>,
    /// `https://graph.microsoft.com/.default` was asked for.
    pub default: bool,
}

impl Scopes {
    /// Parses a space-separated scope string. Graph scopes may be bare
    /// (`User.Read.All`) or carry the resource (`https://graph.microsoft.com/User.Read.All`).
    /// Returns the first invalid scope as the error.
    pub fn parse(scope: &str) -> Result<Self, String> {
        let mut out = Scopes::default();
        for raw in scope.split_whitespace() {
            let bare = raw
                .strip_prefix("https://graph.microsoft.com/")
                .or_else(|| raw.strip_prefix("00000003-0000-0000-c000-000000000000/"))
                .unwrap_or(raw);
            if bare == ".default" {
                out.default = true;
                continue;
            }
            let Some(c) = canonical_scope(bare) else {
                return Err(raw.to_string());
            };
            let list = if OIDC_SCOPES.contains(&c) {
                &mut out.oidc
            } else {
                &mut out.graph
            };
            if !list.iter().any(|x| x == c) {
                list.push(c.to_string());
            }
        }
        Ok(out)
    }

    /// The Graph scopes this request stands for in `app`: the named ones,
    /// or with `.default` every delegated permission configured on the app.
    pub fn graph_for(&self, app: &App) -> Vec<String> {
        let mut v = self.graph.clone();
        if self.default {
            for s in &app.delegated_scopes {
                if let Some(c) = canonical_scope(s) {
                    if !OIDC_SCOPES.contains(&c) && !v.iter().any(|x| x == c) {
                        v.push(c.to_string());
                    }
                }
            }
        }
        v
    }
}

/// Whether `tenant` in a URL names this tenant: its id, a verified domain,
/// or one of the multi-tenant aliases `common` and `organizations`.
pub fn tenant_matches(s: &SimState, tenant: &str) -> bool {
    if tenant.eq_ignore_ascii_case("common") || tenant.eq_ignore_ascii_case("organizations") {
        return true;
    }
    s.read(|t| {
        t.id.eq_ignore_ascii_case(tenant)
            || t.domains.iter().any(|d| d.eq_ignore_ascii_case(tenant))
    })
}

/// An AAD token-endpoint error, as Entra words and shapes them.
pub fn aad_error(status: StatusCode, error: &str, code: u32, desc: &str) -> Response {
    let now = unix_now();
    let trace = random_uuid();
    let corr = random_uuid();
    let ts = iso8601(now).replace('T', " ");
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {desc} Trace ID: {trace} Correlation ID: {corr} Timestamp: {ts}"),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    let mut resp = (status, axum::Json(body)).into_response();
    no_store(&mut resp);
    resp
}

fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn find_app(s: &SimState, client_id: &str) -> Option<App> {
    s.read(|t| t.apps.iter().find(|a| a.client_id == client_id).cloned())
}

/// Checked at authorize, before any page: every requested scope must be a
/// known permission. `Err((AADSTS code, message))` is sent back to the client
/// as `error=invalid_scope`.
pub fn check_authorize_scopes(authz: &AuthzRequest) -> Result<(), (u32, String)> {
    match Scopes::parse(&authz.scope) {
        Ok(_) => Ok(()),
        Err(bad) => Err((
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{bad}' does not exist."
            ),
        )),
    }
}

/// Every scope this user may use with `app` without a consent page.
fn granted(app: &App, user_id: &str) -> Vec<String> {
    let mut v: Vec<String> = app
        .consented_scopes
        .iter()
        .filter_map(|s| canonical_scope(s).map(str::to_string))
        .collect();
    if let Some(mine) = app.user_consents.get(user_id) {
        for s in mine {
            if let Some(c) = canonical_scope(s) {
                if !v.iter().any(|x| x == c) {
                    v.push(c.to_string());
                }
            }
        }
    }
    v
}

/// The scopes the consent page must list, in request order.
fn wanted(app: &App, authz: &AuthzRequest) -> Vec<String> {
    let parsed = Scopes::parse(&authz.scope).unwrap_or_default();
    let mut v = parsed.oidc.clone();
    v.extend(parsed.graph_for(app));
    v
}

/// Called by the sign-in flow once the user is authenticated: `Some(page)`
/// when the consent page (or the "Need admin approval" page) must come first.
pub fn consent_needed(
    s: &SimState,
    lang: &str,
    authz: &AuthzRequest,
    res: &AuthResult,
) -> Option<Response> {
    let app = find_app(s, &authz.client_id)?;
    let have = granted(&app, &res.user_id);
    let want = wanted(&app, authz);
    let missing: Vec<String> = want.iter().filter(|w| !have.contains(w)).cloned().collect();
    let forced = authz.prompt.as_deref() == Some("consent");
    if missing.is_empty() && !forced {
        return None;
    }
    let user = s.user(&res.user_id)?;
    let is_admin = user
        .roles
        .iter()
        .any(|r| CONSENT_ROLES.contains(&r.as_str()));
    if !is_admin && missing.iter().any(|m| needs_admin_consent(m)) {
        return Some(need_admin_page(lang, &app, &user));
    }
    let token = b64url(&random_bytes(24));
    s.rt(|rt| {
        rt.consents.insert(
            token.clone(),
            PendingConsent {
                res: res.clone(),
                authz: authz.clone(),
                scopes: want.clone(),
                created: unix_now(),
                lang: lang.to_string(),
            },
        )
    });
    Some(consent_page(lang, &token, &app, &user, &want, is_admin))
}

fn scope_text(lang: &str, scope: &str) -> &'static str {
    SCOPES
        .iter()
        .find(|(k, _)| *k == scope)
        .map(|(_, v)| v[lang_index(lang)])
        .unwrap_or("")
}

fn consent_config(p: &mut Page, lang: &str, pgid: &str, flow: &str, extra: Value) {
    let (mkt, lcid) = mkt(lang);
    let mut config = json!({
        "pgid": pgid,
        "sFT": flow,
        "sCtx": flow,
        "urlPost": "/common/consent",
        "iErrorCode": 0,
        "strServiceExceptionMessage": "",
        "correlationId": random_uuid(),
        "locale": {"mkt": mkt, "lcid": lcid},
    });
    if let (Some(obj), Value::Object(more)) = (config.as_object_mut(), extra) {
        obj.extend(more);
    }
    p.inline_script(&format!(
        "//<![CDATA[\n$Config={};\n//]]>",
        json_for_script(&config)
    ));
}

fn consent_page(
    lang: &str,
    token: &str,
    app: &App,
    user: &User,
    scopes: &[String],
    is_admin: bool,
) -> Response {
    let mut p = Page::new(lang, &format!("{} - Microsoft", t(lang, "consent_title")));
    consent_config(
        &mut p,
        lang,
        "Consent",
        token,
        json!({"sAppName": app.display_name, "sAppId": app.client_id, "arrScopes": scopes}),
    );
    let items: String = scopes
        .iter()
        .map(|sc| {
            format!(
                r#"<li class="sim-scope" data-scope="{id}"><span class="sim-scope-text">{txt}</span> <span class="sim-scope-id">({id})</span></li>"#,
                id = esc(sc),
                txt = esc(scope_text(lang, sc)),
            )
        })
        .collect();
    let org = if is_admin {
        format!(
            r#"<label class="sim-check"><input type="checkbox" name="ConsentOrg" id="idConsentOrg" value="1"> <span>{}</span></label>"#,
            esc(t(lang, "consent_org"))
        )
    } else {
        String::new()
    };
    p.body.push_str(&format!(
        r#"<div class="sim-bg"><div class="sim-card" id="lightbox"><div class="sim-logo" aria-label="Microsoft">Microsoft</div><div class="sim-identity" id="displayName">{upn}</div><form name="f1" id="i0281" method="post" action="/common/consent"><div role="heading" aria-level="1" id="consentHeader" class="sim-title">{title}</div><div class="sim-text" id="appName"><strong>{app}</strong></div><div class="sim-text" id="consentDescription">{desc}</div><ul id="consentScopes" class="sim-scopes">{items}</ul>{org}<input type="hidden" name="flowToken" value="{token}"><div class="sim-buttons"><input type="submit" name="cancel" id="idBtn_Back" class="sim-btn" value="{cancel}"><input type="submit" name="accept" id="idSIButton9" class="sim-btn sim-primary" value="{accept}"></div></form></div></div>"#,
        upn = esc(&user.user_principal_name),
        title = esc(t(lang, "consent_title")),
        app = esc(&app.display_name),
        desc = esc(t(lang, "consent_desc")),
        token = esc(token),
        cancel = esc(t(lang, "cancel")),
        accept = esc(t(lang, "accept")),
    ));
    p.into_response()
}

fn need_admin_page(lang: &str, app: &App, user: &User) -> Response {
    let mut p = Page::new(lang, &format!("{} - Microsoft", t(lang, "need_admin")));
    p.status = StatusCode::FORBIDDEN;
    let msg = format!(
        "AADSTS90094: {}",
        crate::locale::tf(lang, "err_need_admin", &[("app", &app.display_name)])
    );
    consent_config(
        &mut p,
        lang,
        "ConsentNeedAdmin",
        "",
        json!({"iErrorCode": 90094, "strServiceExceptionMessage": msg}),
    );
    p.body.push_str(&format!(
        r#"<div class="sim-bg"><div class="sim-card" id="lightbox"><div class="sim-logo" aria-label="Microsoft">Microsoft</div><div class="sim-identity" id="displayName">{upn}</div><div role="heading" aria-level="1" class="sim-title" id="needAdminHeader">{title}</div><div id="errorMessage" role="alert" class="sim-text">{msg}</div></div></div>"#,
        upn = esc(&user.user_principal_name),
        title = esc(t(lang, "need_admin")),
        msg = esc(&msg),
    ));
    p.into_response()
}

/// The consent page's form post: Accept issues the code and remembers the
/// consent for this app and user; Cancel sends `access_denied` to the client.
pub async fn consent_post(
    State(s): State<Arc<SimState>>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let token = f.get("flowToken").cloned().unwrap_or_default();
    // Injected failure before the consent is taken, so the same post can be retried.
    let pending = s.rt(|rt| rt.consents.get(&token).cloned());
    if let Some(pc) = &pending {
        if let Err(e) = s.maybe_fail(Some(&pc.res.user_id), "consent") {
            return crate::login::error_page(&pc.lang, e.status(), "AADSTS90033", &e.to_string());
        }
    }
    let Some(pc) = s.rt(|rt| rt.consents.remove(&token)) else {
        let lang = pick_locale(None, &headers);
        return crate::login::error_page(
            lang,
            StatusCode::BAD_REQUEST,
            "AADSTS50058",
            t(lang, "err_flow_expired"),
        );
    };
    let lang = pc.lang.as_str();
    let user = s.user(&pc.res.user_id);
    if !f.contains_key("accept") {
        if let Some(u) = &user {
            s.record(
                "consent",
                Some(u),
                false,
                &format!("declined for app {}", pc.authz.client_id),
            );
        }
        let mut params = vec![
            ("error", "access_denied".to_string()),
            (
                "error_description",
                "AADSTS65004: User declined to consent to access the app.".to_string(),
            ),
        ];
        if !pc.authz.state.is_empty() {
            params.push(("state", pc.authz.state.clone()));
        }
        return crate::login::respond_to_client(lang, &pc.authz, &params);
    }
    let org = f.get("ConsentOrg").map(String::as_str) == Some("1")
        && user
            .as_ref()
            .is_some_and(|u| u.roles.iter().any(|r| CONSENT_ROLES.contains(&r.as_str())));
    let uid = pc.res.user_id.clone();
    s.write(|t| {
        if let Some(app) = t
            .apps
            .iter_mut()
            .find(|a| a.client_id == pc.authz.client_id)
        {
            let list = app.user_consents.entry(uid.clone()).or_default();
            for sc in &pc.scopes {
                if !list.contains(sc) {
                    list.push(sc.clone());
                }
            }
            if org {
                for sc in &pc.scopes {
                    if !app.consented_scopes.contains(sc) {
                        app.consented_scopes.push(sc.clone());
                    }
                }
            }
        }
    });
    if let Some(u) = &user {
        s.record(
            "consent",
            Some(u),
            true,
            &format!(
                "app {} scopes {}{}",
                pc.authz.client_id,
                pc.scopes.join(" "),
                if org { " (for the organization)" } else { "" }
            ),
        );
    }
    crate::login::issue_code(&s, lang, pc.authz, pc.res)
}

// ---- token endpoint ----

fn is_loopback_redirect(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http"
            && matches!(
                u.host_str(),
                Some("127.0.0.1") | Some("localhost") | Some("[::1]")
            )
    })
}

/// Loopback URIs compare without their port (native apps), others exactly.
fn same_redirect(a: &str, b: &str) -> bool {
    if is_loopback_redirect(a) && is_loopback_redirect(b) {
        let strip = |u: &str| {
            url::Url::parse(u)
                .map(|mut p| {
                    let _ = p.set_port(None);
                    p.to_string()
                })
                .unwrap_or_default()
        };
        strip(a) == strip(b)
    } else {
        a == b
    }
}

/// Client id and secret from the body (client_secret_post) or the
/// Authorization header (client_secret_basic).
fn client_credentials(
    f: &HashMap<String, String>,
    headers: &HeaderMap,
) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) {
            if let Ok(text) = String::from_utf8(raw) {
                if let Some((id, secret)) = text.split_once(':') {
                    let dec = |s: &str| {
                        form_urlencoded::parse(format!("x={s}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                    };
                    return (Some(dec(id)), Some(dec(secret)));
                }
            }
        }
    }
    (
        f.get("client_id").cloned().filter(|v| !v.is_empty()),
        f.get("client_secret").cloned().filter(|v| !v.is_empty()),
    )
}

fn missing(name: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{name}'."),
    )
}

fn unknown_app(s: &SimState, client_id: &str) -> Response {
    aad_error(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        &format!(
            "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
            s.read(|t| t.display_name.clone())
        ),
    )
}

/// Compares secrets without an early exit on the first differing byte.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the secret when one is sent; `require` makes a missing one an error.
fn check_secret(app: &App, secret: Option<&str>, require: bool) -> Result<(), Box<Response>> {
    match (secret, app.client_secret.as_deref()) {
        (Some(given), Some(expected)) => {
            if ct_eq(given.as_bytes(), expected.as_bytes()) {
                Ok(())
            } else {
                Err(Box::new(aad_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    &format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                        app.client_id
                    ),
                )))
            }
        }
        (Some(_), None) => Err(Box::new(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ))),
        (None, Some(_)) if require => Err(Box::new(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ))),
        _ => Ok(()),
    }
}

fn jwt(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes()),
        b64url(&random_bytes(256))
    )
}

/// Reads the payload of a JWT-shaped token without trusting it (for the
/// "expired" vs "unknown" distinction of rejected tokens).
pub fn jwt_payload(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    serde_json::from_slice(&crate::util::b64url_decode(p)?).ok()
}

/// Issues an access token for Graph and stores it.
pub fn mint_access(
    s: &SimState,
    app: &App,
    user: Option<(&User, bool)>,
    scopes: &[String],
    roles: &[String],
) -> (String, u64) {
    let now = unix_now();
    let (tid, lifetime) = s.read(|t| (t.id.clone(), t.access_token_lifetime_secs.max(1)));
    let header = json!({"typ": "JWT", "alg": "RS256", "x5t": "entra-sim", "kid": "entra-sim"});
    let mut payload = json!({
        "aud": GRAPH_APP_ID,
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "app_displayname": app.display_name,
        "appid": app.client_id,
        "appidacr": if app.client_secret.is_some() { "1" } else { "0" },
        "tid": tid,
        "uti": b64url(&random_bytes(16)),
        "ver": "1.0",
        "xms_tcdt": now,
    });
    match user {
        Some((u, mfa)) => {
            payload["idtyp"] = json!("user");
            payload["oid"] = json!(u.id);
            payload["sub"] = json!(b64url(&crate::util::sha256(
                format!("{}{}", u.id, app.client_id).as_bytes()
            )));
            payload["upn"] = json!(u.user_principal_name);
            payload["unique_name"] = json!(u.user_principal_name);
            payload["name"] = json!(u.display_name);
            payload["scp"] = json!(scopes.join(" "));
            payload["amr"] = if mfa {
                json!(["pwd", "mfa"])
            } else {
                json!(["pwd"])
            };
        }
        None => {
            payload["idtyp"] = json!("app");
            payload["oid"] = json!(app.client_id);
            payload["sub"] = json!(app.client_id);
            payload["roles"] = json!(roles);
        }
    }
    let token = jwt(&header, &payload);
    s.rt(|rt| {
        rt.tokens.insert(
            token.clone(),
            Token {
                client_id: app.client_id.clone(),
                user_id: user.map(|(u, _)| u.id.clone()),
                scopes: scopes.to_vec(),
                roles: roles.to_vec(),
                expires: now + lifetime,
            },
        )
    });
    (token, lifetime)
}

fn id_token(s: &SimState, app: &App, u: &User, nonce: &str) -> String {
    let now = unix_now();
    let tid = s.read(|t| t.id.clone());
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "entra-sim"});
    let mut payload = json!({
        "aud": app.client_id,
        "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": u.display_name,
        "oid": u.id,
        "preferred_username": u.user_principal_name,
        "sub": b64url(&crate::util::sha256(format!("{}{}", u.id, app.client_id).as_bytes())),
        "tid": tid,
        "ver": "2.0",
    });
    if !nonce.is_empty() {
        payload["nonce"] = json!(nonce);
    }
    jwt(&header, &payload)
}

/// What a delegated grant hands out.
struct Grant<'a> {
    mfa: bool,
    graph: &'a [String],
    oidc: &'a [String],
    nonce: &'a str,
    public_client: bool,
}

/// The success body of a delegated grant.
fn delegated_response(s: &SimState, app: &App, user: &User, g: Grant<'_>) -> Response {
    let Grant {
        mfa,
        graph,
        oidc,
        nonce,
        public_client,
    } = g;
    let (access, lifetime) = mint_access(s, app, Some((user, mfa)), graph, &[]);
    let mut scope: Vec<String> = graph
        .iter()
        .map(|g| format!("{GRAPH_RESOURCE}/{g}"))
        .collect();
    scope.extend(oidc.iter().cloned());
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope.join(" "),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    });
    if oidc.iter().any(|o| o == "offline_access") {
        let rt_token = format!("1.{}", b64url(&random_bytes(96)));
        let mut all = graph.to_vec();
        all.extend(oidc.iter().cloned());
        s.rt(|rt| {
            rt.refresh.insert(
                rt_token.clone(),
                RefreshToken {
                    client_id: app.client_id.clone(),
                    user_id: user.id.clone(),
                    mfa,
                    scopes: all,
                    expires: unix_now() + REFRESH_LIFETIME_SECS,
                    public_client,
                },
            )
        });
        body["refresh_token"] = json!(rt_token);
    }
    if oidc.iter().any(|o| o == "openid") {
        body["id_token"] = json!(id_token(s, app, user, nonce));
    }
    let mut resp = axum::Json(body).into_response();
    no_store(&mut resp);
    resp
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token(
    State(s): State<Arc<SimState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !tenant_matches(&s, &tenant) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'. The token endpoint accepts application/x-www-form-urlencoded bodies only.",
        );
    }
    let f = form(&body);
    let Some(grant) = f.get("grant_type").cloned() else {
        return missing("grant_type");
    };
    let (client_id, secret) = client_credentials(&f, &headers);
    let Some(client_id) = client_id else {
        return missing("client_id");
    };
    let Some(app) = find_app(&s, &client_id) else {
        return unknown_app(&s, &client_id);
    };
    match grant.as_str() {
        "authorization_code" => code_grant(&s, &app, secret.as_deref(), &f),
        "refresh_token" => refresh_grant(&s, &app, secret.as_deref(), &f),
        "client_credentials" => client_credentials_grant(&s, &app, secret.as_deref(), &f),
        other => aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
        ),
    }
}

/// The user's `failStep: "token"` switch, answered as ESTS answers a
/// transient failure of the token endpoint (JSON, not an HTML page).
fn injected(s: &SimState, user_id: &str) -> Result<(), Box<Response>> {
    s.maybe_fail(Some(user_id), "token").map_err(|e| {
        Box::new(aad_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable",
            90033,
            &format!("A transient error has occurred. Please try again. ({e})"),
        ))
    })
}

fn invalid_grant(code: u32, desc: &str) -> Response {
    aad_error(StatusCode::BAD_REQUEST, "invalid_grant", code, desc)
}

fn code_grant(
    s: &SimState,
    app: &App,
    secret: Option<&str>,
    f: &HashMap<String, String>,
) -> Response {
    let Some(code) = f.get("code").filter(|c| !c.is_empty()) else {
        return missing("code");
    };
    let Some(redirect_uri) = f.get("redirect_uri").filter(|c| !c.is_empty()) else {
        return missing("redirect_uri");
    };
    // Look first, spend later: a wrong client must not burn the user's code.
    let Some(ac) = s.rt(|rt| rt.codes.get(code).cloned()) else {
        return invalid_grant(9002313, "Invalid request. Request is malformed or invalid.");
    };
    if ac.redeemed {
        return invalid_grant(
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        );
    }
    if ac.expires <= unix_now() {
        return invalid_grant(
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        );
    }
    if ac.authz.client_id != app.client_id {
        return invalid_grant(
            70000,
            "Provided grant is invalid or malformed. The authorization code was issued to another application.",
        );
    }
    if !same_redirect(redirect_uri, &ac.authz.redirect_uri) {
        return invalid_grant(
            500112,
            &format!(
                "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting Authorization code.",
                ac.authz.redirect_uri
            ),
        );
    }
    let public_client = is_loopback_redirect(&ac.authz.redirect_uri);
    if let Err(r) = check_secret(app, secret, !public_client) {
        return *r;
    }
    if let Some(challenge) = &ac.authz.code_challenge {
        let ok = f
            .get("code_verifier")
            .is_some_and(|v| crate::login::pkce_ok(challenge, v));
        if !ok {
            return invalid_grant(
                50148,
                "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
            );
        }
    }
    // Before spending: after a transient failure the client may retry the same code.
    if let Err(r) = injected(s, &ac.user_id) {
        return *r;
    }
    // Spend it now: the grant is valid.
    let spent = s.rt(|rt| match rt.codes.get_mut(code) {
        Some(c) if !c.redeemed => {
            c.redeemed = true;
            true
        }
        _ => false,
    });
    if !spent {
        return invalid_grant(
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        );
    }
    let Some(user) = s.user(&ac.user_id).filter(|u| u.account_enabled) else {
        return invalid_grant(50057, "The user account is disabled or no longer exists.");
    };
    let parsed = Scopes::parse(&ac.authz.scope).unwrap_or_default();
    let have = granted(app, &user.id);
    let graph: Vec<String> = parsed
        .graph_for(app)
        .into_iter()
        .filter(|g| have.contains(g))
        .collect();
    s.record(
        "token",
        Some(&user),
        true,
        &format!(
            "authorization_code for app {} scp {}",
            app.client_id,
            graph.join(" ")
        ),
    );
    delegated_response(
        s,
        app,
        &user,
        Grant {
            mfa: ac.mfa,
            graph: &graph,
            oidc: &parsed.oidc,
            nonce: &ac.authz.nonce,
            public_client,
        },
    )
}

fn refresh_grant(
    s: &SimState,
    app: &App,
    secret: Option<&str>,
    f: &HashMap<String, String>,
) -> Response {
    let Some(rtok) = f.get("refresh_token").filter(|c| !c.is_empty()) else {
        return missing("refresh_token");
    };
    let Some(r) = s.rt(|rt| rt.refresh.get(rtok).cloned()) else {
        return invalid_grant(9002313, "Invalid request. Request is malformed or invalid.");
    };
    if r.client_id != app.client_id {
        return invalid_grant(
            70000,
            "Provided grant is invalid or malformed. The refresh token was issued to another application.",
        );
    }
    if r.expires <= unix_now() {
        return invalid_grant(
            700082,
            "The refresh token has expired due to inactivity. The token was issued and was inactive for 90.00:00:00.",
        );
    }
    if let Err(resp) = check_secret(app, secret, !r.public_client) {
        return *resp;
    }
    if let Err(resp) = injected(s, &r.user_id) {
        return *resp;
    }
    let Some(user) = s.user(&r.user_id).filter(|u| u.account_enabled) else {
        return invalid_grant(50057, "The user account is disabled or no longer exists.");
    };
    let (graph, oidc) = match f.get("scope").filter(|v| !v.trim().is_empty()) {
        None => (
            r.scopes
                .iter()
                .filter(|x| !OIDC_SCOPES.contains(&x.as_str()))
                .cloned()
                .collect::<Vec<_>>(),
            r.scopes
                .iter()
                .filter(|x| OIDC_SCOPES.contains(&x.as_str()))
                .cloned()
                .collect::<Vec<_>>(),
        ),
        Some(sc) => {
            let parsed = match Scopes::parse(sc) {
                Ok(p) => p,
                Err(bad) => {
                    return aad_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        70011,
                        &format!(
                            "The provided value for the input parameter 'scope' is not valid. The scope '{bad}' does not exist."
                        ),
                    );
                }
            };
            let have = granted(app, &user.id);
            let graph = parsed.graph_for(app);
            if let Some(no) = graph.iter().find(|g| !have.contains(g)) {
                return invalid_grant(
                    65001,
                    &format!(
                        "The user or administrator has not consented to use the application with ID '{}' named '{}' for the scope '{no}'. Send an interactive authorization request for this user and resource.",
                        app.client_id, app.display_name
                    ),
                );
            }
            (graph, parsed.oidc)
        }
    };
    s.record(
        "token",
        Some(&user),
        true,
        &format!(
            "refresh_token for app {} scp {}",
            app.client_id,
            graph.join(" ")
        ),
    );
    delegated_response(
        s,
        app,
        &user,
        Grant {
            mfa: r.mfa,
            graph: &graph,
            oidc: &oidc,
            nonce: "",
            public_client: r.public_client,
        },
    )
}

fn client_credentials_grant(
    s: &SimState,
    app: &App,
    secret: Option<&str>,
    f: &HashMap<String, String>,
) -> Response {
    if app.client_secret.is_none() {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. The application has no client secret, so it cannot use the client credentials grant.",
        );
    }
    if let Err(r) = check_secret(app, secret, true) {
        return *r;
    }
    let Some(scope) = f.get("scope").filter(|v| !v.trim().is_empty()) else {
        return missing("scope");
    };
    let ok = matches!(
        scope.trim(),
        "https://graph.microsoft.com/.default"
            | "https://graph.microsoft.com//.default"
            | "00000003-0000-0000-c000-000000000000/.default"
    );
    if !ok {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                scope.trim()
            ),
        );
    }
    let (access, lifetime) = mint_access(s, app, None, &[], &app.app_roles);
    s.record(
        "token",
        None,
        true,
        &format!(
            "client_credentials for app {} roles {}",
            app.client_id,
            app.app_roles.join(" ")
        ),
    );
    let mut resp = axum::Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }))
    .into_response();
    no_store(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_bare_prefixed_default_and_oidc() {
        let s = Scopes::parse(
            "openid https://graph.microsoft.com/user.read.all offline_access User.Read.All",
        )
        .unwrap();
        assert_eq!(s.graph, vec!["User.Read.All"]);
        assert_eq!(s.oidc, vec!["openid", "offline_access"]);
        assert!(!s.default);
        assert!(
            Scopes::parse("https://graph.microsoft.com/.default")
                .unwrap()
                .default
        );
        assert_eq!(Scopes::parse("openid Mail.Send"), Err("Mail.Send".into()));
    }

    #[test]
    fn loopback_redirects_ignore_the_port() {
        assert!(same_redirect(
            "http://127.0.0.1:5555/callback",
            "http://127.0.0.1/callback"
        ));
        assert!(!same_redirect(
            "http://127.0.0.1:5555/other",
            "http://127.0.0.1/callback"
        ));
        assert!(!same_redirect(
            "https://app.example:444/cb",
            "https://app.example/cb"
        ));
    }

    #[test]
    fn admin_consent_is_for_all_scopes() {
        assert!(needs_admin_consent("User.Read.All"));
        assert!(!needs_admin_consent("User.Read"));
    }
}
