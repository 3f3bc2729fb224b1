//! The tenant model: what a seed file describes and what the state directory
//! persists. Field names are camelCase on disk, like Graph.

use serde::{Deserialize, Serialize};

/// The FIDO2 (passkey) authentication-method policy of the tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Fido2Policy {
    /// The method is enabled for users at all (default true).
    pub enabled: bool,
    /// Users may register keys themselves in Security info, and Graph may
    /// register on their behalf (default true).
    pub allow_self_service_setup: bool,
    /// The attestation chain must lead to one of `trusted_attestation_cas` (default false).
    /// Self and none attestation are refused either way, as Microsoft does.
    pub enforce_attestation: bool,
    /// When non-empty, only these AAGUIDs may be registered (lowercase hyphenated).
    pub allowed_aaguids: Vec<String>,
    /// PEM certificates of the attestation roots the tenant trusts.
    pub trusted_attestation_cas: Vec<String>,
    /// Maximum number of security keys per user (default 10).
    pub key_limit: usize,
    /// **Not Microsoft behaviour.** Accept `none` and self attestation, which
    /// Microsoft refuses. Off by default; exists only so a browser test with a
    /// CDP virtual authenticator (which cannot produce x5c attestation) can
    /// walk the rest of the flow. Never turn it on to make a product test pass.
    pub accept_none_attestation_for_testing: bool,
}

impl Default for Fido2Policy {
    fn default() -> Self {
        Self {
            enabled: true,
            allow_self_service_setup: true,
            enforce_attestation: false,
            allowed_aaguids: Vec::new(),
            trusted_attestation_cas: Vec::new(),
            key_limit: 10,
            accept_none_attestation_for_testing: false,
        }
    }
}

/// Which Security info protocol the tenant's page uses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum SecurityInfoProtocol {
    /// `mysignins.microsoft.com/api/authenticationmethods/new {"Type":18}` (2026).
    #[default]
    V2026,
    /// `account.activedirectory.windowsazure.com/securityinfo/AddSecurityInfo {"Type":12}`.
    Legacy,
}

/// Graph throttling: every `every`-th Graph request is answered 429.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttle {
    pub every: u32,
    pub retry_after_secs: u64,
}

/// An app registration that may call Graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub client_id: String,
    pub display_name: String,
    /// Client secret for the client-credentials grant; `None` = public client.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Redirect URIs allowed for the authorization-code flow.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Application permissions granted with admin consent (client credentials).
    #[serde(default)]
    pub app_roles: Vec<String>,
    /// Delegated permissions the app may request.
    #[serde(default)]
    pub delegated_scopes: Vec<String>,
    /// Delegated scopes an admin has consented to already for everyone (no consent page).
    #[serde(default)]
    pub consented_scopes: Vec<String>,
    /// Delegated scopes each user consented to on the consent page, by user id.
    #[serde(default)]
    pub user_consents: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A Temporary Access Pass.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tap {
    pub id: String,
    pub pass: String,
    pub created_at: u64,
    pub start_at: u64,
    pub lifetime_minutes: u64,
    pub is_usable_once: bool,
    #[serde(default)]
    pub used: bool,
    /// Seconds after creation before sign-in accepts it (replication delay).
    #[serde(default)]
    pub propagation_delay_secs: u64,
}

impl Tap {
    pub fn expires_at(&self) -> u64 {
        self.start_at + self.lifetime_minutes * 60
    }
    /// Usable now: started, not expired, not spent.
    pub fn usable(&self, now: u64) -> bool {
        now >= self.start_at && now < self.expires_at() && !(self.is_usable_once && self.used)
    }
    pub fn state(&self, now: u64) -> &'static str {
        if self.is_usable_once && self.used {
            "invalid"
        } else if now >= self.expires_at() {
            "expired"
        } else if now < self.start_at {
            "notYetValid"
        } else {
            "active"
        }
    }
}

/// A registered FIDO2 security key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fido2Key {
    /// Graph method id.
    pub id: String,
    /// base64url credential id.
    pub credential_id: String,
    pub display_name: String,
    pub aaguid: String,
    pub model: String,
    pub created_at: u64,
    pub attestation_level: String,
    #[serde(default)]
    pub attestation_certificates: Vec<String>,
    /// How it was registered: "securityInfo", "securityInfoLegacy" or "graph".
    #[serde(default)]
    pub registered_via: String,
    /// The webauthn-rs credential (public key, counter) used to verify sign-ins.
    pub credential: serde_json::Value,
    #[serde(default)]
    pub last_used_at: Option<u64>,
}

