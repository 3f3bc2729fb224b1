//! The sign-in pages in the newer ("fluent") layout, and the interrupt pages
//! of both layouts: the skippable "More information required", the
//! Authenticator registration campaign and the Authenticator setup it leads to.
//!
//! Fluent markup (see `docs/microsoft-pages.md` for what it models):
//! - buttons are `<button type="submit">` without ids inside
//!   `div[data-testid=textButtonContainer]`, told apart by `data-testid`
//!   (`primaryButton`, `secondaryButton`) and, on "Stay signed in?", by the
//!   submitter's `name=LoginOptions value=1|3`; No comes before Yes;
//! - inputs keep their names (`loginfmt`, `passwd`, `accesspass`, `otc`) and
//!   get ids generated per render (`:r1f:`, as React's `useId` makes them);
//!   the password box carries `data-testid="i0118"`;
//! - the title is an `h1`, errors a `div[role=alert]`, both with generated ids;
//! - the KMSI check box sits in `div[data-testid=checkboxField]`;
//! - no `#i0116`, `#i0118`, `#idSIButton9`, `#idBtn_Back`, `#KmsiDescription`,
//!   `#ProofUpDescription`; the username page has "Sign-in options" ▸
//!   "Face, fingerprint, PIN or security key" instead of a security-key link.

use serde_json::json;

use crate::html::Page;
use crate::locale::t;
use crate::login::{config_script, hidden};
use crate::util::{esc, json_for_script, random_hex, urlenc};

/// An element id as React's `useId` makes them: new on every render.
pub fn gen_id() -> String {
    format!(":r{}:", random_hex(3))
}

fn title(lang: &str) -> String {
    format!("{} - Microsoft", t(lang, "signin_title"))
}

/// The fluent card: a logo, `inner`, and `after` below the card.
fn card(p: &mut Page, heading_id: &str, inner: &str, after: &str) {
    p.body.push_str(&format!(
        r#"<div class="fl-page"><main class="fl-card" aria-labelledby="{heading_id}"><div class="fl-logo" role="img" aria-label="Microsoft">Microsoft</div>{inner}</main>{after}</div>"#
    ));
    p.script_src("/static/login.js");
}

fn alert(err: Option<&str>) -> String {
    match err {
        Some(e) => format!(
            r#"<div id="{}" role="alert" class="fl-error">{}</div>"#,
            gen_id(),
            esc(e)
        ),
        None => format!(
            r#"<div id="{}" role="alert" class="fl-error" hidden></div>"#,
            gen_id()
        ),
    }
}

fn primary(label: &str) -> String {
    format!(
        r#"<button type="submit" data-testid="primaryButton" class="fl-btn fl-primary">{}</button>"#,
        esc(label)
    )
}

fn strings(p: &mut Page, lang: &str) {
    p.inline_script(&format!(
        "window.$Strings={};",
        json_for_script(&json!({"username_empty": t(lang, "username_empty"), "password_empty": t(lang, "password_empty")}))
    ));
}

pub fn username_page(lang: &str, flow: &str, prefill: &str, err: Option<(u32, &str)>) -> Page {
    let mut p = Page::new(lang, &title(lang));
    config_script(
        &mut p,
        lang,
        "ConvergedSignIn",
        flow,
        err,
        json!({"sView": "username", "fIsFluent": true}),
    );
    let h1 = gen_id();
    let input = gen_id();
    let options = gen_id();
    let options_h = gen_id();
    let fido_url = format!(
        "https://login.microsoft.com/common/fido/get?uiflavor=Web&ctx={}",
        urlenc(flow)
    );
    let inner = format!(
        r#"<form method="post" action="/common/login" novalidate autocomplete="off"><h1 id="{h1}" class="fl-title">{title}</h1>{error}<input type="email" name="loginfmt" id="{input}" maxlength="113" class="fl-input" aria-required="true" aria-label="{aria}" placeholder="{ph}" autocomplete="username" value="{prefill}">{hidden}<input type="hidden" name="ps" value="1"><div class="fl-links"><a href="https://passwordreset.microsoftonline.com/">{cant}</a></div><div data-testid="textButtonContainer" class="fl-buttons">{next}</div></form>"#,
        title = esc(t(lang, "signin_title")),
        error = alert(err.map(|e| e.1)),
        aria = esc(t(lang, "signin_aria")),
        ph = esc(t(lang, "signin_placeholder")),
        prefill = esc(prefill),
        hidden = hidden(flow),
        cant = esc(t(lang, "cant_access")),
        next = primary(t(lang, "next")),
    );
    // "Sign-in options" below the card opens a list in place of the form.
    let after = format!(
        r#"<button type="button" class="fl-tile" aria-expanded="false" aria-controls="{options}">{opts}</button><section id="{options}" class="fl-card" aria-labelledby="{options_h}" hidden><h1 id="{options_h}" class="fl-title">{opts}</h1><div role="list" class="fl-list"><div role="listitem"><a class="fl-option" href="{url}"><span class="fl-option-title">{fido}</span><span class="fl-option-desc">{fido_desc}</span></a></div></div><div data-testid="textButtonContainer" class="fl-buttons"><button type="button" data-testid="secondaryButton" class="fl-btn">{back}</button></div></section>"#,
        opts = esc(t(lang, "signin_options")),
        url = esc(&fido_url),
        fido = esc(t(lang, "signin_options_fido")),
        fido_desc = esc(t(lang, "signin_options_fido_desc")),
        back = esc(t(lang, "back")),
    );
    strings(&mut p, lang);
    card(&mut p, &h1, &inner, &after);
    p
}

