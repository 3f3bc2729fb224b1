//! Page recognition: from a snapshot to the [`Page`] it shows.
//!
//! Each page kind is recognised by a signature of independent cues, the
//! way a person or a screen reader tells pages apart: input names and
//! types, roles and accessible names, `data-testid`, ids where Microsoft
//! has them, the URL and `$Config.pgid`, and phrases from the locale table
//! ([`crate::locale`]). No single id or class is required: the classic and
//! the newer Fluent sign-in layouts, ARIA-only dialog controls and every
//! language are the same program. [`recognise_with_cues`] says which cues
//! decided, for the log. A page that matches nothing is [`Page::Unknown`],
//! never a guess.

use crate::locale::{self, Phrase};
use crate::view::{
    View, is_actionable, is_backing_out, is_button, is_error_text, is_heading, is_primary,
    is_secondary, is_text_box,
};
use protocol::actuator::Element;

/// Handle of an element in the snapshot.
pub type Handle = u32;

/// What the snapshot shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// A document with nothing to act on yet (half-rendered, or a redirect).
    Loading,
    /// Sign-in: the username box. `error` is the inline error, if shown;
    /// `fido` the "Sign in with a security key" link, if offered; `options`
    /// the newer layout's "Sign-in options" button (behind which the
    /// security-key route is).
    Username {
        input: Handle,
        submit: Handle,
        error: Option<String>,
        fido: Option<Handle>,
        options: Option<Handle>,
    },
    /// Sign-in: the Temporary Access Pass box (`accesspass`).
    AccessPass {
        input: Handle,
        submit: Handle,
        error: Option<String>,
    },
    /// Sign-in: the password box (`passwd`): a tenant that takes the TAP
    /// there, or a TAP that has not propagated yet.
    Password {
        input: Handle,
        submit: Handle,
        error: Option<String>,
    },
    /// Sign-in: the one-time code box (`otc`), another place a TAP may go.
    OneTimeCode {
        input: Handle,
        submit: Handle,
        error: Option<String>,
    },
    /// "Sign-in options": ways to sign in, one of them with a security key.
    SignInOptions { fido: Handle },
    /// "Stay signed in?"
    StaySignedIn { yes: Handle, no: Handle },
    /// An interrupt that can be skipped ("More information required" with
    /// "Ask later", a registration campaign with "Skip for now"). `skip`
    /// is the way past; the page's own "Next" is never pressed.
    Interrupt { skip: Handle, what: String },
    /// "Your organization needs more information", with no way past.
    ProofUp,
    /// A whole-page sign-in error (`AADSTS...`).
    SignInErrorPage { text: String },
    /// Security info with its "Add sign-in method" button; `listed` holds the
    /// visible texts of the method list (to find a key by name).
    SecurityInfo {
        add: Option<Handle>,
        banner: Option<String>,
        listed: Vec<String>,
    },
    /// The "Add a method" dialog with its choice of methods.
    MethodPicker {
        /// The dropdown, when the choice is one (it may be a plain list).
        combobox: Option<Handle>,
        /// The option to choose ("Security key", else the generic passkey
        /// option), when the list shows it.
        option: Option<Handle>,
        /// Whether that option is shown as chosen.
        chosen: bool,
        add: Option<Handle>,
    },
    /// The security-key wizard asks USB or NFC.
    KeyKind { usb: Handle },
    /// A wizard step with only its primary action to press ("have your key
    /// ready", the passkey flow's "sign in with multifactor authentication").
    KeyReady { next: Handle },
    /// `login.microsoft.com/.../fido/create`: the WebAuthn ceremony.
    FidoCreate { error: Option<String> },
    /// `login.microsoft.com/.../fido/get`: signing in with a security key.
    FidoGet { error: Option<String> },
    /// The name field after registration. `next` may be disabled until the
    /// field is filled (Fluent UI); the actuator waits for it to enable.
    NameKey { input: Handle, next: Handle },
    /// "You're all set" with Done.
    AllSet { done: Handle },
    /// An error in the wizard that offers "Try again" (a transient failure
    /// of Microsoft's API).
    Retryable { text: String, retry: Handle },
    /// An error banner or dialog on Security info.
    SecurityInfoError { text: String },
    /// Something the recogniser does not know.
    Unknown,
}

