//! The store contract against a real PostgreSQL server, at the address in
//! `VIGIL_TEST_POSTGRES` (`.ci/run` sets it). Each test works in a schema of
//! its own, dropped afterwards.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use std::io::Write;

use common::{bank, contract};
use vigil_store::{Error, PostgresStore, Store};

/// A private schema on the test server, dropped when the guard goes away;
/// `None` (after saying so) when no server is configured.
struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    fn new(test: &str) -> Option<Self> {
        let Ok(url) = std::env::var("VIGIL_TEST_POSTGRES") else {
            // Straight to stderr, past the test harness's output capture, so
            // the skip is seen even when the test "passes".
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {test} (VIGIL_TEST_POSTGRES is not set)"
            );
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "vigil_test_{}_{}_{}",
            test,
            std::process::id(),
            nanos % 1_000_000_000
        );
        Some(Self { url, name })
    }

    fn open(&self) -> PostgresStore {
        PostgresStore::connect(&self.url, Some(&self.name)).unwrap()
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

#[test]
fn postgres_contract() {
    let Some(schema) = TestSchema::new("postgres_contract") else {
        return;
    };
    contract(&schema.open());
    // Data survives reconnecting, and migrations do not run twice.
    let reopened = schema.open();
    assert_eq!(reopened.banks().unwrap().len(), 1);
    assert_eq!(reopened.contents_after(None, 0, 10).unwrap().len(), 1);
}

#[test]
fn postgres_audit_log_is_append_only() {
    let Some(schema) = TestSchema::new("postgres_audit") else {
        return;
    };
    let store = schema.open();
    store.create_bank(&bank("BANK_A"), 1.0, "tester").unwrap();
    let mut raw = postgres::Client::connect(&schema.url, postgres::NoTls).unwrap();
    let err = raw
        .batch_execute(&format!("UPDATE {}.audit_log SET actor = 'x'", schema.name))
        .unwrap_err();
    assert!(
        err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"),
        "{err:?}"
    );
}

#[test]
fn postgres_newer_schema_is_refused() {
    let Some(schema) = TestSchema::new("postgres_schema") else {
        return;
    };
    drop(schema.open());
    let mut raw = postgres::Client::connect(&schema.url, postgres::NoTls).unwrap();
    raw.batch_execute(&format!(
        "INSERT INTO {}.schema_migrations VALUES (99, 0)",
        schema.name
    ))
    .unwrap();
    assert!(matches!(
        PostgresStore::connect(&schema.url, Some(&schema.name)),
        Err(Error::SchemaTooNew { found: 99, .. })
    ));
}

#[test]
fn postgres_tokens_and_exchanges() {
    let Some(schema) = TestSchema::new("postgres_tokens_and_exchanges") else {
        return;
    };
    common::tokens_and_exchanges(&schema.open());
}

#[test]
fn postgres_monitor_records() {
    let Some(schema) = TestSchema::new("postgres_monitor_records") else {
        return;
    };
    common::monitor_records(&schema.open());
}
