//! The decision function on hand-written snapshots: one test per page and
//! per edge case. Fixtures captured from the simulator live in
//! `tests/fixtures/` and are exercised by `tests/fixtures.rs`.

use engine::job::{Command, Decision, Job, START_URL, Step, Timeouts, TypedValue, decide};
use engine::{Failure, Page};
use protocol::actuator::{Element, PageConfig, Snapshot};
use protocol::panel::Mode;

/// A terse element builder: `el(1, "input").id("i0116").name("loginfmt")`.
fn el(handle: u32, tag: &str) -> Element {
    Element {
        handle,
        tag: tag.into(),
        visible: true,
        enabled: true,
        ..Default::default()
    }
}

trait Build {
    fn id(self, v: &str) -> Self;
    fn name(self, v: &str) -> Self;
    fn ty(self, v: &str) -> Self;
    fn role(self, v: &str) -> Self;
    fn aria(self, v: &str) -> Self;
    fn text(self, v: &str) -> Self;
    fn class(self, v: &str) -> Self;
    fn dialog(self, v: u32) -> Self;
    fn hidden(self) -> Self;
}

impl Build for Element {
    fn id(mut self, v: &str) -> Self {
        self.id = Some(v.into());
        self
    }
    fn name(mut self, v: &str) -> Self {
        self.name = Some(v.into());
        self
    }
    fn ty(mut self, v: &str) -> Self {
        self.input_type = Some(v.into());
        self
    }
    fn role(mut self, v: &str) -> Self {
        self.role = Some(v.into());
        self
    }
    fn aria(mut self, v: &str) -> Self {
        self.aria_label = Some(v.into());
        self
    }
    fn text(mut self, v: &str) -> Self {
        self.text = v.into();
        self
    }
    fn class(mut self, v: &str) -> Self {
        self.class = v.into();
        self
    }
    fn dialog(mut self, v: u32) -> Self {
        self.dialog = Some(v);
        self
    }
    fn hidden(mut self) -> Self {
        self.visible = false;
        self
    }
}

fn snap(url: &str, doc: &str, elements: Vec<Element>) -> Snapshot {
    Snapshot {
        document: doc.into(),
        url: url.into(),
        title: String::new(),
        lang: "en".into(),
        elements,
        http_status: 200,
        config: None,
        ..Snapshot::default()
    }
}

const LOGIN: &str = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=x";
const SI: &str = "https://mysignins.microsoft.com/security-info";

fn username_page(doc: &str) -> Snapshot {
    snap(
        LOGIN,
        doc,
        vec![
            el(1, "div").role("heading").text("Sign in"),
            el(2, "input").id("i0116").name("loginfmt").ty("email"),
            el(3, "input").id("idSIButton9").ty("submit").text("Next"),
        ],
    )
}

fn tap_page(doc: &str, error: Option<&str>) -> Snapshot {
    let mut els = vec![
        el(1, "div")
            .role("heading")
            .text("Enter Temporary Access Pass"),
        el(2, "input")
            .id("i0118a")
            .name("accesspass")
            .ty("password"),
        el(3, "input")
            .id("idSIButton9")
            .ty("submit")
            .text("Sign in"),
    ];
    if let Some(e) = error {
        els.push(el(4, "div").id("passwordError").role("alert").text(e));
    }
    snap("https://login.microsoftonline.com/common/login", doc, els)
}

fn password_page(doc: &str, error: bool) -> Snapshot {
    let mut els = vec![
        el(1, "div").role("heading").text("Enter password"),
        el(2, "input").id("i0118").name("passwd").ty("password"),
        el(3, "input")
            .id("idSIButton9")
            .ty("submit")
            .text("Sign in"),
    ];
    if error {
        els.push(
            el(4, "div")
                .id("passwordError")
                .role("alert")
                .text("Your account or password is incorrect."),
        );
    }
    snap("https://login.microsoftonline.com/common/login", doc, els)
}

