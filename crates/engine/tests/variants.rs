//! Microsoft's real variety, one case per class (issue 10): the newer
//! sign-in layout, ARIA-only dialog controls, a disabled Next, skippable
//! interrupts, "Try again", other languages, the passkey flow, a refusal
//! after naming, and the sign-in check's "Sign-in options" route. Each
//! snapshot is written as the actuator reports it (computed role,
//! accessible name, testid, form); none carries the ids or classes of the
//! classic pages.

use engine::job::{Command, Decision, Job, Step, Timeouts, TypedValue, decide};
use engine::page::{Page, recognise, recognise_with_cues};
use engine::view::View;
use protocol::actuator::{Element, PageConfig, Snapshot};
use protocol::panel::Mode;

fn el(handle: u32, tag: &str, role: &str, label: &str) -> Element {
    Element {
        handle,
        tag: tag.into(),
        role: (!role.is_empty()).then(|| role.into()),
        label: (!label.is_empty()).then(|| label.into()),
        text: if tag == "input" {
            String::new()
        } else {
            label.into()
        },
        visible: true,
        enabled: true,
        ..Default::default()
    }
}

fn with(mut e: Element, f: impl FnOnce(&mut Element)) -> Element {
    f(&mut e);
    e
}

fn snap(url: &str, doc: &str, lang: &str, elements: Vec<Element>) -> Snapshot {
    Snapshot {
        document: doc.into(),
        url: url.into(),
        lang: lang.into(),
        elements,
        http_status: 200,
        ..Default::default()
    }
}

const LOGIN: &str = "https://login.microsoftonline.com/common/login";
const SI: &str = "https://mysignins.microsoft.com/security-info";

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

fn act(d: &Decision) -> &[Command] {
    match d {
        Decision::Act { commands } => commands,
        other => panic!("expected Act, got {other:?}"),
    }
}

fn page(s: &Snapshot) -> Page {
    recognise(&View::new(s))
}

/// The newer layout's box page: an `h1` title, the input by name with a
/// generated id, `<button type=submit>` told apart by testid.
fn fluent_box(doc: &str, input_name: &str, ty: &str, primary: &str, lang: &str) -> Snapshot {
    let mut s = snap(
        LOGIN,
        doc,
        lang,
        vec![
            el(1, "form", "form", ""),
            with(el(2, "h1", "heading", "Sign in"), |e| {
                e.id = Some("x-3f9a".into())
            }),
            with(el(3, "input", "textbox", "Email, phone, or Skype"), |e| {
                e.name = Some(input_name.into());
                e.input_type = Some(ty.into());
                e.id = Some("gen-71bd".into());
                e.form = Some(1);
            }),
            with(el(4, "button", "button", "Back"), |e| {
                e.testid = Some("secondaryButton".into());
                e.submit = true;
                e.form = Some(1);
            }),
            with(el(5, "button", "button", primary), |e| {
                e.testid = Some("primaryButton".into());
                e.submit = true;
                e.form = Some(1);
            }),
        ],
    );
    s.config = Some(PageConfig {
        pgid: Some("ConvergedSignIn".into()),
        ..Default::default()
    });
    s
}

#[test]
fn newer_layout_username_and_tap_pages_by_input_name_and_testid() {
    let mut j = job();
    let s = fluent_box("u1", "loginfmt", "email", "Next", "en");
    let r = recognise_with_cues(&View::new(&s));
    assert!(
        matches!(
            r.page,
            Page::Username {
                input: 3,
                submit: 5,
                ..
            }
        ),
        "{r:?}"
    );
    assert!(r.cues.contains(&"input:loginfmt"), "{:?}", r.cues);
    assert_eq!(
        act(&decide(&mut j, &s, 1_100)),
        [
            Command::Fill {
                handle: 3,
                value: TypedValue::Text("user@contoso.com".into())
            },
            Command::Click { handle: 5 }
        ]
    );
    let tap = fluent_box("u2", "accesspass", "password", "Sign in", "en");
    assert_eq!(
        act(&decide(&mut j, &tap, 1_200)),
        [
            Command::Fill {
                handle: 3,
                value: TypedValue::AccessPass
            },
            Command::Click { handle: 5 }
        ]
    );
}

#[test]
fn a_box_without_microsofts_names_is_known_by_its_type_and_label() {
    let mut s = fluent_box("u1", "", "password", "Sign in", "en");
    s.elements[2].name = None;
    s.elements[2].label = Some("Temporary Access Pass".into());
    assert!(matches!(page(&s), Page::AccessPass { input: 3, .. }));
    s.elements[2].label = Some("Password".into());
    assert!(matches!(page(&s), Page::Password { input: 3, .. }));
}

