//! Where credentials live: a small trait the panel implements on SQLite, and
//! an in-memory implementation for tests and single-process tools.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use crate::aaguid::Aaguid;
use crate::error::StoreError;
use crate::options::b64url;

/// One credential of one vault user, as stored. Everything here is public
/// information except `sealed_private_key`, which is AES-256-GCM ciphertext
/// bound to this record's user id, credential id and RP ID.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// The vault's user (the panel's user id, e.g. the Entra object id).
    pub user_id: String,
    /// The credential id, raw bytes (32 random bytes).
    pub credential_id: Vec<u8>,
    /// The RP ID the credential is scoped to.
    pub rp_id: String,
    /// The WebAuthn user handle the RP gave at registration (`user.id`).
    pub user_handle: Vec<u8>,
    /// The `user.name` the RP gave at registration (for display).
    pub user_name: String,
    /// The AAGUID the credential was attested with.
    pub aaguid: Aaguid,
    /// The credential public key, SEC1 uncompressed (65 bytes, `04 | x | y`).
    pub public_key: Vec<u8>,
    /// The private key, sealed by the vault key (opaque to stores).
    pub sealed_private_key: Vec<u8>,
    /// The signature counter: 0 at registration, +1 per assertion.
    pub sign_count: u32,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix: u64,
}

impl fmt::Debug for CredentialRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sealed key is ciphertext, but logs have no use for it either.
        f.debug_struct("CredentialRecord")
            .field("user_id", &self.user_id)
            .field("credential_id", &b64url(&self.credential_id))
            .field("rp_id", &self.rp_id)
            .field("user_name", &self.user_name)
            .field("aaguid", &self.aaguid)
            .field("sign_count", &self.sign_count)
            .field("created_unix", &self.created_unix)
            .finish_non_exhaustive()
    }
}

/// Persistent storage of credential records.
///
/// Every lookup is scoped by the vault user id: the vault never asks a store
/// for "any user's" credential, which is what makes it one authenticator per
/// user. Implementations must be safe to call from several threads.
pub trait KeyStore: Send + Sync {
    /// Inserts a new record. A record with the same user id and credential id
    /// must not already exist (credential ids are random, so that would be a
    /// bug); implementations should fail rather than overwrite.
    fn insert(&self, record: &CredentialRecord) -> Result<(), StoreError>;

    /// The user's records, oldest first.
    fn list(&self, user_id: &str) -> Result<Vec<CredentialRecord>, StoreError>;

    /// One record of the user, if it exists.
    fn load(
        &self,
        user_id: &str,
        credential_id: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError>;

    /// Atomically adds one to the record's sign count and returns the new
    /// value (`UPDATE ... SET sign_count = sign_count + 1 RETURNING
    /// sign_count` in SQL). `None` if the record does not exist. Atomic so
    /// two concurrent assertions never sign the same counter value.
    fn increment_sign_count(
        &self,
        user_id: &str,
        credential_id: &[u8],
    ) -> Result<Option<u32>, StoreError>;

    /// Deletes a record; `true` if it existed.
    fn delete(&self, user_id: &str, credential_id: &[u8]) -> Result<bool, StoreError>;
}

/// A [`KeyStore`] in memory, lost when dropped.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Memory>,
}

/// Records keyed by (user id, credential id), each with an insertion
/// sequence number so `list` can return them oldest first.
#[derive(Default)]
struct Memory {
    next_seq: u64,
    records: BTreeMap<(String, Vec<u8>), (u64, CredentialRecord)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces a stored record as is. For tests that simulate a tampered or
    /// migrated database; the vault itself never overwrites.
    ///
    /// # Errors
    /// If no such record exists.
    pub fn replace(&self, record: CredentialRecord) -> Result<(), StoreError> {
        let mut memory = self.lock()?;
        let key = (record.user_id.clone(), record.credential_id.clone());
        match memory.records.get_mut(&key) {
            Some(slot) => {
                slot.1 = record;
                Ok(())
            }
            None => Err("no such credential record".into()),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Memory>, StoreError> {
        // A poisoned lock means a panic mid-update elsewhere; refuse rather
        // than serve possibly half-written data.
        self.inner
            .lock()
            .map_err(|_| "in-memory store lock poisoned by an earlier panic".into())
    }
}

impl KeyStore for MemoryStore {
    fn insert(&self, record: &CredentialRecord) -> Result<(), StoreError> {
        let mut memory = self.lock()?;
        let key = (record.user_id.clone(), record.credential_id.clone());
        if memory.records.contains_key(&key) {
            return Err("a credential with this id already exists for this user".into());
        }
        memory.next_seq += 1;
        let seq = memory.next_seq;
        memory.records.insert(key, (seq, record.clone()));
        Ok(())
    }

    fn list(&self, user_id: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        let memory = self.lock()?;
        let mut found: Vec<_> = memory
            .records
            .iter()
            .filter(|((u, _), _)| u == user_id)
            .map(|(_, (seq, r))| (*seq, r.clone()))
            .collect();
        found.sort_by_key(|(seq, _)| *seq);
        Ok(found.into_iter().map(|(_, r)| r).collect())
    }

    fn load(
        &self,
        user_id: &str,
        credential_id: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let memory = self.lock()?;
        Ok(memory
            .records
            .get(&(user_id.to_owned(), credential_id.to_vec()))
            .map(|(_, r)| r.clone()))
    }

    fn increment_sign_count(
        &self,
        user_id: &str,
        credential_id: &[u8],
    ) -> Result<Option<u32>, StoreError> {
        let mut memory = self.lock()?;
        match memory
            .records
            .get_mut(&(user_id.to_owned(), credential_id.to_vec()))
        {
            Some((_, r)) => {
                r.sign_count = r
                    .sign_count
                    .checked_add(1)
                    .ok_or("signature counter exhausted")?;
                Ok(Some(r.sign_count))
            }
            None => Ok(None),
        }
    }

    fn delete(&self, user_id: &str, credential_id: &[u8]) -> Result<bool, StoreError> {
        let mut memory = self.lock()?;
        Ok(memory
            .records
            .remove(&(user_id.to_owned(), credential_id.to_vec()))
            .is_some())
    }
}
