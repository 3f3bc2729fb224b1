//! graph.microsoft.com, Microsoft Graph v1.0 subset:
//!
//! | Request | Delegated scope (any of) | App role (any of) |
//! |---|---|---|
//! | `GET /v1.0/users` (`$top`, `$skiptoken`, `$filter`, `$select`) | User.ReadBasic.All, User.Read.All, User.ReadWrite.All, Directory.Read.All | User.Read.All, User.ReadWrite.All, Directory.Read.All |
//! | `GET /v1.0/users/{id\|upn}`, `GET /v1.0/me` | the above, or User.Read for oneself | the above |
//! | `GET /v1.0/groups/{id}/members` | GroupMember.Read.All, Group.Read.All, Directory.Read.All | same |
//! | `GET .../authentication/temporaryAccessPassMethods[/{id}]` | UserAuthenticationMethod.Read(Write).All, UserAuthMethod-TAP.Read(Write).All | same |
//! | `POST`/`DELETE` TAP | UserAuthenticationMethod.ReadWrite.All, UserAuthMethod-TAP.ReadWrite.All | same |
//! | `GET .../authentication/fido2Methods[/{id}]` | UserAuthenticationMethod.Read(Write).All, UserAuthMethod-Passkey.Read(Write).All | same |
//! | `GET .../fido2Methods/creationOptions`, `POST`/`DELETE` fido2Methods | UserAuthenticationMethod.ReadWrite.All, UserAuthMethod-Passkey.ReadWrite.All | same |
//!
//! Delegated calls on authentication methods also need the signed-in user's
//! directory role, as Entra checks it: Global Administrator or Privileged
//! Authentication Administrator for anyone, Authentication Administrator for
//! users without admin roles, Global Reader for reading.
//!
//! Errors are Graph's `{"error":{"code","message","innerError":{date,
//! request-id, client-request-id}}}` with Graph's codes:
//! `InvalidAuthenticationToken` (401), `Authorization_RequestDenied` (403,
//! directory), `accessDenied` (403, authentication methods),
//! `Request_ResourceNotFound` (404, directory objects), `itemNotFound` (404,
//! methods), `BadRequest`/`badRequest`, `Request_UnsupportedQuery`,
//! `TooManyRequests` (429 with `Retry-After`), `generalException` (500).
//!
//! Passkeys through Graph: `creationOptions` answers a 32-byte challenge
//! (base64url without padding, valid 5 minutes, single use) and RP ID
//! `login.microsoft.com` — the RP ID Entra's passkeys use everywhere (Security
//! info, `fido/get`). Microsoft's v1.0 documentation example shows
//! `login.microsoftonline.com`; clients must use the `rp.id` answered here, with
//! origin `https://{rp.id}`, as Microsoft's public sample scripts do. `POST
//! fido2Methods` verifies the attestation with webauthn-rs under the same
//! tenant policy as Security info (full packed x5c attestation required).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::AppError;
use crate::model::{Fido2Key, Tap, User};
use crate::state::{GraphChallenge, SimState, Token};
use crate::util::{b64url, b64url_decode, iso8601, random_bytes, random_uuid, unix_now};

pub const BASE: &str = "https://graph.microsoft.com/v1.0";
/// The Graph creationOptions challenge lifetime (fixed in v1.0).
pub const CHALLENGE_SECS: u64 = 300;
/// Default and largest page sizes of `/users`.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 999;

const USERS_READ: &[&str] = &[
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const USERS_READ_APP: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const GROUP_MEMBERS: &[&str] = &[
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const TAP_READ: &[&str] = &[
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-TAP.Read.All",
    "UserAuthMethod-TAP.ReadWrite.All",
];
const TAP_WRITE: &[&str] = &[
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-TAP.ReadWrite.All",
];
const PASSKEY_READ: &[&str] = &[
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-Passkey.Read.All",
    "UserAuthMethod-Passkey.ReadWrite.All",
];
const PASSKEY_WRITE: &[&str] = &[
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-Passkey.ReadWrite.All",
];

/// Properties a `user` has here; the first eleven are Graph's default set.
const USER_PROPS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
    "accountEnabled",
    "onPremisesSyncEnabled",
    "userType",
    "mailNickname",
];
const DEFAULT_USER_PROPS: usize = 11;
const FILTERABLE: &[&str] = &[
    "id",
    "userPrincipalName",
    "mail",
    "displayName",
    "givenName",
    "surname",
    "accountEnabled",
    "onPremisesSyncEnabled",
    "userType",
    "mailNickname",
];

pub fn router() -> Router<Arc<SimState>> {
    Router::new().fallback(entry)
}

fn gerr(status: StatusCode, code: &str, message: impl Into<String>) -> AppError {
    AppError::graph(status, code, message)
}

fn not_found_user(id: &str) -> AppError {
    gerr(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn denied_directory() -> AppError {
    gerr(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

fn denied_methods() -> AppError {
    gerr(
        StatusCode::FORBIDDEN,
        "accessDenied",
        "Request Authorization failed",
    )
}

/// Graph's error body for any [`AppError`]; Graph codes pass through, the
/// simulator's generic ones are mapped to what Graph says in that case.
fn error_response(e: AppError, req_id: &str, client_req_id: &str) -> Response {
    let status = e.status();
    let (code, message, retry) = match e {
        AppError::Graph {
            code,
            message,
            retry_after,
            ..
        } => (code, message, retry_after),
        AppError::BadRequest(m) => ("BadRequest".into(), m, None),
        AppError::Unauthorized(m) => ("InvalidAuthenticationToken".into(), m, None),
        AppError::Forbidden(m) => ("Authorization_RequestDenied".into(), m, None),
        AppError::NotFound(m) => ("Request_ResourceNotFound".into(), m, None),
        AppError::Conflict(m) => ("conflict".into(), m, None),
        AppError::TooLarge(n) => (
            "RequestEntityTooLarge".into(),
            format!("The request body is larger than {n} bytes."),
            None,
        ),
        AppError::Misdirected(m) => ("BadRequest".into(), m, None),
        AppError::Injected(step) => (
            "generalException".into(),
            format!("An internal server error occurred (entra-sim failStep {step})."),
            None,
        ),
        AppError::Internal(detail) => {
            crate::log(&format!("graph internal error: {detail}"));
            (
                "generalException".into(),
                "An internal server error occurred.".into(),
                None,
            )
        }
    };
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": iso8601(unix_now()),
                "request-id": req_id,
                "client-request-id": client_req_id,
            }
        }
    });
    let mut resp = (status, axum::Json(body)).into_response();
    let h = resp.headers_mut();
    if let Some(secs) = retry {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        );
    }
    resp
}

