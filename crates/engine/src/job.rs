//! A job's state and the decision function.
//!
//! [`decide`] is the whole engine: given the job and the latest snapshot (and
//! the time), it answers what to do next. It is called on every settled
//! snapshot and when a deadline it asked for arrives, so every wait is for an
//! event (a snapshot) or a named deadline, never a fixed sleep.

use crate::failure::Failure;
use crate::locale;
use crate::page::{Handle, Page, Recognition, methods_list_rendered, recognise_with_cues};
use crate::view::View;
use protocol::actuator::Snapshot;
use protocol::panel::Mode;
use serde::{Deserialize, Serialize};

/// How often a job starts over after a Microsoft 5xx before it fails.
pub const MAX_SERVER_ERROR_RESTARTS: u32 = 2;

/// `$Config.iErrorCode` (Entra's AADSTS number, the same in every locale):
/// the username is not in the directory.
pub const ERR_UNKNOWN_USER: u32 = 50034;
/// `$Config.iErrorCode`: the password box refused what was typed as a
/// password. Where the TAP page was expected, this is a TAP that has not
/// propagated yet: Entra does not know the user has one, so it shows the
/// password page and checks the pass as a password.
pub const ERR_BAD_PASSWORD: u32 = 50126;
/// `$Config.iErrorCode`: the box was submitted empty (a fill that did not
/// take); worth another try, not a verdict on the pass.
pub const ERR_EMPTY_INPUT: u32 = 90100;
/// `$Config.iErrorCode`: Entra's Temporary Access Pass errors (AADSTS1305xx:
/// not found or not verified, expired, used, disabled). Entra only gives
/// these once it knows the user has a pass, so the pass is wrong, not late.
pub const ERR_TAP: std::ops::RangeInclusive<u32> = 130_500..=130_599;

/// How often "Try again" is pressed on a transient wizard error before the
/// job fails with the page's text.
pub const MAX_WIZARD_RETRIES: u32 = 2;

/// Where a job starts: Security info redirects to sign-in.
pub const START_URL: &str = "https://mysignins.microsoft.com/security-info";

/// Named timeouts, in milliseconds. Defaults suit a normal office network;
/// the administrator can raise them in Options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Timeouts {
    /// Any one step (a page transition). Default 30 s.
    pub step_ms: u64,
    /// The WebAuthn ceremony, vault call included. Default 60 s.
    pub register_ms: u64,
    /// How long a new TAP may take to propagate. Default 120 s.
    pub tap_propagation_ms: u64,
    /// How long an unrecognised page may last before the job fails (pages
    /// pass through states the recogniser need not know). Default 5 s.
    pub unknown_grace_ms: u64,
    /// A click that changed nothing is repeated after this. Default 3 s.
    pub retry_after_ms: u64,
    /// Manual mode: how long the administrator has. Default 15 min.
    pub manual_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            step_ms: 30_000,
            register_ms: 60_000,
            tap_propagation_ms: 120_000,
            unknown_grace_ms: 5_000,
            retry_after_ms: 3_000,
            manual_ms: 15 * 60_000,
        }
    }
}

/// The steps of a provisioning, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    Open,
    Username,
    AccessPass,
    StaySignedIn,
    /// A skippable interrupt after sign-in.
    Interrupt,
    SecurityInfo,
    AddMethod,
    UsbDevice,
    KeyReady,
    Register,
    NameKey,
    Finish,
    Confirm,
    /// Signing in with the new key (when the panel asked for the check).
    VerifySignIn,
    /// Manual mode: the administrator is clicking through.
    Watch,
}

impl Step {
    /// The step's name in logs and timeout errors.
    pub fn name(self) -> &'static str {
        match self {
            Step::Open => "open",
            Step::Username => "signIn.username",
            Step::AccessPass => "signIn.accessPass",
            Step::StaySignedIn => "signIn.staySignedIn",
            Step::Interrupt => "signIn.interrupt",
            Step::SecurityInfo => "securityInfo.open",
            Step::AddMethod => "securityInfo.addMethod",
            Step::UsbDevice => "securityInfo.usbDevice",
            Step::KeyReady => "securityInfo.keyReady",
            Step::Register => "register.webauthn",
            Step::NameKey => "register.name",
            Step::Finish => "register.done",
            Step::Confirm => "confirm.listed",
            Step::VerifySignIn => "verify.signIn",
            Step::Watch => "manual.watch",
        }
    }

    /// Rough share of the work done when this step starts (for progress bars).
    pub fn progress(self) -> f32 {
        match self {
            Step::Open => 0.02,
            Step::Username => 0.08,
            Step::AccessPass => 0.16,
            Step::StaySignedIn => 0.24,
            Step::Interrupt => 0.28,
            Step::SecurityInfo => 0.32,
            Step::AddMethod => 0.40,
            Step::UsbDevice => 0.48,
            Step::KeyReady => 0.55,
            Step::Register => 0.65,
            Step::NameKey => 0.80,
            Step::Finish => 0.90,
            Step::Confirm => 0.92,
            Step::VerifySignIn => 0.96,
            Step::Watch => 0.5,
        }
    }
}