#[test]
fn stay_signed_in_no_before_yes_answers_no_by_its_words() {
    let mut j = job();
    for (lang, title, yes, no) in [
        ("en", "Stay signed in?", "Yes", "No"),
        ("es", "¿Quiere mantener la sesión iniciada?", "Sí", "No"),
        ("ko", "로그인 상태를 유지하시겠습니까?", "예", "아니요"),
        ("ar", "هل تريد البقاء قيد تسجيل الدخول؟", "نعم", "لا"),
    ] {
        let s = snap(
            LOGIN,
            &format!("k-{lang}"),
            lang,
            vec![
                el(1, "h1", "heading", title),
                with(el(2, "button", "button", no), |e| {
                    e.testid = Some("secondaryButton".into())
                }),
                with(el(3, "button", "button", yes), |e| {
                    e.testid = Some("primaryButton".into());
                    e.submit = true;
                }),
            ],
        );
        assert_eq!(page(&s), Page::StaySignedIn { yes: 3, no: 2 }, "{lang}");
        assert_eq!(
            act(&decide(&mut j, &s, 1_100)),
            [Command::Click { handle: 2 }],
            "{lang}"
        );
    }
}

#[test]
fn stay_signed_in_without_words_goes_by_the_layout_marks() {
    // A language whose words the table lacks: the testids still tell.
    let s = snap(
        LOGIN,
        "k1",
        "xx",
        vec![
            with(el(1, "div", "heading", "???"), |_| {}),
            with(el(2, "button", "button", "b"), |e| {
                e.testid = Some("secondaryButton".into())
            }),
            with(el(3, "button", "button", "a"), |e| {
                e.testid = Some("primaryButton".into())
            }),
        ],
    );
    let mut s = s;
    s.config = Some(PageConfig {
        pgid: Some("KmsiInterrupt".into()),
        ..Default::default()
    });
    assert_eq!(page(&s), Page::StaySignedIn { yes: 3, no: 2 });
}

#[test]
fn skippable_interrupts_are_skipped_never_their_next() {
    let cases = [
        ("More information required", "Ask later", "Next", "moreInfo"),
        (
            "Let's keep your account secure",
            "Skip for now",
            "Next",
            "campaign",
        ),
        ("Protect your account", "Skip setup", "Next", "campaign2"),
        (
            "Más información necesaria",
            "Preguntar más tarde",
            "Siguiente",
            "es",
        ),
    ];
    for (title, skip, next, doc) in cases {
        let mut j = job();
        let s = snap(
            LOGIN,
            doc,
            "en",
            vec![
                el(1, "h1", "heading", title),
                el(2, "div", "", "Microsoft Authenticator"),
                with(el(3, "button", "button", next), |e| {
                    e.testid = Some("primaryButton".into());
                    e.submit = true;
                }),
                el(4, "a", "link", skip),
            ],
        );
        assert!(
            matches!(page(&s), Page::Interrupt { skip: 4, .. }),
            "{doc}: {:?}",
            page(&s)
        );
        assert_eq!(
            act(&decide(&mut j, &s, 1_100)),
            [Command::Click { handle: 4 }],
            "{doc}"
        );
        assert_eq!(j.step, Step::Interrupt);
    }
}

#[test]
fn an_interrupt_with_no_way_past_is_proof_up_required() {
    let mut j = job();
    let s = snap(
        LOGIN,
        "p1",
        "en",
        vec![
            el(1, "h1", "heading", "More information required"),
            with(el(2, "button", "button", "Next"), |e| {
                e.testid = Some("primaryButton".into())
            }),
        ],
    );
    match decide(&mut j, &s, 1_100) {
        Decision::Fail { failure } => assert_eq!(failure.code(), "proofUpRequired"),
        d => panic!("{d:?}"),
    }
}

fn dialog(handle: u32) -> Element {
    with(el(handle, "div", "dialog", "Add a method"), |e| {
        e.text.clear()
    })
}

fn in_dialog(mut e: Element, d: u32) -> Element {
    e.dialog = Some(d);
    e
}