async fn entry(State(s): State<Arc<SimState>>, req: Request) -> Response {
    let req_id = random_uuid();
    let client_req_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 100)
        .map(str::to_string)
        .unwrap_or_else(|| req_id.clone());
    let mut resp = match handle(&s, req).await {
        Ok(r) => r,
        Err(e) => error_response(e, &req_id, &client_req_id),
    };
    let h = resp.headers_mut();
    for (name, value) in [
        ("request-id", &req_id),
        ("client-request-id", &client_req_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    resp
}

/// The caller behind a bearer token.
struct Caller {
    tok: Token,
    /// The signed-in user of a delegated token.
    user: Option<User>,
}

impl Caller {
    fn has(&self, delegated: &[&str], app: &[&str]) -> bool {
        match &self.user {
            Some(_) => self
                .tok
                .scopes
                .iter()
                .any(|s| delegated.iter().any(|d| d.eq_ignore_ascii_case(s))),
            None => self
                .tok
                .roles
                .iter()
                .any(|s| app.iter().any(|d| d.eq_ignore_ascii_case(s))),
        }
    }

    /// Entra's role check for delegated access to someone's authentication methods.
    fn may_manage_methods(&self, target: &User, write: bool) -> bool {
        let Some(me) = &self.user else { return true };
        let has = |r: &str| me.roles.iter().any(|x| x == r);
        if has("Global Administrator") || has("Privileged Authentication Administrator") {
            return true;
        }
        if has("Authentication Administrator") && target.roles.is_empty() {
            return true;
        }
        !write && (has("Global Reader") || me.id == target.id)
    }
}

fn authenticate(s: &SimState, headers: &HeaderMap) -> Result<Caller, AppError> {
    let unauth = |m: &str| gerr(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", m);
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        return Err(unauth("Access token is empty."));
    }
    if !token.contains('.') {
        return Err(unauth(
            "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'.",
        ));
    }
    let now = unix_now();
    let Some(tok) = s.rt(|rt| rt.tokens.get(token).cloned()) else {
        let expired = crate::oauth::jwt_payload(token)
            .and_then(|p| p["exp"].as_u64())
            .is_some_and(|exp| exp <= now);
        return Err(unauth(if expired {
            "Lifetime validation failed, the token is expired."
        } else {
            "Access token validation failure. Invalid audience or signature."
        }));
    };
    if tok.expires <= now {
        return Err(unauth("Lifetime validation failed, the token is expired."));
    }
    let user = match &tok.user_id {
        Some(uid) => Some(
            s.user(uid)
                .filter(|u| u.account_enabled)
                .ok_or_else(|| unauth("The user of this token is disabled or was deleted."))?,
        ),
        None => None,
    };
    Ok(Caller { tok, user })
}

/// OData query options of a request.
#[derive(Default)]
struct Query {
    select: Option<Vec<String>>,
    filter: Option<String>,
    top: Option<usize>,
    skip: usize,
    /// Every pair except `$skiptoken`, to rebuild `@odata.nextLink`.
    keep: Vec<(String, String)>,
}

fn parse_query(q: Option<&str>) -> Result<Query, AppError> {
    let mut out = Query::default();
    for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        let key = k.trim_start_matches('$').to_ascii_lowercase();
        if !k.starts_with('$') && !matches!(key.as_str(), "select" | "filter" | "top") {
            out.keep.push((k, v));
            continue;
        }
        match key.as_str() {
            "select" => {
                out.select = Some(
                    v.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect(),
                )
            }
            "filter" => out.filter = Some(v.clone()),
            "top" => {
                let n: i64 = v.trim().parse().map_err(|_| {
                    gerr(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        format!("Invalid page size specified: '{v}'. Must be between 1 and {MAX_PAGE} inclusive."),
                    )
                })?;
                if !(1..=MAX_PAGE as i64).contains(&n) {
                    return Err(gerr(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        format!(
                            "Invalid page size specified: '{n}'. Must be between 1 and {MAX_PAGE} inclusive."
                        ),
                    ));
                }
                out.top = Some(n as usize);
            }
            "skiptoken" => {
                out.skip = decode_skiptoken(&v).ok_or_else(|| {
                    gerr(
                        StatusCode::BAD_REQUEST,
                        "Directory_ExpiredPageToken",
                        "The specified page token value has expired and can no longer be included in your request.",
                    )
                })?;
                continue;
            }
            other => {
                return Err(gerr(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!(
                        "Query option '${other}' is not supported by entra-sim; supported are $select, $filter, $top and $skiptoken."
                    ),
                ));
            }
        }
        out.keep.push((k, v));
    }
    Ok(out)
}

const SKIP_PREFIX: &str = "RFNwdAIAAQAAA";

