//! Page recognition: from a snapshot to the [`Page`] it shows.
//!
//! Order of evidence, most stable first: the URL's host and path, element ids
//! and names, input types, roles and aria attributes, then `$Config.pgid`, and
//! localised text ([`crate::locale`]) only where nothing else exists. A page
//! that matches nothing is [`Page::Unknown`], never a guess.

use crate::locale;
use crate::view::{View, is_button, is_primary};

/// Handle of an element in the snapshot.
pub type Handle = u32;

/// What the snapshot shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// A document with nothing to act on yet (half-rendered, or a redirect).
    Loading,
    /// Sign-in: the username box. `error` is the inline error, if shown;
    /// `fido` the "Sign in with a security key" link, if offered.
    Username {
        input: Handle,
        submit: Handle,
        error: Option<String>,
        fido: Option<Handle>,
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
    /// "Stay signed in?"
    StaySignedIn { yes: Handle, no: Handle },
    /// "Your organization needs more information".
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
    /// The "Add a method" dialog with the method combobox.
    MethodPicker {
        combobox: Handle,
        /// The "Security key" option, when the list is open.
        option: Option<Handle>,
        /// Whether the combobox shows "Security key" as chosen.
        chosen: bool,
        add: Option<Handle>,
    },
    /// The security-key wizard asks USB or NFC.
    KeyKind { usb: Handle },
    /// The wizard's "have your key ready" step with its primary Next.
    KeyReady { next: Handle },
    /// `login.microsoft.com/.../fido/create`: the WebAuthn ceremony.
    FidoCreate { error: Option<String> },
    /// `login.microsoft.com/.../fido/get`: signing in with a security key.
    FidoGet { error: Option<String> },
    /// The name field after registration.
    NameKey { input: Handle, next: Handle },
    /// "You're all set" with Done.
    AllSet { done: Handle },
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
            Page::StaySignedIn { .. } => "staySignedIn",
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
            Page::SecurityInfoError { .. } => "securityInfoError",
            Page::Unknown => "unknown",
        }
    }
}

pub const LOGIN_HOSTS: &[&str] = &["login.microsoftonline.com", "login.live.com"];
pub const FIDO_HOST: &str = "login.microsoft.com";
pub const SECURITY_INFO_HOSTS: &[&str] = &[
    "mysignins.microsoft.com",
    "account.activedirectory.windowsazure.com",
];

/// Recognises the page a snapshot shows.
pub fn recognise(v: &View<'_>) -> Page {
    let host = v.host();
    if LOGIN_HOSTS.contains(&host) {
        return sign_in(v);
    }
    if host == FIDO_HOST {
        let path = v.path().to_ascii_lowercase();
        if path.ends_with("/fido/create") {
            let error = v.alerts().next().map(|e| e.text.clone());
            return Page::FidoCreate { error };
        }
        if path.ends_with("/fido/get") {
            let error = v.alerts().next().map(|e| e.text.clone());
            return Page::FidoGet { error };
        }
        return sign_in(v);
    }
    if SECURITY_INFO_HOSTS.contains(&host) {
        return security_info(v);
    }
    Page::Unknown
}

fn inline_error(v: &View<'_>) -> Option<String> {
    v.alerts().next().map(|e| e.text.clone())
}

fn submit_button(v: &View<'_>) -> Option<Handle> {
    v.by_id("idSIButton9").map(|e| e.handle)
}

/// Builds a sign-in page from (input, submit, inline error).
type MakeBoxPage = fn(Handle, Handle, Option<String>) -> Page;

