//! Versioned migrations: an old database is brought up to date with its
//! data intact; a newer one is refused; a fresh one is at the latest.

mod common;

use panel::Db;
use panel::db::{MIGRATIONS, latest_version};
use rusqlite::Connection;

fn temp_db(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("panel-migrations-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("panel.db")
}

#[test]
fn a_fresh_database_is_at_the_latest_version() {
    let db = Db::open_in_memory().unwrap();
    assert_eq!(db.version().unwrap(), latest_version());
    assert!(MIGRATIONS.len() >= 3);
}

#[tokio::test]
async fn a_version_1_database_is_migrated_and_keeps_its_accounts_and_users() {
    let path = temp_db("v1");
    {
        // What the first release wrote: schema 1, one account, one user.
        let db = Db::from_connection(Connection::open(&path).unwrap(), 1).unwrap();
        assert_eq!(db.version().unwrap(), 1);
        let phc = panel::crypto::hash_password(common::OWNER.1).unwrap();
        panel::auth::insert_account(&db, common::OWNER.0, &phc, panel::auth::Role::Owner, true)
            .unwrap();
        db.lock()
            .unwrap()
            .execute(
                "INSERT INTO users (object_id, upn, display_name, synced_at) VALUES (?1, 'old@contoso.com', 'Old User', 1)",
                [common::guid(1)],
            )
            .unwrap();
        // Version 1 had no `removed` column and no requests table.
        let has_requests: bool = db
            .lock()
            .unwrap()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'requests')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!has_requests);
    }
    let db = Db::open(&path).unwrap();
    assert_eq!(db.version().unwrap(), latest_version());
    let p = common::panel_with_db(db, 0, 2).await;
    // The old account still signs in (panel_with_db's own insert of the
    // same name is refused, so this is the migrated one).
    let who = p.owner().await;
    let users = p.call("GET", "/api/users", &who, None).await.json();
    assert_eq!(users["total"], 1);
    assert_eq!(users["users"][0]["upn"], "old@contoso.com");
    assert_eq!(users["users"][0]["passkeys"], 0);
}

#[test]
fn a_database_from_a_newer_panel_is_refused() {
    let path = temp_db("newer");
    drop(Db::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    let err = Db::open(&path).unwrap_err();
    assert!(err.contains("newer than this panel understands"), "{err}");
}

#[test]
fn a_failing_migration_leaves_the_old_version() {
    let path = temp_db("broken");
    {
        let db = Db::from_connection(Connection::open(&path).unwrap(), 2).unwrap();
        // Something in the way of migration 3's CREATE TABLE requests.
        db.lock()
            .unwrap()
            .execute("CREATE TABLE requests (x)", [])
            .unwrap();
    }
    let err = Db::open(&path).unwrap_err();
    assert!(err.contains("migration 3"), "{err}");
    let conn = Connection::open(&path).unwrap();
    let v: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 2);
    let passkeys: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'passkeys')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!passkeys, "nothing of migration 3 was left behind");
}

#[test]
fn requests_of_a_version_3_database_are_marked_as_sent_through_the_extension() {
    let path = temp_db("v3");
    {
        let db = Db::from_connection(Connection::open(&path).unwrap(), 3).unwrap();
        let conn = db.lock().unwrap();
        conn.execute(
            "INSERT INTO users (object_id, upn, display_name, synced_at) VALUES ('u1', 'a@b.c', 'A', 1)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO requests (id, user_id, mode, requested_by, state, token_hash, created_at, updated_at)
             VALUES ('r1', 'u1', 'automatic', 'owner', 'succeeded', 'h', 1, 1)",
            [],
        )
        .unwrap();
    }
    let db = Db::open(&path).unwrap();
    assert_eq!(db.version().unwrap(), latest_version());
    let via: String = db
        .lock()
        .unwrap()
        .query_row("SELECT via FROM requests WHERE id = 'r1'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(via, "extension");
}
