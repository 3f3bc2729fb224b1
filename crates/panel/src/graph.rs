//! The OAuth 2.0 client (authorization code + PKCE, refresh) and the Graph
//! v1.0 subset the panel uses:
//!
//! - `GET /v1.0/users` (every page, following `@odata.nextLink`);
//! - `POST /v1.0/users/{id}/authentication/temporaryAccessPassMethods`;
//! - `GET` / `DELETE /v1.0/users/{id}/authentication/fido2Methods[/{id}]`.
//!
//! Microsoft's refusals become [`AppError`]s that say what was being done,
//! what Microsoft answered, and (where we know) what to do about it.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::{b64url, b64url_decode, sha256};
use crate::error::{AppError, AppResult};

/// How the panel reaches Microsoft over TLS.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Extra trusted CA certificates, PEM (TLS inspection proxies, the
    /// simulator).
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate. Loudly warned about in the log and the UI.
    pub insecure: bool,
    /// Host name → address overrides for outgoing connections.
    pub resolve: Vec<(String, SocketAddr)>,
}

#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    authority: String,
    graph: String,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("authority", &self.authority)
            .field("graph", &self.graph)
            .finish_non_exhaustive()
    }
}

/// What the token endpoint returned.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds; Microsoft sends a number, some servers a string.
    #[serde(default, deserialize_with = "number_or_string")]
    pub expires_in: Option<i64>,
    /// Only for single-page-app registrations; otherwise refresh tokens last
    /// 90 days from their last use.
    #[serde(default, deserialize_with = "number_or_string")]
    pub refresh_token_expires_in: Option<i64>,
    #[serde(default)]
    pub id_token: Option<String>,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

impl TokenResponse {
    /// The tenant the token was issued in: the `tid` claim of the access
    /// token (or of the id token). Read without verifying the signature: the
    /// token came straight from the token endpoint over TLS, and Graph
    /// verifies it on every call anyway.
    pub fn tenant_id(&self) -> Option<String> {
        [Some(&self.access_token), self.id_token.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|jwt| {
                let payload = jwt.split('.').nth(1)?;
                let claims: Value = serde_json::from_slice(&b64url_decode(payload)?).ok()?;
                claims.get("tid")?.as_str().map(str::to_string)
            })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A freshly issued Temporary Access Pass.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tap {
    pub temporary_access_pass: String,
    #[serde(default)]
    pub lifetime_in_minutes: Option<i64>,
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default)]
    pub is_usable_once: Option<bool>,
}

/// `fido2AuthenticationMethod`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fido2Method {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    /// Graph spells it `aaGuid`.
    #[serde(default, rename = "aaGuid", alias = "aaguid")]
    pub aaguid: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub attestation_level: Option<String>,
}

/// PKCE pair (RFC 7636, S256).
pub fn pkce_pair() -> AppResult<(String, String)> {
    let verifier = crate::crypto::random_token()?;
    let challenge = b64url(&sha256(verifier.as_bytes()));
    Ok((verifier, challenge))
}