fn sign_in(v: &View<'_>) -> Page {
    let pgid = v
        .snap
        .config
        .as_ref()
        .and_then(|c| c.pgid.as_deref())
        .unwrap_or("");
    // Interrupts first: their pages may also carry #idSIButton9.
    if v.by_id("ProofUpDescription").is_some() || pgid == "ConvergedProofUpRedirect" {
        return Page::ProofUp;
    }
    if let (Some(yes), Some(no)) = (v.by_id("idSIButton9"), v.by_id("idBtn_Back"))
        && (v.by_id("KmsiDescription").is_some()
            || v.by_id("KmsiCheckboxField").is_some()
            || pgid == "KmsiInterrupt")
    {
        return Page::StaySignedIn {
            yes: yes.handle,
            no: no.handle,
        };
    }
    let boxes: [(&str, MakeBoxPage); 4] = [
        ("accesspass", |input, submit, error| Page::AccessPass {
            input,
            submit,
            error,
        }),
        ("passwd", |input, submit, error| Page::Password {
            input,
            submit,
            error,
        }),
        ("otc", |input, submit, error| Page::OneTimeCode {
            input,
            submit,
            error,
        }),
        ("loginfmt", |input, submit, error| Page::Username {
            input,
            submit,
            error,
            fido: None,
        }),
    ];
    for (name, make) in boxes {
        if let (Some(input), Some(submit)) = (v.input(name), submit_button(v)) {
            let mut page = make(input.handle, submit, inline_error(v));
            if let Page::Username { fido, .. } = &mut page {
                *fido = v.by_id("idA_PWD_SwitchToFido").map(|e| e.handle);
            }
            return page;
        }
    }
    if v.by_id("errorMessage").is_some() || pgid == "ConvergedError" {
        let text = v
            .by_id("errorMessage")
            .map(|e| e.text.clone())
            .or_else(|| {
                v.snap
                    .config
                    .as_ref()
                    .and_then(|c| c.service_exception.clone())
            })
            .unwrap_or_default();
        return Page::SignInErrorPage { text };
    }
    if v.visible().any(|e| is_button(e) || e.tag == "input") {
        return Page::Unknown;
    }
    Page::Loading
}

fn security_info(v: &View<'_>) -> Page {
    if v.path().to_ascii_lowercase().contains("newfido") {
        // The post-back page redirects by script; nothing to do there.
        return Page::Loading;
    }
    let banner = v
        .by_id("ms-banner")
        .map(|e| e.text.clone())
        .filter(|t| !t.is_empty());
    // The top-most dialog (last in document order) is the one in front.
    if let Some(dialog) = v.dialogs().last()
        && let Some(page) = dialog_page(v, dialog.handle)
    {
        return page;
    }
    if let Some(text) = &banner
        && (locale::contains(text, locale::KEY_LIMIT)
            || locale::contains(text, locale::TWO_FACTOR)
            || locale::contains(text, locale::POLICY_DISALLOWS)
            || locale::contains(text, locale::KEY_REQUIREMENTS))
    {
        return Page::SecurityInfoError { text: text.clone() };
    }
    let add = v
        .visible()
        .find(|e| is_button(e) && e.name.as_deref() == Some("Add method"))
        .map(|e| e.handle);
    if add.is_some() || banner.is_some() {
        let listed = v
            .visible()
            .filter(|e| e.role.as_deref() == Some("listitem") || e.role.as_deref() == Some("row"))
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

fn dialog_page(v: &View<'_>, dialog: Handle) -> Option<Page> {
    let inside: Vec<_> = v.in_dialog(dialog).collect();
    let primary = inside
        .iter()
        .find(|e| is_button(e) && is_primary(e) && e.enabled)
        .map(|e| e.handle);
    // Errors shown inside the dialog.
    if let Some(alert) = inside
        .iter()
        .find(|e| e.role.as_deref() == Some("alert") && !e.text.is_empty())
    {
        return Some(Page::SecurityInfoError {
            text: alert.text.clone(),
        });
    }
    if let Some(combobox) = inside.iter().find(|e| {
        e.role.as_deref() == Some("combobox")
            && e.aria_label.as_deref() == Some("Authentication method options")
    }) {
        // The open list may render outside the dialog (a Fluent UI layer).
        let option = v
            .visible()
            .find(|e| {
                e.role.as_deref() == Some("option") && locale::is(&e.text, locale::SECURITY_KEY)
            })
            .map(|e| e.handle);
        let add = inside
            .iter()
            .find(|e| is_button(e) && locale::is(&e.text, locale::ADD))
            .map(|e| e.handle)
            .or(primary);
        return Some(Page::MethodPicker {
            combobox: combobox.handle,
            option,
            chosen: locale::contains(&combobox.text, locale::SECURITY_KEY),
            add,
        });
    }
    if let Some(input) = inside
        .iter()
        .find(|e| e.tag == "input" && e.id.as_deref().is_some_and(|id| id.contains("TextField")))
    {
        return primary.map(|next| Page::NameKey {
            input: input.handle,
            next,
        });
    }
    if let Some(usb) = inside
        .iter()
        .find(|e| is_button(e) && locale::contains(&e.text, locale::USB_DEVICE))
    {
        return Some(Page::KeyKind { usb: usb.handle });
    }
    let done = inside
        .iter()
        .find(|e| is_button(e) && locale::is(&e.text, locale::DONE))
        .map(|e| e.handle);
    if let Some(done) = done {
        return Some(Page::AllSet { done });
    }
    if let Some(next) = primary {
        return Some(Page::KeyReady { next });
    }
    None
}
