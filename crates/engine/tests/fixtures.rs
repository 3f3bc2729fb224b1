//! Replays the page snapshots captured from the simulator (`make fixtures`,
//! `tests/tools/capture-fixtures.mjs`): every locale, DOM variant and
//! failure scenario. Each fixture was seen by a job that ended exactly as
//! expected; these tests pin that the engine still recognises each page the
//! same way and still answers it the same way.

use engine::job::{Command, Decision, Job, Timeouts, TypedValue, decide};
use engine::page::recognise;
use engine::view::View;
use protocol::actuator::Snapshot;
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
        assert_eq!(name, f.page, "{label}/{name}: file name and label disagree");
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
        match (name.as_str(), &d) {
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
            ("fidoCreate", Decision::Wait { .. }) => {}
            ("proofUp", Decision::Fail { failure }) => {
                assert_eq!(failure.code(), "proofUpRequired", "{ctx}")
            }
            ("securityInfoError", Decision::Fail { failure }) => {
                let want = if label.ends_with("key-limit") {
                    "keyLimitReached"
                } else if label.ends_with("two-factor") {
                    "twoFactorRequired"
                } else if label.ends_with("attestation-rejected") {
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