impl Page {
    /// A short name for logs and step timelines.
    pub fn kind(&self) -> &'static str {
        match self {
            Page::Loading => "loading",
            Page::Username { .. } => "username",
            Page::AccessPass { .. } => "accessPass",
            Page::Password { .. } => "password",
            Page::OneTimeCode { .. } => "oneTimeCode",
            Page::SignInOptions { .. } => "signInOptions",
            Page::StaySignedIn { .. } => "staySignedIn",
            Page::Interrupt { .. } => "interrupt",
            Page::ProofUp => "proofUp",
            Page::SignInErrorPage { .. } => "signInErrorPage",
            Page::SecurityInfo { .. } => "securityInfo",
            Page::MethodPicker { .. } => "methodPicker",
            Page::KeyKind { .. } => "keyKind",
            Page::KeyReady { .. } => "keyReady",
            Page::FidoCreate { .. } => "fidoCreate",
            Page::FidoGet { .. } => "fidoGet",
            Page::NameKey { .. } => "nameKey",
            Page::AllSet { .. } => "allSet",
            Page::Retryable { .. } => "retryable",
            Page::SecurityInfoError { .. } => "securityInfoError",
            Page::Unknown => "unknown",
        }
    }
}

/// A recognised page and the cues that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognition {
    pub page: Page,
    pub cues: Vec<&'static str>,
}

pub const LOGIN_HOSTS: &[&str] = &["login.microsoftonline.com", "login.live.com"];
pub const FIDO_HOST: &str = "login.microsoft.com";
pub const SECURITY_INFO_HOSTS: &[&str] = &[
    "mysignins.microsoft.com",
    "account.activedirectory.windowsazure.com",
];

/// Recognises the page a snapshot shows.
pub fn recognise(v: &View<'_>) -> Page {
    recognise_with_cues(v).page
}

/// Recognises the page and says which cues matched.
pub fn recognise_with_cues(v: &View<'_>) -> Recognition {
    let mut cues = Cues::default();
    let page = recognise_inner(v, &mut cues);
    Recognition { page, cues: cues.0 }
}

