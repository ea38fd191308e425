//! The store contract: one suite every `Store` implementation must pass.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Shared by several test crates.

use vigil_store::{BankName, ChangeKind, ContentUpdate, Error, NewContent, SignalType, Store};

pub fn bank(name: &str) -> BankName {
    name.parse().unwrap()
}

pub fn content(md5_seed: u8, tier: &str) -> NewContent {
    let mut content = NewContent::default();
    content
        .signals
        .insert(
            SignalType::Md5,
            &format!("{:032x}", u128::from(md5_seed) * 0x1234_5678_9abc_def1),
        )
        .unwrap();
    content
        .signals
        .insert(
            SignalType::Pdq,
            &format!("{:064x}", u128::from(md5_seed) << 64 | 7),
        )
        .unwrap();
    content.labels.set("tier", tier).unwrap();
    content.labels.set("entity", "Example Group").unwrap();
    content.metadata.content_id = Some(format!("post-{md5_seed}"));
    content.note = Some("seen in a benign test".to_owned());
    content
}

/// Every check of the contract, against any store.
pub fn contract(store: &dyn Store) {
    // Banks.
    let a = store.create_bank(&bank("BANK_A"), 1.0, "tester").unwrap();
    assert!(matches!(
        store.create_bank(&bank("BANK_A"), 1.0, "tester"),
        Err(Error::BankExists(_))
    ));
    assert!(matches!(
        store.create_bank(&bank("BANK_B"), 1.5, "tester"),
        Err(Error::Invalid(_))
    ));
    store.create_bank(&bank("BANK_B"), 0.25, "tester").unwrap();
    let names: Vec<String> = store
        .banks()
        .unwrap()
        .into_iter()
        .map(|b| b.name.to_string())
        .collect();
    assert_eq!(names, ["BANK_A", "BANK_B"]);

    // Contents: all or nothing, ids in order, round trip.
    let ids = store
        .add_contents(
            &bank("BANK_A"),
            &[content(1, "crisis"), content(2, "designated")],
            "tester",
        )
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1]);
    let mut bad = content(3, "crisis");
    bad.note = Some("x".repeat(256));
    let err = store
        .add_contents(&bank("BANK_A"), &[content(4, "crisis"), bad], "tester")
        .unwrap_err();
    assert!(err.to_string().contains("content 2 of 2"), "{err}");
    assert!(matches!(
        store.add_contents(&bank("NO_SUCH"), &[content(5, "crisis")], "tester"),
        Err(Error::BankNotFound(_))
    ));
    assert_eq!(
        store.contents_after(None, 0, 100).unwrap().len(),
        2,
        "failed imports leave nothing behind"
    );
    let stored = store.content(ids[0]).unwrap().unwrap();
    assert_eq!(stored.fields, content(1, "crisis"));
    assert_eq!(stored.bank, bank("BANK_A"));
    assert_eq!(stored.disable_until_ts, 1);
    assert!(stored.is_enabled(0));

    // Updates.
    let update = ContentUpdate {
        disable_until_ts: Some(0),
        note: Some(None),
        ..ContentUpdate::default()
    };
    let updated = store
        .update_content(ids[0], &update, "tester")
        .unwrap()
        .unwrap();
    assert_eq!(
        (updated.disable_until_ts, updated.fields.note.as_deref()),
        (0, None)
    );
    assert!(!updated.is_enabled(i64::MAX));
    assert!(
        store
            .update_content(9999, &update, "tester")
            .unwrap()
            .is_none()
    );

    // Renames keep contents.
    let renamed = store
        .update_bank(&bank("BANK_A"), Some(&bank("BANK_C")), Some(0.5), "tester")
        .unwrap();
    assert_eq!((renamed.id, renamed.enabled_ratio), (a.id, 0.5));
    assert_eq!(store.content(ids[1]).unwrap().unwrap().bank, bank("BANK_C"));
    assert!(matches!(
        store.update_bank(&bank("BANK_C"), Some(&bank("BANK_B")), None, "tester"),
        Err(Error::BankExists(_))
    ));

    // Paging.
    let more: Vec<NewContent> = (10..15).map(|i| content(i, "promotional")).collect();
    store
        .add_contents(&bank("BANK_B"), &more, "tester")
        .unwrap();
    let first = store.contents_after(None, 0, 3).unwrap();
    let rest = store
        .contents_after(None, first.last().unwrap().id, 100)
        .unwrap();
    assert_eq!((first.len(), rest.len()), (3, 4));
    assert_eq!(
        store
            .contents_after(Some(&bank("BANK_B")), 0, 100)
            .unwrap()
            .len(),
        5
    );

    // Streaming import: ids reported as added, and an error from the
    // source midway leaves none of it.
    let before = store.count_contents(&bank("BANK_B")).unwrap();
    let mut produced = 0u8;
    let mut seen = Vec::new();
    let count = store
        .import(
            &bank("BANK_B"),
            &mut || {
                produced += 1;
                Ok((produced <= 3).then(|| content(30 + produced, "threat-to-life")))
            },
            &mut |id| seen.push(id),
            "tester",
        )
        .unwrap();
    assert_eq!((count, seen.len()), (3, 3));
    let mut produced = 0u8;
    let err = store
        .import(
            &bank("BANK_B"),
            &mut || {
                produced += 1;
                if produced == 3 {
                    Err(Error::Invalid("the source broke".to_owned()))
                } else {
                    Ok(Some(content(40 + produced, "crisis")))
                }
            },
            &mut |_| {},
            "tester",
        )
        .unwrap_err();
    assert!(err.to_string().contains("the source broke"), "{err}");
    assert_eq!(store.count_contents(&bank("BANK_B")).unwrap(), before + 3);
    for id in seen {
        store.delete_content(id, "tester").unwrap();
    }

    // Deletes.
    assert!(store.delete_content(ids[1], "tester").unwrap());
    assert!(!store.delete_content(ids[1], "tester").unwrap());
    assert!(store.delete_bank(&bank("BANK_B"), "tester").unwrap());
    assert!(!store.delete_bank(&bank("BANK_B"), "tester").unwrap());
    assert_eq!(store.contents_after(None, 0, 100).unwrap().len(), 1);

    // The change log tells indexes everything, in order.
    let changes = store.changes_after(0, 1000).unwrap();
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds[0], ChangeKind::Content { content_id: ids[0] });
    assert!(kinds.contains(&ChangeKind::ContentDeleted { content_id: ids[1] }));
    assert!(matches!(kinds.last(), Some(ChangeKind::BankDeleted { .. })));
    assert_eq!(store.last_change().unwrap(), changes.last().unwrap().seq);
    let later = store.changes_after(changes[2].seq, 1000).unwrap();
    assert_eq!(later.len(), changes.len() - 3);

    // The audit log names who did what.
    let audit = store.audit_after(0, 1000).unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(&actions[..3], ["bank.create", "bank.create", "content.add"]);
    assert!(
        actions.contains(&"bank.rename")
            && actions.contains(&"content.delete")
            && actions.contains(&"bank.delete")
    );
    assert!(audit.iter().all(|a| a.actor == "tester"));
}