/// A value to type. The TAP is named, not carried: the engine never holds it,
/// so it cannot leak into a decision log; the worker fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "text", rename_all = "camelCase")]
pub enum TypedValue {
    Text(String),
    AccessPass,
}

/// A primitive the actuator carries out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Command {
    Click {
        handle: Handle,
    },
    Fill {
        handle: Handle,
        value: TypedValue,
    },
    Navigate {
        url: String,
    },
    /// Removes Microsoft's cookies from the job's (incognito) cookie store,
    /// so the next page load signs in afresh: the sign-in check starts as a
    /// person would, from Security info, not from a hand-built URL.
    ClearCookies,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "camelCase")]
pub enum Decision {
    /// Carry these out in order.
    Act {
        commands: Vec<Command>,
    },
    /// Nothing to do until the next snapshot, or until `until_ms` (then call
    /// [`decide`] again with the last snapshot).
    Wait {
        until_ms: u64,
    },
    /// The key is registered and listed.
    Done {
        key_name: String,
    },
    Fail {
        failure: Failure,
    },
}

/// What was last done, to tell "our click is still taking effect" from "the
/// page came back and needs acting on again".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastAction {
    pub signature: String,
    pub document: String,
    pub at_ms: u64,
    pub attempts: u32,
    /// The actuator could not carry it out (the element was gone, hidden or
    /// disabled): nothing is taking effect, so it is retried soon.
    #[serde(default)]
    pub refused: bool,
}

/// How soon an action the actuator refused is tried again, and how often.
/// A page re-rendering under the click refuses it for a moment only; the
/// cap keeps a page that never lets the click through from being hammered
/// (the step's timeout then ends the job).
const REFUSED_RETRY_MS: u64 = 250;
const MAX_REFUSED_ATTEMPTS: u32 = 20;
/// How long Security info may show no method list before the job clicks
/// "Add sign-in method" anyway.
const LIST_GRACE_MS: u64 = 2_000;
/// How often an action that took but changed nothing is repeated.
const MAX_ATTEMPTS: u32 = 3;

/// One entry of the step timeline in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    pub step: String,
    pub started_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_ms: Option<u64>,
    /// The page seen when the step started.
    pub page: String,
    /// The cues that recognised that page (input names, roles, testids,
    /// phrases): what to look at when a layout changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<String>,
}

/// A job, as persisted between service worker restarts. Holds no secret:
/// whether a TAP exists, not the TAP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub request_id: String,
    pub mode: Mode,
    pub upn: String,
    pub has_tap: bool,
    pub key_name: String,
    pub timeouts: Timeouts,
    pub step: Step,
    pub started_ms: u64,
    pub step_started_ms: u64,
    #[serde(default)]
    pub last: Option<LastAction>,
    /// When the password page was first seen in place of the TAP page.
    #[serde(default)]
    pub tap_wait_since_ms: Option<u64>,
    /// A scheduled retry of the sign-in (TAP propagation).
    #[serde(default)]
    pub retry_at_ms: Option<u64>,
    #[serde(default)]
    pub tap_attempts: u32,
    #[serde(default)]
    pub unknown_since_ms: Option<u64>,
    /// Restarts after a Microsoft server error (5xx), bounded.
    #[serde(default)]
    pub server_error_restarts: u32,
    /// Manual mode: Security info's list as last seen before the WebAuthn
    /// ceremony.
    #[serde(default)]
    pub listed_before: Option<Vec<String>>,
    /// Whether the page's `create` was answered (by the vault or the
    /// browser's own authenticator).
    #[serde(default)]
    pub ceremony_done: bool,
    /// Whether to sign in with the new key once it is listed.
    #[serde(default)]
    pub verify_sign_in: bool,
    /// Whether the vault answered the sign-in check's `get`.
    #[serde(default)]
    pub assertion_done: bool,
    #[serde(default)]
    pub timeline: Vec<StepRecord>,
    /// How many page views the job passed through: a new document, or a
    /// new view within one (a dialog's next step), counted once however
    /// many snapshots show it. The benchmark's "per page transition".
    #[serde(default)]
    pub views: u32,
    /// When Security info was first seen with its method list not yet
    /// rendered.
    #[serde(default)]
    pub list_wait_since_ms: Option<u64>,
    /// The last view counted: (document, page signature).
    #[serde(default)]
    pub last_view: Option<(String, String)>,
    /// How often "Try again" was pressed on a wizard error.
    #[serde(default)]
    pub wizard_retries: u32,
    /// The cues of the page [`decide`] saw last (for the timeline).
    #[serde(skip)]
    pub seen_cues: Vec<&'static str>,
}