/// Security info's list and the ARIA-only picker: `div role=button` and
/// `div role=option`, no id, no class.
fn aria_picker(doc: &str, options: &[&str], chosen: Option<usize>, open: bool) -> Snapshot {
    let mut elements = vec![
        el(1, "h1", "heading", "Security info"),
        el(2, "div", "list", "Password"),
        el(3, "div", "listitem", "Password"),
        dialog(10),
        in_dialog(
            with(
                el(11, "div", "combobox", "Authentication method options"),
                |e| {
                    e.text = chosen.map(|i| options[i].to_string()).unwrap_or_default();
                    e.expanded = Some(open);
                },
            ),
            10,
        ),
        in_dialog(el(12, "div", "button", "Cancel"), 10),
        in_dialog(
            with(el(13, "div", "button", "Add"), |e| {
                e.enabled = chosen.is_some()
            }),
            10,
        ),
    ];
    if open {
        for (i, o) in options.iter().enumerate() {
            elements.push(with(el(20 + i as u32, "div", "option", o), |e| {
                e.checked = Some(chosen == Some(i))
            }));
        }
    }
    snap(SI, doc, "en", elements)
}

#[test]
fn aria_only_picker_opens_chooses_security_key_and_adds() {
    let opts = ["Microsoft Authenticator", "Security key", "Phone"];
    let mut j = job();
    j.list_wait_since_ms = None;
    assert_eq!(
        act(&decide(
            &mut j,
            &aria_picker("d1", &opts, None, false),
            1_100
        )),
        [Command::Click { handle: 11 }]
    );
    assert_eq!(
        act(&decide(
            &mut j,
            &aria_picker("d1", &opts, None, true),
            1_200
        )),
        [Command::Click { handle: 21 }]
    );
    assert_eq!(
        act(&decide(
            &mut j,
            &aria_picker("d1", &opts, Some(1), false),
            1_300
        )),
        [Command::Click { handle: 13 }]
    );
}

#[test]
fn passkey_flow_picks_the_generic_passkey_never_authenticators() {
    for label in ["Passkey (preview)", "Passkey (FIDO2)", "Passkey"] {
        let opts = [
            "Passkey in Microsoft Authenticator",
            "Microsoft Authenticator",
            label,
            "Phone",
        ];
        let mut j = job();
        let open = aria_picker("d1", &opts, None, true);
        assert_eq!(
            act(&decide(&mut j, &open, 1_200)),
            [Command::Click { handle: 22 }],
            "{label}"
        );
        let chosen = aria_picker("d1", &opts, Some(2), false);
        assert_eq!(
            act(&decide(&mut j, &chosen, 1_300)),
            [Command::Click { handle: 13 }],
            "{label}"
        );
    }
}

#[test]
fn security_key_is_found_in_many_languages() {
    for (lang, option) in [
        ("es", "Llave de seguridad"),
        ("ko", "보안 키"),
        ("zh-Hans", "安全密钥"),
        ("ja", "セキュリティキー"),
        ("ru", "Ключ безопасности"),
        ("pt-BR", "Chave de segurança"),
    ] {
        let opts = ["Microsoft Authenticator", option];
        let mut s = aria_picker(lang, &opts, None, true);
        s.lang = lang.into();
        match page(&s) {
            Page::MethodPicker {
                option: Some(21), ..
            } => {}
            p => panic!("{lang}: {p:?}"),
        }
    }
}

#[test]
fn naming_step_with_a_disabled_next_is_filled_then_next_pressed() {
    let mut j = job();
    let s = snap(
        SI,
        "n1",
        "en",
        vec![
            dialog(10),
            in_dialog(el(11, "div", "heading", "Name your security key"), 10),
            in_dialog(
                with(el(12, "input", "textbox", "Name"), |e| {
                    e.input_type = Some("text".into());
                    e.filled = Some(false);
                }),
                10,
            ),
            in_dialog(el(13, "div", "button", "Cancel"), 10),
            in_dialog(
                with(el(14, "div", "button", "Next"), |e| e.enabled = false),
                10,
            ),
        ],
    );
    assert_eq!(
        page(&s),
        Page::NameKey {
            input: 12,
            next: 14
        }
    );
    assert_eq!(
        act(&decide(&mut j, &s, 1_100)),
        [
            Command::Fill {
                handle: 12,
                value: TypedValue::Text("IDM-KEY".into())
            },
            Command::Click { handle: 14 }
        ]
    );
}

fn wizard_error(doc: &str, text: &str) -> Snapshot {
    snap(
        SI,
        doc,
        "en",
        vec![
            dialog(10),
            in_dialog(el(11, "div", "alert", text), 10),
            in_dialog(el(12, "div", "button", "Cancel"), 10),
            in_dialog(
                with(el(13, "button", "button", "Try again"), |e| {
                    e.class = "ms-Button ms-Button--primary".into()
                }),
                10,
            ),
        ],
    )
}

