//! "Ask Microsoft for English pages": the first line of defence against the
//! page language, for automatic jobs only (a manual job is the
//! administrator's own session and keeps their language). The locale
//! tables of the engine stay the second line, for tenants and pages that
//! ignore the hint.
//!
//! Two `declarativeNetRequest` session rules, scoped to the job's tab
//! (`condition.tabIds`), so nothing outside the job changes:
//!
//! 1. every request of the tab to Microsoft's sign-in and Security info
//!    hosts gets `Accept-Language: en-US,en;q=0.9`;
//! 2. a top-level GET of the sign-in request
//!    (`login.microsoftonline.com/{tenant}/oauth2[/v2.0]/authorize`) is
//!    redirected to the same URL with `ui_locales=en-US` and `mkt=en-US`
//!    added or replaced. Chrome does not redirect when the transform leaves
//!    the URL as it was, so the redirected request does not loop; a POST
//!    (a form post to the same path) is never touched.
//!
//! A rule that cannot be added is a warning, never a failed job.

use chrome_api::dnr;
use serde_json::{Value, json};

/// The ids of our rules. One job runs at a time, so fixed ids suffice;
/// adding them for a new tab replaces the old ones in the same call.
const HEADER_RULE_ID: i32 = 1001;
const REDIRECT_RULE_ID: i32 = 1002;
const RULE_IDS: [i32; 2] = [HEADER_RULE_ID, REDIRECT_RULE_ID];

const ACCEPT_LANGUAGE: &str = "en-US,en;q=0.9";
const LOCALE: &str = "en-US";

/// The hosts whose pages follow the requested language.
const HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.microsoft.com",
    "mysignins.microsoft.com",
    "account.activedirectory.windowsazure.com",
];

/// Without `resourceTypes` a rule matches everything but `main_frame`: the
/// pages themselves must be listed.
const RESOURCE_TYPES: [&str; 9] = [
    "main_frame",
    "sub_frame",
    "xmlhttprequest",
    "script",
    "stylesheet",
    "image",
    "font",
    "media",
    "other",
];

/// The sign-in request, for any tenant (`common`, `organizations`, a GUID or
/// a domain), v1 and v2 endpoints.
const AUTHORIZE_REGEX: &str =
    r"^https://login\.microsoftonline\.com/[^/?#]+/oauth2/(v2\.0/)?authorize([?#]|$)";

fn rules(tab_id: i32) -> [Value; 2] {
    [
        json!({
            "id": HEADER_RULE_ID,
            "priority": 1,
            "action": {
                "type": "modifyHeaders",
                "requestHeaders": [
                    {"header": "accept-language", "operation": "set", "value": ACCEPT_LANGUAGE}
                ]
            },
            "condition": {
                "tabIds": [tab_id],
                "requestDomains": HOSTS,
                "resourceTypes": RESOURCE_TYPES
            }
        }),
        json!({
            "id": REDIRECT_RULE_ID,
            "priority": 1,
            "action": {
                "type": "redirect",
                "redirect": {
                    "transform": {
                        "queryTransform": {
                            "addOrReplaceParams": [
                                {"key": "ui_locales", "value": LOCALE},
                                {"key": "mkt", "value": LOCALE}
                            ]
                        }
                    }
                }
            },
            "condition": {
                "tabIds": [tab_id],
                "requestDomains": ["login.microsoftonline.com"],
                "regexFilter": AUTHORIZE_REGEX,
                "resourceTypes": ["main_frame"],
                "requestMethods": ["get"]
            }
        }),
    ]
}

/// Adds the rules for the job's tab (replacing any earlier job's). Logs and
/// carries on when the browser refuses them.
pub async fn ask_for(tab_id: i32) {
    if let Err(e) = dnr::update_session_rules(&RULE_IDS, &rules(tab_id)).await {
        crate::console_warn(&format!(
            "could not ask Microsoft for English pages (the locale tables will do): {e}"
        ));
    }
}

/// Removes our rules that act on `tab_id` (a job that ends). Rules of
/// another tab stay: a queued request cancelled while a job runs ends
/// through the same path.
pub async fn stop_for(tab_id: i32) {
    remove_where(|tabs| tabs.contains(&tab_id)).await;
}

/// On worker start: removes our rules whose tabs are all gone (a browser
/// that stopped the worker in the middle of ending a job). A running job's
/// tab still exists, so its rules stay.
pub async fn remove_stale() {
    let rules = match dnr::session_rules().await {
        Ok(r) => r,
        Err(e) => {
            crate::console_warn(&format!("could not read the session rules: {e}"));
            return;
        }
    };
    let mut stale = Vec::new();
    for r in rules.iter().filter(|r| RULE_IDS.contains(&r.id)) {
        let mut alive = false;
        for t in &r.condition.tab_ids {
            alive |= chrome_api::tabs::get(*t).await.is_ok();
        }
        if !alive {
            stale.push(r.id);
        }
    }
    remove_ids(&stale).await;
}

async fn remove_where(pick: impl Fn(&[i32]) -> bool) {
    let ids: Vec<i32> = match dnr::session_rules().await {
        Ok(rules) => rules
            .iter()
            .filter(|r| RULE_IDS.contains(&r.id) && pick(&r.condition.tab_ids))
            .map(|r| r.id)
            .collect(),
        Err(e) => {
            crate::console_warn(&format!("could not read the session rules: {e}"));
            return;
        }
    };
    remove_ids(&ids).await;
}

async fn remove_ids(ids: &[i32]) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = dnr::update_session_rules::<Value>(ids, &[]).await {
        crate::console_warn(&format!("could not remove the English-page rules: {e}"));
    }
}