fn security_info(doc: &str, listed: &[&str]) -> Snapshot {
    let mut els = vec![
        el(1, "h1").text("Security info"),
        el(2, "button")
            .name("Add method")
            .text("Add sign-in method"),
    ];
    for (i, t) in listed.iter().enumerate() {
        els.push(el(10 + i as u32, "div").role("listitem").text(t));
    }
    snap(SI, doc, els)
}

fn job() -> Job {
    Job::new(
        "req-1",
        Mode::Automatic,
        "adele@contoso.com",
        true,
        "IDM-23456789-ABC123-20261122",
        Timeouts::default(),
        1_000,
    )
}

fn act(d: &Decision) -> &[Command] {
    match d {
        Decision::Act { commands } => commands,
        other => panic!("expected Act, got {other:?}"),
    }
}

fn failure(d: Decision) -> Failure {
    match d {
        Decision::Fail { failure } => failure,
        other => panic!("expected Fail, got {other:?}"),
    }
}

#[test]
fn username_is_filled_and_submitted() {
    let mut j = job();
    let d = decide(&mut j, &username_page("d1"), 2_000);
    assert_eq!(
        act(&d),
        [
            Command::Fill {
                handle: 2,
                value: TypedValue::Text("adele@contoso.com".into())
            },
            Command::Click { handle: 3 }
        ]
    );
    assert_eq!(j.step, Step::Username);
}

#[test]
fn same_page_same_document_waits_then_repeats_once_the_retry_time_passes() {
    let mut j = job();
    decide(&mut j, &username_page("d1"), 2_000);
    // A mutation snapshot of the same page: our submit is in flight.
    assert_eq!(
        decide(&mut j, &username_page("d1"), 2_100),
        Decision::Wait { until_ms: 5_000 }
    );
    // Nothing changed for retry_after_ms: act again.
    assert_eq!(act(&decide(&mut j, &username_page("d1"), 5_000)).len(), 2);
}

#[test]
fn an_action_the_actuator_refused_is_retried_soon_and_a_bounded_number_of_times() {
    let mut j = job();
    decide(&mut j, &username_page("d1"), 2_000);
    // The button was re-rendered under the click: nothing is in flight.
    j.action_refused();
    assert_eq!(
        decide(&mut j, &username_page("d1"), 2_010),
        Decision::Wait { until_ms: 2_250 }
    );
    assert_eq!(act(&decide(&mut j, &username_page("d1"), 2_250)).len(), 2);
    // Refused again and again: tried every 250 ms up to the cap, then the
    // job waits for the page to change or the step to time out.
    let mut now = 2_250;
    for _ in 0..30 {
        j.action_refused();
        now += 250;
        if let Decision::Wait { until_ms } = decide(&mut j, &username_page("d1"), now) {
            assert_eq!(until_ms, j.deadline_ms(), "gave up before the cap");
            break;
        }
    }
    let attempts = j.last.as_ref().map(|l| l.attempts).unwrap_or_default();
    assert_eq!(attempts, 20);
    // A refusal does not reset the ordinary rule: an action that took waits
    // the full retry time.
    let mut k = job();
    decide(&mut k, &username_page("d1"), 2_000);
    assert!(matches!(
        decide(&mut k, &username_page("d1"), 2_300),
        Decision::Wait { until_ms: 5_000 }
    ));
}
#[test]
fn same_page_in_a_new_document_is_acted_on_at_once() {
    let mut j = job();
    decide(&mut j, &username_page("d1"), 2_000);
    assert_eq!(act(&decide(&mut j, &username_page("d2"), 2_100)).len(), 2);
}

#[test]
fn tap_goes_into_accesspass_by_name_never_by_value() {
    let mut j = job();
    let d = decide(&mut j, &tap_page("d2", None), 2_000);
    assert_eq!(
        act(&d)[0],
        Command::Fill {
            handle: 2,
            value: TypedValue::AccessPass
        }
    );
    assert!(
        !serde_json::to_string(&j)
            .expect("serializes")
            .contains("Secret")
    );
}