fn encode_skiptoken(offset: usize) -> String {
    format!(
        "{SKIP_PREFIX}{}",
        b64url(format!("entra-sim:{offset}").as_bytes())
    )
}

fn decode_skiptoken(t: &str) -> Option<usize> {
    let raw = b64url_decode(t.strip_prefix(SKIP_PREFIX)?)?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("entra-sim:")?
        .parse()
        .ok()
}

/// A percent-decoded path segment (a UPN may arrive as `adele%40contoso.com`).
fn pct_decode(seg: &str) -> String {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&seg[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn canonical_prop(name: &str) -> Option<&'static str> {
    USER_PROPS
        .iter()
        .copied()
        .find(|p| p.eq_ignore_ascii_case(name))
}

fn user_full(u: &User) -> Map<String, Value> {
    let mut m = Map::new();
    let nick = u
        .user_principal_name
        .split('@')
        .next()
        .unwrap_or("")
        .to_string();
    let lang = u
        .scenarios
        .locale
        .as_deref()
        .map(|l| crate::locale::mkt(l).0);
    for p in USER_PROPS {
        let v = match *p {
            "businessPhones" => json!([]),
            "displayName" => json!(u.display_name),
            "mail" => json!(u.mail),
            "preferredLanguage" => json!(lang),
            "userPrincipalName" => json!(u.user_principal_name),
            "id" => json!(u.id),
            "accountEnabled" => json!(u.account_enabled),
            "onPremisesSyncEnabled" => {
                if u.on_premises_sync_enabled {
                    json!(true)
                } else {
                    Value::Null
                }
            }
            "userType" => json!("Member"),
            "mailNickname" => json!(nick),
            _ => Value::Null,
        };
        m.insert(p.to_string(), v);
    }
    m
}

/// The canonical names `$select` asks for, or the default set.
fn projection(select: &Option<Vec<String>>) -> Result<Vec<&'static str>, AppError> {
    match select {
        None => Ok(USER_PROPS[..DEFAULT_USER_PROPS].to_vec()),
        Some(list) => list
            .iter()
            .map(|p| {
                canonical_prop(p).ok_or_else(|| {
                    gerr(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        format!(
                            "Could not find a property named '{p}' on type 'microsoft.graph.user'."
                        ),
                    )
                })
            })
            .collect(),
    }
}

fn project(full: &Map<String, Value>, props: &[&str]) -> Value {
    let mut m = Map::new();
    for p in props {
        m.insert(p.to_string(), full.get(*p).cloned().unwrap_or(Value::Null));
    }
    Value::Object(m)
}

// ---- $filter ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    S(String),
    B(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Cmp(String, bool, Lit),
    In(String, Vec<Lit>),
    Starts(String, String),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

fn bad_filter(why: &str) -> AppError {
    gerr(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Invalid filter clause: {why}"),
    )
}

fn tokenize(s: &str) -> Result<Vec<Tok>, AppError> {
    let mut out = Vec::new();
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err(bad_filter("unterminated string literal")),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            ch if ch.is_alphanumeric() || ch == '_' || ch == '-' => {
                let start = i;
                while i < c.len()
                    && (c[i].is_alphanumeric() || matches!(c[i], '_' | '.' | '-' | '/'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(c[start..i].iter().collect()));
            }
            other => return Err(bad_filter(&format!("unexpected character '{other}'"))),
        }
    }
    Ok(out)
}

struct FilterParser {
    toks: Vec<Tok>,
    pos: usize,
}

impl FilterParser {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> Result<(), AppError> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            other => Err(bad_filter(&format!("expected {t:?}, found {other:?}"))),
        }
    }
    fn or(&mut self) -> Result<Expr, AppError> {
        let mut e = self.and()?;
        while self.peek_kw("or") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, AppError> {
        let mut e = self.primary()?;
        while self.peek_kw("and") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.primary()?));
        }
        Ok(e)
    }
    fn prop(&mut self) -> Result<String, AppError> {
        match self.next() {
            Some(Tok::Ident(p)) => {
                let c = FILTERABLE
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(&p))
                    .ok_or_else(|| {
                        gerr(
                            StatusCode::BAD_REQUEST,
                            "Request_UnsupportedQuery",
                            format!("Unsupported or invalid query filter clause specified for property '{p}' of resource 'User'."),
                        )
                    })?;
                Ok(c.to_string())
            }
            other => Err(bad_filter(&format!(
                "expected a property name, found {other:?}"
            ))),
        }
    }
    fn lit(&mut self) -> Result<Lit, AppError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::S(s)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("true") => Ok(Lit::B(true)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("false") => Ok(Lit::B(false)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("null") => Ok(Lit::Null),
            other => Err(bad_filter(&format!("expected a literal, found {other:?}"))),
        }
    }
    fn primary(&mut self) -> Result<Expr, AppError> {
        if matches!(self.toks.get(self.pos), Some(Tok::LParen)) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        if self.peek_kw("startswith") {
            self.pos += 1;
            self.expect(Tok::LParen)?;
            let p = self.prop()?;
            self.expect(Tok::Comma)?;
            let Lit::S(v) = self.lit()? else {
                return Err(bad_filter("startswith needs a string"));
            };
            self.expect(Tok::RParen)?;
            return Ok(Expr::Starts(p, v));
        }
        let p = self.prop()?;
        match self.next() {
            Some(Tok::Ident(op)) if op.eq_ignore_ascii_case("eq") => {
                Ok(Expr::Cmp(p, false, self.lit()?))
            }
            Some(Tok::Ident(op)) if op.eq_ignore_ascii_case("ne") => {
                Ok(Expr::Cmp(p, true, self.lit()?))
            }
            Some(Tok::Ident(op)) if op.eq_ignore_ascii_case("in") => {
                self.expect(Tok::LParen)?;
                let mut list = vec![self.lit()?];
                while matches!(self.toks.get(self.pos), Some(Tok::Comma)) {
                    self.pos += 1;
                    list.push(self.lit()?);
                }
                self.expect(Tok::RParen)?;
                Ok(Expr::In(p, list))
            }
            other => Err(bad_filter(&format!(
                "expected eq, ne or in after '{p}', found {other:?}"
            ))),
        }
    }
}

