//! The panel's SQLite database: one connection behind a mutex, and versioned
//! migrations.
//!
//! Every migration runs in its own transaction together with the update of
//! `schema_version`, so a crash leaves the database at the old version or the
//! new one, never between. A database written by a newer panel (a version
//! this build does not know) is refused rather than guessed at.
//!
//! One connection is enough: every query is short and handlers never hold
//! the lock across an `.await`. WAL mode lets a backup or `sqlite3` read
//! while the panel writes.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::error::{AppError, AppResult};

/// The migrations, in order; `MIGRATIONS[i]` brings version `i` to `i + 1`.
/// Never edit one that has shipped: add a new one.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "accounts, sessions, audit log, users",
        r#"
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin')),
    edit_users    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
CREATE TABLE audit (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    actor_id       INTEGER,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    target_user_id TEXT,
    target_upn     TEXT,
    detail         TEXT NOT NULL DEFAULT ''
);
CREATE TABLE users (
    object_id    TEXT PRIMARY KEY,
    upn          TEXT NOT NULL,
    display_name TEXT NOT NULL,
    synced_at    INTEGER NOT NULL
);
CREATE INDEX users_upn ON users(upn COLLATE NOCASE);
"#,
    ),
    (
        "tenant connection, pending OAuth logins, users removed in Entra",
        r#"
CREATE TABLE tenant (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    tenant_id          TEXT NOT NULL,
    connected_by       TEXT NOT NULL,
    connected_at       INTEGER NOT NULL,
    access_token       BLOB NOT NULL,
    access_expires_at  INTEGER NOT NULL,
    refresh_token      BLOB,
    refresh_expires_at INTEGER,
    last_sync_at       INTEGER
);
CREATE TABLE oauth_pending (
    state_hash   TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    tenant       TEXT NOT NULL,
    verifier     BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
ALTER TABLE users ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
"#,
    ),
    (
        "provisioning requests, their reports, passkeys, vault credentials",
        r#"
CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(object_id),
    mode           TEXT NOT NULL CHECK (mode IN ('automatic', 'manual')),
    requested_by   TEXT NOT NULL,
    state          TEXT NOT NULL,
    step           TEXT,
    progress       REAL NOT NULL DEFAULT 0,
    token_hash     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    attested_at    INTEGER,
    attested_credential_id TEXT,
    credential_id  TEXT,
    key_name       TEXT,
    error_code     TEXT,
    error_message  TEXT,
    error_hint     TEXT
);
CREATE INDEX requests_user ON requests(user_id, created_at);
CREATE UNIQUE INDEX requests_token ON requests(token_hash);
CREATE TABLE request_reports (
    request_id  TEXT NOT NULL REFERENCES requests(id),
    seq         INTEGER NOT NULL,
    state       TEXT NOT NULL,
    step        TEXT,
    progress    REAL NOT NULL,
    at_ms       INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (request_id, seq)
);
CREATE TABLE passkeys (
    credential_id  TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(object_id),
    request_id     TEXT REFERENCES requests(id),
    key_name       TEXT NOT NULL,
    aaguid         TEXT,
    in_vault       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    revoked_at     INTEGER,
    revoked_by     TEXT,
    PRIMARY KEY (user_id, credential_id)
);
CREATE TABLE vault_credentials (
    user_id       TEXT NOT NULL,
    credential_id BLOB NOT NULL,
    rp_id         TEXT NOT NULL,
    user_handle   BLOB NOT NULL,
    user_name     TEXT NOT NULL,
    aaguid        BLOB NOT NULL,
    public_key    BLOB NOT NULL,
    sealed_key    BLOB NOT NULL,
    sign_count    INTEGER NOT NULL,
    created_unix  INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    PRIMARY KEY (user_id, credential_id)
);
"#,
    ),
    (
        "how a request reached Microsoft: through the extension or Graph",
        r#"
ALTER TABLE requests ADD COLUMN via TEXT NOT NULL DEFAULT 'extension' CHECK (via IN ('extension', 'graph'));
"#,
    ),
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The database handle shared by handlers and the vault's key store.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens (creating if needed) and migrates the database file.
    pub fn open(path: &Path) -> Result<Self, String> {
        let conn = Connection::open(path)
            .map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
        // WAL is a no-op for in-memory databases; a failure here is not fatal.
        let _ = conn.pragma_update(None, "journal_mode", "WAL");
        Self::from_connection(conn, latest_version())
            .map_err(|e| format!("database {}: {e}", path.display()))
    }

    /// A fresh in-memory database at the latest version (tests, tools).
    pub fn open_in_memory() -> Result<Self, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        Self::from_connection(conn, latest_version())
    }

    /// Migrates `conn` up to `target` (tests use an older target to build an
    /// old database).
    pub fn from_connection(mut conn: Connection, target: i64) -> Result<Self, String> {
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| e.to_string())?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        migrate(&mut conn, target)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The connection, for one short piece of work.
    pub fn lock(&self) -> AppResult<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| AppError::internal("database lock poisoned by an earlier panic"))
    }

    /// Runs `f` in a transaction: committed if it returns `Ok`, rolled back
    /// otherwise, so a failed multi-row write leaves nothing behind.
    pub fn tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> AppResult<T>) -> AppResult<T> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// As [`tx`](Self::tx), but `BEGIN IMMEDIATE`: the write lock is taken
    /// at the start, so a check and the insert it guards see the same
    /// database even with another process (a backup tool, `sqlite3`) on
    /// the file.
    pub fn tx_immediate<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> AppResult<T>,
    ) -> AppResult<T> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The schema version of the open database.
    pub fn version(&self) -> AppResult<i64> {
        let conn = self.lock()?;
        Ok(current_version(&conn)?)
    }
}

fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
        [],
    )?;
    Ok(conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

fn migrate(conn: &mut Connection, target: i64) -> Result<(), String> {
    let mut version = current_version(conn).map_err(|e| e.to_string())?;
    if version > latest_version() {
        return Err(format!(
            "schema version {version} is newer than this panel understands ({}); run a newer panel or restore a backup",
            latest_version()
        ));
    }
    while version < target {
        let (what, sql) = MIGRATIONS[version as usize];
        let next = version + 1;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .map_err(|e| format!("migration {next} ({what}): {e}"))?;
        tx.execute("DELETE FROM schema_version", [])
            .and_then(|_| tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [next]))
            .map_err(|e| format!("migration {next} ({what}): {e}"))?;
        tx.commit()
            .map_err(|e| format!("migration {next} ({what}): {e}"))?;
        version = next;
    }
    Ok(())
}