#[test]
fn wrong_tap_is_tap_not_found() {
    let mut j = job();
    let d = decide(
        &mut j,
        &tap_page(
            "d2",
            Some("Your Temporary Access Pass couldn't be found or verified."),
        ),
        2_000,
    );
    assert_eq!(failure(d).code(), "tapNotFound");
}

#[test]
fn tap_in_password_box_variant_types_the_tap_there() {
    let mut j = job();
    let d = decide(&mut j, &password_page("d2", false), 2_000);
    assert_eq!(
        act(&d)[0],
        Command::Fill {
            handle: 2,
            value: TypedValue::AccessPass
        }
    );
}

#[test]
fn unpropagated_tap_is_waited_out_then_retried_from_the_start() {
    let mut j = job();
    // The password box refused the TAP: wait with backoff, then start over.
    let Decision::Wait { until_ms } = decide(&mut j, &password_page("d2", true), 10_000) else {
        panic!("expected a wait")
    };
    assert!(until_ms > 10_000 && until_ms <= 20_000, "{until_ms}");
    assert_eq!(
        decide(&mut j, &password_page("d2", true), until_ms - 1),
        Decision::Wait { until_ms }
    );
    let d = decide(&mut j, &password_page("d2", true), until_ms);
    assert_eq!(
        act(&d),
        [Command::Navigate {
            url: START_URL.into()
        }]
    );
}

#[test]
fn tap_never_propagating_fails_with_its_own_error() {
    let mut j = job();
    decide(&mut j, &password_page("d2", true), 10_000);
    let d = decide(
        &mut j,
        &password_page("d9", true),
        10_000 + Timeouts::default().tap_propagation_ms,
    );
    assert_eq!(failure(d).code(), "tapNotPropagated");
}

#[test]
fn stay_signed_in_answers_no() {
    let mut j = job();
    let s = snap(
        "https://login.microsoftonline.com/kmsi",
        "d3",
        vec![
            el(1, "div").role("heading").text("Stay signed in?"),
            el(2, "div")
                .id("KmsiDescription")
                .text("Do this to reduce…"),
            el(3, "input").id("idBtn_Back").ty("button").text("No"),
            el(4, "input").id("idSIButton9").ty("submit").text("Yes"),
        ],
    );
    assert_eq!(
        act(&decide(&mut j, &s, 2_000)),
        [Command::Click { handle: 3 }]
    );
}

#[test]
fn proof_up_interrupt_fails_with_its_own_error() {
    let mut j = job();
    let s = snap(
        "https://login.microsoftonline.com/common/login",
        "d3",
        vec![
            el(1, "div")
                .id("ProofUpDescription")
                .text("Your organization needs more information"),
            el(2, "input")
                .id("idSubmit_ProofUp_Redirect")
                .ty("submit")
                .text("Next"),
        ],
    );
    assert_eq!(failure(decide(&mut j, &s, 2_000)).code(), "proofUpRequired");
}

#[test]
fn pgid_alone_recognises_kmsi_when_ids_are_missing_the_description() {
    let mut s = snap(
        "https://login.microsoftonline.com/kmsi",
        "d3",
        vec![
            el(3, "input").id("idBtn_Back").ty("button").text("Nein"),
            el(4, "input").id("idSIButton9").ty("submit").text("Ja"),
        ],
    );
    s.config = Some(PageConfig {
        pgid: Some("KmsiInterrupt".into()),
        ..Default::default()
    });
    assert_eq!(
        act(&decide(&mut job(), &s, 2_000)),
        [Command::Click { handle: 3 }]
    );
}