/// The cues seen so far, for the decision's log line.
#[derive(Default)]
struct Cues(Vec<&'static str>);

impl Cues {
    fn add(&mut self, cue: &'static str) {
        if !self.0.contains(&cue) {
            self.0.push(cue);
        }
    }
    /// Adds each cue that holds; returns how many did.
    fn count(&mut self, checks: &[(&'static str, bool)]) -> usize {
        let mut n = 0;
        for &(cue, holds) in checks {
            if holds {
                self.add(cue);
                n += 1;
            }
        }
        n
    }
}

fn recognise_inner(v: &View<'_>, cues: &mut Cues) -> Page {
    let host = v.host();
    if LOGIN_HOSTS.contains(&host) {
        cues.add("host:login");
        return sign_in(v, cues);
    }
    if host == FIDO_HOST {
        let path = v.path().to_ascii_lowercase();
        let error = inline_error(v);
        if path.ends_with("/fido/create") {
            cues.add("path:fido/create");
            return Page::FidoCreate { error };
        }
        if path.ends_with("/fido/get") {
            cues.add("path:fido/get");
            return Page::FidoGet { error };
        }
        cues.add("host:login.microsoft.com");
        return sign_in(v, cues);
    }
    if SECURITY_INFO_HOSTS.contains(&host) {
        cues.add("host:mysignins");
        return security_info(v, cues);
    }
    Page::Unknown
}

fn inline_error(v: &View<'_>) -> Option<String> {
    v.alerts().next().map(|e| e.text.clone())
}

fn named(el: &Element, phrase: Phrase) -> bool {
    locale::is(el.name_text(), phrase) || locale::is(&el.text, phrase)
}

fn naming(el: &Element, phrase: Phrase) -> bool {
    locale::contains(el.name_text(), phrase) || locale::contains(&el.text, phrase)
}

// --- sign-in -------------------------------------------------------------

/// The boxes of the sign-in pages, by the `name` Microsoft keeps in every
/// layout (ids change; names are what the form posts).
#[derive(Clone, Copy, PartialEq, Eq)]
enum BoxKind {
    AccessPass,
    Password,
    OneTimeCode,
    Username,
}

fn credential_box<'a>(v: &View<'a>, cues: &mut Cues) -> Option<(BoxKind, &'a Element)> {
    let by_name = [
        ("accesspass", BoxKind::AccessPass),
        ("passwd", BoxKind::Password),
        ("otc", BoxKind::OneTimeCode),
        ("loginfmt", BoxKind::Username),
    ];
    for (name, kind) in by_name {
        if let Some(input) = v.input(name).filter(|e| is_text_box(e)) {
            cues.add(match kind {
                BoxKind::AccessPass => "input:accesspass",
                BoxKind::Password => "input:passwd",
                BoxKind::OneTimeCode => "input:otc",
                BoxKind::Username => "input:loginfmt",
            });
            return Some((kind, input));
        }
    }
    // The newer layout moved the classic ids to testids (public Playwright
    // code for Microsoft's sign-in: `getByTestId('i0116')`, `'i0118'`).
    for (testid, kind, cue) in [
        ("i0116", BoxKind::Username, "testid:i0116"),
        ("i0118", BoxKind::Password, "testid:i0118"),
    ] {
        if let Some(input) = v.by_testid(testid).filter(|e| is_text_box(e)) {
            cues.add(cue);
            return Some((kind, input));
        }
    }
    // No name Microsoft uses: the type and the accessible name still tell.
    for input in v.text_boxes() {
        let ty = input.input_type.as_deref().unwrap_or("");
        if ty == "email" {
            cues.add("input:type=email");
            return Some((BoxKind::Username, input));
        }
        if ty == "password" {
            cues.add("input:type=password");
            let kind = if naming(input, locale::TEMPORARY_ACCESS_PASS) {
                BoxKind::AccessPass
            } else {
                BoxKind::Password
            };
            return Some((kind, input));
        }
    }
    None
}

/// The button that submits `input`: its form's submit control (the primary
/// one where several), else the classic `#idSIButton9`, the newer
/// `primaryButton` testid, a "Next" / "Sign in" button, or the only primary
/// button on the page.
fn submit_for(v: &View<'_>, input: &Element, cues: &mut Cues) -> Option<Handle> {
    let buttons: Vec<&Element> = v.visible().filter(|e| is_button(e)).collect();
    if let Some(form) = input.form {
        let in_form: Vec<&&Element> = buttons
            .iter()
            .filter(|b| b.form == Some(form) && b.submit && !is_secondary(b))
            .collect();
        if let Some(b) = in_form.iter().find(|b| is_primary(b)).or(in_form.first()) {
            cues.add("submit:form");
            return Some(b.handle);
        }
    }
    if let Some(b) = v.by_id("idSIButton9") {
        cues.add("id:idSIButton9");
        return Some(b.handle);
    }
    if let Some(b) = v.by_testid("primaryButton") {
        cues.add("testid:primaryButton");
        return Some(b.handle);
    }
    if let Some(b) = buttons
        .iter()
        .find(|b| named(b, locale::NEXT) || named(b, locale::SIGN_IN))
    {
        cues.add("button:next/signIn");
        return Some(b.handle);
    }
    let primaries: Vec<&&Element> = buttons.iter().filter(|b| is_primary(b)).collect();
    if let [only] = primaries.as_slice() {
        cues.add("button:primary");
        return Some(only.handle);
    }
    None
}

fn sign_in(v: &View<'_>, cues: &mut Cues) -> Page {
    let pgid = v.pgid();
    if !pgid.is_empty() {
        cues.add("pgid");
    }
    let boxed = credential_box(v, cues);

    if let Some(page) = sign_in_error_page(v, pgid, boxed.is_some(), cues) {
        return page;
    }
    // Interrupts before the boxes: their pages may carry a submit button.
    if boxed.is_none()
        && let Some(page) = interrupt(v, pgid, cues)
    {
        return page;
    }
    if let Some(page) = stay_signed_in(v, pgid, boxed.is_some(), cues) {
        return page;
    }
    if let Some((kind, input)) = boxed
        && let Some(submit) = submit_for(v, input, cues)
    {
        let error = inline_error(v);
        return match kind {
            BoxKind::AccessPass => Page::AccessPass {
                input: input.handle,
                submit,
                error,
            },
            BoxKind::Password => Page::Password {
                input: input.handle,
                submit,
                error,
            },
            BoxKind::OneTimeCode => Page::OneTimeCode {
                input: input.handle,
                submit,
                error,
            },
            BoxKind::Username => Page::Username {
                input: input.handle,
                submit,
                error,
                fido: security_key_route(v, cues),
                options: v
                    .action_containing(locale::SIGN_IN_OPTIONS)
                    .map(|e| e.handle),
            },
        };
    }
    if boxed.is_none()
        && let Some(fido) = security_key_route(v, cues)
    {
        return Page::SignInOptions { fido };
    }
    if v.visible().any(|e| is_button(e) || e.tag == "input") {
        return Page::Unknown;
    }
    Page::Loading
}

/// "Sign in with a security key" (classic), or the "Face, fingerprint, PIN
/// or security key" choice behind "Sign-in options" (newer layout).
fn security_key_route(v: &View<'_>, cues: &mut Cues) -> Option<Handle> {
    if let Some(e) = v.by_id("idA_PWD_SwitchToFido") {
        cues.add("id:idA_PWD_SwitchToFido");
        return Some(e.handle);
    }
    let found = v
        .action_containing(locale::SIGN_IN_WITH_KEY)
        .or_else(|| v.action_containing(locale::FACE_FINGERPRINT_KEY))?;
    cues.add("phrase:signInWithKey");
    Some(found.handle)
}

fn sign_in_error_page(v: &View<'_>, pgid: &str, boxed: bool, cues: &mut Cues) -> Option<Page> {
    let by_id = v.by_id("errorMessage");
    let aadsts = v
        .visible()
        .filter(|e| !e.text.is_empty())
        .find(|e| e.text.contains("AADSTS"));
    let strong = cues.count(&[
        ("id:errorMessage", by_id.is_some()),
        ("pgid:ConvergedError", pgid == "ConvergedError"),
    ]);
    // A page with a box to fill shows its error inline, not as a page.
    let weak = !boxed && aadsts.is_some();
    if strong == 0 && !weak {
        return None;
    }
    if weak {
        cues.add("text:AADSTS");
    }
    let text = by_id
        .or(aadsts)
        .map(|e| e.text.clone())
        .or_else(|| {
            v.snap
                .config
                .as_ref()
                .and_then(|c| c.service_exception.clone())
        })
        .unwrap_or_default();
    Some(Page::SignInErrorPage { text })
}

/// A way past an interrupt: "Skip for now", "Ask later", "Skip setup".
fn skip_action<'a>(v: &View<'a>) -> Option<&'a Element> {
    // Ids the classic interrupts give their way past (public automation
    // code for Microsoft's sign-in clicks `input#btnAskLater`; `iShowSkip`
    // on "Let's keep your account secure").
    if let Some(e) = v.by_id("btnAskLater").or_else(|| v.by_id("iShowSkip")) {
        return Some(e);
    }
    v.actionables().find(|e| {
        !is_primary(e)
            && (naming(e, locale::SKIP_FOR_NOW)
                || naming(e, locale::ASK_LATER)
                || naming(e, locale::SKIP_SETUP))
    })
}

