//! A vault behind standard input and output, for browser tests that need
//! real attestations and assertions without the panel (the extension's own
//! tests; the panel's tests use the panel).
//!
//! One JSON request per line: `{"op": "create" | "get", "userId": "...",
//! "origin": "https://...", "publicKey": <options JSON>}`; one JSON answer per
//! line: the `RegistrationResponseJSON` / `AuthenticationResponseJSON`, or
//! `{"error": "..."}`. Keys live in memory for the life of the process; the
//! attestation CA and batch certificate are kept in the directory given as
//! the first argument. A test tool, not a vault deployment.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use vault::{Aaguid, Attestation, MasterKey, MemoryStore, Vault};

fn answer(vault: &Vault, line: &str) -> Result<String, String> {
    let req: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let user = req["userId"].as_str().ok_or("userId missing")?;
    let origin = req["origin"].as_str().ok_or("origin missing")?;
    let options = req["publicKey"].to_string();
    match req["op"].as_str() {
        Some("create") => {
            let reg = vault
                .make_credential_json(user, &options, origin)
                .map_err(|e| e.to_string())?;
            serde_json::to_string(&reg.response).map_err(|e| e.to_string())
        }
        Some("get") => {
            let a = vault
                .get_assertion_json(user, &options, origin)
                .map_err(|e| e.to_string())?;
            serde_json::to_string(&a.response).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown op {other:?}")),
    }
}

fn main() {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: vault_stdio STATE_DIR");
        std::process::exit(2);
    };
    let vault = match (
        MasterKey::generate(),
        Attestation::load_or_generate(&dir, Aaguid::DEFAULT),
    ) {
        (Ok(key), Ok(att)) => Vault::new(Arc::new(MemoryStore::new()), key, att),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("vault_stdio: {e}");
            std::process::exit(1);
        }
    };
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let out =
            answer(&vault, &line).unwrap_or_else(|e| serde_json::json!({ "error": e }).to_string());
        let mut lock = stdout.lock();
        if writeln!(lock, "{out}").and_then(|_| lock.flush()).is_err() {
            break;
        }
    }
}