impl Job {
    pub fn new(
        request_id: &str,
        mode: Mode,
        upn: &str,
        has_tap: bool,
        key_name: &str,
        timeouts: Timeouts,
        now_ms: u64,
    ) -> Self {
        Job {
            request_id: request_id.to_string(),
            mode,
            upn: upn.to_string(),
            has_tap,
            key_name: key_name.to_string(),
            timeouts,
            step: Step::Open,
            started_ms: now_ms,
            step_started_ms: now_ms,
            last: None,
            tap_wait_since_ms: None,
            retry_at_ms: None,
            tap_attempts: 0,
            unknown_since_ms: None,
            server_error_restarts: 0,
            listed_before: None,
            ceremony_done: false,
            verify_sign_in: false,
            assertion_done: false,
            timeline: vec![StepRecord {
                step: Step::Open.name().into(),
                started_ms: now_ms,
                ended_ms: None,
                page: String::new(),
                cues: Vec::new(),
            }],
            views: 0,
            list_wait_since_ms: None,
            last_view: None,
            wizard_retries: 0,
            seen_cues: Vec::new(),
        }
    }

    /// Counts `page` as a view unless it is the one counted last, or a page
    /// still loading.
    fn count_view(&mut self, document: &str, page: &Page) {
        if matches!(page, Page::Loading | Page::Unknown) {
            return;
        }
        let sig = signature(page);
        if self
            .last_view
            .as_ref()
            .is_some_and(|(d, s)| d == document && *s == sig)
        {
            return;
        }
        self.views += 1;
        self.last_view = Some((document.to_string(), sig));
    }

    fn step_timeout(&self) -> u64 {
        match self.step {
            Step::Register => self.timeouts.register_ms,
            Step::Watch => self.timeouts.manual_ms,
            _ => self.timeouts.step_ms,
        }
    }

    /// When the current step times out.
    pub fn deadline_ms(&self) -> u64 {
        self.step_started_ms + self.step_timeout()
    }

    /// Manual mode: when the administrator's time is up. Counted from the
    /// start of watching, or of the job while the engine still signs in.
    fn manual_deadline_ms(&self) -> u64 {
        if self.step == Step::Watch {
            self.deadline_ms()
        } else {
            self.started_ms + self.timeouts.manual_ms
        }
    }

    fn enter(&mut self, step: Step, page: &Page, now_ms: u64) {
        if step == self.step {
            return;
        }
        if let Some(last) = self.timeline.last_mut() {
            last.ended_ms = Some(now_ms);
        }
        self.timeline.push(StepRecord {
            step: step.name().into(),
            started_ms: now_ms,
            ended_ms: None,
            page: page.kind().into(),
            cues: self.seen_cues.iter().map(|c| c.to_string()).collect(),
        });
        self.step = step;
        self.step_started_ms = now_ms;
    }

    /// Records an event in the timeline without changing step (a retry, a
    /// skipped interrupt).
    fn note(&mut self, what: &str, page: &Page, now_ms: u64) {
        self.timeline.push(StepRecord {
            step: what.into(),
            started_ms: now_ms,
            ended_ms: Some(now_ms),
            page: page.kind().into(),
            cues: self.seen_cues.iter().map(|c| c.to_string()).collect(),
        });
    }

    /// The WebAuthn ceremony happened (the vault or the browser answered the
    /// page's `create`). The FIDO page can come and go between two settled
    /// snapshots, so this, not a snapshot, marks the registration step.
    pub fn registered(&mut self, now_ms: u64) {
        self.ceremony_done = true;
        if self.mode == Mode::Automatic && self.step < Step::Register {
            self.enter(Step::Register, &Page::FidoCreate { error: None }, now_ms);
        }
    }

    /// The actuator refused the last action (see [`LastAction::refused`]).
    pub fn action_refused(&mut self) {
        if let Some(last) = &mut self.last {
            last.refused = true;
        }
    }

    /// The vault answered the sign-in check's `navigator.credentials.get`.
    pub fn asserted(&mut self) {
        self.assertion_done = true;
    }

    /// Closes the timeline when the job ends.
    pub fn finish(&mut self, now_ms: u64) {
        if let Some(last) = self.timeline.last_mut()
            && last.ended_ms.is_none()
        {
            last.ended_ms = Some(now_ms);
        }
    }
}

/// A page's identity for de-duplicating actions: the kind plus the state
/// that an action changes.
fn signature(page: &Page) -> String {
    match page {
        Page::MethodPicker { option, chosen, .. } => {
            format!("methodPicker:{}:{}", option.is_some(), chosen)
        }
        p => p.kind().to_string(),
    }
}

fn timeout(job: &Job, v: &View<'_>) -> Decision {
    Decision::Fail {
        failure: Failure::StepTimeout {
            step: job.step.name().into(),
            timeout_s: job.step_timeout() / 1000,
            summary: v.summary(),
        },
    }
}