fn interrupt(v: &View<'_>, pgid: &str, cues: &mut Cues) -> Option<Page> {
    let proof_up = cues.count(&[
        (
            "id:ProofUpDescription",
            v.by_id("ProofUpDescription").is_some(),
        ),
        ("pgid:ProofUp", pgid.contains("ProofUp")),
        (
            "heading:moreInfoRequired",
            v.heading_says(locale::MORE_INFO_REQUIRED),
        ),
        (
            "heading:protectAccount",
            v.heading_says(locale::PROTECT_ACCOUNT),
        ),
    ]);
    if let Some(skip) = skip_action(v) {
        cues.add("action:skip");
        let what = v
            .headings()
            .first()
            .map(|h| h.to_string())
            .unwrap_or_else(|| v.snap.title.clone());
        return Some(Page::Interrupt {
            skip: skip.handle,
            what,
        });
    }
    (proof_up > 0).then_some(Page::ProofUp)
}

fn stay_signed_in(v: &View<'_>, pgid: &str, boxed: bool, cues: &mut Cues) -> Option<Page> {
    if boxed {
        return None;
    }
    let buttons: Vec<&Element> = v.visible().filter(|e| is_button(e)).collect();
    let yes_named = buttons.iter().find(|b| named(b, locale::YES));
    let no_named = buttons.iter().find(|b| named(b, locale::NO));
    let strong = cues.count(&[
        ("pgid:KmsiInterrupt", pgid == "KmsiInterrupt"),
        ("id:KmsiDescription", v.by_id("KmsiDescription").is_some()),
        (
            "checkbox:DontShowAgain",
            v.by_id("KmsiCheckboxField").is_some()
                || v.by_name("DontShowAgain").is_some()
                || v.by_testid("checkboxField").is_some(),
        ),
        (
            "heading:staySignedIn",
            v.heading_says(locale::STAY_SIGNED_IN),
        ),
        // The newer layout's "Stay signed in?" (public Playwright code
        // declines with `#declineButton`; `#acceptButton` is Yes).
        (
            "id:acceptButton/declineButton",
            v.by_id("acceptButton").is_some() && v.by_id("declineButton").is_some(),
        ),
    ]);
    let named_pair = yes_named.is_some() && no_named.is_some();
    if strong == 0 && !named_pair {
        return None;
    }
    // Which button is which: its words first (button order means nothing),
    // then the marks each layout gives them.
    let yes = yes_named
        .copied()
        .or_else(|| v.by_id("acceptButton"))
        .or_else(|| buttons.iter().find(|b| is_primary(b)).copied())?;
    let no = no_named
        .copied()
        .or_else(|| v.by_id("declineButton"))
        .or_else(|| {
            buttons
                .iter()
                .find(|b| b.handle != yes.handle && is_secondary(b))
                .copied()
        })
        .or_else(|| {
            let others: Vec<&&Element> =
                buttons.iter().filter(|b| b.handle != yes.handle).collect();
            match others.as_slice() {
                [only] => Some(**only),
                _ => None,
            }
        })?;
    if yes.handle == no.handle {
        return None;
    }
    cues.add(if named_pair {
        "buttons:yes/no"
    } else {
        "buttons:primary/secondary"
    });
    Some(Page::StaySignedIn {
        yes: yes.handle,
        no: no.handle,
    })
}