/// Another authentication method, shown in Security info only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherMethod {
    /// e.g. "phone", "microsoftAuthenticator", "email".
    pub kind: String,
    pub display: String,
}

/// Which layout the sign-in pages use (`signInLayout`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SignInLayout {
    /// ids `i0116`, `i0118`, `idSIButton9`, `idBtn_Back`, `div[role=heading]`.
    #[default]
    Classic,
    /// Microsoft's newer layout: `<button type=submit>` without ids told apart
    /// by `data-testid` and the form's submitter, generated ids on inputs,
    /// headings and alerts, "Sign-in options" instead of the security-key link.
    Fluent,
}

/// How Security info draws its dialog controls (`dialogControls`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum DialogControls {
    /// `<button class="ms-Button ...">` with names, as the Fluent UI kit renders.
    #[default]
    Fluent,
    /// ARIA-only: `div[role=button]` / `div[role=option]` with tabindex, no
    /// id, no class, `aria-disabled`; the combobox labelled by a `<label>`.
    Aria,
}

/// A skippable page between the credential and the client (`interrupts`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Interrupt {
    /// After the TAP: "More information required" with "Ask later".
    MoreInfoSkippable,
    /// After "Stay signed in?": the Authenticator registration campaign with "Skip for now".
    RegistrationCampaign,
}

/// Which flow Security info offers for a FIDO2 credential (`passkeyFlow`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PasskeyFlow {
    /// Security key ▸ Add ▸ USB device ▸ Next ▸ fido/create ▸ name ▸ Next ▸ Done.
    #[default]
    SecurityKey,
    /// Passkey ▸ Add ▸ MFA notice ▸ Next ▸ fido/create ▸ default name ▸ Done
    /// (Microsoft's "Register a passkey (FIDO2)"); no "Security key" option.
    Passkey,
}

/// The label of the passkey option (`passkeyLabel`), which changes between releases.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum PasskeyLabel {
    #[default]
    #[serde(rename = "Passkey (preview)")]
    Preview,
    #[serde(rename = "Passkey (FIDO2)")]
    Fido2,
    #[serde(rename = "Passkey")]
    Plain,
}

impl PasskeyLabel {
    /// The locale key of the label.
    pub fn text_key(self) -> &'static str {
        match self {
            PasskeyLabel::Preview => "m_passkey_preview",
            PasskeyLabel::Fido2 => "m_passkey_fido2",
            PasskeyLabel::Plain => "m_passkey",
        }
    }
}

/// Per-user scenario switches: each makes one real-world failure or page
/// variant happen. All of them combine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Scenarios {
    /// Every TAP this user types is rejected as not found / not verified.
    pub wrong_tap: bool,
    /// Seconds a TAP takes to become usable after creation (applies to all the user's TAPs).
    pub tap_propagation_delay_secs: u64,
    /// After the credential, "Your organization needs more information" (no way past).
    pub proof_up_required: bool,
    /// Security info acts as if the user already has the maximum number of keys.
    pub key_limit_reached: bool,
    /// Security info demands a two-factor sign-in before adding a security key.
    pub two_factor_required: bool,
    /// The user is not synced to Entra: TAP creation fails, sign-in does not know them.
    pub not_synced: bool,
    /// The attestation is rejected by policy whatever the key sends.
    pub attestation_rejected: bool,
    /// Extra delay on every page and API call made in this user's sessions.
    pub slow_ms: u64,
    /// Answer HTTP 500 at this step (see [`crate::state::STEPS`]).
    pub fail_step: Option<String>,
    /// How many more times `fail_step` fails; `None` = every time.
    pub fail_times: Option<u32>,
    /// Locale of the user's pages (a code of [`crate::locale::LANGS`]); overrides Accept-Language.
    pub locale: Option<String>,
    /// Where the sign-in page asks for the TAP: "accesspass" (default), "passwd", "otc".
    pub dom_variant: Option<String>,
    /// Security info never stops changing its DOM (a script-driven
    /// indicator ticking every few milliseconds, as pages with live timers
    /// do): it never settles.
    pub busy_page: bool,
    /// The sign-in pages' layout.
    pub sign_in_layout: SignInLayout,
    /// Security info's dialog controls.
    pub dialog_controls: DialogControls,
    /// On the naming step, "Next" is disabled while the name box is empty
    /// (default true, as Fluent UI does).
    pub name_next_disabled: bool,
    /// Skippable interrupts shown during sign-in.
    pub interrupts: Vec<Interrupt>,
    /// The first N `authenticationmethods/new` calls (Type 18) of this user
    /// answer HTTP 500; the dialog offers "Try again".
    pub wizard_transient_errors: u32,
    /// Security key wizard or Microsoft's newer passkey flow.
    pub passkey_flow: PasskeyFlow,
    /// The passkey option's label in the passkey flow.
    pub passkey_label: PasskeyLabel,
    /// The tenant allows only some key models: the key is refused at verify,
    /// after naming, with an error in the dialog.
    pub aaguid_restricted: bool,
}

