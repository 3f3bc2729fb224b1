//! Answers one `navigator.credentials.create` from standard input, for
//! browser tests that need a real attestation before (or without) the panel.
//!
//! Input, one JSON object: `{"userId": "...", "origin": "https://...",
//! "publicKey": <PublicKeyCredentialCreationOptionsJSON>}`. Output: the
//! `RegistrationResponseJSON`, or `{"error": "..."}` with exit code 1.
//! The attestation CA and batch certificate are kept in the directory given
//! as the first argument, so repeated runs share one attestation identity.
//! Keys live in memory only: this is a test tool, not a vault.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use vault::{Aaguid, Attestation, MasterKey, MemoryStore, Vault};

fn run() -> Result<String, String> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: attest_once STATE_DIR < request.json")?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| e.to_string())?;
    let req: serde_json::Value = serde_json::from_str(&input).map_err(|e| e.to_string())?;
    let user = req["userId"].as_str().ok_or("userId missing")?;
    let origin = req["origin"].as_str().ok_or("origin missing")?;
    let options = req["publicKey"].to_string();
    let vault = Vault::new(
        Arc::new(MemoryStore::new()),
        MasterKey::generate().map_err(|e| e.to_string())?,
        Attestation::load_or_generate(&dir, Aaguid::DEFAULT).map_err(|e| e.to_string())?,
    );
    let reg = vault
        .make_credential_json(user, &options, origin)
        .map_err(|e| e.to_string())?;
    serde_json::to_string(&reg.response).map_err(|e| e.to_string())
}

fn main() {
    match run() {
        Ok(json) => println!("{json}"),
        Err(e) => {
            println!("{}", serde_json::json!({ "error": e }));
            std::process::exit(1);
        }
    }
}
