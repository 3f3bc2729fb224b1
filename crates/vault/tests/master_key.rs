//! Where the vault key comes from: a key file (created 0600 on first use) or
//! base64 text from the environment.

use std::path::PathBuf;

use base64::Engine as _;
use vault::{MasterKey, VaultError};

/// A fresh directory per test, removed by the test at the end.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vault-key-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn key_file_is_created_private_once_and_reused() {
    let dir = temp_dir("create");
    let path = dir.join("vault.key");
    let first = MasterKey::load_or_create_file(&path).expect("created");
    assert_eq!(
        std::fs::read(&path).expect("read").len(),
        32,
        "32 raw bytes"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = MasterKey::load_or_create_file(&path).expect("reloaded");
    assert_eq!(
        first.key_id(),
        second.key_id(),
        "the same key, not a new one"
    );
    assert_eq!(
        MasterKey::from_file(&path).expect("from_file").key_id(),
        first.key_id()
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn key_file_may_hold_base64_text() {
    let dir = temp_dir("b64");
    let path = dir.join("vault.key");
    let text = base64::engine::general_purpose::STANDARD.encode([3u8; 32]) + "\n";
    write_private(&path, text.as_bytes());
    assert_eq!(
        MasterKey::from_file(&path).expect("base64 file").key_id(),
        MasterKey::from_bytes([3; 32]).key_id()
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn bad_key_files_are_refused() {
    let dir = temp_dir("bad");
    let cases: [(&str, &[u8], u32, &str); 4] = [
        ("too short", &[1; 16], 0o600, "it has 16 bytes"),
        (
            "binary garbage",
            &[0xff; 40],
            0o600,
            "32 raw bytes or their base64",
        ),
        (
            "base64 of 16 bytes",
            b"AAAAAAAAAAAAAAAAAAAAAA==",
            0o600,
            "exactly 32 bytes",
        ),
        ("readable by others", &[1; 32], 0o644, "chmod 600"),
    ];
    for (name, content, mode, expected) in cases {
        let path = dir.join(name.replace(' ', "_"));
        write_private(&path, content);
        set_mode(&path, mode);
        if cfg!(not(unix)) && mode != 0o600 {
            continue;
        }
        match MasterKey::load_or_create_file(&path) {
            Err(VaultError::VaultKey { detail, .. }) => {
                assert!(detail.contains(expected), "{name}: {detail}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let missing = MasterKey::from_file(&dir.join("missing"));
    assert!(matches!(missing, Err(VaultError::Io { .. })), "{missing:?}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn base64_keys_in_both_alphabets_with_or_without_padding() {
    let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(250));
    let id = MasterKey::from_bytes(bytes).key_id();
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        let text = engine.encode(bytes);
        assert_eq!(
            MasterKey::from_base64(&text, "test").expect(&text).key_id(),
            id
        );
    }
}

#[test]
fn environment_variable_errors_are_specific() {
    let unset = MasterKey::from_env("VAULT_TEST_SURELY_UNSET_VARIABLE_4711");
    match unset {
        Err(VaultError::VaultKey {
            source_name,
            detail,
        }) => {
            assert!(source_name.contains("VAULT_TEST_SURELY_UNSET_VARIABLE_4711"));
            assert_eq!(detail, "is not set");
        }
        other => panic!("{other:?}"),
    }
    // PATH is set but is no key; the message must not echo its value.
    if let Ok(path) = std::env::var("PATH") {
        let err = MasterKey::from_env("PATH").expect_err("PATH is not a key");
        assert!(!err.to_string().contains(&path), "{err}");
    }
}

fn write_private(path: &std::path::Path, content: &[u8]) {
    std::fs::write(path, content).expect("write");
    set_mode(path, 0o600);
}

fn set_mode(path: &std::path::Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}
