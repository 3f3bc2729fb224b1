//! HTML responses. Every page of every host goes through [`Page::into_response`],
//! which sends Entra's strict Content Security Policy with a fresh nonce.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::tls::HOSTS;
use crate::util::{b64std, esc, random_bytes};

/// The CSP sent with every HTML response: inline scripts only with this
/// response's nonce, script files only from the simulator's own hosts, no
/// `unsafe-eval` and no `wasm-unsafe-eval` (so a content script cannot
/// compile WebAssembly on these pages, exactly as on Microsoft's).
///
/// No `'strict-dynamic'`: it would make browsers ignore the host allow-list
/// and trust any script a nonced script inserts, which is looser than Entra.
/// The simulator's own scripts never insert scripts; each page loads them
/// with `<script nonce src>` ([`Page::script_src`]).
pub fn csp(nonce: &str) -> String {
    let hosts: Vec<String> = HOSTS.iter().map(|h| format!("https://{h}")).collect();
    format!(
        "script-src 'nonce-{nonce}' 'report-sample' {}; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action https: http://localhost:* http://127.0.0.1:*",
        hosts.join(" ")
    )
}

/// One HTML page being built. Create it first to get the nonce for inline scripts.
pub struct Page {
    pub nonce: String,
    pub lang: String,
    pub title: String,
    pub head: String,
    pub body: String,
    pub status: StatusCode,
    pub headers: Vec<(header::HeaderName, String)>,
}

impl Page {
    pub fn new(lang: &str, title: &str) -> Self {
        Self {
            nonce: b64std(&random_bytes(18)),
            lang: lang.to_string(),
            title: title.to_string(),
            head: String::new(),
            body: String::new(),
            status: StatusCode::OK,
            headers: Vec::new(),
        }
    }

    /// An external script from the simulator's own host, carrying the nonce
    /// too (the host allow-list admits it; the nonce keeps it working should
    /// the policy ever name fewer hosts).
    pub fn script_src(&mut self, src: &str) {
        self.body.push_str(&format!(
            "<script src=\"{}\" nonce=\"{}\"></script>",
            esc(src),
            self.nonce
        ));
    }

    /// An inline script with this page's nonce. `js` must be trusted text;
    /// data goes through [`crate::util::json_for_script`].
    pub fn inline_script(&mut self, js: &str) {
        self.body
            .push_str(&format!("<script nonce=\"{}\">{}</script>", self.nonce, js));
    }

    pub fn header(&mut self, name: header::HeaderName, value: impl Into<String>) {
        self.headers.push((name, value.into()));
    }

    pub fn render(&self) -> String {
        format!(
            "<!DOCTYPE html><html dir=\"{dir}\" lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><link rel=\"stylesheet\" href=\"/static/sim.css\">{head}</head><body>{body}</body></html>",
            lang = esc(&self.lang),
            dir = if crate::locale::is_rtl(&self.lang) {
                "rtl"
            } else {
                "ltr"
            },
            title = esc(&self.title),
            head = self.head,
            body = self.body,
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let body = self.render();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&csp(&self.nonce)) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.append(name, v);
            }
        }
        resp
    }
}

/// A plain page with a heading and one message (e.g. "Signed out"), in `lang`.
pub fn message_page(lang: &str, status: StatusCode, title: &str, message: &str) -> Response {
    let mut p = Page::new(lang, title);
    p.status = status;
    p.body = format!(
        "<div class=\"sim-card\"><div role=\"heading\" aria-level=\"1\">{}</div><p id=\"sim-message\">{}</p></div>",
        esc(title),
        esc(message)
    );
    p.into_response()
}
