//! Exchanges and tokens over a real store: fetches make the bank equal to
//! the source, again and again, and tokens authenticate until revoked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::sync::Arc;

use serde_json::json;
use vigil_engine::exchange::ExchangeSettings;
use vigil_engine::{Engine, LookupOptions};
use vigil_store::{BankName, Role, SqliteStore, Store};
use vigil_store::{SignalType, SignalValue};

fn bank(name: &str) -> BankName {
    name.parse().unwrap()
}

/// An engine and its store, for tests that check what was written.
fn engine_and_store() -> (Engine, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    (Engine::open(Arc::clone(&store)).unwrap(), store)
}

fn ids_in(store: &dyn Store, name: &str) -> Vec<i64> {
    store
        .contents_after(Some(&bank(name)), 0, 1000)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect()
}

const PDQ_A: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const PDQ_B: &str = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064";
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

#[test]
fn the_sample_exchange_fills_its_bank_once_and_refetches_change_nothing() {
    let (engine, store) = engine_and_store();
    let settings = ExchangeSettings::default();
    engine
        .create_exchange(&bank("SEED_SAMPLE"), "sample", &json!({}), "t")
        .unwrap();
    let status = engine
        .fetch_exchange(&bank("SEED_SAMPLE"), &settings)
        .unwrap();
    assert_eq!(status.fetched_items, 18);
    assert_eq!(status.last_fetch_succeeded, Some(true));
    assert!(status.up_to_date);
    let first = ids_in(&*store, "SEED_SAMPLE");
    assert_eq!(first.len(), 18);
    // HMA's order: the first sample PDQ gets the first id.
    let found = engine
        .lookup(
            &SignalValue::parse(SignalType::Pdq, PDQ_A).unwrap(),
            &LookupOptions::default(),
        )
        .unwrap();
    assert_eq!(found[0].content_id, first[0]);
    assert_eq!(found[0].distance(), 0);
    let content = store.content(first[0]).unwrap().unwrap();
    let provenance = content.fields.provenance.unwrap();
    assert_eq!(provenance.exchange, "SEED_SAMPLE");
    assert_eq!(provenance.fetch_id, format!("pdq {PDQ_A}"));

    engine.fetch_exchanges(&settings).unwrap();
    assert_eq!(ids_in(&*store, "SEED_SAMPLE"), first);

    assert!(engine.delete_exchange(&bank("SEED_SAMPLE"), "t").unwrap());
    assert!(store.bank(&bank("SEED_SAMPLE")).unwrap().is_none());
    assert!(
        engine
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ_A).unwrap(),
                &LookupOptions::default()
            )
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_local_file_exchange_follows_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("partner.txt");
    std::fs::write(
        &file,
        format!("# partner list\npdq {PDQ_A}\n\nvideo_md5 {MD5}\n"),
    )
    .unwrap();
    let settings = ExchangeSettings {
        local_file_dir: Some(dir.path().to_owned()),
    };
    let (engine, store) = engine_and_store();
    engine
        .create_exchange(
            &bank("PARTNER"),
            "local_file",
            &json!({ "filename": "partner.txt" }),
            "t",
        )
        .unwrap();
    let status = engine.fetch_exchange(&bank("PARTNER"), &settings).unwrap();
    assert_eq!(status.fetched_items, 2, "{status:?}");
    let first = ids_in(&*store, "PARTNER");

    // Unchanged file: not read again, nothing changes.
    let again = engine.fetch_exchange(&bank("PARTNER"), &settings).unwrap();
    assert_eq!(again.checkpoint, status.checkpoint);
    assert_eq!(ids_in(&*store, "PARTNER"), first);

    // One record removed, one added (upper case normalised).
    std::fs::write(
        &file,
        format!("video_md5 {MD5}\npdq {}\n", PDQ_B.to_uppercase()),
    )
    .unwrap();
    let status = engine.fetch_exchange(&bank("PARTNER"), &settings).unwrap();
    assert_eq!(status.fetched_items, 2);
    let now = ids_in(&*store, "PARTNER");
    assert_eq!(now.len(), 2);
    assert_eq!(now[0], first[1], "the unchanged record keeps its id");
    let options = LookupOptions::default();
    assert!(
        engine
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ_A).unwrap(),
                &options
            )
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        engine
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ_B).unwrap(),
                &options
            )
            .unwrap()
            .len(),
        1
    );

    // A bad line: the fetch fails, says where, and the bank is untouched.
    std::fs::write(&file, format!("pdq {PDQ_A}\npdq not-a-hash\n")).unwrap();
    let failed = engine.fetch_exchange(&bank("PARTNER"), &settings).unwrap();
    assert_eq!(failed.last_fetch_succeeded, Some(false));
    assert!(!failed.up_to_date);
    assert!(
        failed.last_error.as_deref().unwrap().contains("line 2"),
        "{failed:?}"
    );
    assert_eq!(ids_in(&*store, "PARTNER"), now);

    // Without an exchange directory, local files are never read.
    let off = engine
        .fetch_exchange(&bank("PARTNER"), &ExchangeSettings::default())
        .unwrap();
    assert!(off.last_error.unwrap().contains("--exchange-dir"));
}

#[test]
fn exchange_configs_are_checked() {
    let (engine, store) = engine_and_store();
    for (api, config) in [
        ("nope", json!({})),
        ("local_file", json!({})),
        ("local_file", json!({ "filename": "../etc/passwd" })),
        ("local_file", json!({ "filename": "/etc/passwd" })),
        (
            "local_file",
            json!({ "filename": "a.txt", "colour": "red" }),
        ),
        (
            "local_file",
            json!({ "filename": "a.txt", "signal_type": "nope" }),
        ),
        ("local_file", json!({ "filename": 7 })),
        ("sample", json!([])),
    ] {
        assert!(
            engine
                .create_exchange(&bank("X"), api, &config, "t")
                .is_err(),
            "{api} {config}"
        );
    }
    assert!(store.bank(&bank("X")).unwrap().is_none());
    engine
        .create_exchange(
            &bank("X"),
            "local_file",
            &json!({ "filename": "feeds/x.txt", "signal_type": "pdq" }),
            "t",
        )
        .unwrap();
}

#[test]
fn tokens_authenticate_until_revoked_and_only_their_digest_is_stored() {
    let (engine, store) = engine_and_store();
    let (token, secret) = engine
        .create_token("ci-bot", &[Role::Matcher], "t")
        .unwrap();
    assert!(secret.starts_with("vigil_") && secret.len() == 70);
    assert_eq!(token.roles, [Role::Matcher]);
    assert_eq!(
        engine.authenticate(&secret).unwrap().unwrap().name,
        "ci-bot"
    );
    assert!(engine.authenticate("vigil_wrong").unwrap().is_none());
    assert!(engine.authenticate("").unwrap().is_none());
    let (_, other) = engine.create_token("other", &[Role::Curator], "t").unwrap();
    assert_ne!(secret, other);
    store.revoke_token("ci-bot", "t").unwrap();
    assert!(engine.authenticate(&secret).unwrap().is_none());
    assert!(engine.authenticate(&other).unwrap().is_some());
}
