//! The engine over real stores: lookups follow HMA's rules, and every write
//! is reflected in the next lookup, in this process or another.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::sync::Arc;

use vigil_engine::transfer::{self, Format};
use vigil_engine::{Engine, Error, LookupOptions};
use vigil_store::{BankName, ContentUpdate, NewContent, SqliteStore, Store};
use vigil_store::{SignalType, SignalValue};

const PDQ: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
/// Six bits away from `PDQ` (the PyPI hash of the same photo).
const PDQ_NEAR: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

fn bank(name: &str) -> BankName {
    name.parse().unwrap()
}

fn content(pdq: &str, md5: Option<&str>) -> NewContent {
    let mut content = NewContent::default();
    content.signals.insert(SignalType::Pdq, pdq).unwrap();
    if let Some(md5) = md5 {
        content.signals.insert(SignalType::Md5, md5).unwrap();
    }
    content.labels.set("behaviour", "glorification").unwrap();
    content
}

fn engine() -> Engine {
    engine_and_store().0
}

/// An engine and its store, for tests that check what was written.
fn engine_and_store() -> (Engine, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    (Engine::open(Arc::clone(&store)).unwrap(), store)
}

#[test]
fn lookups_find_near_and_exact_matches() {
    let engine = engine();
    engine.create_bank(&bank("KNOWN"), 1.0, "t").unwrap();
    let ids = engine
        .add_contents(&bank("KNOWN"), &[content(PDQ, Some(MD5))], "t")
        .unwrap();
    let matches = engine
        .lookup(
            &SignalValue::parse(SignalType::Pdq, PDQ_NEAR).unwrap(),
            &LookupOptions::default(),
        )
        .unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(
        (
            matches[0].content_id,
            matches[0].distance(),
            matches[0].bank.as_str()
        ),
        (ids[0], 6, "KNOWN")
    );
    let exact = engine
        .lookup(
            &SignalValue::parse(SignalType::Md5, &MD5.to_uppercase()).unwrap(),
            &LookupOptions::default(),
        )
        .unwrap();
    assert_eq!(exact[0].distance(), 0);
    let strict = LookupOptions {
        max_distance: Some(5),
        ..LookupOptions::default()
    };
    assert!(
        engine
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ_NEAR).unwrap(),
                &strict
            )
            .unwrap()
            .is_empty()
    );
    // Unknown types are refused where the text is parsed, before a lookup.
    assert!("tlsh".parse::<SignalType>().is_err());
    assert!(matches!(
        engine.lookup(
            &SignalValue::parse(SignalType::PdqVariants, &format!("orig:{PDQ}:100")).unwrap(),
            &LookupOptions::default()
        ),
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        Engine::compare(
            &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
            &SignalValue::parse(SignalType::Pdq, PDQ_NEAR).unwrap()
        )
        .unwrap()
        .map(|c| c.distance()),
        Some(6)
    );
    assert_eq!(
        Engine::compare(
            &SignalValue::parse(SignalType::Md5, MD5).unwrap(),
            &SignalValue::parse(SignalType::Md5, &MD5.to_uppercase()).unwrap()
        )
        .unwrap(),
        Some(vigil_signal::Closeness::Exact)
    );
}

