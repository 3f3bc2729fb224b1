//! Start-up steps `main.rs` runs before serving, kept here so tests can run
//! them: the first Owner from the environment, and the vault's attestation
//! (AAGUID and batch certificate).

use std::path::{Path, PathBuf};

use crate::auth::{self, Account, Role};
use crate::{Db, crypto, log};

/// The first Owner's user name, read once at start on an empty database.
pub const OWNER_USER_ENV: &str = "PANEL_OWNER_USER";
/// Its password; the same strength rule as `POST /api/accounts`.
pub const OWNER_PASSWORD_ENV: &str = "PANEL_OWNER_PASSWORD";

/// What [`first_owner`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstOwner {
    /// The database has accounts already; the variables are ignored.
    NotNeeded,
    /// This Owner was created.
    Created(String),
    /// No accounts, and the variables are missing: the log says how to
    /// create the first Owner.
    Missing,
}

/// On a database without accounts, creates the Owner named by
/// [`OWNER_USER_ENV`] / [`OWNER_PASSWORD_ENV`] (`user`, `password` here),
/// checked like the account API checks a new account. A user name or
/// password that fails the check stops the start, so a typo is not
/// mistaken for a working sign-in.
pub fn first_owner(
    db: &Db,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<FirstOwner, String> {
    let empty: bool = db
        .lock()
        .map_err(|e| e.to_string())?
        .query_row("SELECT NOT EXISTS (SELECT 1 FROM accounts)", [], |r| {
            r.get(0)
        })
        .map_err(|e| e.to_string())?;
    if !empty {
        return Ok(FirstOwner::NotNeeded);
    }
    let user = user.map(str::trim).filter(|u| !u.is_empty());
    let password = password.filter(|p| !p.is_empty());
    let (Some(user), Some(password)) = (user, password) else {
        let missing: Vec<&str> = [
            (user.is_none(), OWNER_USER_ENV),
            (password.is_none(), OWNER_PASSWORD_ENV),
        ]
        .into_iter()
        .filter_map(|(m, name)| m.then_some(name))
        .collect();
        log(&format!(
            "the database has no accounts, so nobody can sign in: set {OWNER_USER_ENV} and \
             {OWNER_PASSWORD_ENV} ({} characters or more) in the environment and restart to create \
             the first Owner (missing: {})",
            auth::MIN_PASSWORD_LEN,
            missing.join(", ")
        ));
        return Ok(FirstOwner::Missing);
    };
    auth::check_username(user).map_err(|e| format!("{OWNER_USER_ENV}: {e}"))?;
    auth::check_new_password(password).map_err(|e| format!("{OWNER_PASSWORD_ENV}: {e}"))?;
    let phc = crypto::hash_password(password).map_err(|e| e.to_string())?;
    let id = auth::insert_account(db, user, &phc, Role::Owner, true).map_err(|e| e.to_string())?;
    let owner = Account {
        id,
        username: user.to_string(),
        role: Role::Owner,
        edit_users: true,
    };
    db.tx(|tx| {
        auth::record(
            tx,
            &owner,
            "account.create",
            None,
            &format!("{user} (owner) from {OWNER_USER_ENV} at start"),
        )
    })
    .map_err(|e| e.to_string())?;
    // The name only: the password is never logged.
    log(&format!(
        "first Owner account {user:?} created from {OWNER_USER_ENV}/{OWNER_PASSWORD_ENV}; \
         remove {OWNER_PASSWORD_ENV} from the environment now"
    ));
    Ok(FirstOwner::Created(user.to_string()))
}

/// `--aaguid`, `--attestation-cert`, `--attestation-key`, `--attestation-ca`.
#[derive(Debug, Clone, Default)]
pub struct AttestationArgs {
    pub aaguid: Option<vault::Aaguid>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub ca: Option<PathBuf>,
}

/// Parses `--aaguid`: a UUID, and not the all-zero one, which WebAuthn
/// uses for "no model" (what a relying party sees from unattested keys).
pub fn parse_aaguid(v: &str) -> Result<vault::Aaguid, String> {
    let aaguid: vault::Aaguid = v.parse().map_err(|e| format!("--aaguid: {e}"))?;
    if aaguid.as_bytes() == &[0; 16] {
        return Err(
            "--aaguid: the all-zero AAGUID means \"no model\" in WebAuthn; use a random UUID"
                .into(),
        );
    }
    Ok(aaguid)
}

/// The vault's attestation: the configured certificate and key when given,
/// else the generated set in `DATA-DIR/attestation/` (made on first start
/// for the AAGUID). Errors name the option or file at fault.
pub fn attestation(data_dir: &Path, a: &AttestationArgs) -> Result<vault::Attestation, String> {
    let aaguid = a.aaguid.unwrap_or(vault::Aaguid::DEFAULT);
    let aaguid_differs = |e: &vault::VaultError| matches!(e, vault::VaultError::AttestationConfig { detail } if detail.contains("is for AAGUID"));
    match (&a.cert, &a.key) {
        (Some(cert), Some(key)) => {
            vault::Attestation::from_pem_files(aaguid, cert, key, a.ca.as_deref()).map_err(|e| {
                let hint = if aaguid_differs(&e) {
                    if a.aaguid.is_none() {
                        "; pass the certificate's AAGUID with --aaguid"
                    } else {
                        "; --aaguid must be the AAGUID in the certificate"
                    }
                } else {
                    ""
                };
                format!("--attestation-cert {}: {e}{hint}", cert.display())
            })
        }
        (None, None) => {
            if a.ca.is_some() {
                return Err(
                    "--attestation-ca needs --attestation-cert and --attestation-key".into(),
                );
            }
            let dir = data_dir.join("attestation");
            let loaded = vault::Attestation::load_or_generate(&dir, aaguid).map_err(|e| {
                let hint = if aaguid_differs(&e) {
                    " (that directory was generated for another AAGUID: start with the --aaguid it \
                     was made for, or move the directory away to generate a new CA for this one; \
                     tenants that trust the old CA must then trust the new one)"
                } else {
                    ""
                };
                format!("{}: {e}{hint}", dir.display())
            })?;
            // Once: the renewed files pass the profile on the next start.
            if let Some(renewal) = loaded.renewal() {
                log(&format!("attestation: {renewal}"));
            }
            Ok(loaded)
        }
        (Some(_), None) => Err("--attestation-cert needs --attestation-key".into()),
        (None, Some(_)) => Err("--attestation-key needs --attestation-cert".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(db: &Db) -> Vec<(String, String, bool)> {
        let conn = db.lock().expect("lock");
        let mut stmt = conn
            .prepare("SELECT username, role, edit_users FROM accounts ORDER BY id")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn the_first_owner_comes_from_the_environment_on_an_empty_database_only() {
        let db = Db::open_in_memory().expect("db");
        // Missing variables: nothing created, and the caller goes on.
        assert_eq!(first_owner(&db, None, None), Ok(FirstOwner::Missing));
        assert_eq!(
            first_owner(&db, Some("boss"), None),
            Ok(FirstOwner::Missing)
        );
        assert!(accounts(&db).is_empty());
        // The account API's rules apply.
        let weak = first_owner(&db, Some("boss"), Some("short")).unwrap_err();
        assert!(
            weak.contains(OWNER_PASSWORD_ENV) && weak.contains("at least 12"),
            "{weak}"
        );
        let bad_name = first_owner(&db, Some("no spaces"), Some("long-enough-pass")).unwrap_err();
        assert!(bad_name.contains(OWNER_USER_ENV), "{bad_name}");
        assert!(accounts(&db).is_empty());

        assert_eq!(
            first_owner(&db, Some(" boss "), Some("long-enough-pass")),
            Ok(FirstOwner::Created("boss".into()))
        );
        assert_eq!(accounts(&db), vec![("boss".into(), "owner".into(), true)]);
        let phc: String = db
            .lock()
            .expect("lock")
            .query_row("SELECT password_hash FROM accounts", [], |r| r.get(0))
            .expect("hash");
        assert!(crypto::verify_password("long-enough-pass", &phc));
        let audit: String = db
            .lock()
            .expect("lock")
            .query_row("SELECT action || ' ' || detail FROM audit", [], |r| {
                r.get(0)
            })
            .expect("audit");
        assert!(audit.starts_with("account.create boss"), "{audit}");
        assert!(!audit.contains("long-enough-pass"), "{audit}");

        // A second start with other values changes nothing.
        assert_eq!(
            first_owner(&db, Some("other"), Some("another-long-pass")),
            Ok(FirstOwner::NotNeeded)
        );
        assert_eq!(accounts(&db).len(), 1);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("panel-setup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn the_aaguid_and_a_configured_certificate_reach_the_vault() {
        let aaguid = parse_aaguid("11111111-2222-4333-8444-555555555555").expect("aaguid");
        // Generated for the chosen AAGUID, and refused later for another.
        let dir = temp_dir("generated");
        let generated = attestation(
            &dir,
            &AttestationArgs {
                aaguid: Some(aaguid),
                ..Default::default()
            },
        )
        .expect("generated");
        assert_eq!(generated.aaguid(), aaguid);
        let err = attestation(&dir, &AttestationArgs::default()).unwrap_err();
        assert!(
            err.contains("generated for another AAGUID") && err.contains(&aaguid.to_string()),
            "{err}"
        );

        // Configured: the generated set's files stand in for a CA's.
        let att = dir.join("attestation");
        let configured = |aaguid: Option<vault::Aaguid>, ca: bool| {
            attestation(
                &temp_dir("unused"),
                &AttestationArgs {
                    aaguid,
                    cert: Some(att.join(vault::BATCH_CERT_FILE)),
                    key: Some(att.join(vault::BATCH_KEY_FILE)),
                    ca: ca.then(|| att.join(vault::CA_CERT_FILE)),
                },
            )
        };
        let ok = configured(Some(aaguid), true).expect("configured");
        assert_eq!(ok.aaguid(), aaguid);
        assert_eq!(ok.ca_pem(), generated.ca_pem());
        let err = configured(None, true).err().unwrap_or_default();
        assert!(
            err.contains("--attestation-cert") && err.contains("pass the certificate's AAGUID"),
            "{err}"
        );
        let other = parse_aaguid("99999999-2222-4333-8444-555555555555").expect("aaguid");
        let err = configured(Some(other), false).err().unwrap_or_default();
        assert!(err.contains("--aaguid must be the AAGUID"), "{err}");

        // Half a configuration is refused by name.
        let half = |cert: bool, key: bool, ca: bool| {
            attestation(
                &dir,
                &AttestationArgs {
                    aaguid: Some(aaguid),
                    cert: cert.then(|| PathBuf::from("c.pem")),
                    key: key.then(|| PathBuf::from("k.pem")),
                    ca: ca.then(|| PathBuf::from("ca.pem")),
                },
            )
            .err()
            .unwrap_or_default()
        };
        assert!(half(true, false, false).contains("needs --attestation-key"));
        assert!(half(false, true, false).contains("needs --attestation-cert"));
        assert!(half(false, false, true).contains("--attestation-ca needs"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The batch certificate the vault wrote before issue 11 (BasicConstraints
    /// `cA FALSE` spelt out, a CN of 68 characters), which strict parsers refuse.
    const OLD_BATCH_PEM: &str =
        include_str!("../../vault/tests/data/old-batch-explicit-ca-false.pem");

    #[test]
    fn an_old_vault_certificate_is_renewed_on_start_and_credentials_keep_working() {
        use std::sync::Arc;
        let dir = temp_dir("renewal");
        let db = Db::open_in_memory().expect("db");
        let store = Arc::new(crate::store::SqliteKeyStore::new(db.clone()));
        let master = [9u8; 32];
        let first = attestation(&dir, &AttestationArgs::default()).expect("generated");
        assert!(first.renewal().is_none());
        let options = vault::CreationOptions::microsoft(b"c".to_vec(), b"u".to_vec(), "u", "U");
        vault::Vault::new(store.clone(), vault::MasterKey::from_bytes(master), first)
            .make_credential("user-1", &options, vault::MICROSOFT_ORIGIN)
            .expect("registered before the upgrade");

        // What a panel started with the old code holds.
        let batch = dir.join("attestation").join(vault::BATCH_CERT_FILE);
        std::fs::write(&batch, OLD_BATCH_PEM).expect("seed");
        let renewed = attestation(&dir, &AttestationArgs::default()).expect("renewed");
        let renewal = renewed.renewal().expect("renewed on start");
        assert!(
            renewal.to_string().contains("BasicConstraints::ca"),
            "{renewal}"
        );
        assert_eq!(renewed.aaguid(), vault::Aaguid::DEFAULT);
        let new_pem = std::fs::read_to_string(&batch).expect("read");
        assert_ne!(new_pem, OLD_BATCH_PEM);
        assert_eq!(new_pem, renewed.batch_certificate_pem());
        let der = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            new_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .expect("base64");
        vault::profile::check_batch_certificate(&der).expect("the new certificate passes");

        // Credentials registered before keep signing.
        let v = vault::Vault::new(store, vault::MasterKey::from_bytes(master), renewed);
        v.get_assertion(
            "user-1",
            &vault::RequestOptions::new(vault::MICROSOFT_RP_ID, b"c".to_vec(), vec![]),
            vault::MICROSOFT_ORIGIN,
        )
        .expect("the old credential still signs");

        // Logged once: the next start finds nothing to renew.
        let again = attestation(&dir, &AttestationArgs::default()).expect("again");
        assert!(again.renewal().is_none());
        assert_eq!(again.ca_pem(), v.attestation_ca_pem());

        // A customer's certificate breaking the profile is refused by rule,
        // not renewed.
        let att = dir.join("attestation");
        let old_cert = dir.join("old.pem");
        std::fs::write(&old_cert, OLD_BATCH_PEM).expect("write");
        let err = attestation(
            &temp_dir("unused-renewal"),
            &AttestationArgs {
                cert: Some(old_cert),
                key: Some(att.join(vault::BATCH_KEY_FILE)),
                ..Default::default()
            },
        )
        .err()
        .unwrap_or_default();
        assert!(
            err.contains("--attestation-cert") && err.contains("BasicConstraints::ca"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