fn fail(failure: Failure) -> Decision {
    Decision::Fail { failure }
}

/// Decides the next move. `now_ms` is wall-clock milliseconds.
///
/// A dispatcher: each phase below either answers or passes on, in the
/// order that matters (what the page states outright, then Microsoft's
/// server errors, manual mode, unknown pages, the sign-in check, a TAP that
/// has not propagated, the final list, the step's deadline, our own action
/// still taking effect), and [`act_on`] answers the page itself.
pub fn decide(job: &mut Job, snap: &Snapshot, now_ms: u64) -> Decision {
    let v = View::new(snap);
    let Recognition { page, cues } = recognise_with_cues(&v);
    job.seen_cues = cues;
    job.count_view(&snap.document, &page);

    if let Some(d) = stated_failure(job, &page, &v, now_ms) {
        return d;
    }
    if let Some(d) = server_error(job, &v, now_ms) {
        return d;
    }
    // Manual mode before the unknown-page grace: the administrator may
    // wander to pages the engine does not know, and there only the
    // manual-mode deadline counts.
    if job.mode == Mode::Manual {
        job.unknown_since_ms = None;
        return decide_manual(job, &page, &v, now_ms);
    }
    if let Some(d) = unknown_grace(job, &page, &v, now_ms) {
        return d;
    }
    if job.step == Step::VerifySignIn {
        return decide_sign_in_check(job, &page, &v, now_ms);
    }
    if let Some(d) = tap_propagation(job, &page, &v, now_ms) {
        return d;
    }
    // Back on Security info after "Done" (or straight after naming: the
    // passkey flow names the key and closes with Done in one step): before
    // the step deadline, since what the list shows at the deadline decides
    // how the job ends. A dialog that still follows is answered as usual.
    if (job.step >= Step::Finish || (job.step == Step::NameKey && job.ceremony_done))
        && let Page::SecurityInfo { listed, .. } = &page
    {
        return confirm_listed(job, &page, listed, &v, now_ms);
    }
    if now_ms >= job.deadline_ms() {
        return timeout(job, &v);
    }
    let sig = signature(&page);
    let repeat = match taking_effect(job, &sig, &v, now_ms) {
        Ok(repeat) => repeat,
        Err(wait) => return wait,
    };
    let Some((step, commands)) = (match act_on(job, &page, &v, now_ms) {
        Ok(answer) => answer,
        Err(decision) => return decision,
    }) else {
        return Decision::Wait {
            until_ms: job.deadline_ms(),
        };
    };
    job.enter(step, &page, now_ms);
    job.last = Some(LastAction {
        signature: sig,
        document: snap.document.clone(),
        at_ms: now_ms,
        attempts: repeat + 1,
        refused: false,
    });
    Decision::Act { commands }
}

/// Failures the page states outright, before any waiting; and "Try again"
/// on a transient wizard error.
fn stated_failure(job: &mut Job, page: &Page, v: &View<'_>, now_ms: u64) -> Option<Decision> {
    let upn = job.upn.clone();
    let failure = match page {
        Page::Username { error: Some(e), .. } => {
            // The code is the same in every locale; the text is the
            // fallback for a page without `$Config`.
            let unknown = match v.error_code() {
                Some(code) => code == ERR_UNKNOWN_USER,
                None => locale::contains(e, locale::UNKNOWN_USER),
            };
            if unknown {
                Failure::UnknownUser { upn }
            } else {
                Failure::SignInError { detail: e.clone() }
            }
        }
        // The code alone is enough: refilling a username Entra just
        // refused would only loop until the step times out.
        Page::Username { error: None, .. } if v.error_code() == Some(ERR_UNKNOWN_USER) => {
            Failure::UnknownUser { upn }
        }
        Page::AccessPass { error: Some(_), .. } | Page::OneTimeCode { error: Some(_), .. } => {
            Failure::TapNotFound { upn }
        }
        Page::ProofUp => Failure::ProofUpRequired { upn },
        Page::SignInErrorPage { text } => Failure::SignInError {
            detail: text.clone(),
        },
        Page::SecurityInfoError { text } => classify_security_info_error(text, &upn),
        Page::Retryable { text, retry } if job.mode == Mode::Automatic => {
            return Some(try_again(job, page, text, *retry, v, now_ms));
        }
        Page::FidoCreate { error: Some(text) } => {
            if locale::contains(text, locale::KEY_REQUIREMENTS) {
                Failure::AttestationRejected {
                    detail: text.clone(),
                }
            } else {
                Failure::RegistrationFailed {
                    detail: text.clone(),
                }
            }
        }
        _ => return None,
    };
    Some(fail(failure))
}