fn parse_filter(s: &str) -> Result<Expr, AppError> {
    let mut p = FilterParser {
        toks: tokenize(s)?,
        pos: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(bad_filter(&format!("unexpected {:?}", p.toks[p.pos])));
    }
    Ok(e)
}

fn lit_matches(v: &Value, l: &Lit) -> bool {
    match (v, l) {
        (Value::String(a), Lit::S(b)) => a.eq_ignore_ascii_case(b),
        (Value::Bool(a), Lit::B(b)) => a == b,
        (Value::Null, Lit::Null) => true,
        // onPremisesSyncEnabled is null for cloud users: "eq false" matches neither.
        _ => false,
    }
}

fn eval(e: &Expr, u: &Map<String, Value>) -> bool {
    let get = |p: &str| u.get(p).cloned().unwrap_or(Value::Null);
    match e {
        Expr::Cmp(p, ne, l) => lit_matches(&get(p), l) != *ne,
        Expr::In(p, list) => list.iter().any(|l| lit_matches(&get(p), l)),
        Expr::Starts(p, v) => get(p)
            .as_str()
            .is_some_and(|s| s.to_lowercase().starts_with(&v.to_lowercase())),
        Expr::And(a, b) => eval(a, u) && eval(b, u),
        Expr::Or(a, b) => eval(a, u) || eval(b, u),
    }
}

// ---- responses ----

fn graph_json(status: StatusCode, v: Value) -> Response {
    let mut resp = (status, v.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        ),
    );
    resp
}

fn page(items: Vec<Value>, q: &Query, path: &str, context: String) -> Response {
    let top = q.top.unwrap_or(DEFAULT_PAGE);
    let start = q.skip.min(items.len());
    let end = (start + top).min(items.len());
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context));
    if end < items.len() {
        let mut pairs: Vec<String> = q
            .keep
            .iter()
            .map(|(k, v)| format!("{}={}", k, crate::util::urlenc(v)))
            .collect();
        pairs.push(format!("$skiptoken={}", encode_skiptoken(end)));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{BASE}/{path}?{}", pairs.join("&"))),
        );
    }
    body.insert("value".into(), Value::Array(items[start..end].to_vec()));
    graph_json(StatusCode::OK, Value::Object(body))
}

fn context_users(select: &Option<Vec<String>>, props: &[&str], suffix: &str) -> String {
    match select {
        Some(_) => format!("{BASE}/$metadata#users({}){suffix}", props.join(",")),
        None => format!("{BASE}/$metadata#users{suffix}"),
    }
}

fn tap_json(t: &Tap, show_pass: bool, now: u64) -> Value {
    let reason = match t.state(now) {
        "invalid" => "OneTimeUsed",
        "expired" => "Expired",
        "notYetValid" => "NotYetValid",
        _ => "EnabledByPolicy",
    };
    json!({
        "id": t.id,
        "temporaryAccessPass": if show_pass { Value::String(t.pass.clone()) } else { Value::Null },
        "createdDateTime": iso8601(t.created_at),
        "startDateTime": iso8601(t.start_at),
        "lifetimeInMinutes": t.lifetime_minutes,
        "isUsableOnce": t.is_usable_once,
        "isUsable": t.usable(now),
        "methodUsabilityReason": reason,
    })
}

fn fido_json(k: &Fido2Key) -> Value {
    json!({
        "id": k.id,
        "displayName": k.display_name,
        "createdDateTime": iso8601(k.created_at),
        "aaGuid": k.aaguid,
        "model": if k.model.is_empty() { Value::Null } else { Value::String(k.model.clone()) },
        "attestationCertificates": k.attestation_certificates,
        "attestationLevel": k.attestation_level,
        "passkeyType": "deviceBound",
    })
}

/// Parses Graph's `DateTimeOffset` (`2026-05-01T12:00:00Z`, optional
/// fraction, `Z` or `+hh:mm`) into Unix seconds.
pub fn parse_datetime(s: &str) -> Option<u64> {
    let s = s.trim();
    let (date, rest) = s.split_once('T')?;
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0i64)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    } else {
        (rest, 0)
    };
    let time = time.split('.').next()?;
    let mut t = time.split(':');
    let hh: i64 = t.next()?.parse().ok()?;
    let mm: i64 = t.next()?.parse().ok()?;
    let ss: i64 = t.next().unwrap_or("0").parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // days_from_civil (Howard Hinnant)
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss - offset_secs;
    u64::try_from(secs).ok()
}

// ---- dispatch ----