#[test]
fn half_rendered_page_waits() {
    let mut j = job();
    let s = snap(
        LOGIN,
        "d1",
        vec![el(1, "div").role("heading").text("Sign in")],
    );
    assert_eq!(
        decide(&mut j, &s, 2_000),
        Decision::Wait {
            until_ms: j.deadline_ms()
        }
    );
}

#[test]
fn unknown_page_fails_after_grace_naming_url_and_headings() {
    let mut j = job();
    let s = snap(
        "https://evil.example/phish",
        "d1",
        vec![
            el(1, "h1").text("Totally Microsoft"),
            el(2, "button").text("Go"),
        ],
    );
    assert_eq!(
        decide(&mut j, &s, 2_000),
        Decision::Wait { until_ms: 7_000 }
    );
    let f = failure(decide(&mut j, &s, 7_000));
    assert_eq!(f.code(), "unknownPage");
    let msg = f.to_string();
    assert!(
        msg.contains("https://evil.example/phish") && msg.contains("Totally Microsoft"),
        "{msg}"
    );
}

#[test]
fn step_timeout_names_the_step() {
    let mut j = job();
    decide(&mut j, &username_page("d1"), 2_000);
    let f = failure(decide(&mut j, &username_page("d1"), 2_000 + 30_000));
    assert_eq!(f.code(), "stepTimeout");
    assert!(f.to_string().contains("signIn.username"), "{f}");
}

#[test]
fn security_info_add_method_is_clicked() {
    let mut j = job();
    assert_eq!(
        act(&decide(
            &mut j,
            &security_info("s1", &["Phone +1 555"]),
            2_000
        )),
        [Command::Click { handle: 2 }]
    );
    assert_eq!(j.step, Step::SecurityInfo);
}

#[test]
fn security_info_before_its_method_list_waits_a_grace_then_clicks() {
    let mut j = job();
    // The button shows, the list has not loaded: clicking now would start
    // the wizard before the page has its session.
    assert_eq!(
        decide(&mut j, &security_info("s1", &[]), 2_000),
        Decision::Wait { until_ms: 4_000 }
    );
    // The "no methods" line is a rendered list too.
    let mut empty = security_info("s1", &[]);
    empty
        .elements
        .push(el(9, "div").role("list").text("No methods yet"));
    assert_eq!(
        act(&decide(&mut j, &empty, 2_100)),
        [Command::Click { handle: 2 }]
    );
    assert_eq!(j.list_wait_since_ms, None, "the next visit waits afresh");
    // A page variant whose list is not recognised: clicked after the grace.
    let mut k = job();
    decide(&mut k, &security_info("s1", &[]), 2_000);
    assert_eq!(
        act(&decide(&mut k, &security_info("s1", &[]), 4_000)),
        [Command::Click { handle: 2 }]
    );
}

#[test]
fn a_banner_on_security_info_mid_wizard_fails_with_its_text() {
    let mut j = job();
    decide(&mut j, &security_info("s1", &["Phone +1 555"]), 2_000);
    // The wizard's steps, then "Next" on "have your key ready".
    decide(&mut j, &picker("s1", false, false, 0), 2_100);
    decide(&mut j, &picker("s1", true, false, 0), 2_200);
    decide(&mut j, &picker("s1", false, true, 0), 2_300);
    assert_eq!(j.step, Step::AddMethod);
    j.step = Step::KeyReady;
    let mut s = security_info("s1", &["Phone +1 555"]);
    s.elements.push(
        el(30, "div")
            .id("ms-banner")
            .role("alert")
            .text("Something went wrong (HTTP 401)"),
    );
    assert_eq!(
        decide(&mut j, &s, 2_500),
        Decision::Fail {
            failure: Failure::RegistrationFailed {
                detail: "Something went wrong (HTTP 401)".into()
            }
        }
    );
}