// --- Security info -------------------------------------------------------

fn security_info(v: &View<'_>, cues: &mut Cues) -> Page {
    if v.path().to_ascii_lowercase().contains("newfido") {
        // The post-back page redirects by script; nothing to do there.
        return Page::Loading;
    }
    // The top-most dialog (last in document order) is the one in front.
    if let Some(dialog) = v.dialogs().last()
        && let Some(page) = dialog_page(v, dialog, cues)
    {
        return page;
    }
    let banner = banner(v);
    if let Some(text) = &banner
        && (locale::contains(text, locale::KEY_LIMIT)
            || locale::contains(text, locale::TWO_FACTOR)
            || locale::contains(text, locale::POLICY_DISALLOWS)
            || locale::contains(text, locale::KEY_REQUIREMENTS))
    {
        cues.add("banner:error");
        return Page::SecurityInfoError { text: text.clone() };
    }
    // An interrupt on My Sign-Ins (a registration nudge) is skipped too.
    if v.dialogs().is_empty()
        && v.text_boxes().next().is_none()
        && (v.heading_says(locale::PROTECT_ACCOUNT) || v.heading_says(locale::MORE_INFO_REQUIRED))
        && let Some(skip) = skip_action(v)
    {
        cues.add("action:skip");
        return Page::Interrupt {
            skip: skip.handle,
            what: v
                .headings()
                .first()
                .map(|h| h.to_string())
                .unwrap_or_default(),
        };
    }
    let add = add_method_button(v, cues);
    let list = methods_list_rendered(v);
    let titled = v.heading_says(locale::SECURITY_INFO);
    cues.count(&[("heading:securityInfo", titled), ("list:methods", list)]);
    if add.is_some() || banner.is_some() || (titled && list) {
        let listed = v
            .visible()
            .filter(|e| matches!(e.role.as_deref(), Some("listitem" | "row")))
            .map(|e| e.text.clone())
            .collect();
        return Page::SecurityInfo {
            add,
            banner,
            listed,
        };
    }
    if v.visible().any(is_button) {
        return Page::Unknown;
    }
    Page::Loading
}