async fn handle(s: &Arc<SimState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    if let Some(secs) = s.graph_throttled() {
        return Err(AppError::Graph {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "TooManyRequests".into(),
            message: format!("Too many requests. Retry after {secs} seconds."),
            retry_after: Some(secs),
        });
    }
    let segs: Vec<String> = parts
        .uri
        .path()
        .trim_matches('/')
        .split('/')
        .map(pct_decode)
        .collect();
    match segs.first().map(String::as_str) {
        Some("v1.0") => {}
        Some("beta") => {
            return Err(gerr(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "entra-sim serves Microsoft Graph v1.0 only; use https://graph.microsoft.com/v1.0/.",
            ));
        }
        other => {
            return Err(gerr(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("Invalid version: {}", other.unwrap_or("")),
            ));
        }
    }
    let caller = authenticate(s, &parts.headers)?;
    let q = parse_query(parts.uri.query())?;
    let body = axum::body::to_bytes(body, crate::app::BODY_LIMIT)
        .await
        .map_err(|_| AppError::TooLarge(crate::app::BODY_LIMIT))?;
    // `/me/...` is `/users/{signed-in user}/...`.
    let mut path: Vec<String> = segs[1..].to_vec();
    if path.first().map(String::as_str) == Some("me") {
        let Some(me) = &caller.user else {
            return Err(gerr(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            ));
        };
        path[0] = me.id.clone();
        path.insert(0, "users".into());
    }
    // Scenario switches of the people involved: the caller and the target user.
    let mut involved: Vec<String> = caller.user.iter().map(|u| u.id.clone()).collect();
    if path.first().map(String::as_str) == Some("users") {
        if let Some(u) = path.get(1).and_then(|id| s.user(id)) {
            if !involved.contains(&u.id) {
                involved.push(u.id);
            }
        }
    }
    for id in &involved {
        s.slow(Some(id)).await;
        s.maybe_fail(Some(id), "graph")?;
    }
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let m = &parts.method;
    match (m, p.as_slice()) {
        (&Method::GET, ["users"]) => list_users(s, &caller, &q),
        (&Method::GET, ["users", id]) => get_user(s, &caller, id, &q),
        (&Method::GET, ["groups", id, "members"]) => group_members(s, &caller, id, &q),
        (&Method::GET, ["users", id, "authentication", "temporaryAccessPassMethods"]) => {
            list_taps(s, &caller, id)
        }
        (&Method::POST, ["users", id, "authentication", "temporaryAccessPassMethods"]) => {
            create_tap(s, &caller, id, &body)
        }
        (
            &Method::GET,
            [
                "users",
                id,
                "authentication",
                "temporaryAccessPassMethods",
                mid,
            ],
        ) => get_tap(s, &caller, id, mid),
        (
            &Method::DELETE,
            [
                "users",
                id,
                "authentication",
                "temporaryAccessPassMethods",
                mid,
            ],
        ) => delete_tap(s, &caller, id, mid),
        (&Method::GET, ["users", id, "authentication", "fido2Methods"]) => {
            list_fido(s, &caller, id)
        }
        (&Method::POST, ["users", id, "authentication", "fido2Methods"]) => {
            create_fido(s, &caller, id, &body)
        }
        (&Method::GET, ["users", id, "authentication", "fido2Methods", f])
            if f.starts_with("creationOptions") =>
        {
            creation_options(s, &caller, id, f)
        }
        (&Method::GET, ["users", id, "authentication", "fido2Methods", mid]) => {
            get_fido(s, &caller, id, mid)
        }
        (&Method::DELETE, ["users", id, "authentication", "fido2Methods", mid]) => {
            delete_fido(s, &caller, id, mid)
        }
        (_, ["users", ..] | ["groups", ..]) if is_known_shape(&p) => Err(gerr(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            format!("The HTTP method '{m}' is not allowed for this resource."),
        )),
        _ => Err(gerr(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                p.last().copied().unwrap_or("")
            ),
        )),
    }
}

fn is_known_shape(p: &[&str]) -> bool {
    matches!(
        p,
        ["users"]
            | ["users", _]
            | ["groups", _, "members"]
            | [
                "users",
                _,
                "authentication",
                "temporaryAccessPassMethods" | "fido2Methods"
            ]
            | [
                "users",
                _,
                "authentication",
                "temporaryAccessPassMethods" | "fido2Methods",
                _
            ]
    )
}

/// A user Graph knows: unsynced users do not exist in the directory.
fn target(s: &SimState, id: &str) -> Result<User, AppError> {
    s.user(id)
        .filter(|u| !u.scenarios.not_synced)
        .ok_or_else(|| not_found_user(id))
}

fn list_users(s: &SimState, c: &Caller, q: &Query) -> Result<Response, AppError> {
    if !c.has(USERS_READ, USERS_READ_APP) {
        return Err(denied_directory());
    }
    let props = projection(&q.select)?;
    let filter = q.filter.as_deref().map(parse_filter).transpose()?;
    let items: Vec<Value> = s.read(|t| {
        t.users
            .iter()
            .filter(|u| !u.scenarios.not_synced)
            .map(user_full)
            .filter(|full| filter.as_ref().is_none_or(|f| eval(f, full)))
            .map(|full| project(&full, &props))
            .collect()
    });
    Ok(page(
        items,
        q,
        "users",
        context_users(&q.select, &props, ""),
    ))
}

fn get_user(s: &SimState, c: &Caller, id: &str, q: &Query) -> Result<Response, AppError> {
    let u = target(s, id)?;
    let own = c.user.as_ref().is_some_and(|me| me.id == u.id);
    let mut delegated = USERS_READ.to_vec();
    if own {
        delegated.push("User.Read");
    }
    if !c.has(&delegated, USERS_READ_APP) {
        return Err(denied_directory());
    }
    let props = projection(&q.select)?;
    let mut v = project(&user_full(&u), &props);
    v["@odata.context"] = json!(context_users(&q.select, &props, "/$entity"));
    Ok(graph_json(StatusCode::OK, v))
}