/// A transient error with "Try again": press it a bounded number of times
/// (each press logged), then fail with the page's words. An error that
/// names a cause (a policy, the key limit) is final at once.
fn try_again(
    job: &mut Job,
    page: &Page,
    text: &str,
    retry: Handle,
    v: &View<'_>,
    now_ms: u64,
) -> Decision {
    let failure = classify_security_info_error(text, &job.upn);
    let transient = matches!(failure, Failure::RegistrationFailed { .. });
    // Our press may still be taking effect (the dialog works on it); the
    // same error still shown after the retry pause is a new failure.
    if let Some(l) = &job.last
        && l.signature == "retryable"
        && l.document == v.snap.document
        && !l.refused
        && now_ms < l.at_ms + job.timeouts.retry_after_ms
    {
        return Decision::Wait {
            until_ms: (l.at_ms + job.timeouts.retry_after_ms).min(job.deadline_ms()),
        };
    }
    if !transient || job.wizard_retries >= MAX_WIZARD_RETRIES {
        return fail(failure);
    }
    job.wizard_retries += 1;
    let what = format!("securityInfo.tryAgain#{}", job.wizard_retries);
    job.note(&what, page, now_ms);
    job.step_started_ms = now_ms;
    job.last = Some(LastAction {
        signature: "retryable".into(),
        document: v.snap.document.clone(),
        at_ms: now_ms,
        attempts: 1,
        refused: false,
    });
    Decision::Act {
        commands: vec![Command::Click { handle: retry }],
    }
}

/// A Microsoft server error: transient ones are common, so start over a
/// bounded number of times (a signed-in session survives, so this does not
/// spend the TAP again), then give up with the status.
fn server_error(job: &mut Job, v: &View<'_>, now_ms: u64) -> Option<Decision> {
    let snap = v.snap;
    if snap.http_status < 500 {
        return None;
    }
    if job.server_error_restarts >= MAX_SERVER_ERROR_RESTARTS {
        return Some(fail(Failure::ServerError {
            detail: format!("HTTP {} at {}", snap.http_status, v.summary()),
        }));
    }
    if job
        .last
        .as_ref()
        .is_some_and(|l| l.document == snap.document)
    {
        return Some(Decision::Wait {
            until_ms: job.deadline_ms(),
        });
    }
    job.server_error_restarts += 1;
    job.step_started_ms = now_ms;
    job.last = Some(LastAction {
        signature: "serverError".into(),
        document: snap.document.clone(),
        at_ms: now_ms,
        attempts: 1,
        refused: false,
    });
    Some(Decision::Act {
        commands: vec![Command::Navigate {
            url: START_URL.into(),
        }],
    })
}

/// An unknown page gets a short grace: pages pass through states the
/// recogniser need not know.
fn unknown_grace(job: &mut Job, page: &Page, v: &View<'_>, now_ms: u64) -> Option<Decision> {
    if *page != Page::Unknown {
        job.unknown_since_ms = None;
        return None;
    }
    let since = *job.unknown_since_ms.get_or_insert(now_ms);
    if now_ms >= since + job.timeouts.unknown_grace_ms {
        return Some(fail(Failure::UnknownPage {
            summary: v.summary(),
        }));
    }
    Some(Decision::Wait {
        until_ms: (since + job.timeouts.unknown_grace_ms).min(job.deadline_ms()),
    })
}

/// The password page instead of the TAP page: a tenant that takes the TAP
/// in the password box, or a TAP that has not propagated yet. Try it; on a
/// TAP error the pass is wrong (fail now); on a password error it has not
/// propagated: start over after a short, growing pause, until the
/// propagation deadline.
fn tap_propagation(job: &mut Job, page: &Page, v: &View<'_>, now_ms: u64) -> Option<Decision> {
    let Page::Password { error: Some(e), .. } = page else {
        return None;
    };
    let upn = job.upn.clone();
    if let Some(failure) = password_page_failure(v, e, &upn) {
        return Some(fail(failure));
    }
    let since = *job.tap_wait_since_ms.get_or_insert(now_ms);
    let waited = now_ms.saturating_sub(since);
    if waited >= job.timeouts.tap_propagation_ms {
        return Some(fail(Failure::TapNotPropagated {
            upn,
            waited_s: waited / 1000,
        }));
    }
    Some(match job.retry_at_ms {
        Some(at) if now_ms >= at => {
            job.retry_at_ms = None;
            job.last = None;
            // Restarting the sign-in is progress: the step clock restarts.
            job.step_started_ms = now_ms;
            Decision::Act {
                commands: vec![Command::Navigate {
                    url: START_URL.into(),
                }],
            }
        }
        Some(at) => Decision::Wait { until_ms: at },
        None => {
            job.tap_attempts += 1;
            let backoff = (1000u64 << job.tap_attempts.min(4)).min(10_000);
            let at = now_ms + backoff;
            job.retry_at_ms = Some(at);
            Decision::Wait { until_ms: at }
        }
    })
}