/// Tokens and exchanges, against any store (on a fresh store).
pub fn tokens_and_exchanges(store: &dyn Store) {
    use vigil_store::{ExchangeStatus, Role};

    // Tokens: stored by digest, roles normalised, names unique, revocable.
    let digest = "ab".repeat(32);
    let token = store
        .create_token(
            "moderation-bot",
            &digest,
            &[Role::Matcher, Role::Hasher, Role::Matcher],
            "tester",
        )
        .unwrap();
    assert_eq!(token.roles, [Role::Hasher, Role::Matcher]);
    assert!(
        store
            .create_token(
                "moderation-bot",
                &"cd".repeat(32),
                &[Role::Curator],
                "tester"
            )
            .is_err()
    );
    assert!(
        store
            .create_token("no roles", &"ef".repeat(32), &[], "tester")
            .is_err()
    );
    assert_eq!(
        store.token_by_secret_sha256(&digest).unwrap().unwrap().name,
        "moderation-bot"
    );
    assert!(
        store
            .token_by_secret_sha256(&"00".repeat(32))
            .unwrap()
            .is_none()
    );
    assert!(store.revoke_token("moderation-bot", "tester").unwrap());
    assert!(!store.revoke_token("moderation-bot", "tester").unwrap());
    assert!(store.token_by_secret_sha256(&digest).unwrap().is_none());
    let listed = store.tokens().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some());

    // Exchanges: each owns the bank of its name.
    let config = serde_json::json!({ "filename": "signals.txt" });
    let exchange = store
        .create_exchange(&bank("SHARED_FEED"), "local_file", &config, "tester")
        .unwrap();
    assert!(exchange.enabled);
    assert_eq!(exchange.config, config);
    assert_eq!(exchange.status, ExchangeStatus::default());
    assert!(store.bank(&bank("SHARED_FEED")).unwrap().is_some());
    assert!(matches!(
        store.create_exchange(&bank("SHARED_FEED"), "sample", &config, "tester"),
        Err(Error::BankExists(_))
    ));
    let status = ExchangeStatus {
        checkpoint: Some(serde_json::json!({ "line": 10 })),
        checkpoint_ts: Some(100),
        fetched_items: 10,
        up_to_date: true,
        last_fetch_succeeded: Some(true),
        ..ExchangeStatus::default()
    };
    store
        .save_exchange_status(&bank("SHARED_FEED"), &status)
        .unwrap();
    let backwards = ExchangeStatus {
        checkpoint_ts: Some(99),
        ..status.clone()
    };
    assert!(
        store
            .save_exchange_status(&bank("SHARED_FEED"), &backwards)
            .is_err()
    );
    let disabled = store
        .set_exchange_enabled(&bank("SHARED_FEED"), false, "tester")
        .unwrap()
        .unwrap();
    assert!(!disabled.enabled);
    assert_eq!(disabled.status, status);
    assert!(
        store
            .set_exchange_enabled(&bank("NO_SUCH"), true, "tester")
            .unwrap()
            .is_none()
    );
    assert_eq!(store.exchanges().unwrap().len(), 1);
    store
        .add_contents(&bank("SHARED_FEED"), &[content(9, "crisis")], "tester")
        .unwrap();
    assert!(
        store
            .delete_exchange(&bank("SHARED_FEED"), "tester")
            .unwrap()
    );
    assert!(
        !store
            .delete_exchange(&bank("SHARED_FEED"), "tester")
            .unwrap()
    );
    assert!(store.bank(&bank("SHARED_FEED")).unwrap().is_none());
    assert!(store.exchanges().unwrap().is_empty());
    // Deleting an exchange's bank deletes the exchange too.
    store
        .create_exchange(
            &bank("OTHER_FEED"),
            "sample",
            &serde_json::json!({}),
            "tester",
        )
        .unwrap();
    store.delete_bank(&bank("OTHER_FEED"), "tester").unwrap();
    assert!(store.exchange(&bank("OTHER_FEED")).unwrap().is_none());
}