impl GraphClient {
    pub fn new(authority: &str, graph: &str, tls: &TlsOptions) -> Result<Self, String> {
        // ring, never aws-lc-rs; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            // Graph never needs redirects followed; a redirect would be a
            // way to send the bearer token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("passkey-panel/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &tls.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("--ca-file: not a PEM certificate bundle: {e}"))?;
            if certs.is_empty() {
                return Err("--ca-file holds no certificate".into());
            }
            b = b.tls_certs_merge(certs);
        }
        if tls.insecure {
            b = b.tls_danger_accept_invalid_certs(true);
        }
        for (host, addr) in &tls.resolve {
            b = b.resolve(host, *addr);
        }
        let http = b.build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(GraphClient {
            http,
            authority: authority.trim_end_matches('/').to_string(),
            graph: graph.trim_end_matches('/').to_string(),
        })
    }

    pub fn authorize_url(
        &self,
        tenant: &str,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
    ) -> AppResult<String> {
        let mut url = url::Url::parse(&format!(
            "{}/{}/oauth2/v2.0/authorize",
            self.authority,
            urlencode_segment(tenant)
        ))
        .map_err(|e| AppError::internal(format!("authority URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_mode", "query")
            .append_pair("scope", &crate::GRAPH_SCOPES.join(" "))
            .append_pair("state", state)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("prompt", "select_account");
        Ok(url.into())
    }

    async fn token(&self, tenant: &str, form: &[(&str, &str)]) -> AppResult<TokenResponse> {
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority,
            urlencode_segment(tenant)
        );
        let resp = self
            .http
            .post(&url)
            .form(form)
            .send()
            .await
            .map_err(|e| unreachable_error(&url, &e))?;
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(token_error(status, &body));
        }
        serde_json::from_str(&body).map_err(|e| AppError::Upstream {
            status: axum::http::StatusCode::BAD_GATEWAY,
            code: "badTokenResponse".into(),
            message: format!("the token endpoint answered something that is not a token: {e}"),
            hint: None,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn exchange_code(
        &self,
        tenant: &str,
        client_id: &str,
        client_secret: Option<&str>,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> AppResult<TokenResponse> {
        let scope = crate::GRAPH_SCOPES.join(" ");
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect_uri),
            ("scope", scope.as_str()),
        ];
        if let Some(secret) = client_secret {
            form.push(("client_secret", secret));
        }
        self.token(tenant, &form).await
    }

    pub async fn refresh(
        &self,
        tenant: &str,
        client_id: &str,
        client_secret: Option<&str>,
        refresh_token: &str,
    ) -> AppResult<TokenResponse> {
        let scope = crate::GRAPH_SCOPES.join(" ");
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
            ("scope", scope.as_str()),
        ];
        if let Some(secret) = client_secret {
            form.push(("client_secret", secret));
        }
        self.token(tenant, &form).await
    }

    async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        url: &str,
        token: &str,
        body: Option<&Value>,
    ) -> AppResult<Value> {
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| unreachable_error(url, &e))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(graph_error(what, status, &text));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| AppError::Upstream {
            status: axum::http::StatusCode::BAD_GATEWAY,
            code: "badGraphResponse".into(),
            message: format!(
                "Microsoft Graph answered {what} with something that is not JSON: {e}"
            ),
            hint: None,
        })
    }

    /// Every user of the tenant, all pages. Nothing is returned (and so
    /// nothing written) unless every page arrived.
    pub async fn list_users(&self, token: &str) -> AppResult<Vec<GraphUser>> {
        let mut url = format!(
            "{}/v1.0/users?$select=id,userPrincipalName,displayName&$top=999",
            self.graph
        );
        let mut users = Vec::new();
        // A server that keeps sending links would loop forever; 10,000 pages
        // of 999 is beyond any tenant.
        for _ in 0..10_000 {
            let page = self
                .call("the user list", reqwest::Method::GET, &url, token, None)
                .await?;
            let items =
                page.get("value")
                    .and_then(Value::as_array)
                    .ok_or_else(|| AppError::Upstream {
                        status: axum::http::StatusCode::BAD_GATEWAY,
                        code: "badGraphResponse".into(),
                        message: "Microsoft Graph's user list has no \"value\" array".into(),
                        hint: None,
                    })?;
            for item in items {
                // A user without an id cannot be addressed; skip rather
                // than fail the whole import.
                if let Ok(u) = serde_json::from_value::<GraphUser>(item.clone()) {
                    users.push(u);
                }
            }
            match page.get("@odata.nextLink").and_then(Value::as_str) {
                // The bearer token goes only to the configured Graph root.
                Some(next) if next.starts_with(&format!("{}/", self.graph)) => {
                    url = next.to_string()
                }
                Some(next) => {
                    return Err(AppError::Upstream {
                        status: axum::http::StatusCode::BAD_GATEWAY,
                        code: "badGraphResponse".into(),
                        message: format!(
                            "Microsoft Graph's next page link points outside {}: {next}",
                            self.graph
                        ),
                        hint: None,
                    });
                }
                None => return Ok(users),
            }
        }
        Err(AppError::internal(
            "the user list did not end after 10,000 pages",
        ))
    }

    fn user_url(&self, user_id: &str, rest: &str) -> String {
        format!(
            "{}/v1.0/users/{}/authentication/{rest}",
            self.graph,
            urlencode_segment(user_id)
        )
    }

    /// Issues a one-time TAP. Entra holds at most one TAP per user, so an
    /// earlier one (from "Get Temporary Access Pass", or a request that
    /// never used it) is deleted first; returns the new pass and how many
    /// were replaced.
    pub async fn create_tap(
        &self,
        token: &str,
        user_id: &str,
        lifetime_minutes: u32,
    ) -> AppResult<(Tap, usize)> {
        let existing = self
            .call(
                "the Temporary Access Pass list",
                reqwest::Method::GET,
                &self.user_url(user_id, "temporaryAccessPassMethods"),
                token,
                None,
            )
            .await?;
        let ids: Vec<String> = existing
            .get("value")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for id in &ids {
            self.call(
                "the deletion of the previous Temporary Access Pass",
                reqwest::Method::DELETE,
                &self.user_url(
                    user_id,
                    &format!("temporaryAccessPassMethods/{}", urlencode_segment(id)),
                ),
                token,
                None,
            )
            .await?;
        }
        let body = serde_json::json!({
            "isUsableOnce": true,
            "lifetimeInMinutes": lifetime_minutes,
        });
        let v = self
            .call(
                "the Temporary Access Pass request",
                reqwest::Method::POST,
                &self.user_url(user_id, "temporaryAccessPassMethods"),
                token,
                Some(&body),
            )
            .await?;
        let tap = serde_json::from_value(v).map_err(|e| AppError::Upstream {
            status: axum::http::StatusCode::BAD_GATEWAY,
            code: "badGraphResponse".into(),
            message: format!("Microsoft Graph's Temporary Access Pass answer lacks the pass: {e}"),
            hint: None,
        })?;
        Ok((tap, ids.len()))
    }

    pub async fn list_fido2(&self, token: &str, user_id: &str) -> AppResult<Vec<Fido2Method>> {
        let v = self
            .call(
                "the security key list",
                reqwest::Method::GET,
                &self.user_url(user_id, "fido2Methods"),
                token,
                None,
            )
            .await?;
        Ok(v.get("value")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| serde_json::from_value(i.clone()).ok())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `GET .../fido2Methods/creationOptions`: WebAuthn creation options
    /// for the user (challenge valid 5 minutes), as JSON.
    pub async fn fido2_creation_options(&self, token: &str, user_id: &str) -> AppResult<Value> {
        self.call(
            "the passkey creation options",
            reqwest::Method::GET,
            &self.user_url(user_id, "fido2Methods/creationOptions"),
            token,
            None,
        )
        .await
    }

    /// `POST .../fido2Methods`: registers a credential made from the
    /// creation options; Entra verifies its attestation.
    pub async fn register_fido2(
        &self,
        token: &str,
        user_id: &str,
        display_name: &str,
        credential: &Value,
    ) -> AppResult<Fido2Method> {
        let body = serde_json::json!({
            "displayName": display_name,
            "publicKeyCredential": credential,
        });
        let v = self
            .call(
                "the passkey registration",
                reqwest::Method::POST,
                &self.user_url(user_id, "fido2Methods"),
                token,
                Some(&body),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| AppError::Upstream {
            status: axum::http::StatusCode::BAD_GATEWAY,
            code: "badGraphResponse".into(),
            message: format!("Microsoft Graph's passkey registration answer is not a passkey: {e}"),
            hint: None,
        })
    }

    pub async fn delete_fido2(&self, token: &str, user_id: &str, method_id: &str) -> AppResult<()> {
        self.call(
            "the security key deletion",
            reqwest::Method::DELETE,
            &self.user_url(
                user_id,
                &format!("fido2Methods/{}", urlencode_segment(method_id)),
            ),
            token,
            None,
        )
        .await
        .map(|_| ())
    }
}