#[test]
fn try_again_is_pressed_twice_then_the_page_text_fails_the_job() {
    let mut j = job();
    let text = "Something went wrong. Please try again.";
    assert_eq!(
        act(&decide(&mut j, &wizard_error("e1", text), 1_100)),
        [Command::Click { handle: 13 }]
    );
    // Our press is still taking effect.
    assert!(matches!(
        decide(&mut j, &wizard_error("e1", text), 1_200),
        Decision::Wait { .. }
    ));
    // The error again after the pause: pressed once more.
    assert_eq!(
        act(&decide(&mut j, &wizard_error("e1", text), 4_200)),
        [Command::Click { handle: 13 }]
    );
    match decide(&mut j, &wizard_error("e1", text), 7_300) {
        Decision::Fail { failure } => {
            assert_eq!(failure.code(), "registrationFailed");
            assert!(failure.to_string().contains("Something went wrong"));
        }
        d => panic!("{d:?}"),
    }
    let tries: Vec<_> = j
        .timeline
        .iter()
        .filter(|r| r.step.starts_with("securityInfo.tryAgain"))
        .collect();
    assert_eq!(tries.len(), 2, "{:?}", j.timeline);
}

#[test]
fn a_key_model_refused_after_naming_is_attestation_rejected_in_every_language() {
    for text in [
        "This security key doesn't meet your organization's requirements.",
        "Esta llave de seguridad no cumple los requisitos de su organización.",
        "このセキュリティ キーは、組織のキー要件を満たしていません。",
    ] {
        let mut j = job();
        let s = snap(
            SI,
            "r1",
            "en",
            vec![
                dialog(10),
                in_dialog(el(11, "div", "alert", text), 10),
                in_dialog(el(12, "div", "button", "Close"), 10),
            ],
        );
        match decide(&mut j, &s, 1_100) {
            Decision::Fail { failure } => {
                assert_eq!(failure.code(), "attestationRejected", "{text}")
            }
            d => panic!("{text}: {d:?}"),
        }
    }
}

#[test]
fn sign_in_check_takes_sign_in_options_then_the_security_key_tile() {
    let mut j = job();
    j.verify_sign_in = true;
    j.step = Step::VerifySignIn;
    j.step_started_ms = 1_000;
    let mut user = fluent_box("c1", "loginfmt", "email", "Next", "en");
    user.elements
        .push(el(9, "button", "button", "Sign-in options"));
    assert_eq!(
        act(&decide(&mut j, &user, 1_100)),
        [Command::Click { handle: 9 }]
    );
    let options = snap(
        LOGIN,
        "c1",
        "en",
        vec![
            el(1, "h1", "heading", "Sign-in options"),
            el(2, "div", "button", "Face, fingerprint, PIN or security key"),
            el(3, "div", "button", "Sign in with GitHub"),
            el(4, "button", "button", "Back"),
        ],
    );
    assert_eq!(page(&options), Page::SignInOptions { fido: 2 });
    assert_eq!(
        act(&decide(&mut j, &options, 1_200)),
        [Command::Click { handle: 2 }]
    );
}

#[test]
fn a_right_to_left_security_info_with_every_variant_at_once() {
    // Arabic, ARIA-only controls, no ids or classes.
    let mut j = job();
    let mut s = snap(
        SI,
        "ar1",
        "ar",
        vec![
            el(1, "h1", "heading", "معلومات الأمان"),
            el(2, "div", "list", "كلمة المرور"),
            el(3, "div", "listitem", "كلمة المرور"),
            el(4, "div", "button", "إضافة أسلوب تسجيل الدخول"),
        ],
    );
    s.dir = "rtl".into();
    assert!(
        matches!(page(&s), Page::SecurityInfo { add: Some(4), .. }),
        "{:?}",
        page(&s)
    );
    assert_eq!(
        act(&decide(&mut j, &s, 1_100)),
        [Command::Click { handle: 4 }]
    );
}

#[test]
fn passkey_flow_names_with_done_and_goes_straight_to_the_list() {
    let mut j = job();
    j.registered(1_050);
    let name = snap(
        SI,
        "pk1",
        "en",
        vec![
            dialog(10),
            in_dialog(el(11, "div", "heading", "Passkey saved"), 10),
            in_dialog(
                with(el(12, "input", "textbox", "Name"), |e| {
                    e.input_type = Some("text".into());
                    e.filled = Some(true);
                }),
                10,
            ),
            in_dialog(
                with(el(13, "button", "button", "Done"), |e| {
                    e.class = "ms-Button ms-Button--primary".into()
                }),
                10,
            ),
        ],
    );
    assert_eq!(
        page(&name),
        Page::NameKey {
            input: 12,
            next: 13
        }
    );
    assert_eq!(
        act(&decide(&mut j, &name, 1_100)),
        [
            Command::Fill {
                handle: 12,
                value: TypedValue::Text("IDM-KEY".into())
            },
            Command::Click { handle: 13 }
        ]
    );
    let listed = snap(
        SI,
        "pk1",
        "en",
        vec![
            el(1, "h1", "heading", "Security info"),
            el(2, "div", "list", "Passkey IDM-KEY"),
            el(3, "div", "listitem", "Passkey IDM-KEY"),
            el(4, "button", "button", "Add sign-in method"),
        ],
    );
    assert_eq!(
        decide(&mut j, &listed, 1_200),
        Decision::Done {
            key_name: "IDM-KEY".into()
        }
    );
}