/// Our last action on this very page state may still be taking effect:
/// wait for the page to change (`Err`), and repeat it once in a while if it
/// does not (`Ok` with how often it was done already).
fn taking_effect(job: &Job, sig: &str, v: &View<'_>, now_ms: u64) -> Result<u32, Decision> {
    match &job.last {
        Some(last) if last.signature == sig && last.document == v.snap.document => {
            let (wait, cap) = if last.refused {
                (REFUSED_RETRY_MS, MAX_REFUSED_ATTEMPTS)
            } else {
                (job.timeouts.retry_after_ms, MAX_ATTEMPTS)
            };
            let retry_at = last.at_ms + wait;
            if now_ms < retry_at || last.attempts >= cap {
                let until = if last.attempts >= cap {
                    job.deadline_ms()
                } else {
                    retry_at
                };
                return Err(Decision::Wait {
                    until_ms: until.min(job.deadline_ms()),
                });
            }
            Ok(last.attempts)
        }
        _ => Ok(0),
    }
}

/// What each page asks for: the step it belongs to and the commands that
/// answer it; `Ok(None)` to wait for the next snapshot, `Err` for another
/// decision (a failure, or a wait with its own deadline).
type Answer = Result<Option<(Step, Vec<Command>)>, Decision>;

/// The per-page handlers.
fn act_on(job: &mut Job, page: &Page, v: &View<'_>, now_ms: u64) -> Answer {
    let click = |step: Step, handle: Handle| Ok(Some((step, vec![Command::Click { handle }])));
    match page {
        Page::Username { input, submit, .. } => Ok(Some((
            Step::Username,
            vec![
                Command::Fill {
                    handle: *input,
                    value: TypedValue::Text(job.upn.clone()),
                },
                Command::Click { handle: *submit },
            ],
        ))),
        Page::AccessPass { input, submit, .. }
        | Page::OneTimeCode { input, submit, .. }
        | Page::Password { input, submit, .. } => {
            if !job.has_tap {
                return Err(fail(Failure::SignInError {
                    detail: "Microsoft asks for a Temporary Access Pass and the request has none"
                        .into(),
                }));
            }
            Ok(Some((
                Step::AccessPass,
                vec![
                    Command::Fill {
                        handle: *input,
                        value: TypedValue::AccessPass,
                    },
                    Command::Click { handle: *submit },
                ],
            )))
        }
        Page::StaySignedIn { no, .. } => click(Step::StaySignedIn, *no),
        // Never the interrupt's own "Next" (it would set up another method).
        Page::Interrupt { skip, .. } => click(Step::Interrupt, *skip),
        Page::SecurityInfo { add, banner, .. } => {
            security_info(job, *add, banner.as_deref(), v, now_ms)
        }
        Page::MethodPicker {
            combobox,
            option,
            chosen,
            add,
        } => match (option, chosen, add, combobox) {
            (_, true, Some(add), _) => click(Step::AddMethod, *add),
            (Some(option), _, _, _) => click(Step::AddMethod, *option),
            (None, _, _, Some(combobox)) => click(Step::AddMethod, *combobox),
            // A list without the method we take: nothing to choose.
            (None, _, _, None) => Err(fail(Failure::RegistrationFailed {
                detail: "Security info offers neither a security key nor a passkey".into(),
            })),
        },
        Page::KeyKind { usb } => click(Step::UsbDevice, *usb),
        Page::KeyReady { next } => click(Step::KeyReady, *next),
        Page::FidoCreate { .. } => {
            job.enter(Step::Register, page, now_ms);
            Ok(None)
        }
        Page::NameKey { input, next } => Ok(Some((
            Step::NameKey,
            vec![
                Command::Fill {
                    handle: *input,
                    value: TypedValue::Text(job.key_name.clone()),
                },
                Command::Click { handle: *next },
            ],
        ))),
        Page::AllSet { done } => click(Step::Finish, *done),
        // Pages still loading; pages only the sign-in check acts on; and
        // those answered by the phases before.
        Page::Loading
        | Page::Unknown
        | Page::SignInOptions { .. }
        | Page::FidoGet { .. }
        | Page::ProofUp
        | Page::SignInErrorPage { .. }
        | Page::SecurityInfoError { .. }
        | Page::Retryable { .. } => Ok(None),
    }
}

