//! The shared index: inserts visible to the next query, queries running
//! while a writer inserts and merges, never a half-written entry.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use vigil_index::{Code256, HammingIndex, HammingOptions, SharedHammingIndex, SignalIndex};
use vigil_signal::PdqHash;

fn code(seed: u64) -> Code256 {
    Code256(vigil_testkit::random_limbs(seed))
}

#[test]
fn an_insert_is_visible_to_the_next_query() {
    let index = SharedHammingIndex::new(HammingIndex::build((0..1000).map(|i| (i, code(i)))));
    let fresh = code(424_242);
    assert!(index.search(&fresh, 31).is_empty());
    index.insert(424_242, fresh);
    assert_eq!(index.search(&fresh.with_bit_flipped(9), 31)[0].id, 424_242);
    assert!(index.remove(424_242, &fresh));
    assert!(index.search(&fresh, 31).is_empty());
}

#[test]
fn readers_run_during_inserts_and_merges() {
    let options = HammingOptions {
        merge_threshold: 64,
        ..HammingOptions::default()
    };
    let index = Arc::new(SharedHammingIndex::new(HammingIndex::with_options(
        (0..2000).map(|i| (i, code(i))),
        options,
    )));
    let inserted = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (index, inserted, done) = (index.clone(), inserted.clone(), done.clone());
            std::thread::spawn(move || {
                let mut queries = 0u64;
                while !done.load(Ordering::Acquire) {
                    // Everything inserted before this point must be found,
                    // with its exact code (never a half-written entry).
                    let upto = inserted.load(Ordering::Acquire);
                    for id in upto.saturating_sub(5)..upto {
                        let hits = index.search(&code(10_000 + id), 0);
                        assert!(
                            hits.iter().any(|h| h.id == 10_000 + id && h.distance == 0),
                            "insert {id} not visible"
                        );
                    }
                    queries += 1;
                }
                queries
            })
        })
        .collect();
    for id in 0..1000u64 {
        index.insert(10_000 + id, code(10_000 + id));
        inserted.store(id + 1, Ordering::Release);
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    assert_eq!(index.len(), 3000);
    index.with_read(|inner| assert!(inner.delta_len() < 64, "merges happened"));
}

#[test]
fn the_trait_serves_pdq_hashes() {
    let index: Box<dyn SignalIndex<Signal = PdqHash>> = Box::new(SharedHammingIndex::default());
    let hash: PdqHash = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
        .parse()
        .unwrap();
    index.insert(5, &hash);
    let near: PdqHash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
        .parse()
        .unwrap();
    let hits = index.search(&near, 31);
    assert_eq!((hits[0].id, hits[0].distance), (5, hash.distance(&near)));
    assert_eq!(index.len(), 1);
    assert!(index.remove(5, &hash));
    assert!(index.is_empty());
}