#[test]
fn enabled_state_and_ratios_filter_as_hma_does() {
    let engine = engine();
    engine.create_bank(&bank("ON"), 1.0, "t").unwrap();
    engine.create_bank(&bank("OFF"), 0.0, "t").unwrap();
    let on = engine
        .add_contents(&bank("ON"), &[content(PDQ, None)], "t")
        .unwrap()[0];
    engine
        .add_contents(&bank("OFF"), &[content(PDQ, None)], "t")
        .unwrap();
    let found = |options: &LookupOptions| -> Vec<String> {
        let mut banks: Vec<String> = engine
            .lookup(&SignalValue::parse(SignalType::Pdq, PDQ).unwrap(), options)
            .unwrap()
            .into_iter()
            .map(|m| m.bank.to_string())
            .collect();
        banks.sort();
        banks
    };
    assert_eq!(
        found(&LookupOptions::default()),
        ["ON"],
        "ratio 0 never matches"
    );
    let bypass = LookupOptions {
        bypass_enabled_ratio: true,
        ..LookupOptions::default()
    };
    assert_eq!(found(&bypass), ["OFF", "ON"]);
    let only = LookupOptions {
        banks: Some(vec![bank("OFF")]),
        ..bypass.clone()
    };
    assert_eq!(found(&only), ["OFF"]);

    // Disabled now, disabled until a past time (so enabled), and back.
    engine
        .update_content(
            on,
            &ContentUpdate {
                disable_until_ts: Some(0),
                ..Default::default()
            },
            "t",
        )
        .unwrap();
    assert!(found(&LookupOptions::default()).is_empty());
    let with_disabled = LookupOptions {
        include_disabled: true,
        ..LookupOptions::default()
    };
    assert_eq!(found(&with_disabled), ["ON"]);
    engine
        .update_content(
            on,
            &ContentUpdate {
                disable_until_ts: Some(1000),
                ..Default::default()
            },
            "t",
        )
        .unwrap();
    assert_eq!(found(&LookupOptions::default()), ["ON"]);
    engine
        .update_content(
            on,
            &ContentUpdate {
                disable_until_ts: Some(i64::MAX),
                ..Default::default()
            },
            "t",
        )
        .unwrap();
    assert!(found(&LookupOptions::default()).is_empty());
}

#[test]
fn a_seeded_coinflip_is_reproducible() {
    let engine = engine();
    engine.create_bank(&bank("HALF"), 0.5, "t").unwrap();
    engine
        .add_contents(&bank("HALF"), &[content(PDQ, None)], "t")
        .unwrap();
    let hits: Vec<bool> = (0..200u64)
        .map(|seed| {
            !engine
                .lookup(
                    &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                    &LookupOptions {
                        seed: Some(seed.to_string()),
                        ..Default::default()
                    },
                )
                .unwrap()
                .is_empty()
        })
        .collect();
    let again: Vec<bool> = (0..200u64)
        .map(|seed| {
            !engine
                .lookup(
                    &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                    &LookupOptions {
                        seed: Some(seed.to_string()),
                        ..Default::default()
                    },
                )
                .unwrap()
                .is_empty()
        })
        .collect();
    assert_eq!(hits, again);
    let share = hits.iter().filter(|h| **h).count();
    assert!(
        (60..140).contains(&share),
        "ratio 0.5 matched {share}/200 times"
    );
}

#[test]
fn a_seed_keeps_the_banks_hma_keeps() {
    // CPython: random.Random("abc").random() == 0.7720246314157545, and
    // random.Random("42").random() == 0.473659421919327.
    let engine = engine();
    for (name, ratio) in [
        ("R077", 0.772),
        ("R078", 0.78),
        ("R047", 0.47),
        ("R048", 0.48),
    ] {
        engine.create_bank(&bank(name), ratio, "t").unwrap();
        engine
            .add_contents(&bank(name), &[content(PDQ, None)], "t")
            .unwrap();
    }
    let banks = |seed: &str| -> Vec<String> {
        let options = LookupOptions {
            seed: Some(seed.to_owned()),
            ..Default::default()
        };
        let mut names: Vec<String> = engine
            .lookup(&SignalValue::parse(SignalType::Pdq, PDQ).unwrap(), &options)
            .unwrap()
            .iter()
            .map(|m| m.bank.to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(banks("abc"), ["R078"]);
    assert_eq!(banks("42"), ["R048", "R077", "R078"]);
}

#[test]
fn deletes_and_renames_show_at_once() {
    let engine = engine();
    engine.create_bank(&bank("A"), 1.0, "t").unwrap();
    let ids = engine
        .add_contents(
            &bank("A"),
            &[content(PDQ, None), content(PDQ_NEAR, None)],
            "t",
        )
        .unwrap();
    engine
        .update_bank(&bank("A"), Some(&bank("B")), None, "t")
        .unwrap();
    let matches = engine
        .lookup(
            &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
            &LookupOptions::default(),
        )
        .unwrap();
    assert!(matches.iter().all(|m| m.bank.as_str() == "B"));
    assert_eq!(matches.len(), 2);
    engine.delete_content(ids[0], "t").unwrap();
    assert_eq!(
        engine
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                &LookupOptions::default()
            )
            .unwrap()
            .len(),
        1
    );
    engine.delete_bank(&bank("B"), "t").unwrap();
    assert!(
        engine
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                &LookupOptions::default()
            )
            .unwrap()
            .is_empty()
    );
    assert_eq!(engine.indexed(), 0);
}