/// Percent-encodes a path segment (object ids are GUIDs, but never trust).
fn urlencode_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn unreachable_error(url: &str, e: &reqwest::Error) -> AppError {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| url.to_string());
    // reqwest's Display hides the cause (certificate, DNS); walk the chain.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    AppError::Upstream {
        status: axum::http::StatusCode::BAD_GATEWAY,
        code: "microsoftUnreachable".into(),
        message: format!("cannot reach {host}: {detail}"),
        hint: Some(
            "Check the network and proxy; behind TLS inspection start the panel with --ca-file."
                .into(),
        ),
    }
}

fn token_error(status: StatusCode, body: &str) -> AppError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = v.get("error").and_then(Value::as_str).unwrap_or("error");
    let description = v
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or(body)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    if code == "invalid_grant" {
        return AppError::TenantNotConnected {
            code: "tenantConnectionLapsed",
            message: format!(
                "Microsoft no longer accepts the tenant connection ({description}); an Owner must connect the tenant again"
            ),
        };
    }
    AppError::Upstream {
        status: axum::http::StatusCode::BAD_GATEWAY,
        code: format!("oauth.{code}"),
        message: format!(
            "Microsoft's token endpoint refused ({}): {description}",
            status.as_u16()
        ),
        hint: Some(
            "Check the app registration: client id, client secret, redirect URI and the consented permissions."
                .into(),
        ),
    }
}