/// Security info, before and during the wizard.
fn security_info(
    job: &mut Job,
    add: Option<Handle>,
    banner: Option<&str>,
    v: &View<'_>,
    now_ms: u64,
) -> Answer {
    if job.step > Step::SecurityInfo {
        // The wizard closed on an error and Security info says why (the
        // banner is cleared when the wizard opens): fail with it rather
        // than wait for the step to time out.
        if let Some(text) = banner {
            return Err(fail(classify_security_info_error(text, &job.upn)));
        }
        // Mid-wizard, Security info shows its bare list while the page
        // works: after "Next" (the API call before the FIDO page, slow on a
        // slow network) and back from the FIDO page before the name dialog
        // opens. Clicking "Add" then would start a second registration:
        // wait for the page to move on, or the step's deadline.
        return Ok(None);
    }
    // The page shows its button before it has its session and data; the
    // wizard started then fails ("something went wrong"). Wait for the list
    // of methods, for a grace at most (a page variant whose list the
    // recogniser does not know).
    if !methods_list_rendered(v) {
        let since = *job.list_wait_since_ms.get_or_insert(now_ms);
        if now_ms < since + LIST_GRACE_MS {
            return Err(Decision::Wait {
                until_ms: (since + LIST_GRACE_MS).min(job.deadline_ms()),
            });
        }
    } else {
        // The grace is per visit: Security info shown again (after a
        // restart) waits for its list again.
        job.list_wait_since_ms = None;
    }
    Ok(add.map(|add| (Step::SecurityInfo, vec![Command::Click { handle: add }])))
}

/// After registration, Security info must list the new key: done (or on to
/// the sign-in check) when it does. Until the deadline the list may still be
/// loading or refreshing; at the deadline a rendered list without the key is
/// [`Failure::NotListed`], a list that never rendered a step timeout.
fn confirm_listed(
    job: &mut Job,
    page: &Page,
    listed: &[String],
    v: &View<'_>,
    now_ms: u64,
) -> Decision {
    // The list's entries, or wherever else the page shows the name (a
    // layout whose list has no list roles).
    let shown = listed.iter().any(|t| t.contains(&job.key_name))
        || v.visible().any(|e| e.text.contains(&job.key_name));
    if shown {
        if job.verify_sign_in {
            job.enter(Step::VerifySignIn, page, now_ms);
            job.last = None;
            // As a person checks: signed out (the job's cookies gone),
            // Security info again, and the security-key route of the
            // sign-in page it sends us to.
            return Decision::Act {
                commands: vec![
                    Command::ClearCookies,
                    Command::Navigate {
                        url: START_URL.into(),
                    },
                ],
            };
        }
        job.finish(now_ms);
        return Decision::Done {
            key_name: job.key_name.clone(),
        };
    }
    job.enter(Step::Confirm, page, now_ms);
    if now_ms < job.deadline_ms() {
        return Decision::Wait {
            until_ms: job.deadline_ms(),
        };
    }
    if methods_list_rendered(v) {
        return fail(Failure::NotListed {
            key_name: job.key_name.clone(),
        });
    }
    timeout(job, v)
}

/// The sign-in check: a fresh sign-in that picks "Sign in with a security
/// key"; the vault answers `get`; done when Security info shows again.
fn decide_sign_in_check(job: &mut Job, page: &Page, v: &View<'_>, now_ms: u64) -> Decision {
    let check_failed = |job: &Job, detail: String| Decision::Fail {
        failure: Failure::SignInCheckFailed {
            key_name: job.key_name.clone(),
            detail,
        },
    };
    if now_ms >= job.deadline_ms() {
        let detail = format!(
            "no sign-in within {} s (last page: {})",
            job.step_timeout() / 1000,
            v.summary()
        );
        return check_failed(job, detail);
    }
    let sig = signature(page);
    if job
        .last
        .as_ref()
        .is_some_and(|l| l.signature == sig && l.document == v.snap.document)
    {
        return Decision::Wait {
            until_ms: job.deadline_ms(),
        };
    }
    let act = |job: &mut Job, command: Command| {
        job.last = Some(LastAction {
            signature: sig.clone(),
            document: v.snap.document.clone(),
            at_ms: now_ms,
            attempts: 1,
            refused: false,
        });
        Decision::Act {
            commands: vec![command],
        }
    };
    match page {
        Page::Username {
            fido: Some(link), ..
        }
        | Page::SignInOptions { fido: link } => act(job, Command::Click { handle: *link }),
        Page::Username {
            fido: None,
            options: Some(options),
            ..
        } => act(job, Command::Click { handle: *options }),
        Page::Username {
            fido: None,
            options: None,
            ..
        } => check_failed(
            job,
            "Microsoft did not offer sign-in with a security key".into(),
        ),
        Page::FidoGet { error: Some(e) } => check_failed(job, e.clone()),
        Page::StaySignedIn { no, .. } => act(job, Command::Click { handle: *no }),
        Page::Interrupt { skip, .. } => act(job, Command::Click { handle: *skip }),
        Page::SecurityInfo { .. } if job.assertion_done => {
            job.finish(now_ms);
            Decision::Done {
                key_name: job.key_name.clone(),
            }
        }
        Page::AccessPass { .. } | Page::Password { .. } | Page::OneTimeCode { .. } => check_failed(
            job,
            "Microsoft asked for a password or pass instead of the security key".into(),
        ),
        _ => Decision::Wait {
            until_ms: job.deadline_ms(),
        },
    }
}

