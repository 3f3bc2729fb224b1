//! mysignins.microsoft.com: the Security info app and its API.

use std::sync::Arc;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

use crate::state::SimState;

pub fn router() -> Router<Arc<SimState>> {
    Router::new().route("/security-info", get(security_info))
}

pub fn aad_router() -> Router<Arc<SimState>> {
    Router::new()
}

async fn security_info() -> Redirect {
    Redirect::to(
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=19db86c3-b2b9-44cc-b339-36da233a3be2&redirect_uri=https%3A%2F%2Fmysignins.microsoft.com%2F&response_type=code&response_mode=form_post&scope=openid+profile",
    )
}
