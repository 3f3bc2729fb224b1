//! Shared test harness: start a simulator in-process and build an HTTPS
//! client that resolves the Microsoft hostnames to it and trusts its CA.

#![allow(dead_code)]

use entra_sim::{Sim, SimConfig, SimHandle};

pub struct TestSim {
    pub sim: SimHandle,
    pub dir: std::path::PathBuf,
}

pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "entra-sim-test-{tag}-{}-{}",
        std::process::id(),
        entra_sim::util::random_hex(4)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

pub async fn start(tag: &str) -> TestSim {
    let dir = temp_dir(tag);
    let sim = Sim::start(SimConfig::new(&dir)).await.expect("sim starts");
    TestSim { sim, dir }
}

pub fn client(sim: &SimHandle) -> reqwest::Client {
    builder(sim).build().expect("client")
}

pub fn builder(sim: &SimHandle) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(sim.ca_pem.as_bytes()).expect("ca pem");
    let mut b = reqwest::Client::builder()
        .tls_certs_only([ca])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none());
    for h in entra_sim::tls::HOSTS {
        b = b.resolve(h, sim.addr);
    }
    b
}

pub mod authn;

use std::collections::HashMap;

/// The first `<form>` of a page: its action and its inputs' names and values.
pub struct Form {
    pub action: String,
    pub fields: HashMap<String, String>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!(" {name}=\"");
    let start = tag.find(&pat)? + pat.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

pub fn form(html: &str) -> Form {
    let start = html.find("<form").expect("page has a form");
    let end = html[start..]
        .find("</form>")
        .map(|e| e + start)
        .unwrap_or(html.len());
    let chunk = &html[start..end];
    let tag_end = chunk.find('>').expect("form tag");
    let action = attr(&chunk[..tag_end], "action").unwrap_or_default();
    let mut fields = HashMap::new();
    let mut rest = chunk;
    while let Some(i) = rest.find("<input") {
        let e = rest[i..].find('>').expect("input end") + i;
        let tag = &rest[i..e];
        if let Some(n) = attr(tag, "name") {
            let ty = attr(tag, "type").unwrap_or_default();
            if ty != "submit" && ty != "button" && ty != "checkbox" {
                fields.insert(n, attr(tag, "value").unwrap_or_default());
            }
        }
        rest = &rest[e..];
    }
    Form { action, fields }
}

/// `$Config={...}` of a page.
pub fn config(html: &str) -> serde_json::Value {
    let start = html.find("$Config=").expect("page has $Config") + "$Config=".len();
    let end = html[start..].find(";\n").expect("end of $Config") + start;
    serde_json::from_str(&html[start..end]).expect("$Config is JSON")
}

/// A `data-content` attribute of the element with `id`.
pub fn data_content(html: &str, id: &str) -> String {
    let pat = format!("id=\"{id}\" data-content=\"");
    let start = html.find(&pat).expect("element present") + pat.len();
    let end = html[start..].find('"').expect("attr end") + start;
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn absolute(base_host: &str, action: &str) -> String {
    if action.starts_with("https://") {
        action.to_string()
    } else {
        format!("https://{base_host}{action}")
    }
}

/// Reads a response's body. Every HTML answer read this way is checked for
/// Entra's strict CSP ([`assert_strict_csp`]), so each flow test covers the
/// pages it passes through.
pub async fn text(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    let url = r.url().to_string();
    let headers = r.headers().clone();
    let body = r.text().await.expect("body");
    assert_strict_csp(&url, &headers, &body);
    (s, body)
}

/// Nonces seen by [`assert_strict_csp`] in this test binary: each response
/// must bring a fresh one.
static NONCES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// For a `text/html` response: a Content-Security-Policy with a fresh
/// `'nonce-…'` in `script-src`, `object-src 'none'`, none of `unsafe-eval`,
/// `wasm-unsafe-eval`, `strict-dynamic`, `unsafe-inline`; and every
/// `<script>` of the body (inline or with `src`) carries that nonce. Returns
/// whether the response was HTML.
pub fn assert_strict_csp(url: &str, headers: &reqwest::header::HeaderMap, body: &str) -> bool {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("text/html") {
        return false;
    }
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{url}: HTML without Content-Security-Policy"));
    for bad in [
        "unsafe-eval",
        "wasm-unsafe-eval",
        "strict-dynamic",
        "unsafe-inline",
    ] {
        assert!(!csp.contains(bad), "{url}: CSP allows {bad}: {csp}");
    }
    assert!(csp.contains("object-src 'none'"), "{url}: {csp}");
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("{url}: CSP without script-src: {csp}"));
    let nonce = script_src
        .split("'nonce-")
        .nth(1)
        .and_then(|n| n.split('\'').next())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| panic!("{url}: script-src without a nonce: {csp}"));
    {
        let mut seen = NONCES.lock().unwrap_or_else(|p| p.into_inner());
        assert!(
            !seen.iter().any(|n| n == nonce),
            "{url}: nonce {nonce} was sent before"
        );
        seen.push(nonce.to_string());
    }
    // ASCII lowercasing keeps byte offsets, so positions match `body`.
    let lower = body.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<script") {
        let start = from + i;
        let end = lower[start..]
            .find('>')
            .map(|e| e + start)
            .unwrap_or_else(|| panic!("{url}: unterminated <script tag"));
        let tag = &body[start..end];
        assert_eq!(
            attr(tag, "nonce").as_deref(),
            Some(nonce),
            "{url}: a script without this response's nonce: {tag}"
        );
        from = end;
    }
    true
}