/// What an error on the password page says about the TAP typed there:
/// `None` when it may not have propagated yet (Entra checked it as a
/// password, or nothing was typed), else the failure to end with.
fn password_page_failure(v: &View<'_>, text: &str, upn: &str) -> Option<Failure> {
    match v.error_code() {
        Some(code) if ERR_TAP.contains(&code) => Some(Failure::TapNotFound { upn: upn.into() }),
        Some(ERR_BAD_PASSWORD | ERR_EMPTY_INPUT) => None,
        // Anything else (a locked or disabled account, ...) will not pass
        // by waiting: report Microsoft's words.
        Some(code) => Some(Failure::SignInError {
            detail: format!("{text} (error {code})"),
        }),
        // No `$Config`: only the wording can tell a refused pass.
        None if locale::contains(text, locale::TAP_REJECTED) => {
            Some(Failure::TapNotFound { upn: upn.into() })
        }
        None => None,
    }
}

fn classify_security_info_error(text: &str, upn: &str) -> Failure {
    let upn = upn.to_string();
    if locale::contains(text, locale::KEY_LIMIT) {
        Failure::KeyLimitReached { upn }
    } else if locale::contains(text, locale::TWO_FACTOR) {
        Failure::TwoFactorRequired { upn }
    } else if locale::contains(text, locale::POLICY_DISALLOWS) {
        Failure::PolicyDisallows { upn }
    } else if locale::contains(text, locale::KEY_REQUIREMENTS) {
        Failure::AttestationRejected {
            detail: text.to_string(),
        }
    } else {
        Failure::RegistrationFailed {
            detail: text.to_string(),
        }
    }
}

/// Manual mode: sign in with the TAP when one came with the request, then
/// watch the administrator; done when, after the WebAuthn ceremony, Security
/// info lists an entry that was not there before it.
fn decide_manual(job: &mut Job, page: &Page, v: &View<'_>, now_ms: u64) -> Decision {
    match page {
        Page::Username { input, submit, .. } if job.step < Step::Watch => {
            let sig = signature(page);
            if job
                .last
                .as_ref()
                .is_some_and(|l| l.signature == sig && l.document == v.snap.document)
            {
                return Decision::Wait {
                    until_ms: job.deadline_ms(),
                };
            }
            job.enter(Step::Username, page, now_ms);
            job.last = Some(LastAction {
                signature: sig,
                document: v.snap.document.clone(),
                at_ms: now_ms,
                attempts: 1,
                refused: false,
            });
            Decision::Act {
                commands: vec![
                    Command::Fill {
                        handle: *input,
                        value: TypedValue::Text(job.upn.clone()),
                    },
                    Command::Click { handle: *submit },
                ],
            }
        }
        Page::AccessPass { input, submit, .. } if job.has_tap && job.step < Step::AccessPass => {
            job.enter(Step::AccessPass, page, now_ms);
            // Fill only: the administrator presses "Sign in" themselves.
            let _ = submit;
            Decision::Act {
                commands: vec![Command::Fill {
                    handle: *input,
                    value: TypedValue::AccessPass,
                }],
            }
        }
        Page::SecurityInfo { listed, .. } => {
            if job.step < Step::Watch {
                job.enter(Step::Watch, page, now_ms);
            }
            if !job.ceremony_done {
                // Before the ceremony the list is only a baseline (it may
                // still be loading): keep the latest.
                job.listed_before = Some(listed.clone());
            } else {
                let before = job.listed_before.clone().unwrap_or_default();
                let new: Vec<&String> = listed.iter().filter(|t| !before.contains(t)).collect();
                // Prefer an entry that says it is a security key.
                let found = new
                    .iter()
                    .find(|t| locale::contains(t, locale::SECURITY_KEY))
                    .or(new.first());
                if let Some(found) = found {
                    job.key_name = (*found).clone();
                    job.finish(now_ms);
                    return Decision::Done {
                        key_name: (*found).clone(),
                    };
                }
            }
            Decision::Wait {
                until_ms: job.deadline_ms(),
            }
        }
        // A page the engine does not know (or one still loading): keep
        // watching until the manual deadline. The step stays as it is, so
        // a sign-in page after it is still filled in.
        Page::Unknown | Page::Loading => {
            let deadline = job.manual_deadline_ms();
            if now_ms >= deadline {
                return fail(Failure::StepTimeout {
                    step: job.step.name().into(),
                    timeout_s: job.timeouts.manual_ms / 1000,
                    summary: v.summary(),
                });
            }
            Decision::Wait { until_ms: deadline }
        }
        _ => {
            if job.step < Step::Watch {
                job.enter(Step::Watch, page, now_ms);
            }
            if now_ms >= job.deadline_ms() {
                return timeout(job, v);
            }
            Decision::Wait {
                until_ms: job.deadline_ms(),
            }
        }
    }
}
