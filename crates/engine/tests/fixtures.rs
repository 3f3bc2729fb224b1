//! Replays the page snapshots captured from the simulator (`make fixtures`,
//! `tests/tools/capture-fixtures.mjs`): every locale, DOM variant and
//! failure scenario. Each fixture was seen by a job that ended exactly as
//! expected; these tests pin that the engine still recognises each page the
//! same way and still answers it the same way.
//!
//! A page snapshot an administrator exported from Show Logs ("Export page
//! snapshot", `page-snapshot-<request>.json`) dropped into a folder here is
//! replayed too: once the engine knows that page, set its `page` to the
//! kind it should be recognised as, and it stays a regression test.

use engine::job::{Command, Decision, Job, Timeouts, TypedValue, decide};
use engine::page::recognise;
use engine::view::View;
use protocol::actuator::{Element, Snapshot};
use protocol::panel::Mode;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Fixture {
    page: String,
    snapshot: Snapshot,
}

fn fixtures() -> Vec<(String, String, Fixture)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for case in std::fs::read_dir(&root).expect("fixtures directory") {
        let case = case.expect("entry").path();
        let label = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        for file in std::fs::read_dir(&case).expect("case directory") {
            let file = file.expect("entry").path();
            let text = std::fs::read_to_string(&file).expect("readable fixture");
            let fixture: Fixture =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let name = file
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            out.push((label.clone(), name, fixture));
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

fn job() -> Job {
    Job::new(
        "req",
        Mode::Automatic,
        "user@contoso.com",
        true,
        "IDM-KEY",
        Timeouts::default(),
        1_000,
    )
}

#[test]
fn there_are_fixtures_for_every_locale_and_variant() {
    let all = fixtures();
    let labels: std::collections::BTreeSet<_> = all.iter().map(|f| f.0.as_str()).collect();
    for want in [
        "en",
        "de",
        "fr",
        "ja",
        "en-passwd",
        "en-otc",
        "en-legacy",
        "en-key-limit",
        "en-two-factor",
        "en-fluent",
        "en-aria",
        "es",
        "ko",
        "ar",
        "he",
        "zh-Hans",
        "en-more-info-skip",
        "en-campaign",
        "en-transient",
        "en-passkey",
        "en-aaguid-restricted",
        "ar-all",
    ] {
        assert!(
            labels.contains(want),
            "no fixtures for {want}: run `make fixtures`"
        );
    }
    assert!(all.len() >= 80, "only {} fixtures", all.len());
}

#[test]
fn every_fixture_is_recognised_as_captured() {
    for (label, name, f) in fixtures() {
        // A page snapshot exported from Show Logs keeps its own file name;
        // its `page` says what the engine must recognise it as.
        if !name.starts_with("page-snapshot-") {
            assert_eq!(name, f.page, "{label}/{name}: file name and label disagree");
        }
        let got = recognise(&View::new(&f.snapshot));
        assert_eq!(got.kind(), f.page, "{label}/{name}: recognised as {got:?}");
    }
}

#[test]
fn every_fixture_gets_the_expected_answer() {
    for (label, name, f) in fixtures() {
        let mut j = job();
        let d = decide(&mut j, &f.snapshot, 2_000);
        let ctx = format!("{label}/{name}: {d:?}");
        match (f.page.as_str(), &d) {
            ("username", Decision::Act { commands }) => {
                assert!(
                    matches!(&commands[0], Command::Fill { value: TypedValue::Text(t), .. } if t == "user@contoso.com"),
                    "{ctx}"
                );
            }
            ("accessPass" | "password" | "oneTimeCode", Decision::Act { commands }) => {
                assert!(
                    matches!(
                        &commands[0],
                        Command::Fill {
                            value: TypedValue::AccessPass,
                            ..
                        }
                    ),
                    "{ctx}"
                );
            }
            ("accessPass" | "password", Decision::Fail { failure }) => {
                assert_eq!(failure.code(), "tapNotFound", "{ctx}");
            }
            ("nameKey", Decision::Act { commands }) => {
                assert!(
                    matches!(&commands[0], Command::Fill { value: TypedValue::Text(t), .. } if t == "IDM-KEY"),
                    "{ctx}"
                );
            }
            (
                "staySignedIn" | "securityInfo" | "methodPicker" | "keyKind" | "keyReady"
                | "allSet",
                Decision::Act { commands },
            ) => {
                assert!(
                    matches!(commands.as_slice(), [Command::Click { .. }]),
                    "{ctx}"
                );
            }
            ("fidoCreate" | "unknown" | "loading" | "signInOptions", Decision::Wait { .. }) => {}
            ("interrupt" | "retryable", Decision::Act { commands }) => {
                assert!(
                    matches!(commands.as_slice(), [Command::Click { .. }]),
                    "{ctx}"
                );
            }
            ("proofUp", Decision::Fail { failure }) => {
                assert_eq!(failure.code(), "proofUpRequired", "{ctx}")
            }
            ("securityInfoError", Decision::Fail { failure }) => {
                let want = if label.ends_with("key-limit") {
                    "keyLimitReached"
                } else if label.ends_with("two-factor") {
                    "twoFactorRequired"
                } else if label.ends_with("attestation-rejected")
                    || label.ends_with("aaguid-restricted")
                {
                    "attestationRejected"
                } else {
                    panic!("{ctx}: no expectation for this case")
                };
                assert_eq!(failure.code(), want, "{ctx}");
            }
            _ => panic!("unexpected answer for {ctx}"),
        }
    }
}

/// One captured snapshot, by case directory and page name.
fn fixture(label: &str, name: &str) -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(label)
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f: Fixture =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    f.snapshot
}

/// The captured page as the simulator renders it after refusing what was
/// typed (`crates/entra-sim/src/login.rs`, `credential_page` and
/// `username_page` with an error): a visible `role=alert` box with
/// Microsoft's words after the heading, and the code in `$Config`. `code`
/// `None` stands for a page without `$Config` (the text is all there is);
/// `text` `None` for a code without a visible message.
fn refused(mut s: Snapshot, alert_id: &str, text: Option<&str>, code: Option<&str>) -> Snapshot {
    s.document.push_str("-refused");
    if let Some(text) = text {
        let alert = Element {
            handle: 99,
            tag: "div".into(),
            id: Some(alert_id.into()),
            role: Some("alert".into()),
            text: text.into(),
            visible: true,
            enabled: true,
            class: "sim-error".into(),
            ..Default::default()
        };
        s.elements.insert(1, alert);
    }
    match code {
        Some(code) => {
            let config = s.config.get_or_insert_with(Default::default);
            config.error_code = Some(code.into());
            config.service_exception = text.map(str::to_string);
        }
        None => s.config = None,
    }
    s
}

// The simulator's words (`crates/entra-sim/src/locale.rs`), as Microsoft's.
const EN_TAP_ERROR: &str = "Your Temporary Access Pass couldn't be found or verified. Check it and try again, or ask your admin for a new one.";
const DE_TAP_ERROR: &str = "Ihr befristeter Zugriffspass wurde nicht gefunden oder konnte nicht überprüft werden. Prüfen Sie ihn und versuchen Sie es erneut, oder bitten Sie Ihren Administrator um einen neuen.";
const EN_PASSWORD_ERROR: &str =
    "Your account or password is incorrect. If you don't remember your password, reset it now.";
const DE_PASSWORD_ERROR: &str = "Ihr Konto oder Kennwort ist falsch. Wenn Sie sich nicht an Ihr Kennwort erinnern, setzen Sie es jetzt zurück.";
const EN_UNKNOWN_USER: &str = "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.";
const DE_UNKNOWN_USER: &str = "Dieser Benutzername ist möglicherweise falsch. Stellen Sie sicher, dass Sie ihn richtig eingegeben haben. Wenden Sie sich andernfalls an Ihren Administrator.";

/// How a job should answer a refused sign-in page.
#[derive(Debug)]
enum Expect {
    /// End at once with this failure code.
    Fails(&'static str),
    /// Wait for the TAP to propagate, then start the sign-in over.
    WaitsForPropagation,
}

#[test]
fn password_page_errors_tell_a_wrong_tap_from_one_not_yet_propagated() {
    use Expect::*;
    // (case, fixture case, error text, $Config.iErrorCode, expected)
    let cases = [
        (
            "en passwd variant, wrong TAP (130503)",
            "en-passwd",
            EN_TAP_ERROR,
            Some("130503"),
            Fails("tapNotFound"),
        ),
        (
            "de passwd variant, wrong TAP (130503)",
            "de-passwd",
            DE_TAP_ERROR,
            Some("130503"),
            Fails("tapNotFound"),
        ),
        (
            "en TAP checked as a password: not propagated (50126)",
            "en-passwd",
            EN_PASSWORD_ERROR,
            Some("50126"),
            WaitsForPropagation,
        ),
        (
            "de TAP checked as a password: not propagated (50126)",
            "de-passwd",
            DE_PASSWORD_ERROR,
            Some("50126"),
            WaitsForPropagation,
        ),
        (
            "en box submitted empty (90100): try again",
            "en-passwd",
            "Please enter your password.",
            Some("90100"),
            WaitsForPropagation,
        ),
        (
            "en no $Config, TAP wording",
            "en-passwd",
            EN_TAP_ERROR,
            None,
            Fails("tapNotFound"),
        ),
        (
            "de no $Config, TAP wording",
            "de-passwd",
            DE_TAP_ERROR,
            None,
            Fails("tapNotFound"),
        ),
        (
            "en no $Config, password wording",
            "en-passwd",
            EN_PASSWORD_ERROR,
            None,
            WaitsForPropagation,
        ),
        (
            "de no $Config, password wording",
            "de-passwd",
            DE_PASSWORD_ERROR,
            None,
            WaitsForPropagation,
        ),
        (
            "en locked account (50053): waiting cannot help",
            "en-passwd",
            "Your account is locked.",
            Some("50053"),
            Fails("signInError"),
        ),
    ];
    for (case, label, text, code, expect) in cases {
        let s = refused(
            fixture(label, "password"),
            "passwordError",
            Some(text),
            code,
        );
        assert_eq!(recognise(&View::new(&s)).kind(), "password", "{case}");
        let mut j = job();
        let d = decide(&mut j, &s, 2_000);
        match (&expect, &d) {
            (Fails(want), Decision::Fail { failure }) => {
                assert_eq!(failure.code(), *want, "{case}: {failure}")
            }
            (WaitsForPropagation, Decision::Wait { until_ms }) => {
                assert!(*until_ms > 2_000, "{case}: {d:?}");
                assert_eq!(j.tap_wait_since_ms, Some(2_000), "{case}");
            }
            _ => panic!("{case}: expected {expect:?}, got {d:?}"),
        }
    }
}

#[test]
fn username_page_errors_tell_an_unknown_user_from_other_errors() {
    // (case, fixture case, error text, $Config.iErrorCode, failure code)
    let cases = [
        (
            "en unknown user (50034)",
            "en",
            Some(EN_UNKNOWN_USER),
            Some("50034"),
            "unknownUser",
        ),
        (
            "de unknown user (50034)",
            "de",
            Some(DE_UNKNOWN_USER),
            Some("50034"),
            "unknownUser",
        ),
        (
            "en no $Config, unknown-user wording",
            "en",
            Some(EN_UNKNOWN_USER),
            None,
            "unknownUser",
        ),
        (
            "de no $Config, unknown-user wording",
            "de",
            Some(DE_UNKNOWN_USER),
            None,
            "unknownUser",
        ),
        (
            "en code 50034 without a visible message",
            "en",
            None,
            Some("50034"),
            "unknownUser",
        ),
        (
            "en code wins over the wording",
            "en",
            Some(EN_UNKNOWN_USER),
            Some("90100"),
            "signInError",
        ),
        (
            "en empty username (90100)",
            "en",
            Some("Enter a valid email address, phone number, or Skype name."),
            Some("90100"),
            "signInError",
        ),
        (
            "en no $Config, other wording",
            "en",
            Some("Something else went wrong."),
            None,
            "signInError",
        ),
    ];
    for (case, label, text, code, want) in cases {
        let s = refused(fixture(label, "username"), "usernameError", text, code);
        assert_eq!(recognise(&View::new(&s)).kind(), "username", "{case}");
        let mut j = job();
        match decide(&mut j, &s, 2_000) {
            Decision::Fail { failure } => {
                assert_eq!(failure.code(), want, "{case}: {failure}");
                if want == "unknownUser" {
                    assert!(failure.to_string().contains("user@contoso.com"), "{case}");
                }
            }
            d => panic!("{case}: expected {want}, got {d:?}"),
        }
    }
}

/// Security info as it renders before its list API call returns: the list
/// element is there, empty.
fn list_not_loaded(mut s: Snapshot) -> Snapshot {
    s.elements.retain(|e| e.role.as_deref() != Some("listitem"));
    for e in &mut s.elements {
        if e.role.as_deref() == Some("list") {
            e.text.clear();
        }
    }
    s
}

/// Security info with these entries in its list.
fn list_with(mut s: Snapshot, entries: &[&str]) -> Snapshot {
    s.elements.retain(|e| e.role.as_deref() != Some("listitem"));
    let at = s
        .elements
        .iter()
        .position(|e| e.role.as_deref() == Some("list"))
        .map_or(s.elements.len(), |i| i + 1);
    for (i, text) in entries.iter().enumerate() {
        let item = Element {
            handle: 50 + i as u32,
            tag: "div".into(),
            role: Some("listitem".into()),
            text: (*text).into(),
            visible: true,
            enabled: true,
            ..Default::default()
        };
        s.elements.insert(at + i, item);
    }
    s
}

#[test]
fn after_registration_a_rendered_list_without_the_key_is_not_listed() {
    let step_ms = Timeouts::default().step_ms;
    let rendered = fixture("en", "securityInfo");
    let listed = list_with(
        rendered.clone(),
        &["Phone +1 425 555 0100", "Security key IDM-KEY"],
    );
    // (case, snapshot at the deadline, expected code or "done")
    let cases = [
        ("list rendered, key missing", rendered.clone(), "notListed"),
        (
            "de list rendered, key missing",
            fixture("de", "securityInfo"),
            "notListed",
        ),
        (
            "list never rendered",
            list_not_loaded(rendered.clone()),
            "stepTimeout",
        ),
        ("key listed at the deadline", listed.clone(), "done"),
    ];
    for (case, at_deadline, want) in cases {
        let mut j = job();
        j.step = engine::job::Step::Finish;
        // Back on Security info after "Done": the list may still refresh.
        let first = decide(&mut j, &list_not_loaded(rendered.clone()), 10_000);
        assert_eq!(
            first,
            Decision::Wait {
                until_ms: 10_000 + step_ms
            },
            "{case}"
        );
        let before = decide(&mut j, &rendered, 10_000 + step_ms - 1);
        assert_eq!(
            before,
            Decision::Wait {
                until_ms: 10_000 + step_ms
            },
            "{case}: not before the deadline"
        );
        match (want, decide(&mut j, &at_deadline, 10_000 + step_ms)) {
            ("done", Decision::Done { key_name }) => assert_eq!(key_name, "IDM-KEY", "{case}"),
            (want, Decision::Fail { failure }) => {
                assert_eq!(failure.code(), want, "{case}: {failure}");
                if want == "notListed" {
                    assert!(failure.to_string().contains("IDM-KEY"), "{case}: {failure}");
                    assert!(failure.hint().contains("Security info"), "{case}");
                }
            }
            (want, d) => panic!("{case}: expected {want}, got {d:?}"),
        }
    }
    // The key showing before the deadline ends the job at once.
    let mut j = job();
    j.step = engine::job::Step::Finish;
    decide(&mut j, &rendered, 10_000);
    assert_eq!(
        decide(&mut j, &listed, 12_000),
        Decision::Done {
            key_name: "IDM-KEY".into()
        }
    );
}
