//! Every refusal of the vault, one line per case, each with its own error.

use std::sync::Arc;

use base64::Engine as _;
use vault::{
    Aaguid, Attestation, CreationOptions, KeyStore, MICROSOFT_ORIGIN, MasterKey, MemoryStore,
    RequestOptions, Vault, VaultError,
};

const USER: &str = "user-1";

struct Fixture {
    store: Arc<MemoryStore>,
    vault: Vault,
}

fn fixture() -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let vault = Vault::new(
        store.clone(),
        MasterKey::from_bytes([7; 32]),
        Attestation::generate(Aaguid::DEFAULT).expect("attestation"),
    );
    Fixture { store, vault }
}

fn ms_options() -> CreationOptions {
    CreationOptions::microsoft(
        b"challenge".to_vec(),
        b"handle".to_vec(),
        "u@contoso.com",
        "U",
    )
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A well-formed creation options JSON with one member replaced.
fn creation_json(patch: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v = serde_json::json!({
        "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
        "user": {"id": "aGFuZGxl", "name": "u@contoso.com", "displayName": "U"},
        "challenge": "Y2hhbGxlbmdl",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "excludeCredentials": []
    });
    patch(&mut v);
    v.to_string()
}

macro_rules! refuses {
    ($result:expr, $pattern:pat) => {{
        let result = $result;
        assert!(
            matches!(result, Err($pattern)),
            "{}: got {:?}",
            stringify!($pattern),
            result.map(|_| ())
        );
    }};
}

#[test]
fn creation_refusals() {
    let f = fixture();
    let v = &f.vault;
    let with_rp = |rp: &str| CreationOptions {
        rp_id: Some(rp.to_owned()),
        ..ms_options()
    };
    let with_algs = |algs: Vec<i64>| CreationOptions {
        algorithms: algs,
        ..ms_options()
    };

    refuses!(
        v.make_credential(
            USER,
            &with_rp("login.microsoftonline.com"),
            MICROSOFT_ORIGIN
        ),
        VaultError::RpIdMismatch { .. }
    );
    refuses!(
        v.make_credential(
            USER,
            &with_rp("microsoft.com"),
            "https://login.microsoft.evil.com"
        ),
        VaultError::RpIdMismatch { .. }
    );
    refuses!(
        v.make_credential(USER, &with_rp("com"), MICROSOFT_ORIGIN),
        VaultError::RpIdMismatch { .. }
    );
    refuses!(
        v.make_credential(USER, &ms_options(), "https://mysignins.microsoft.com"),
        VaultError::RpIdMismatch { .. }
    );
    refuses!(
        v.make_credential(USER, &ms_options(), "http://login.microsoft.com"),
        VaultError::InvalidOrigin { .. }
    );
    refuses!(
        v.make_credential(USER, &ms_options(), "login.microsoft.com"),
        VaultError::InvalidOrigin { .. }
    );
    refuses!(
        v.make_credential(USER, &with_algs(vec![-257]), MICROSOFT_ORIGIN),
        VaultError::UnsupportedAlgorithm { .. }
    );
    refuses!(
        v.make_credential(USER, &with_algs(vec![-8, -35]), MICROSOFT_ORIGIN),
        VaultError::UnsupportedAlgorithm { .. }
    );
    refuses!(
        v.make_credential(
            USER,
            &CreationOptions {
                challenge: vec![],
                ..ms_options()
            },
            MICROSOFT_ORIGIN
        ),
        VaultError::MalformedOptions { .. }
    );
    refuses!(
        v.make_credential(
            USER,
            &CreationOptions {
                user_handle: vec![0; 65],
                ..ms_options()
            },
            MICROSOFT_ORIGIN
        ),
        VaultError::MalformedOptions { .. }
    );

    // None of the refusals stored anything.
    assert!(v.credentials(USER).expect("list").is_empty());

    // The specific algorithm error names what the RP offered.
    match v.make_credential(USER, &with_algs(vec![-257, -37]), MICROSOFT_ORIGIN) {
        Err(e @ VaultError::UnsupportedAlgorithm { .. }) => {
            assert!(e.to_string().contains("[-257, -37]"), "{e}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // An empty list is the WebAuthn default (ES256, RS256): accepted.
    v.make_credential(USER, &with_algs(vec![]), MICROSOFT_ORIGIN)
        .expect("default algorithms");
}

#[test]
fn excluded_credential_is_refused_only_for_its_owner_and_rp() {
    let f = fixture();
    let v = &f.vault;
    let held = v
        .make_credential(USER, &ms_options(), MICROSOFT_ORIGIN)
        .expect("first key");
    let excluding = CreationOptions {
        exclude_credentials: vec![b"unknown".to_vec(), held.credential.credential_id.clone()],
        ..ms_options()
    };
    match v.make_credential(USER, &excluding, MICROSOFT_ORIGIN) {
        Err(e @ VaultError::CredentialExcluded { .. }) => {
            assert!(
                e.to_string().contains(&held.response.id),
                "names the credential: {e}"
            )
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // Another user of the vault is another authenticator: not excluded.
    v.make_credential("user-2", &excluding, MICROSOFT_ORIGIN)
        .expect("other user");
    // Same user, other RP: CTAP2 only excludes credentials of this RP.
    let other_rp = CreationOptions {
        rp_id: Some("example.org".into()),
        ..excluding
    };
    v.make_credential(USER, &other_rp, "https://example.org")
        .expect("other rp");
}

#[test]
fn malformed_options_json_each_name_the_member() {
    let v = fixture().vault;
    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "{rp:".to_owned(), "not JSON"),
        ("empty document", String::new(), "not JSON"),
        (
            "challenge missing",
            creation_json(|v| {
                v.as_object_mut().map(|o| o.remove("challenge"));
            }),
            "challenge",
        ),
        (
            "challenge not base64url",
            creation_json(|v| v["challenge"] = "a+b/c".into()),
            "challenge",
        ),
        (
            "challenge empty",
            creation_json(|v| v["challenge"] = "".into()),
            "challenge is empty",
        ),
        (
            "challenge a number",
            creation_json(|v| v["challenge"] = 5.into()),
            "challenge",
        ),
        (
            "user.id missing",
            creation_json(|v| v["user"] = serde_json::json!({"name": "x"})),
            "id",
        ),
        (
            "user.id not base64url",
            creation_json(|v| v["user"]["id"] = "***".into()),
            "user.id",
        ),
        (
            "user.id too long",
            creation_json(|v| v["user"]["id"] = b64url(&[1; 65]).into()),
            "user.id must be 1 to 64 bytes",
        ),
        (
            "pubKeyCredParams missing",
            creation_json(|v| {
                v.as_object_mut().map(|o| o.remove("pubKeyCredParams"));
            }),
            "pubKeyCredParams",
        ),
        (
            "alg not a number",
            creation_json(|v| v["pubKeyCredParams"][0]["alg"] = "ES256".into()),
            "invalid type",
        ),
        (
            "excluded id not base64url",
            creation_json(|v| {
                v["excludeCredentials"] = serde_json::json!([{"type": "public-key", "id": "!!"}])
            }),
            "excludeCredentials[0].id",
        ),
        (
            "rp missing",
            creation_json(|v| {
                v.as_object_mut().map(|o| o.remove("rp"));
            }),
            "rp",
        ),
    ];
    for (name, json, expected) in cases {
        match v.make_credential_json(USER, &json, MICROSOFT_ORIGIN) {
            Err(VaultError::MalformedOptions {
                what: "creation",
                detail,
            }) => {
                assert!(
                    detail.contains(expected),
                    "{name}: {detail:?} lacks {expected:?}"
                )
            }
            other => panic!("{name}: {:?}", other.map(|_| ())),
        }
    }

    let request_cases = [
        ("not JSON", "[", "not JSON"),
        (
            "challenge missing",
            r#"{"rpId": "login.microsoft.com"}"#,
            "challenge",
        ),
        (
            "allowCredentials id bad",
            r#"{"challenge": "YQ", "allowCredentials": [{"type": "public-key", "id": "%%"}]}"#,
            "allowCredentials[0].id",
        ),
    ];
    for (name, json, expected) in request_cases {
        match v.get_assertion_json(USER, json, MICROSOFT_ORIGIN) {
            Err(VaultError::MalformedOptions {
                what: "request",
                detail,
            }) => {
                assert!(
                    detail.contains(expected),
                    "{name}: {detail:?} lacks {expected:?}"
                )
            }
            other => panic!("{name}: {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn assertion_refusals() {
    let f = fixture();
    let v = &f.vault;
    let reg = v
        .make_credential(USER, &ms_options(), MICROSOFT_ORIGIN)
        .expect("registered");
    let id = reg.credential.credential_id.clone();
    let req = |rp: &str, allow: Vec<Vec<u8>>| RequestOptions::new(rp, b"c".to_vec(), allow);

    refuses!(
        v.get_assertion(
            "stranger",
            &req("login.microsoft.com", vec![]),
            MICROSOFT_ORIGIN
        ),
        VaultError::NoCredential { .. }
    );
    refuses!(
        v.get_assertion(
            "stranger",
            &req("login.microsoft.com", vec![id.clone()]),
            MICROSOFT_ORIGIN
        ),
        VaultError::NoCredential { .. }
    );
    refuses!(
        v.get_assertion(
            USER,
            &req("login.microsoft.com", vec![b"other".to_vec()]),
            MICROSOFT_ORIGIN
        ),
        VaultError::NoCredential { .. }
    );
    refuses!(
        v.get_assertion(USER, &req("example.org", vec![]), "https://example.org"),
        VaultError::NoCredential { .. }
    );
    refuses!(
        v.get_assertion(USER, &req("example.org", vec![]), MICROSOFT_ORIGIN),
        VaultError::RpIdMismatch { .. }
    );
    refuses!(
        v.get_assertion(
            USER,
            &RequestOptions::new("login.microsoft.com", vec![], vec![]),
            MICROSOFT_ORIGIN
        ),
        VaultError::MalformedOptions { .. }
    );

    // And the happy path still works, by list and by discovery.
    v.get_assertion(
        USER,
        &req("login.microsoft.com", vec![id]),
        MICROSOFT_ORIGIN,
    )
    .expect("by id");
    v.get_assertion(
        USER,
        &RequestOptions {
            rp_id: None,
            ..req("x", vec![])
        },
        MICROSOFT_ORIGIN,
    )
    .expect("rp from origin");
}

#[test]
fn tampered_moved_and_foreign_key_records_are_refused_distinctly() {
    let f = fixture();
    let a = f
        .vault
        .make_credential(USER, &ms_options(), MICROSOFT_ORIGIN)
        .expect("a");
    let b = f
        .vault
        .make_credential(USER, &ms_options(), MICROSOFT_ORIGIN)
        .expect("b");
    let load = |id: &[u8]| f.store.load(USER, id).expect("store").expect("record");
    let sign_with = |vault: &Vault, id: &[u8]| {
        vault.get_assertion(
            USER,
            &RequestOptions::new("login.microsoft.com", b"c".to_vec(), vec![id.to_vec()]),
            MICROSOFT_ORIGIN,
        )
    };
    let a_id = a.credential.credential_id.clone();
    let b_id = b.credential.credential_id.clone();
    let original_a = load(&a_id);

    // One flipped ciphertext bit.
    let mut tampered = original_a.clone();
    tampered.sealed_private_key[30] ^= 0x01;
    f.store.replace(tampered).expect("replace");
    refuses!(sign_with(&f.vault, &a_id), VaultError::TamperedKey { .. });
    // The failed attempt did not use up a counter value.
    assert_eq!(load(&a_id).sign_count, 0);

    // B's sealed key pasted into A's record: authentic ciphertext, wrong binding.
    let mut moved = original_a.clone();
    moved.sealed_private_key = load(&b_id).sealed_private_key;
    f.store.replace(moved).expect("replace");
    refuses!(sign_with(&f.vault, &a_id), VaultError::TamperedKey { .. });

    // Truncated: unusable rather than "tampered".
    let mut short = original_a.clone();
    short.sealed_private_key.truncate(20);
    f.store.replace(short).expect("replace");
    refuses!(sign_with(&f.vault, &a_id), VaultError::CorruptRecord { .. });

    // Restored, it signs again.
    f.store.replace(original_a).expect("replace");
    sign_with(&f.vault, &a_id).expect("restored record works");

    // The same store opened with another vault key.
    let other = Vault::new(
        f.store.clone(),
        MasterKey::from_bytes([8; 32]),
        Attestation::generate(Aaguid::DEFAULT).expect("att"),
    );
    match sign_with(&other, &b_id) {
        Err(e @ VaultError::WrongVaultKey { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains(&MasterKey::from_bytes([7; 32]).key_id()),
                "{text}"
            );
            assert!(
                text.contains(&MasterKey::from_bytes([8; 32]).key_id()),
                "{text}"
            );
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn error_texts_and_debug_never_show_key_material() {
    let key_bytes = [0x5a; 32];
    let key = MasterKey::from_bytes(key_bytes);
    let debug = format!("{key:?}");
    assert!(debug.starts_with("MasterKey(id "), "{debug}");
    let b64 = base64::engine::general_purpose::STANDARD.encode(key_bytes);
    let bad = MasterKey::from_base64(&b64[..40], "test input").expect_err("short key");
    assert!(!bad.to_string().contains(&b64[..40]), "{bad}");

    let f = fixture();
    let reg = f
        .vault
        .make_credential(USER, &ms_options(), MICROSOFT_ORIGIN)
        .expect("reg");
    let record = f
        .store
        .load(USER, &reg.credential.credential_id)
        .expect("store")
        .expect("record");
    let shown = format!("{record:?} {:?} {:?}", f.vault, f.vault.attestation());
    let sealed_hex: String = record
        .sealed_private_key
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!shown.contains(&sealed_hex[..16]));
    assert!(!shown.contains("PRIVATE KEY"));
}
