//! The store contract, run against SQLite (in memory and on disk).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{bank, contract};
use vigil_store::{Error, SqliteStore, Store};

#[test]
fn contract_in_memory() {
    contract(&SqliteStore::open_in_memory().unwrap());
}

#[test]
fn contract_on_disk_and_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        contract(&store);
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.banks().unwrap().len(), 1);
    assert_eq!(reopened.contents_after(None, 0, 10).unwrap().len(), 1);
}

#[test]
fn the_audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    let store = SqliteStore::open(&path).unwrap();
    store.create_bank(&bank("BANK_A"), 1.0, "tester").unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let err = raw
        .execute("UPDATE audit_log SET actor = 'someone else'", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(raw.execute("DELETE FROM audit_log", []).is_err());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    drop(SqliteStore::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)",
        [],
    )
    .unwrap();
    drop(raw);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(Error::SchemaTooNew {
            found: 99,
            supported: 4
        })
    ));
}

#[test]
fn tokens_and_exchanges() {
    common::tokens_and_exchanges(&SqliteStore::open_in_memory().unwrap());
}

#[test]
fn monitor_records() {
    common::monitor_records(&SqliteStore::open_in_memory().unwrap());
}

#[test]
fn two_connections_writing_at_once_wait_for_each_other() {
    // Two processes on one file (the monitor and `vigil bank add`): every
    // write must wait for the other's lock, never fail as "locked".
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    let first = SqliteStore::open(&path).unwrap();
    first.create_bank(&bank("SHARED"), 1.0, "tester").unwrap();
    let writers: Vec<_> = (0..2u8)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = SqliteStore::open(&path).unwrap();
                for i in 0..60u8 {
                    let seed = writer.wrapping_mul(100).wrapping_add(i);
                    store
                        .add_contents(
                            &bank("SHARED"),
                            &[common::content(seed, "crisis")],
                            "tester",
                        )
                        .unwrap();
                    store.banks().unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(first.count_contents(&bank("SHARED")).unwrap(), 120);
}