impl Default for Scenarios {
    fn default() -> Self {
        Self {
            wrong_tap: false,
            tap_propagation_delay_secs: 0,
            proof_up_required: false,
            key_limit_reached: false,
            two_factor_required: false,
            not_synced: false,
            attestation_rejected: false,
            slow_ms: 0,
            fail_step: None,
            fail_times: None,
            locale: None,
            dom_variant: None,
            busy_page: false,
            sign_in_layout: SignInLayout::Classic,
            dialog_controls: DialogControls::Fluent,
            name_next_disabled: true,
            interrupts: Vec::new(),
            wizard_transient_errors: 0,
            passkey_flow: PasskeyFlow::SecurityKey,
            passkey_label: PasskeyLabel::Preview,
            aaguid_restricted: false,
        }
    }
}

impl Scenarios {
    pub fn fluent(&self) -> bool {
        self.sign_in_layout == SignInLayout::Fluent
    }
    pub fn has(&self, i: Interrupt) -> bool {
        self.interrupts.contains(&i)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    #[serde(default)]
    pub mail: Option<String>,
    /// Synced from on-premises AD (`onPremisesSyncEnabled`).
    #[serde(default)]
    pub on_premises_sync_enabled: bool,
    /// Password for the password sign-in path (single factor), if any.
    #[serde(default)]
    pub password: Option<String>,
    /// Directory roles, e.g. "Global Administrator", "Authentication Administrator".
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default = "yes")]
    pub account_enabled: bool,
    #[serde(default)]
    pub taps: Vec<Tap>,
    #[serde(default)]
    pub fido2_keys: Vec<Fido2Key>,
    #[serde(default)]
    pub other_methods: Vec<OtherMethod>,
    #[serde(default)]
    pub scenarios: Scenarios,
}

fn yes() -> bool {
    true
}

/// One sign-in or registration event, read back through the control API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub at: u64,
    pub kind: String,
    pub user_id: Option<String>,
    pub upn: Option<String>,
    pub success: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: String,
    pub display_name: String,
    /// Verified domains; the first is the default.
    pub domains: Vec<String>,
    #[serde(default)]
    pub security_info_protocol: SecurityInfoProtocol,
    /// Layout of the sign-in pages shown before the user is known (the
    /// username page); each user's `signInLayout` scenario decides the rest.
    #[serde(default)]
    pub sign_in_layout: SignInLayout,
    #[serde(default)]
    pub fido2_policy: Fido2Policy,
    /// The TAP method policy: default lifetime and whether one-time is forced.
    #[serde(default = "default_tap_lifetime")]
    pub tap_default_lifetime_minutes: u64,
    #[serde(default)]
    pub graph_throttle: Option<Throttle>,
    /// Lifetime of Graph access tokens in seconds (default 3599, as Entra's `expires_in`).
    #[serde(default = "default_token_lifetime")]
    pub access_token_lifetime_secs: u64,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub apps: Vec<App>,
    #[serde(default)]
    pub events: Vec<Event>,
}

fn default_tap_lifetime() -> u64 {
    60
}

fn default_token_lifetime() -> u64 {
    3599
}

impl Tenant {
    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.id.eq_ignore_ascii_case(id_or_upn)
                || u.user_principal_name.eq_ignore_ascii_case(id_or_upn)
        })
    }
    pub fn user_mut(&mut self, id_or_upn: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| {
            u.id.eq_ignore_ascii_case(id_or_upn)
                || u.user_principal_name.eq_ignore_ascii_case(id_or_upn)
        })
    }

    /// Checks a seed for mistakes that would make the simulator misbehave later.
    pub fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() || self.domains.is_empty() {
            return Err("tenant needs an id and at least one domain".into());
        }
        let mut seen = std::collections::HashSet::new();
        for u in &self.users {
            if u.id.is_empty() || u.user_principal_name.is_empty() {
                return Err(format!("user {:?} needs an id and a UPN", u.display_name));
            }
            if !seen.insert(u.user_principal_name.to_ascii_lowercase()) {
                return Err(format!("duplicate UPN {}", u.user_principal_name));
            }
            if !seen.insert(u.id.to_ascii_lowercase()) {
                return Err(format!("duplicate user id {}", u.id));
            }
        }
        Ok(())
    }
}