#[test]
fn another_process_sees_changes_after_sync() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    let writer = Engine::open(Arc::new(SqliteStore::open(&path).unwrap())).unwrap();
    let reader = Engine::open(Arc::new(SqliteStore::open(&path).unwrap())).unwrap();
    writer.create_bank(&bank("SHARED"), 1.0, "t").unwrap();
    let id = writer
        .add_contents(&bank("SHARED"), &[content(PDQ, None)], "t")
        .unwrap()[0];
    assert!(
        reader
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                &LookupOptions::default()
            )
            .unwrap()
            .is_empty()
    );
    assert_eq!(reader.sync().unwrap(), 1);
    assert_eq!(
        reader
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                &LookupOptions::default()
            )
            .unwrap()[0]
            .content_id,
        id
    );
    writer.delete_content(id, "t").unwrap();
    reader.sync().unwrap();
    assert!(
        reader
            .lookup(
                &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                &LookupOptions::default()
            )
            .unwrap()
            .is_empty()
    );
    // A third engine opened later starts from the same state.
    let late = Engine::open(Arc::new(SqliteStore::open(&path).unwrap())).unwrap();
    assert_eq!(late.indexed(), 0);
}

#[test]
fn a_follower_reflects_other_writers_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigil.db");
    let writer = Engine::open(Arc::new(SqliteStore::open(&path).unwrap())).unwrap();
    let reader = Arc::new(Engine::open(Arc::new(SqliteStore::open(&path).unwrap())).unwrap());
    let _follower = reader.follow(std::time::Duration::from_millis(100));
    writer.create_bank(&bank("LIVE"), 1.0, "t").unwrap();
    let id = writer
        .add_contents(&bank("LIVE"), &[content(PDQ, None)], "t")
        .unwrap()[0];
    let visible = |expected: bool| {
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(1) {
            let found = !reader
                .lookup(
                    &SignalValue::parse(SignalType::Pdq, PDQ).unwrap(),
                    &LookupOptions::default(),
                )
                .unwrap()
                .is_empty();
            if found == expected {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        false
    };
    assert!(visible(true), "an addition was not seen within a second");
    writer
        .update_content(
            id,
            &ContentUpdate {
                disable_until_ts: Some(0),
                ..Default::default()
            },
            "t",
        )
        .unwrap();
    assert!(visible(false), "disabling was not seen within a second");
    writer
        .update_content(
            id,
            &ContentUpdate {
                disable_until_ts: Some(1),
                ..Default::default()
            },
            "t",
        )
        .unwrap();
    assert!(visible(true));
    writer.delete_content(id, "t").unwrap();
    assert!(visible(false), "a deletion was not seen within a second");
}

#[test]
fn imports_are_all_or_nothing_and_name_the_bad_line() {
    let jsonl = format!(
        "{{\"signals\":{{\"pdq\":\"{PDQ}\"}},\"labels\":{{\"tier\":\"crisis\",\"tags\":[\"a\"]}},\"note\":\"n\"}}\n\n{{\"signals\":{{\"md5\":\"{MD5}\"}}}}\n"
    );
    let parsed = transfer::parse(jsonl.as_bytes(), Format::JsonLines).unwrap();
    assert_eq!(parsed.len(), 2);
    let bad =
        format!("{{\"signals\":{{\"pdq\":\"{PDQ}\"}}}}\n{{\"signals\":{{\"pdq\":\"nothex\"}}}}\n");
    let err = transfer::parse(bad.as_bytes(), Format::JsonLines).unwrap_err();
    assert!(matches!(err, Error::ImportLine { line: 2, .. }), "{err}");
    let unknown =
        "{\"signals\":{\"md5\":\"d41d8cd98f00b204e9800998ecf8427e\"},\"colour\":\"red\"}\n";
    assert!(matches!(
        transfer::parse(unknown.as_bytes(), Format::JsonLines),
        Err(Error::ImportLine { line: 1, .. })
    ));

    let csv = format!("pdq,md5,tier,tags,note\n{PDQ},,crisis,a;b,hello\n,{MD5},,,\n");
    let parsed = transfer::parse(csv.as_bytes(), Format::Csv).unwrap();
    assert_eq!(parsed[0].labels.tags, ["a", "b"]);
    let bad_csv = format!("pdq,tier\n{PDQ},crisis\n{PDQ},sometimes\n");
    assert!(matches!(
        transfer::parse(bad_csv.as_bytes(), Format::Csv),
        Err(Error::ImportLine { line: 3, .. })
    ));
    assert!(matches!(
        transfer::parse("pdq,colour\n".as_bytes(), Format::Csv),
        Err(Error::ImportLine { line: 1, .. })
    ));

    let local = format!("# a comment\npdq {PDQ}\n\nmd5 {MD5}\n");
    assert_eq!(
        transfer::parse(local.as_bytes(), Format::LocalFile)
            .unwrap()
            .len(),
        2
    );
    let bad_local = format!("pdq {PDQ}\npdq\n");
    assert!(matches!(
        transfer::parse(bad_local.as_bytes(), Format::LocalFile),
        Err(Error::ImportLine { line: 2, .. })
    ));
}

#[test]
fn formats_are_recognised_from_the_first_line() {
    assert_eq!(Format::sniff("{\"signals\":{}}"), Some(Format::JsonLines));
    assert_eq!(
        Format::sniff(&format!("pdq {PDQ}")),
        Some(Format::LocalFile)
    );
    assert_eq!(Format::sniff("pdq,tier,note"), Some(Format::Csv));
    assert_eq!(Format::sniff("a neutral sentence"), None);
    assert_eq!(Format::from_file_name("x.NDJSON"), Some(Format::JsonLines));
    assert_eq!(Format::from_file_name("x"), None);
}

#[test]
fn exports_round_trip_in_every_format() {
    let (engine, store) = engine_and_store();
    engine.create_bank(&bank("SRC"), 1.0, "t").unwrap();
    let mut first = content(PDQ, Some(MD5));
    first.labels.set("tier", "crisis").unwrap();
    first.labels.set("tag", "x,y").unwrap();
    first.metadata.content_id = Some("post-1".to_owned());
    first.note = Some("a note, with a comma".to_owned());
    engine
        .add_contents(&bank("SRC"), &[first.clone(), content(PDQ_NEAR, None)], "t")
        .unwrap();
    for format in [Format::JsonLines, Format::Csv] {
        let mut out = Vec::new();
        assert_eq!(
            transfer::export(&*store, &bank("SRC"), format, &mut out).unwrap(),
            2
        );
        let back = transfer::parse(out.as_slice(), format).unwrap();
        assert_eq!(back[0], first, "{format:?}");
        assert_eq!(back.len(), 2);
    }
    let mut out = Vec::new();
    transfer::export(&*store, &bank("SRC"), Format::LocalFile, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains(&format!("pdq {PDQ}")));
    assert_eq!(store.banks().unwrap().len(), 1);
}