/// Security info's banner (`#ms-banner`, a Fluent message bar, or an alert
/// outside any dialog).
fn banner(v: &View<'_>) -> Option<String> {
    v.visible()
        .filter(|e| e.dialog.is_none() && !e.text.is_empty())
        .find(|e| {
            e.id.as_deref() == Some("ms-banner")
                || e.class.contains("MessageBar")
                || e.role.as_deref() == Some("alert")
        })
        .map(|e| e.text.clone())
}

fn add_method_button(v: &View<'_>, cues: &mut Cues) -> Option<Handle> {
    let buttons = || {
        v.visible()
            .filter(|e| is_actionable(e) && e.dialog.is_none())
    };
    if let Some(b) = buttons().find(|e| e.name.as_deref() == Some("Add method")) {
        cues.add("name:Add method");
        return Some(b.handle);
    }
    let b = buttons().find(|e| naming(e, locale::ADD_METHOD))?;
    cues.add("phrase:addMethod");
    Some(b.handle)
}

/// Whether Security info's list of methods has rendered: an entry shows,
/// or the list itself shows text (its "no methods" line). Before the page's
/// API call returns, the list is there but empty, and a missing key proves
/// nothing.
pub fn methods_list_rendered(v: &View<'_>) -> bool {
    v.visible().any(|e| {
        matches!(e.role.as_deref(), Some("listitem" | "row"))
            || (matches!(e.role.as_deref(), Some("list" | "grid" | "table"))
                && !e.text.trim().is_empty())
    })
}

/// The option to choose among the methods a list offers: "Security key"
/// where it is offered, else the generic passkey option; never "Passkey in
/// Microsoft Authenticator".
fn method_option<'a>(options: &[&'a Element]) -> Option<&'a Element> {
    let authenticator = |e: &Element| {
        naming(e, locale::AUTHENTICATOR_PASSKEY) || naming(e, locale::MICROSOFT_AUTHENTICATOR)
    };
    options
        .iter()
        .find(|e| {
            (named(e, locale::SECURITY_KEY) || naming(e, locale::SECURITY_KEY)) && !authenticator(e)
        })
        .or_else(|| {
            options
                .iter()
                .find(|e| naming(e, locale::PASSKEY_OPTION) && !authenticator(e))
        })
        .copied()
}

/// Whether a text names the method we want (as a combobox shows its value).
fn names_method(text: &str) -> bool {
    (locale::contains(text, locale::SECURITY_KEY) || locale::contains(text, locale::PASSKEY_OPTION))
        && !locale::contains(text, locale::AUTHENTICATOR_PASSKEY)
        && !locale::contains(text, locale::MICROSOFT_AUTHENTICATOR)
}