fn picker(doc: &str, open: bool, chosen: bool, lang: usize) -> Snapshot {
    let sk = [
        "Security key",
        "Sicherheitsschlüssel",
        "Clé de sécurité",
        "セキュリティ キー",
    ][lang];
    let add = ["Add", "Hinzufügen", "Ajouter", "追加"][lang];
    let mut els = vec![
        el(1, "h1").text("Security info"),
        el(2, "button")
            .name("Add method")
            .text("Add sign-in method"),
        el(20, "div").role("dialog"),
        el(21, "div")
            .role("combobox")
            .aria("Authentication method options")
            .text(if chosen { sk } else { "Choose a method" })
            .dialog(20),
        el(22, "button")
            .text(add)
            .class("ms-Button ms-Button--primary")
            .dialog(20),
    ];
    if open {
        els.push(el(30, "button").role("option").text("Phone"));
        els.push(el(31, "button").role("option").text(sk));
    }
    snap(SI, doc, els)
}

#[test]
fn method_picker_opens_the_list_picks_security_key_and_adds_in_every_locale() {
    for lang in 0..4 {
        let mut j = job();
        assert_eq!(
            act(&decide(&mut j, &picker("s1", false, false, lang), 2_000)),
            [Command::Click { handle: 21 }]
        );
        assert_eq!(
            act(&decide(&mut j, &picker("s1", true, false, lang), 2_100)),
            [Command::Click { handle: 31 }]
        );
        assert_eq!(
            act(&decide(&mut j, &picker("s1", false, true, lang), 2_200)),
            [Command::Click { handle: 22 }]
        );
    }
}

#[test]
fn two_dialogs_the_front_one_wins() {
    let mut j = job();
    let s = snap(
        SI,
        "s1",
        vec![
            el(20, "div").role("dialog"),
            el(21, "div")
                .role("combobox")
                .aria("Authentication method options")
                .dialog(20),
            el(40, "div").role("dialog"),
            el(41, "button").text("USB device").dialog(40),
            el(42, "button").text("NFC device").dialog(40),
        ],
    );
    assert_eq!(
        act(&decide(&mut j, &s, 2_000)),
        [Command::Click { handle: 41 }]
    );
}

#[test]
fn key_limit_banner_in_german_is_its_own_error() {
    let mut j = job();
    let mut s = security_info("s1", &[]);
    s.elements.push(
        el(9, "div")
            .id("ms-banner")
            .text("Sie haben das Limit von 10 Sicherheitsschlüsseln bereits erreicht."),
    );
    assert_eq!(failure(decide(&mut j, &s, 2_000)).code(), "keyLimitReached");
}

#[test]
fn two_factor_banner_is_its_own_error() {
    let mut j = job();
    let mut s = security_info("s1", &[]);
    s.elements.push(
        el(9, "div")
            .id("ms-banner")
            .text("To set up a security key, you need to sign in with two-factor authentication."),
    );
    assert_eq!(
        failure(decide(&mut j, &s, 2_000)).code(),
        "twoFactorRequired"
    );
}

#[test]
fn fido_create_waits_for_the_ceremony_and_reports_rejection() {
    let mut j = job();
    let url = "https://login.microsoft.com/8c2e1b4a-5d6f-4a7b-9c8d-0e1f2a3b4c5d/fido/create?cid=x";
    let s = snap(
        url,
        "f1",
        vec![
            el(1, "div")
                .role("heading")
                .text("Setting up your security key"),
        ],
    );
    assert!(matches!(decide(&mut j, &s, 2_000), Decision::Wait { .. }));
    assert_eq!(j.step, Step::Register);
    assert_eq!(j.deadline_ms(), 2_000 + Timeouts::default().register_ms);
    let s = snap(
        url,
        "f1",
        vec![el(2, "div").role("alert").text(
            "We couldn't add your security key. It doesn't meet your organization's security key requirements.",
        )],
    );
    assert_eq!(
        failure(decide(&mut j, &s, 2_500)).code(),
        "attestationRejected"
    );
}

