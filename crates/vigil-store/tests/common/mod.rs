//! The store contract: one suite every `Store` implementation must pass.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Shared by several test crates.

use vigil_store::{BankName, ChangeKind, ContentUpdate, Error, NewContent, Store};

pub fn bank(name: &str) -> BankName {
    name.parse().unwrap()
}

pub fn content(md5_seed: u8, tier: &str) -> NewContent {
    let mut content = NewContent::default();
    content
        .signals
        .insert(
            "md5",
            &format!("{:032x}", u128::from(md5_seed) * 0x1234_5678_9abc_def1),
        )
        .unwrap();
    content
        .signals
        .insert("pdq", &format!("{:064x}", u128::from(md5_seed) << 64 | 7))
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
