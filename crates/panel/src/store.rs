//! The vault's [`KeyStore`] on the panel's SQLite database
//! (`vault_credentials`). The vault hands it sealed private keys only.

use rusqlite::{OptionalExtension, Row, params};
use vault::{Aaguid, CredentialRecord, KeyStore, StoreError};

use crate::Db;

pub struct SqliteKeyStore {
    db: Db,
}

impl SqliteKeyStore {
    pub fn new(db: Db) -> Self {
        SqliteKeyStore { db }
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, StoreError> {
        self.db.lock().map_err(|e| e.to_string().into())
    }
}

/// Deletes one vault credential (`credential_id` base64url, as requests
/// and passkeys store it) on a connection the caller already holds, so it
/// can share a transaction with the change that makes the key unwanted;
/// [`KeyStore::delete`] would wait for the lock that transaction holds.
pub fn delete_in(
    conn: &rusqlite::Connection,
    user_id: &str,
    credential_id: &str,
) -> rusqlite::Result<bool> {
    let Some(raw) = crate::crypto::b64url_decode(credential_id) else {
        return Ok(false);
    };
    Ok(conn.execute(
        "DELETE FROM vault_credentials WHERE user_id = ?1 AND credential_id = ?2",
        params![user_id, raw],
    )? > 0)
}

/// Whether the vault still holds this credential (base64url id).
pub fn exists_in(
    conn: &rusqlite::Connection,
    user_id: &str,
    credential_id: &str,
) -> rusqlite::Result<bool> {
    let Some(raw) = crate::crypto::b64url_decode(credential_id) else {
        return Ok(false);
    };
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM vault_credentials WHERE user_id = ?1 AND credential_id = ?2)",
        params![user_id, raw],
        |r| r.get(0),
    )
}

const COLUMNS: &str = "user_id, credential_id, rp_id, user_handle, user_name, aaguid, public_key, sealed_key, sign_count, created_unix";

fn from_row(r: &Row<'_>) -> rusqlite::Result<CredentialRecord> {
    let aaguid: Vec<u8> = r.get(5)?;
    let aaguid: [u8; 16] = aaguid.as_slice().try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            5,
            rusqlite::types::Type::Blob,
            "aaguid is not 16 bytes".into(),
        )
    })?;
    Ok(CredentialRecord {
        user_id: r.get(0)?,
        credential_id: r.get(1)?,
        rp_id: r.get(2)?,
        user_handle: r.get(3)?,
        user_name: r.get(4)?,
        aaguid: Aaguid::from_bytes(aaguid),
        public_key: r.get(6)?,
        sealed_private_key: r.get(7)?,
        sign_count: r.get(8)?,
        created_unix: r.get::<_, i64>(9)? as u64,
    })
}

impl KeyStore for SqliteKeyStore {
    fn insert(&self, c: &CredentialRecord) -> Result<(), StoreError> {
        self.conn()?.execute(
            &format!(
                "INSERT INTO vault_credentials ({COLUMNS}, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                 (SELECT COALESCE(MAX(seq), 0) + 1 FROM vault_credentials))"
            ),
            params![
                c.user_id,
                c.credential_id,
                c.rp_id,
                c.user_handle,
                c.user_name,
                c.aaguid.as_bytes().as_slice(),
                c.public_key,
                c.sealed_private_key,
                c.sign_count,
                c.created_unix as i64
            ],
        )?;
        Ok(())
    }

    fn list(&self, user_id: &str) -> Result<Vec<CredentialRecord>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM vault_credentials WHERE user_id = ?1 ORDER BY seq"
        ))?;
        let rows = stmt
            .query_map([user_id], from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn load(
        &self,
        user_id: &str,
        credential_id: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM vault_credentials WHERE user_id = ?1 AND credential_id = ?2"
                ),
                params![user_id, credential_id],
                from_row,
            )
            .optional()?)
    }

    fn increment_sign_count(
        &self,
        user_id: &str,
        credential_id: &[u8],
    ) -> Result<Option<u32>, StoreError> {
        Ok(self
            .conn()?
            .query_row(
                "UPDATE vault_credentials SET sign_count = sign_count + 1
                 WHERE user_id = ?1 AND credential_id = ?2 RETURNING sign_count",
                params![user_id, credential_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn delete(&self, user_id: &str, credential_id: &[u8]) -> Result<bool, StoreError> {
        Ok(self.conn()?.execute(
            "DELETE FROM vault_credentials WHERE user_id = ?1 AND credential_id = ?2",
            params![user_id, credential_id],
        )? > 0)
    }
}