/// The monitor's records, against any store (on a fresh store).
pub fn monitor_records(store: &dyn Store) {
    use vigil_store::{
        DeliveryAttempt, FetchRecord, FetchState, Liveness, NewAlert, NewSighting, NewSource,
        SightingMatch, SourceKind,
    };

    // Sources: unique names, validated, removable.
    let feed = NewSource {
        name: "beacon-feed".into(),
        kind: SourceKind::Feed,
        location: "https://beacon.test/feed.xml".into(),
        interval_ms: 30_000,
        ignore_robots: false,
    };
    let source = store.add_source(&feed, "tester").unwrap();
    assert_eq!(
        (source.kind, source.interval_ms, source.last_polled_at),
        (SourceKind::Feed, 30_000, None)
    );
    assert!(matches!(
        store.add_source(&feed, "tester"),
        Err(vigil_store::Error::Invalid(_))
    ));
    let mut bad = feed.clone();
    bad.name = "no spaces".into();
    assert!(store.add_source(&bad, "tester").is_err());
    bad.name = "fast".into();
    bad.interval_ms = 1;
    assert!(store.add_source(&bad, "tester").is_err());
    store
        .source_polled(source.id, 1_000, Some("timed out"))
        .unwrap();
    let listed = store.sources().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_polled_at, Some(1_000));
    assert_eq!(listed[0].last_error.as_deref(), Some("timed out"));

    // Sightings: a URL is recorded once, however often it is posted.
    let seen = |url: &str, at: i64| NewSighting {
        url: url.into(),
        host: "mirror.test".into(),
        host_class: "file_locker".into(),
        source_id: source.id,
        post_key: "post-1".into(),
        post_url: Some("https://beacon.test/p/1".into()),
        posted_at: Some(at - 10),
        first_seen_at: at,
    };
    let added = store
        .add_sightings(&[
            seen("https://mirror.test/a", 5_000),
            seen("https://mirror.test/b", 5_001),
        ])
        .unwrap();
    assert_eq!(added.len(), 2);
    assert_eq!(added[0].state, FetchState::Pending);
    assert_eq!(added[0].seen, seen("https://mirror.test/a", 5_000));
    let again = store
        .add_sightings(&[
            seen("https://mirror.test/a", 9_000),
            seen("https://mirror.test/c", 9_001),
        ])
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].seen.url, "https://mirror.test/c");
    assert_eq!(store.pending_sightings(10).unwrap().len(), 3);

    // A fetch that matched starts liveness checks.
    let found = SightingMatch {
        content_id: 42,
        bank: "KNOWN".into(),
        signal_type: "pdq".into(),
        distance: 3,
    };
    store
        .record_fetch(
            added[0].id,
            &FetchRecord {
                state: FetchState::Fetched,
                reason: None,
                final_url: Some("https://mirror.test/a?x".into()),
                host: Some(("cdn.test".into(), "other".into())),
                media_kind: Some("photo".into()),
                signals: Some(r#"{"pdq":"00"}"#.into()),
                matches: vec![found.clone()],
                liveness: Liveness::Live {
                    step: 0,
                    next_check_at: 6_000,
                },
                resurfaced_from: None,
            },
        )
        .unwrap();
    store
        .record_fetch(
            added[1].id,
            &FetchRecord {
                state: FetchState::Failed,
                reason: Some("the server answered 500".into()),
                final_url: None,
                host: None,
                media_kind: None,
                signals: None,
                matches: vec![],
                liveness: Liveness::Untracked,
                resurfaced_from: None,
            },
        )
        .unwrap();
    assert_eq!(store.pending_sightings(10).unwrap().len(), 1);
    let a = store.sighting(added[0].id).unwrap().unwrap();
    assert!(a.matched);
    assert_eq!(
        (a.seen.host.as_str(), a.seen.host_class.as_str()),
        ("cdn.test", "other")
    );
    let b = store.sighting(added[1].id).unwrap().unwrap();
    assert_eq!(b.seen.host, "mirror.test");
    assert_eq!(a.state, FetchState::Fetched);
    assert_eq!(store.sighting_matches(a.id).unwrap(), vec![found.clone()]);
    assert!(store.due_checks(5_999, 10).unwrap().is_empty());
    assert_eq!(store.due_checks(6_000, 10).unwrap()[0].id, a.id);
    let gone = Liveness::Gone {
        removed_at: 7_000,
        reason: "not_found".into(),
    };
    store.record_check(a.id, 7_000, &gone).unwrap();
    let a = store.sighting(a.id).unwrap().unwrap();
    assert_eq!((a.liveness, a.last_checked_at), (gone, Some(7_000)));
    assert!(store.due_checks(i64::MAX, 10).unwrap().is_empty());
    assert_eq!(store.gone_sightings_of(42).unwrap()[0].id, a.id);
    assert!(store.gone_sightings_of(43).unwrap().is_empty());

    // Matches found later (a bank grew), recording a resurfacing.
    store
        .add_matches(
            again[0].id,
            std::slice::from_ref(&found),
            &Liveness::Live {
                step: 0,
                next_check_at: 10_000,
            },
            Some(a.id),
        )
        .unwrap();
    let c = store.sighting(again[0].id).unwrap().unwrap();
    assert!(c.matched);
    assert_eq!(c.resurfaced_from, Some(a.id));
    assert_eq!(store.sightings_after(0, 10).unwrap().len(), 3);
    assert_eq!(store.sightings_after(a.id, 1).unwrap()[0].id, added[1].id);

    // Alerts: idempotent, one delivery per webhook, every attempt recorded.
    let hook = store
        .add_webhook("ngo", "http://127.0.0.1:9/alerts", "tester")
        .unwrap();
    assert!(
        store
            .add_webhook("ngo", "http://x.test/", "tester")
            .is_err()
    );
    assert!(store.add_webhook("bad", "ftp://x.test/", "tester").is_err());
    let alert = NewAlert {
        id: "alert-1".into(),
        sighting_id: a.id,
        kind: "match".into(),
        body: "{}".into(),
        created_at: 8_000,
    };
    assert!(store.add_alert(&alert).unwrap());
    assert!(!store.add_alert(&alert).unwrap());
    let due = store.due_deliveries(8_000, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].webhook.id, due[0].attempts), (hook.id, 0));
    let failed = DeliveryAttempt {
        at: 8_001,
        status: Some(503),
        error: Some("the destination answered 503".into()),
        delivered: false,
    };
    store
        .record_delivery("alert-1", hook.id, &failed, Some(9_000))
        .unwrap();
    assert!(store.due_deliveries(8_999, 10).unwrap().is_empty());
    assert_eq!(store.due_deliveries(9_000, 10).unwrap()[0].attempts, 1);
    let ok = DeliveryAttempt {
        at: 9_001,
        status: Some(200),
        error: None,
        delivered: true,
    };
    store
        .record_delivery("alert-1", hook.id, &ok, Some(99_000))
        .unwrap();
    assert!(store.due_deliveries(i64::MAX, 10).unwrap().is_empty());
    let status = store.deliveries().unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(
        (
            status[0].attempts,
            status[0].delivered_at,
            status[0].next_attempt_at
        ),
        (2, Some(9_001), None)
    );
    assert!(store.remove_webhook("ngo", "tester").unwrap());
    assert!(!store.remove_webhook("ngo", "tester").unwrap());
    assert!(store.remove_source("beacon-feed", "tester").unwrap());
    assert!(store.sources().unwrap().is_empty());
    // Sightings outlive their source: reports still count them.
    assert_eq!(store.sightings_after(0, 10).unwrap().len(), 3);
}
