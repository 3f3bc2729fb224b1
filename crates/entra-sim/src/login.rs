//! login.microsoftonline.com: the converged sign-in pages.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::html::Page;
use crate::state::SimState;
use crate::util::json_for_script;

pub fn router() -> Router<Arc<SimState>> {
    Router::new()
        .route("/", get(authorize))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/authorize", get(authorize))
}

pub fn fido_router() -> Router<Arc<SimState>> {
    Router::new()
}

async fn authorize() -> Page {
    let mut p = Page::new("en", "Sign in to your account");
    let config = serde_json::json!({"pgid": "ConvergedSignIn", "iErrorCode": 0, "strServiceExceptionMessage": ""});
    p.inline_script(&format!(
        "//<![CDATA[\n$Config={};\n//]]>",
        json_for_script(&config)
    ));
    p.body.push_str(
        r#"<form name="f1" id="i0281" method="post" action="/common/login" novalidate autocomplete="off"><div role="heading" aria-level="1" id="loginHeader">Sign in</div><input type="email" name="loginfmt" id="i0116" maxlength="113" aria-required="true" aria-label="Enter your email, phone, or Skype." placeholder="Email, phone, or Skype" autocomplete="username"><input type="submit" id="idSIButton9" value="Next"></form>"#,
    );
    p.script_src("/static/login.js");
    p
}