/// Graph's `{"error":{"code","message"}}` turned into an answer for the UI.
pub fn graph_error(what: &str, status: StatusCode, body: &str) -> AppError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let ms_code = v
        .pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let ms_message = v
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let said = if ms_message.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("{ms_code}: {ms_message}")
    };
    use axum::http::StatusCode as S;
    let (ours, hint) = match status.as_u16() {
        401 => {
            return AppError::TenantNotConnected {
                code: "tenantConnectionLapsed",
                message: format!(
                    "Microsoft Graph no longer accepts the tenant connection ({said}); an Owner must connect the tenant again"
                ),
            };
        }
        400 | 403 if what.contains("passkey") => (
            axum::http::StatusCode::from_u16(status.as_u16()).unwrap_or(S::BAD_GATEWAY),
            Some(
                "Registering through Graph needs \"Allow self-service setup\" in the FIDO2 (passkey) policy; if the tenant enforces attestation or restricts AAGUIDs, add the vault's attestation CA and AAGUID (GET /api/vault) to the policy.",
            ),
        ),
        400 if what.contains("Temporary Access Pass") => (
            S::BAD_REQUEST,
            Some(
                "Check that the Temporary Access Pass method is enabled for this user in Entra ID → Authentication methods → Policies, and that its lifetime limits allow the panel's setting.",
            ),
        ),
        400 => (S::BAD_REQUEST, None),
        403 => (
            S::FORBIDDEN,
            Some(
                "The Microsoft account that connected the tenant needs the Authentication Administrator (or Privileged Authentication Administrator) role, and the app needs consent for UserAuthenticationMethod.ReadWrite.All.",
            ),
        ),
        404 => (
            S::NOT_FOUND,
            Some("The user may have been deleted in Entra ID; sync the users again."),
        ),
        409 => (S::CONFLICT, None),
        429 | 503 => (
            S::SERVICE_UNAVAILABLE,
            Some("Microsoft is throttling requests; wait a minute and try again."),
        ),
        _ => (S::BAD_GATEWAY, None),
    };
    AppError::Upstream {
        status: ours,
        code: format!("graph.{ms_code}"),
        message: format!("Microsoft Graph refused {what}: {said}"),
        hint: hint.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_id_is_read_from_the_access_token() {
        let payload = b64url(br#"{"tid":"8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13","scp":"x"}"#);
        let t = TokenResponse {
            access_token: format!("e30.{payload}.sig"),
            refresh_token: None,
            expires_in: Some(3600),
            refresh_token_expires_in: None,
            id_token: None,
        };
        assert_eq!(
            t.tenant_id().as_deref(),
            Some("8f3c2a71-5d4e-4b9a-9c1f-2e7d6a0b4c13")
        );
        let opaque = TokenResponse {
            access_token: "opaque".into(),
            ..t
        };
        assert_eq!(opaque.tenant_id(), None);
    }

    #[test]
    fn graph_errors_keep_microsofts_words_and_add_a_hint() {
        let e = graph_error(
            "the Temporary Access Pass request",
            StatusCode::BAD_REQUEST,
            r#"{"error":{"code":"badRequest","message":"Policy disabled"}}"#,
        );
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("Policy disabled"), "{e}");
        let lapsed = graph_error("x", StatusCode::UNAUTHORIZED, "");
        assert_eq!(lapsed.code(), "tenantConnectionLapsed");
        let garbage = graph_error("x", StatusCode::INTERNAL_SERVER_ERROR, "<html>");
        assert_eq!(garbage.status(), axum::http::StatusCode::BAD_GATEWAY);
    }
}