#[test]
fn naming_then_done_then_listed_completes() {
    let mut j = job();
    let name = j.key_name.clone();
    let s = snap(
        SI,
        "s2",
        vec![
            el(20, "div").role("dialog"),
            el(21, "input").id("TextField12").ty("text").dialog(20),
            el(22, "button")
                .text("Next")
                .class("ms-Button ms-Button--primary")
                .dialog(20),
        ],
    );
    assert_eq!(
        act(&decide(&mut j, &s, 2_000)),
        [
            Command::Fill {
                handle: 21,
                value: TypedValue::Text(name.clone())
            },
            Command::Click { handle: 22 }
        ]
    );
    let s = snap(
        SI,
        "s2",
        vec![
            el(20, "div").role("dialog"),
            el(23, "button")
                .text("Done")
                .class("ms-Button ms-Button--primary")
                .dialog(20),
        ],
    );
    assert_eq!(
        act(&decide(&mut j, &s, 2_100)),
        [Command::Click { handle: 23 }]
    );
    // Security info again, list still loading: wait; then the key shows.
    assert!(matches!(
        decide(&mut j, &security_info("s2", &[]), 2_200),
        Decision::Wait { .. }
    ));
    let listed = format!("Security key {name}");
    assert_eq!(
        decide(&mut j, &security_info("s2", &[&listed]), 2_300),
        Decision::Done { key_name: name }
    );
    assert!(j.timeline.iter().all(|s| s.ended_ms.is_some()));
}

#[test]
fn manual_mode_fills_tap_without_submitting_and_detects_a_new_key() {
    let mut j = Job::new(
        "r",
        Mode::Manual,
        "adele@contoso.com",
        true,
        "",
        Timeouts::default(),
        0,
    );
    assert_eq!(act(&decide(&mut j, &username_page("d1"), 1)).len(), 2);
    assert_eq!(
        act(&decide(&mut j, &tap_page("d2", None), 2)),
        [Command::Fill {
            handle: 2,
            value: TypedValue::AccessPass
        }]
    );
    // The list loads in two renders; neither is a new key.
    assert!(matches!(
        decide(&mut j, &security_info("s1", &[]), 3),
        Decision::Wait { .. }
    ));
    assert!(matches!(
        decide(&mut j, &security_info("s1", &["Phone +1 555"]), 4),
        Decision::Wait { .. }
    ));
    assert!(matches!(
        decide(&mut j, &picker("s1", true, false, 0), 5),
        Decision::Wait { .. }
    ));
    // A new entry before the ceremony is not the key.
    assert!(matches!(
        decide(
            &mut j,
            &security_info("s1", &["Phone +1 555", "Email a@b"]),
            6
        ),
        Decision::Wait { .. }
    ));
    // The administrator's authenticator answered the page's create.
    j.registered(7);
    assert_eq!(
        decide(
            &mut j,
            &security_info(
                "s1",
                &["Phone +1 555", "Email a@b", "Security key YubiKey 5"]
            ),
            8
        ),
        Decision::Done {
            key_name: "Security key YubiKey 5".into()
        }
    );
}

#[test]
fn page_kinds_are_named_for_the_log() {
    assert_eq!(Page::Loading.kind(), "loading");
}

#[test]
fn hidden_loginfmt_on_the_password_page_is_not_the_username_page() {
    // The real password page keeps the UPN in a hidden `loginfmt` input.
    let mut s = password_page("d2", false);
    s.elements
        .insert(0, el(9, "input").name("loginfmt").ty("hidden").hidden());
    let mut j = job();
    assert_eq!(
        act(&decide(&mut j, &s, 2_000))[0],
        Command::Fill {
            handle: 2,
            value: TypedValue::AccessPass
        }
    );
}