fn group_members(s: &SimState, c: &Caller, id: &str, q: &Query) -> Result<Response, AppError> {
    if !c.has(GROUP_MEMBERS, GROUP_MEMBERS) {
        return Err(denied_directory());
    }
    let props = projection(&q.select)?;
    let group = s
        .read(|t| {
            t.groups
                .iter()
                .find(|g| g.id.eq_ignore_ascii_case(id))
                .cloned()
        })
        .ok_or_else(|| not_found_user(id))?;
    let items: Vec<Value> = s.read(|t| {
        group
            .members
            .iter()
            .filter_map(|m| t.user(m))
            .filter(|u| !u.scenarios.not_synced)
            .map(|u| {
                let mut m = Map::new();
                m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
                if let Value::Object(o) = project(&user_full(u), &props) {
                    m.extend(o);
                }
                Value::Object(m)
            })
            .collect()
    });
    Ok(page(
        items,
        q,
        &format!("groups/{}/members", group.id),
        format!("{BASE}/$metadata#directoryObjects"),
    ))
}

fn methods_access(
    s: &SimState,
    c: &Caller,
    id: &str,
    scopes: &[&str],
    write: bool,
) -> Result<User, AppError> {
    if !c.has(scopes, scopes) {
        return Err(denied_methods());
    }
    let u = target(s, id)?;
    if !c.may_manage_methods(&u, write) {
        return Err(denied_methods());
    }
    Ok(u)
}

fn method_not_found(mid: &str) -> AppError {
    gerr(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        format!("The authentication method '{mid}' was not found for this user."),
    )
}

fn list_taps(s: &SimState, c: &Caller, id: &str) -> Result<Response, AppError> {
    let u = methods_access(s, c, id, TAP_READ, false)?;
    let now = unix_now();
    Ok(graph_json(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{BASE}/$metadata#users('{}')/authentication/temporaryAccessPassMethods", u.id),
            "value": u.taps.iter().map(|t| tap_json(t, false, now)).collect::<Vec<_>>(),
        }),
    ))
}

fn get_tap(s: &SimState, c: &Caller, id: &str, mid: &str) -> Result<Response, AppError> {
    let u = methods_access(s, c, id, TAP_READ, false)?;
    let t = u
        .taps
        .iter()
        .find(|t| t.id == mid)
        .ok_or_else(|| method_not_found(mid))?;
    let mut v = tap_json(t, false, unix_now());
    v["@odata.context"] = json!(format!(
        "{BASE}/$metadata#users('{}')/authentication/temporaryAccessPassMethods/$entity",
        u.id
    ));
    Ok(graph_json(StatusCode::OK, v))
}

fn json_body(body: &[u8]) -> Result<Map<String, Value>, AppError> {
    let bad = || {
        gerr(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad()),
    }
}

fn unknown_property(name: &str, ty: &str) -> AppError {
    gerr(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!(
            "The property '{name}' does not exist on type 'microsoft.graph.{ty}'. Make sure to only use property names that are defined by the type."
        ),
    )
}

fn create_tap(s: &SimState, c: &Caller, id: &str, body: &[u8]) -> Result<Response, AppError> {
    if !c.has(TAP_WRITE, TAP_WRITE) {
        return Err(denied_methods());
    }
    // Creation reaches unsynced users too: that is where Entra says "Sync user data".
    let u = s.user(id).ok_or_else(|| not_found_user(id))?;
    if !c.may_manage_methods(&u, true) {
        return Err(denied_methods());
    }
    let m = json_body(body)?;
    let mut req = crate::control::TapReq::default();
    let bad_type = |k: &str, want: &str| {
        gerr(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Cannot convert the literal of property '{k}' to the expected type '{want}'."),
        )
    };
    for (k, v) in &m {
        match k.as_str() {
            "@odata.type" => {}
            "isUsableOnce" => {
                req.is_usable_once = Some(v.as_bool().ok_or_else(|| bad_type(k, "Edm.Boolean"))?)
            }
            "lifetimeInMinutes" => {
                req.lifetime_minutes = Some(v.as_u64().ok_or_else(|| bad_type(k, "Edm.Int32"))?)
            }
            "startDateTime" => {
                req.start_date_time = Some(
                    v.as_str()
                        .and_then(parse_datetime)
                        .ok_or_else(|| bad_type(k, "Edm.DateTimeOffset"))?,
                )
            }
            other => {
                return Err(unknown_property(
                    other,
                    "temporaryAccessPassAuthenticationMethod",
                ));
            }
        }
    }
    let (_, tap) = crate::control::make_tap(s, &u.id, &req)?;
    let mut v = tap_json(&tap, true, unix_now());
    v["@odata.context"] = json!(format!(
        "{BASE}/$metadata#users('{}')/authentication/temporaryAccessPassMethods/$entity",
        u.id
    ));
    let mut resp = graph_json(StatusCode::CREATED, v);
    if let Ok(loc) = HeaderValue::from_str(&format!(
        "{BASE}/users/{}/authentication/temporaryAccessPassMethods/{}",
        u.id, tap.id
    )) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

fn delete_tap(s: &SimState, c: &Caller, id: &str, mid: &str) -> Result<Response, AppError> {
    let u = methods_access(s, c, id, TAP_WRITE, true)?;
    let removed = s.write(|t| {
        t.user_mut(&u.id).is_some_and(|x| {
            let before = x.taps.len();
            x.taps.retain(|tp| tp.id != mid);
            before != x.taps.len()
        })
    });
    if !removed {
        return Err(method_not_found(mid));
    }
    s.record("tap", Some(&u), true, &format!("TAP {mid} deleted (Graph)"));
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn list_fido(s: &SimState, c: &Caller, id: &str) -> Result<Response, AppError> {
    let u = methods_access(s, c, id, PASSKEY_READ, false)?;
    Ok(graph_json(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{BASE}/$metadata#users('{}')/authentication/fido2Methods", u.id),
            "value": u.fido2_keys.iter().map(fido_json).collect::<Vec<_>>(),
        }),
    ))
}