#[test]
fn a_native_select_picker_and_method_tiles_both_choose_the_key() {
    // <select> with <option>s (the actuator reports a select's chosen text).
    let mut j = job();
    let select = |doc: &str, chosen: bool| {
        snap(
            SI,
            doc,
            "en",
            vec![
                dialog(10),
                in_dialog(
                    with(el(11, "select", "combobox", "Choose a method"), |e| {
                        e.text = if chosen { "Security key" } else { "Choose" }.into()
                    }),
                    10,
                ),
                with(el(12, "option", "option", "Authenticator app"), |e| {
                    e.dialog = Some(10)
                }),
                with(el(13, "option", "option", "Security key"), |e| {
                    e.dialog = Some(10);
                    e.checked = Some(chosen);
                }),
                in_dialog(el(14, "button", "button", "Add"), 10),
            ],
        )
    };
    assert_eq!(
        act(&decide(&mut j, &select("s1", false), 1_100)),
        [Command::Click { handle: 13 }]
    );
    assert_eq!(
        act(&decide(&mut j, &select("s1", true), 1_200)),
        [Command::Click { handle: 14 }]
    );
    // Tiles: buttons named for each method, no list at all.
    let tiles = snap(
        SI,
        "t1",
        "en",
        vec![
            dialog(10),
            in_dialog(
                el(11, "button", "button", "Passkey in Microsoft Authenticator"),
                10,
            ),
            in_dialog(el(12, "button", "button", "Security key"), 10),
            in_dialog(el(13, "button", "button", "Cancel"), 10),
        ],
    );
    assert!(
        matches!(
            page(&tiles),
            Page::MethodPicker {
                option: Some(12),
                ..
            }
        ),
        "{:?}",
        page(&tiles)
    );
}

#[test]
fn the_classic_ask_later_input_skips_by_its_id() {
    let mut j = job();
    let s = snap(
        LOGIN,
        "al1",
        "de",
        vec![
            el(1, "div", "heading", "Weitere Informationen erforderlich"),
            with(el(2, "input", "button", "Später fragen"), |e| {
                e.id = Some("btnAskLater".into());
                e.input_type = Some("button".into());
            }),
            with(el(3, "input", "button", "Weiter"), |e| {
                e.id = Some("idSubmit_ProofUp_Redirect".into());
                e.input_type = Some("submit".into());
            }),
        ],
    );
    assert_eq!(
        act(&decide(&mut j, &s, 1_100)),
        [Command::Click { handle: 2 }]
    );
}

#[test]
fn a_key_shown_outside_any_list_role_still_confirms() {
    let mut j = job();
    j.registered(1_050);
    j.step = Step::Finish;
    let s = snap(
        SI,
        "l1",
        "en",
        vec![
            el(1, "h1", "heading", "Security info"),
            el(2, "button", "button", "Add sign-in method"),
            el(3, "a", "link", "Delete IDM-KEY"),
        ],
    );
    assert_eq!(
        decide(&mut j, &s, 1_100),
        Decision::Done {
            key_name: "IDM-KEY".into()
        }
    );
}

#[test]
fn newer_layout_testids_and_kmsi_accept_decline_ids() {
    // Inputs known by testid alone (no name), KMSI by its button ids.
    let mut s = fluent_box("t1", "", "text", "Next", "en");
    s.elements[2].name = None;
    s.elements[2].testid = Some("i0116".into());
    assert!(matches!(page(&s), Page::Username { input: 3, .. }));
    s.elements[2].testid = Some("i0118".into());
    s.elements[2].input_type = Some("password".into());
    assert!(matches!(page(&s), Page::Password { input: 3, .. }));
    let k = snap(
        LOGIN,
        "k1",
        "fi",
        vec![
            el(1, "div", "", "?"),
            with(el(2, "button", "button", "x"), |e| {
                e.id = Some("declineButton".into())
            }),
            with(el(3, "button", "button", "y"), |e| {
                e.id = Some("acceptButton".into())
            }),
        ],
    );
    assert_eq!(page(&k), Page::StaySignedIn { yes: 3, no: 2 });
}