/// Regression: seen in the browser test against the simulator (German
/// tenant): after the FIDO page, Security info showed its list for a moment
/// before the name dialog, the engine clicked "Add sign-in method" again and
/// started a second registration, which the vault (rightly) refused.
#[test]
fn security_info_flash_after_registration_waits_for_the_name_dialog() {
    let mut j = job();
    let url = "https://login.microsoft.com/8c2e1b4a-5d6f-4a7b-9c8d-0e1f2a3b4c5d/fido/create?cid=x";
    decide(
        &mut j,
        &snap(
            url,
            "f1",
            vec![el(1, "div").role("heading").text("Setting up")],
        ),
        2_000,
    );
    let back = security_info("s9", &[]);
    assert!(matches!(
        decide(&mut j, &back, 2_500),
        Decision::Wait { .. }
    ));
    assert_eq!(j.step, Step::Register);
}

#[test]
fn server_errors_restart_a_bounded_number_of_times_then_fail_with_the_status() {
    let mut j = job();
    let mut err = snap(SI, "e1", vec![el(1, "h1").text("Internal Server Error")]);
    err.http_status = 500;
    assert_eq!(
        act(&decide(&mut j, &err, 2_000)),
        [Command::Navigate {
            url: START_URL.into()
        }]
    );
    // The same error document again: our navigation is in flight.
    assert!(matches!(decide(&mut j, &err, 2_100), Decision::Wait { .. }));
    err.document = "e2".into();
    assert_eq!(
        act(&decide(&mut j, &err, 2_200)),
        [Command::Navigate {
            url: START_URL.into()
        }]
    );
    err.document = "e3".into();
    let f = failure(decide(&mut j, &err, 2_300));
    assert_eq!(f.code(), "serverError");
    assert!(f.to_string().contains("HTTP 500"), "{f}");
}

/// Regression: with slow pages (the simulator's `slowMs`), Security info
/// showed its list while the "Next" of the key wizard was still calling the
/// API, and the engine clicked "Add sign-in method" again, looping.
#[test]
fn bare_security_info_mid_wizard_is_waited_out() {
    let mut j = job();
    let ready = snap(
        SI,
        "s1",
        vec![
            el(20, "div").role("dialog"),
            el(22, "button")
                .text("Next")
                .class("ms-Button ms-Button--primary")
                .dialog(20),
        ],
    );
    assert_eq!(
        act(&decide(&mut j, &ready, 2_000)),
        [Command::Click { handle: 22 }]
    );
    assert_eq!(j.step, Step::KeyReady);
    assert!(matches!(
        decide(&mut j, &security_info("s1", &[]), 2_100),
        Decision::Wait { .. }
    ));
}

fn listed_then_check(j: &mut Job) {
    j.verify_sign_in = true;
    let name = j.key_name.clone();
    let done = snap(
        SI,
        "s2",
        vec![
            el(20, "div").role("dialog"),
            el(23, "button")
                .text("Done")
                .class("ms-Button ms-Button--primary")
                .dialog(20),
        ],
    );
    decide(j, &done, 2_000);
    let listed = format!("Security key {name}");
    assert_eq!(
        act(&decide(j, &security_info("s3", &[&listed]), 2_100)),
        [
            Command::ClearCookies,
            Command::Navigate {
                url: engine::job::START_URL.into()
            }
        ]
    );
    assert_eq!(j.step, Step::VerifySignIn);
}

#[test]
fn sign_in_check_picks_the_security_key_and_ends_on_security_info() {
    let mut j = job();
    listed_then_check(&mut j);
    let mut user = username_page("c1");
    user.elements.push(
        el(7, "a")
            .id("idA_PWD_SwitchToFido")
            .text("Sign in with a security key"),
    );
    assert_eq!(
        act(&decide(&mut j, &user, 2_200)),
        [Command::Click { handle: 7 }]
    );
    let get = snap(
        "https://login.microsoft.com/common/fido/get?ctx=x",
        "c2",
        vec![],
    );
    assert!(matches!(decide(&mut j, &get, 2_300), Decision::Wait { .. }));
    // Security info before the vault answered is not proof.
    assert!(matches!(
        decide(&mut j, &security_info("c3", &[]), 2_400),
        Decision::Wait { .. }
    ));
    j.asserted();
    assert_eq!(
        decide(&mut j, &security_info("c4", &[]), 2_500),
        Decision::Done {
            key_name: j.key_name.clone()
        }
    );
}