/// The credential box of the fluent page: `(name, type, placeholder key, testid)`.
#[allow(clippy::too_many_arguments)]
pub fn credential_page(
    lang: &str,
    flow: &str,
    upn: &str,
    box_: (&str, &str, &'static str, Option<&str>),
    title_key: &'static str,
    ps: &str,
    view: &str,
    err: Option<(u32, &str)>,
) -> Page {
    let (name, ty, ph_key, testid) = box_;
    let mut p = Page::new(lang, &title(lang));
    config_script(
        &mut p,
        lang,
        "ConvergedSignIn",
        flow,
        err,
        json!({"sView": view, "sPOST_Username": upn, "sErrTxt": err.map(|e| e.1).unwrap_or(""), "fIsFluent": true}),
    );
    let h1 = gen_id();
    let testid = testid
        .map(|t| format!(r#" data-testid="{t}""#))
        .unwrap_or_default();
    let forgot = if name == "passwd" {
        format!(
            r#"<div class="fl-links"><a href="https://passwordreset.microsoftonline.com/">{}</a></div>"#,
            esc(t(lang, "forgot_password"))
        )
    } else {
        String::new()
    };
    let inner = format!(
        r#"<div class="fl-identity">{upn}</div><form method="post" action="/common/login" novalidate autocomplete="off"><h1 id="{h1}" class="fl-title">{title}</h1>{error}<input type="{ty}" name="{name}" id="{id}"{testid} class="fl-input" autocomplete="off" aria-required="true" aria-label="{ph}" placeholder="{ph}"><input type="hidden" name="login" value="{upn}"><input type="hidden" name="loginfmt" value="{upn}"><input type="hidden" name="ps" value="{ps}"><input type="hidden" name="type" value="11">{hidden}{forgot}<div data-testid="textButtonContainer" class="fl-buttons">{signin}</div></form>"#,
        upn = esc(upn),
        title = esc(t(lang, title_key)),
        error = alert(err.map(|e| e.1)),
        id = gen_id(),
        ph = esc(t(lang, ph_key)),
        hidden = hidden(flow),
        signin = primary(t(lang, "sign_in_btn")),
    );
    strings(&mut p, lang);
    card(&mut p, &h1, &inner, "");
    p
}

pub fn kmsi_page(lang: &str, flow: &str) -> Page {
    let mut p = Page::new(lang, &title(lang));
    config_script(
        &mut p,
        lang,
        "KmsiInterrupt",
        flow,
        None,
        json!({"urlPost": "/kmsi", "fIsFluent": true}),
    );
    let h1 = gen_id();
    let check = gen_id();
    // No before Yes; the submitter's LoginOptions says which was chosen.
    let inner = format!(
        r#"<form method="post" action="/kmsi"><h1 id="{h1}" class="fl-title">{title}</h1><p class="fl-text">{desc}</p><div data-testid="checkboxField" class="fl-check"><input type="checkbox" name="DontShowAgain" id="{check}" value="true"><label for="{check}">{dont}</label></div><input type="hidden" name="type" value="28">{hidden}<div data-testid="textButtonContainer" class="fl-buttons"><button type="submit" name="LoginOptions" value="3" data-testid="secondaryButton" class="fl-btn">{no}</button><button type="submit" name="LoginOptions" value="1" data-testid="primaryButton" class="fl-btn fl-primary">{yes}</button></div></form>"#,
        title = esc(t(lang, "kmsi_title")),
        desc = esc(t(lang, "kmsi_desc")),
        dont = esc(t(lang, "kmsi_dont_show")),
        hidden = hidden(flow),
        no = esc(t(lang, "no")),
        yes = esc(t(lang, "yes")),
    );
    card(&mut p, &h1, &inner, "");
    p
}

pub fn proofup_page(lang: &str, flow: &str, upn: &str) -> Page {
    let mut p = Page::new(lang, &title(lang));
    config_script(
        &mut p,
        lang,
        "ConvergedProofUpRedirect",
        flow,
        None,
        json!({"urlPost": "/common/proofup", "fIsFluent": true}),
    );
    let h1 = gen_id();
    let inner = format!(
        r#"<div class="fl-identity">{upn}</div><form method="post" action="/common/proofup"><h1 id="{h1}" class="fl-title">{title}</h1><p class="fl-text">{desc}</p>{hidden}<div class="fl-links"><a href="/common/oauth2/v2.0/logout">{other}</a></div><div data-testid="textButtonContainer" class="fl-buttons">{next}</div></form>"#,
        upn = esc(upn),
        title = esc(t(lang, "proofup_title")),
        desc = esc(t(lang, "proofup_desc")),
        hidden = hidden(flow),
        other = esc(t(lang, "use_another")),
        next = primary(t(lang, "next")),
    );
    card(&mut p, &h1, &inner, "");
    p
}

/// Both layouts: a heading, a text, a primary submit to `action` and an
/// optional link (text, href) that is the way past.
#[allow(clippy::too_many_arguments)]
fn interrupt(
    lang: &str,
    flow: &str,
    fluent: bool,
    pgid: &str,
    upn: &str,
    heading: &str,
    body: &str,
    action: &str,
    link: Option<(&str, String)>,
) -> Page {
    let mut p = Page::new(lang, &title(lang));
    config_script(
        &mut p,
        lang,
        pgid,
        flow,
        None,
        json!({"urlPost": action, "fIsFluent": fluent}),
    );
    let link = link
        .map(|(text, href)| {
            format!(
                r#"<div class="{}"><a href="{}">{}</a></div>"#,
                if fluent { "fl-links" } else { "sim-links" },
                esc(&href),
                esc(text)
            )
        })
        .unwrap_or_default();
    if fluent {
        let h1 = gen_id();
        let inner = format!(
            r#"<div class="fl-identity">{upn}</div><form method="post" action="{action}"><h1 id="{h1}" class="fl-title">{heading}</h1>{body}{hidden}{link}<div data-testid="textButtonContainer" class="fl-buttons">{next}</div></form>"#,
            upn = esc(upn),
            action = esc(action),
            heading = esc(heading),
            hidden = hidden(flow),
            next = primary(t(lang, "next")),
        );
        card(&mut p, &h1, &inner, "");
    } else {
        let inner = format!(
            r#"<div class="sim-identity">{upn}</div><form name="f1" method="post" action="{action}"><div role="heading" aria-level="1" class="sim-title">{heading}</div>{body}{hidden}{link}<div class="sim-buttons"><input type="submit" id="idSIButton9" class="sim-btn sim-primary" value="{next}"></div></form>"#,
            upn = esc(upn),
            action = esc(action),
            heading = esc(heading),
            hidden = hidden(flow),
            next = esc(t(lang, "next")),
        );
        p.body.push_str(&format!(
            r#"<div class="sim-bg"><div class="sim-card" id="lightbox"><div class="sim-logo" aria-label="Microsoft">Microsoft</div>{inner}</div></div>"#
        ));
        p.script_src("/static/login.js");
    }
    p
}

fn text(fluent: bool, s: &str) -> String {
    format!(
        r#"<p class="{}">{}</p>"#,
        if fluent { "fl-text" } else { "sim-text" },
        esc(s)
    )
}

/// "More information required" that may be skipped: "Ask later" continues
/// the sign-in, "Next" starts a setup that cannot finish here.
pub fn more_info_page(lang: &str, flow: &str, upn: &str, fluent: bool) -> Page {
    interrupt(
        lang,
        flow,
        fluent,
        "ConvergedProofUpRedirect",
        upn,
        t(lang, "proofup_title"),
        &text(fluent, t(lang, "proofup_desc")),
        "/common/proofup/setup",
        Some((
            t(lang, "moreinfo_skip"),
            format!("/common/proofup/skip?ctx={}", urlenc(flow)),
        )),
    )
}

/// The registration campaign for Microsoft Authenticator, after "Stay
/// signed in?": "Next" sets up Authenticator, "Skip for now" continues.
pub fn campaign_page(lang: &str, flow: &str, upn: &str, fluent: bool) -> Page {
    let body = format!(
        "{}{}",
        text(fluent, t(lang, "campaign_desc")),
        format_args!(
            r#"<div class="{}" role="group" aria-label="{app}"><span class="app-icon" aria-hidden="true"></span><span>{app}</span></div>"#,
            if fluent { "fl-app" } else { "sim-app" },
            app = esc(t(lang, "m_authenticator"))
        )
    );
    interrupt(
        lang,
        flow,
        fluent,
        "AuthenticatorRegistrationCampaign",
        upn,
        t(lang, "campaign_title"),
        &body,
        "/common/campaign/accept",
        Some((
            t(lang, "campaign_skip"),
            format!("/common/campaign/skip?ctx={}", urlenc(flow)),
        )),
    )
}

/// Authenticator setup: "Next" only says the app was not detected. There
/// is no way on from here (the simulator has no phone).
pub fn authenticator_page(lang: &str, flow: &str, upn: &str, fluent: bool, tried: bool) -> Page {
    let mut body = text(fluent, t(lang, "auth_setup_desc"));
    if tried {
        body.push_str(&format!(
            r#"<div role="alert" class="{}">{}</div>"#,
            if fluent { "fl-error" } else { "sim-error" },
            esc(t(lang, "auth_setup_waiting"))
        ));
    }
    interrupt(
        lang,
        flow,
        fluent,
        "AuthenticatorSetup",
        upn,
        t(lang, "auth_setup_title"),
        &body,
        "/common/authenticator/setup",
        None,
    )
}