pub async fn get(c: &reqwest::Client, url: &str) -> (u16, String) {
    text(c.get(url).send().await.expect("get")).await
}

pub async fn post_form(
    c: &reqwest::Client,
    url: &str,
    fields: &HashMap<String, String>,
) -> reqwest::Response {
    c.post(url).form(fields).send().await.expect("post")
}

/// Control API: create a TAP and return the pass.
pub async fn make_tap(c: &reqwest::Client, upn: &str, body: serde_json::Value) -> String {
    let r = c
        .post(format!(
            "https://login.microsoftonline.com/__sim/users/{upn}/taps"
        ))
        .json(&body)
        .send()
        .await
        .expect("tap");
    assert_eq!(r.status(), 201, "TAP creation");
    let v: serde_json::Value = r.json().await.expect("json");
    v["pass"].as_str().expect("pass").to_string()
}

/// Control API: shift the simulated clock (`{"advanceSecs": n}` or `{"offsetSecs": n}`).
pub async fn set_clock(c: &reqwest::Client, body: serde_json::Value) -> serde_json::Value {
    let r = c
        .patch("https://login.microsoftonline.com/__sim/clock")
        .json(&body)
        .send()
        .await
        .expect("clock");
    assert_eq!(r.status(), 200, "clock {body}");
    r.json().await.expect("clock json")
}

pub async fn scenarios(
    c: &reqwest::Client,
    upn: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    c.patch(format!(
        "https://login.microsoftonline.com/__sim/users/{upn}/scenarios"
    ))
    .json(&body)
    .send()
    .await
    .expect("scenarios")
}

/// From security-info (no session) to the sign-in page; returns its HTML.
pub async fn open_security_info(c: &reqwest::Client) -> String {
    let r = c
        .get("https://mysignins.microsoft.com/security-info")
        .send()
        .await
        .expect("si");
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    let (st, html) = get(c, &loc).await;
    assert_eq!(st, 200, "{html}");
    html
}

/// Posts the page's first form with `extra` fields set.
pub async fn submit(
    c: &reqwest::Client,
    host: &str,
    html: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut f = form(html);
    for (k, v) in extra {
        f.fields.insert(k.to_string(), v.to_string());
    }
    post_form(c, &absolute(host, &f.action), &f.fields).await
}

/// Signs `upn` in with `tap` up to the Security info page; returns the session's sessionCtxV2.
pub async fn sign_in_to_security_info(c: &reqwest::Client, upn: &str, tap: &str) -> String {
    let login = "login.microsoftonline.com";
    let html = open_security_info(c).await;
    let (_, html) = text(submit(c, login, &html, &[("loginfmt", upn)]).await).await;
    assert!(
        html.contains("name=\"accesspass\""),
        "TAP page expected: {html}"
    );
    let (_, html) = text(submit(c, login, &html, &[("accesspass", tap)]).await).await;
    assert_eq!(config(&html)["pgid"], "KmsiInterrupt", "{html}");
    finish_kmsi(c, &html).await;
    let r = c
        .post("https://mysignins.microsoft.com/api/session/authorize")
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("authz");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    v["sessionCtxV2"].as_str().expect("ctx").to_string()
}

/// KMSI "Yes" → form_post to mysignins → security-info.
pub async fn finish_kmsi(c: &reqwest::Client, kmsi_html: &str) {
    let (st, html) = text(
        submit(
            c,
            "login.microsoftonline.com",
            kmsi_html,
            &[("LoginOptions", "1")],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200, "{html}");
    let r = submit(c, "mysignins.microsoft.com", &html, &[]).await;
    assert_eq!(r.status(), 303, "callback redirects");
    let (st, html) = get(c, "https://mysignins.microsoft.com/security-info").await;
    assert_eq!(st, 200);
    assert!(html.contains("securityinfo.js"));
}