/// The dialog's primary action: marked primary (class, testid), else named
/// Next / Add / Done; never one that backs out.
fn dialog_primary<'a>(inside: &[&'a Element]) -> Option<&'a Element> {
    let buttons = || inside.iter().filter(|e| is_button(e) && !is_backing_out(e));
    buttons()
        .find(|e| is_primary(e))
        .or_else(|| {
            buttons()
                .find(|e| named(e, locale::NEXT) || named(e, locale::ADD) || named(e, locale::DONE))
        })
        .copied()
}

fn dialog_page(v: &View<'_>, dialog: &Element, cues: &mut Cues) -> Option<Page> {
    let inside: Vec<&Element> = v.in_dialog(dialog.handle).collect();
    let retry = inside
        .iter()
        .find(|e| is_button(e) && named(e, locale::TRY_AGAIN));
    // Errors shown inside the dialog.
    let alert = inside.iter().find(|e| is_error_text(e));
    if let Some(retry) = retry {
        cues.add("button:tryAgain");
        let text = alert
            .map(|a| a.text.clone())
            .or_else(|| {
                inside
                    .iter()
                    .find(|e| is_heading(e) && !e.text.is_empty())
                    .map(|h| h.text.clone())
            })
            .unwrap_or_default();
        return Some(Page::Retryable {
            text,
            retry: retry.handle,
        });
    }
    if let Some(alert) = alert {
        cues.add("dialog:alert");
        return Some(Page::SecurityInfoError {
            text: alert.text.clone(),
        });
    }
    let primary = dialog_primary(&inside);

    // The choice of method: a dropdown whose list may render outside the
    // dialog (a Fluent UI layer), or options listed in the dialog itself.
    let combobox = inside
        .iter()
        .find(|e| e.role.as_deref() == Some("combobox"))
        .copied();
    // Options of a list, or a dialog's own method tiles (buttons named for
    // a method).
    let options: Vec<&Element> = v
        .visible()
        .filter(|e| {
            matches!(
                e.role.as_deref(),
                Some("option" | "radio" | "menuitemradio" | "menuitem")
            ) || (e.dialog == Some(dialog.handle) && is_button(e) && names_method(e.name_text()))
        })
        .collect();
    let option = method_option(&options);
    if combobox.is_some()
        || (option.is_some() && option.is_some_and(|o| o.dialog == Some(dialog.handle)))
    {
        cues.add(if combobox.is_some() {
            "combobox"
        } else {
            "options"
        });
        let chosen = combobox.is_some_and(|c| names_method(&c.text))
            || option.is_some_and(|o| {
                o.checked == Some(true) && combobox.is_none_or(|c| c.expanded != Some(true))
            });
        let add = inside
            .iter()
            .find(|e| is_button(e) && named(e, locale::ADD))
            .copied()
            .or(primary)
            .map(|e| e.handle);
        return Some(Page::MethodPicker {
            combobox: combobox.map(|c| c.handle),
            option: option.map(|o| o.handle),
            chosen,
            add,
        });
    }
    if let Some(input) = inside.iter().find(|e| is_text_box(e)) {
        cues.add("dialog:textbox");
        let next = primary.or_else(|| {
            // A dialog whose only other button is Cancel still has a way on.
            inside
                .iter()
                .find(|e| is_button(e) && !is_backing_out(e))
                .copied()
        })?;
        return Some(Page::NameKey {
            input: input.handle,
            next: next.handle,
        });
    }
    if let Some(usb) = inside.iter().find(|e| {
        is_actionable(e)
            && (e.name.as_deref() == Some("USB device") || naming(e, locale::USB_DEVICE))
    }) {
        cues.add("action:usbDevice");
        return Some(Page::KeyKind { usb: usb.handle });
    }
    if let Some(done) = inside
        .iter()
        .find(|e| is_button(e) && named(e, locale::DONE))
    {
        cues.add("button:done");
        return Some(Page::AllSet { done: done.handle });
    }
    if let Some(next) = primary {
        cues.add("dialog:primary");
        return Some(Page::KeyReady { next: next.handle });
    }
    None
}