fn get_fido(s: &SimState, c: &Caller, id: &str, mid: &str) -> Result<Response, AppError> {
    let u = methods_access(s, c, id, PASSKEY_READ, false)?;
    let k = u
        .fido2_keys
        .iter()
        .find(|k| k.id == mid)
        .ok_or_else(|| method_not_found(mid))?;
    let mut v = fido_json(k);
    v["@odata.context"] = json!(format!(
        "{BASE}/$metadata#users('{}')/authentication/fido2Methods/$entity",
        u.id
    ));
    Ok(graph_json(StatusCode::OK, v))
}

fn delete_fido(s: &SimState, c: &Caller, id: &str, mid: &str) -> Result<Response, AppError> {
    let u = methods_access(s, c, id, PASSKEY_WRITE, true)?;
    let removed = s.write(|t| {
        t.user_mut(&u.id).is_some_and(|x| {
            let before = x.fido2_keys.len();
            x.fido2_keys.retain(|k| k.id != mid);
            before != x.fido2_keys.len()
        })
    });
    if !removed {
        return Err(method_not_found(mid));
    }
    s.record(
        "registration",
        Some(&u),
        true,
        &format!("security key {mid} deleted (Graph)"),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The FIDO2 policy as the provisioning API needs it (Microsoft's known
/// issue: "Allow self-service setup" must be on).
fn provisioning_allowed(s: &SimState) -> Result<crate::model::Fido2Policy, AppError> {
    let policy = s.read(|t| t.fido2_policy.clone());
    if !policy.enabled {
        return Err(gerr(
            StatusCode::FORBIDDEN,
            "accessDenied",
            "The FIDO2 (passkey) authentication method is disabled in the tenant's authentication methods policy.",
        ));
    }
    if !policy.allow_self_service_setup {
        return Err(gerr(
            StatusCode::FORBIDDEN,
            "accessDenied",
            "Passkey provisioning requires 'Allow self-service setup' to be enabled in the FIDO2 (passkey) authentication method policy.",
        ));
    }
    Ok(policy)
}

fn creation_options(s: &SimState, c: &Caller, id: &str, seg: &str) -> Result<Response, AppError> {
    if seg != "creationOptions" && seg != "creationOptions()" {
        return Err(gerr(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "creationOptions takes no parameters in v1.0: the challenge is valid for a fixed 5 minutes (challengeTimeoutInMinutes exists in beta only).",
        ));
    }
    let u = methods_access(s, c, id, PASSKEY_WRITE, true)?;
    provisioning_allowed(s)?;
    let challenge = random_bytes(32);
    let challenge_s = b64url(&challenge);
    let exclude: Vec<Vec<u8>> = u
        .fido2_keys
        .iter()
        .filter_map(|k| b64url_decode(&k.credential_id))
        .collect();
    let reg_state = crate::webauthn::registration_state(
        u.id.as_bytes(),
        &u.user_principal_name,
        &u.display_name,
        exclude,
        &challenge,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let expires = unix_now() + CHALLENGE_SECS;
    s.rt(|rt| {
        rt.graph_challenges.insert(
            challenge_s.clone(),
            GraphChallenge {
                user_id: u.id.clone(),
                reg_state,
                expires,
            },
        )
    });
    let exclude_json: Vec<Value> = u
        .fido2_keys
        .iter()
        .map(|k| json!({"id": k.credential_id, "type": "public-key", "transports": []}))
        .collect();
    Ok(graph_json(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{BASE}/$metadata#microsoft.graph.webauthnCredentialCreationOptions"),
            "challengeTimeoutDateTime": iso8601(expires),
            "publicKey": {
                "challenge": challenge_s,
                "timeout": CHALLENGE_SECS * 1000,
                "attestation": "direct",
                "rp": {"id": crate::webauthn::RP_ID, "name": "Microsoft"},
                "user": {
                    "id": b64url(u.id.as_bytes()),
                    "displayName": u.display_name,
                    "name": u.user_principal_name,
                },
                "pubKeyCredParams": [
                    {"type": "public-key", "alg": -7},
                    {"type": "public-key", "alg": -257},
                ],
                "excludeCredentials": exclude_json,
                "authenticatorSelection": {
                    "authenticatorAttachment": "cross-platform",
                    "requireResidentKey": true,
                    "userVerification": "required",
                },
                "extensions": {
                    "hmacCreateSecret": true,
                    "enforceCredentialProtectionPolicy": true,
                    "credentialProtectionPolicy": "userVerificationOptional",
                },
            },
        }),
    ))
}

fn bad(msg: impl Into<String>) -> AppError {
    gerr(StatusCode::BAD_REQUEST, "badRequest", msg)
}

fn create_fido(s: &SimState, c: &Caller, id: &str, body: &[u8]) -> Result<Response, AppError> {
    let u = methods_access(s, c, id, PASSKEY_WRITE, true)?;
    let policy = provisioning_allowed(s)?;
    let m = json_body(body)?;
    for k in m.keys() {
        if !["@odata.type", "displayName", "publicKeyCredential"].contains(&k.as_str()) {
            return Err(unknown_property(k, "fido2AuthenticationMethod"));
        }
    }
    let name = m
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(bad(
            "displayName must be at most 64 characters without control characters.",
        ));
    }
    let pkc = m
        .get("publicKeyCredential")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("publicKeyCredential is required."))?;
    let field = |o: &Map<String, Value>, k: &str| -> Result<Vec<u8>, AppError> {
        o.get(k)
            .and_then(Value::as_str)
            .and_then(b64url_decode)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                bad(format!(
                    "publicKeyCredential: '{k}' must be non-empty base64url without padding."
                ))
            })
    };
    let cred_id = field(pkc, "id")?;
    let resp = pkc
        .get("response")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("publicKeyCredential.response is required."))?;
    let cdj = field(resp, "clientDataJSON")?;
    let ao = field(resp, "attestationObject")?;
    let client_data: Value = serde_json::from_slice(&cdj)
        .map_err(|_| bad("publicKeyCredential.response.clientDataJSON is not JSON."))?;
    let challenge = client_data["challenge"]
        .as_str()
        .ok_or_else(|| bad("clientDataJSON has no challenge."))?
        .to_string();
    // Single use: the challenge is spent whatever happens next.
    let ch = s
        .rt(|rt| rt.graph_challenges.remove(&challenge))
        .ok_or_else(|| bad("The challenge in clientDataJSON was not issued by creationOptions, or it was used already. Call creationOptions again."))?;
    if ch.expires <= unix_now() {
        return Err(bad(
            "The challenge has expired (creationOptions challenges are valid for 5 minutes). Call creationOptions again.",
        ));
    }
    if ch.user_id != u.id {
        return Err(bad("The challenge was issued for another user."));
    }
    if u.scenarios.key_limit_reached || u.fido2_keys.len() >= policy.key_limit {
        return Err(bad(format!(
            "The user has reached the limit of {} FIDO2 security keys.",
            policy.key_limit
        )));
    }
    if u.scenarios.attestation_rejected {
        s.record(
            "registration",
            Some(&u),
            false,
            "graph: attestation rejected (scenario)",
        );
        return Err(bad(
            "The attestation of the security key was rejected by the tenant's FIDO2 policy (attestation enforcement or key restrictions).",
        ));
    }
    let reg_json = json!({
        "id": b64url(&cred_id),
        "rawId": b64url(&cred_id),
        "type": "public-key",
        "response": {"attestationObject": b64url(&ao), "clientDataJSON": b64url(&cdj)},
        "extensions": {},
    });
    let rpk = serde_json::from_value(reg_json)
        .map_err(|e| bad(format!("The credential does not parse: {e}")))?;
    let attested = match crate::webauthn::verify_registration(
        &ch.reg_state,
        &rpk,
        &policy,
        crate::webauthn::ORIGIN,
    ) {
        Ok(a) => a,
        Err(crate::webauthn::VerifyError::Policy(why)) => {
            s.record(
                "registration",
                Some(&u),
                false,
                &format!("graph: attestation rejected: {why}"),
            );
            return Err(bad(format!(
                "The attestation of the security key was rejected by the tenant's FIDO2 policy: {why}"
            )));
        }
        Err(e) => {
            s.record(
                "registration",
                Some(&u),
                false,
                &format!("graph: verification failed: {e}"),
            );
            return Err(bad(format!(
                "The FIDO2 credential could not be verified: {e}"
            )));
        }
    };
    let key = Fido2Key {
        id: attested.credential_id.clone(),
        credential_id: attested.credential_id.clone(),
        display_name: if name.is_empty() {
            "Security key".into()
        } else {
            name
        },
        aaguid: attested.aaguid.clone(),
        model: String::new(),
        created_at: unix_now(),
        attestation_level: if policy.enforce_attestation {
            "attested".into()
        } else {
            "notAttested".into()
        },
        attestation_certificates: Vec::new(),
        registered_via: "graph".into(),
        credential: attested.credential.clone(),
        last_used_at: None,
    };
    let dup = s.write(|t| {
        if t.users.iter().any(|x| {
            x.fido2_keys
                .iter()
                .any(|k| k.credential_id == key.credential_id)
        }) {
            return true;
        }
        if let Some(x) = t.user_mut(&u.id) {
            x.fido2_keys.push(key.clone());
        }
        false
    });
    if dup {
        return Err(gerr(
            StatusCode::CONFLICT,
            "conflict",
            "A FIDO2 security key with this credential id is already registered.",
        ));
    }
    s.record(
        "registration",
        Some(&u),
        true,
        &format!(
            "security key {} ({}) aaguid {} via Graph",
            key.display_name, key.credential_id, key.aaguid
        ),
    );
    let mut v = fido_json(&key);
    v["@odata.context"] = json!(format!(
        "{BASE}/$metadata#users('{}')/authentication/fido2Methods/$entity",
        u.id
    ));
    let mut resp = graph_json(StatusCode::CREATED, v);
    if let Ok(loc) = HeaderValue::from_str(&format!(
        "{BASE}/users/{}/authentication/fido2Methods/{}",
        u.id, key.id
    )) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_reject() {
        let ok = [
            "userPrincipalName eq 'adele.vance@contoso.com'",
            "startswith(displayName,'Ad') or mail eq 'x'",
            "userPrincipalName in ('a@b','c@d') and accountEnabled eq true",
            "displayName eq 'O''Brien'",
        ];
        for f in ok {
            assert!(parse_filter(f).is_ok(), "{f}");
        }
        assert_eq!(
            parse_filter("displayName eq 'O''Brien'").unwrap(),
            Expr::Cmp("displayName".into(), false, Lit::S("O'Brien".into()))
        );
        for f in [
            "",
            "userPrincipalName eq",
            "jobTitle2 eq 'x'",
            "displayName eq 'x",
            "(mail eq 'x'",
        ] {
            assert!(parse_filter(f).is_err(), "{f}");
        }
    }

    #[test]
    fn skiptokens_round_trip() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(42)), Some(42));
        assert_eq!(decode_skiptoken("garbage"), None);
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_datetime("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_datetime("2023-11-15T00:13:20+02:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            pct_decode("adele.vance%40contoso.com"),
            "adele.vance@contoso.com"
        );
        assert_eq!(pct_decode("100%"), "100%");
    }
}