#[test]
fn sign_in_check_without_a_security_key_option_fails_naming_the_key() {
    let mut j = job();
    listed_then_check(&mut j);
    let f = failure(decide(&mut j, &username_page("c1"), 2_200));
    assert_eq!(f.code(), "signInCheckFailed");
    assert!(f.to_string().contains(&j.key_name), "{f}");
}

fn manual_job() -> Job {
    Job::new(
        "r",
        Mode::Manual,
        "adele@contoso.com",
        true,
        "",
        Timeouts::default(),
        0,
    )
}

fn unknown_page(doc: &str) -> Snapshot {
    snap(
        "https://login.microsoftonline.com/common/reprocess",
        doc,
        vec![
            el(1, "h1").text("Something the engine has never seen"),
            el(2, "button").text("Continue"),
        ],
    )
}

#[test]
fn manual_mode_keeps_watching_unknown_pages_until_the_manual_deadline() {
    let t = Timeouts::default();
    assert!(t.unknown_grace_ms < t.manual_ms);
    // (case, pages seen before the unknown one, when the manual time runs out)
    let cases: [(&str, Vec<Snapshot>, u64); 3] = [
        ("unknown page first", vec![], t.manual_ms),
        (
            "unknown page after the username",
            vec![username_page("d1")],
            t.manual_ms,
        ),
        // Watching starts on Security info; its deadline counts from there.
        (
            "unknown page while watching",
            vec![security_info("s1", &[])],
            100 + t.manual_ms,
        ),
    ];
    for (case, before, deadline) in cases {
        let mut j = manual_job();
        for s in &before {
            decide(&mut j, s, 100);
        }
        let step = j.step;
        let u = unknown_page("u1");
        for now in [200, 200 + t.unknown_grace_ms, 200 + t.step_ms, deadline - 1] {
            assert_eq!(
                decide(&mut j, &u, now),
                Decision::Wait { until_ms: deadline },
                "{case}: at {now} ms"
            );
        }
        assert_eq!(j.step, step, "{case}: an unknown page moves no step");
        let f = failure(decide(&mut j, &u, deadline));
        assert_eq!(f.code(), "stepTimeout", "{case}: {f}");
        assert!(f.to_string().contains("900 s"), "{case}: {f}");
    }
}

#[test]
fn manual_mode_still_fills_the_username_after_an_unknown_page() {
    let mut j = manual_job();
    assert!(matches!(
        decide(&mut j, &unknown_page("u1"), 100),
        Decision::Wait { .. }
    ));
    assert_eq!(
        act(&decide(&mut j, &username_page("d1"), 10_000)),
        [
            Command::Fill {
                handle: 2,
                value: TypedValue::Text("adele@contoso.com".into())
            },
            Command::Click { handle: 3 }
        ]
    );
}

#[test]
fn page_views_are_counted_once_per_document_and_page() {
    let mut j = job();
    decide(&mut j, &username_page("d1"), 2_000);
    decide(&mut j, &username_page("d1"), 2_050); // a mutation, same view
    assert_eq!(j.views, 1);
    decide(&mut j, &tap_page("d2", None), 2_100);
    assert_eq!(j.views, 2);
    let blank = Snapshot {
        document: "d3".into(),
        url: "https://login.microsoftonline.com/common/login".into(),
        ..Default::default()
    };
    decide(&mut j, &blank, 2_150); // still loading: not a view yet
    assert_eq!(j.views, 2);
}
