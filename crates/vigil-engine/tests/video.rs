//! vPDQ lookups through the frame index agree with brute-force comparison
//! (python-threatexchange's percentages) for every pair of sample videos,
//! and follow HMA's rules like every other signal.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::collections::HashMap;
use std::sync::Arc;

use vigil_engine::{Engine, LookupOptions};
use vigil_signal::vpdq::{self, DEFAULT_FRAME_DISTANCE, DEFAULT_QUALITY_THRESHOLD, match_frames};
use vigil_store::{BankName, ContentUpdate, NewContent, SqliteStore};
use vigil_store::{SignalType, SignalValue};

fn sample_hashes() -> Vec<(String, Vec<vigil_signal::VpdqFrame>)> {
    let dir = vigil_testkit::vpdq_vectors().join("hashes");
    let mut videos: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_stem().unwrap().to_string_lossy();
            !name.ends_with("-r1") && !name.ends_with("-128x128")
        })
        .map(|p| {
            let frames = vpdq::parse_reference(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                frames,
            )
        })
        .collect();
    videos.sort_by(|a, b| a.0.cmp(&b.0));
    videos
}

#[test]
fn index_lookups_equal_brute_force_for_every_pair() {
    let engine = Engine::open(Arc::new(SqliteStore::open_in_memory().unwrap())).unwrap();
    let bank: BankName = "VIDEOS".parse().unwrap();
    engine.create_bank(&bank, 1.0, "t").unwrap();
    let videos = sample_hashes();
    let mut ids = HashMap::new();
    for (name, frames) in &videos {
        let mut content = NewContent::default();
        content
            .signals
            .insert(SignalType::Vpdq, &vpdq::to_hma_signal(frames))
            .unwrap();
        content
            .signals
            .insert(SignalType::VideoMd5, &format!("{:032x}", ids.len()))
            .unwrap();
        let id = engine.add_contents(&bank, &[content], "t").unwrap()[0];
        ids.insert(id, name.clone());
    }
    assert_eq!(
        engine
            .index_sizes()
            .iter()
            .find(|(t, _)| *t == SignalType::Vpdq)
            .unwrap()
            .1,
        videos.len()
    );
    for (query_name, query) in &videos {
        let signal = vpdq::to_hma_signal(query);
        let everything = LookupOptions {
            vpdq_query_pct: Some(0.0),
            ..LookupOptions::default()
        };
        let found: HashMap<&str, vigil_signal::VpdqMatch> = engine
            .lookup(
                &SignalValue::parse(SignalType::Vpdq, &signal).unwrap(),
                &everything,
            )
            .unwrap()
            .into_iter()
            .map(|m| (ids[&m.content_id].as_str(), m.frames().unwrap()))
            .collect();
        for (target_name, target) in &videos {
            let expected = match_frames(
                query,
                target,
                DEFAULT_FRAME_DISTANCE,
                DEFAULT_QUALITY_THRESHOLD,
            );
            match found.get(target_name.as_str()) {
                Some(got) => assert_eq!(*got, expected, "{query_name} in {target_name}"),
                None => assert_eq!(expected.query_pct, 0.0, "{query_name} in {target_name}"),
            }
        }
        // With the default threshold: exactly the videos holding ≥ 80 % of the query.
        let matches = engine
            .lookup(
                &SignalValue::parse(SignalType::Vpdq, &signal).unwrap(),
                &LookupOptions::default(),
            )
            .unwrap();
        // Best first: the video itself (or an identical copy) covers all of the query.
        assert_eq!(
            matches[0].frames().unwrap().query_pct,
            100.0,
            "{query_name}"
        );
        assert!(
            matches
                .windows(2)
                .all(|w| w[0].distance() <= w[1].distance())
        );
        let default: Vec<&str> = matches
            .iter()
            .map(|m| ids[&m.content_id].as_str())
            .collect();
        let expected: Vec<&str> = videos
            .iter()
            .filter(|(_, target)| {
                match_frames(
                    query,
                    target,
                    DEFAULT_FRAME_DISTANCE,
                    DEFAULT_QUALITY_THRESHOLD,
                )
                .query_pct
                    >= 80.0
            })
            .map(|(name, _)| name.as_str())
            .collect();
        let mut sorted = default.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected, "{query_name}");
    }

    // Disabled videos drop out; deleted ones leave the frame index.
    let (&id, _) = ids.iter().find(|(_, n)| *n == "chair-19-sd-bar").unwrap();
    let chair = vpdq::to_hma_signal(
        &videos
            .iter()
            .find(|(n, _)| n == "chair-19-sd-bar")
            .unwrap()
            .1,
    );
    engine
        .update_content(
            id,
            &ContentUpdate {
                disable_until_ts: Some(0),
                ..ContentUpdate::default()
            },
            "t",
        )
        .unwrap();
    assert!(
        !engine
            .lookup(
                &SignalValue::parse(SignalType::Vpdq, &chair).unwrap(),
                &LookupOptions::default()
            )
            .unwrap()
            .iter()
            .any(|m| m.content_id == id)
    );
    engine.delete_content(id, "t").unwrap();
    let strict = LookupOptions {
        vpdq_query_pct: Some(100.0),
        vpdq_compared_pct: Some(100.0),
        include_disabled: true,
        ..LookupOptions::default()
    };
    assert!(
        !engine
            .lookup(
                &SignalValue::parse(SignalType::Vpdq, &chair).unwrap(),
                &strict
            )
            .unwrap()
            .iter()
            .any(|m| m.content_id == id)
    );
    // A malformed signal is refused where it is parsed, before a lookup.
    assert!(SignalValue::parse(SignalType::Vpdq, "[\"nope\"]").is_err());
}
