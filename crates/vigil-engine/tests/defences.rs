//! Defended lookups through the indexes agree with judging every banked
//! content by brute force (`vigil_media::nearest_pairing`), and banked
//! variants leave the index with their content.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::sync::Arc;

use proptest::prelude::*;
use vigil_engine::{Engine, LookupOptions};
use vigil_media::{Variant, VariantHash, nearest_pairing};
use vigil_signal::{Pdq, PdqHash};
use vigil_store::SignalType;
use vigil_store::{BankName, NewContent, SqliteStore};

const QUERY_NAMES: [&str; 7] = ["orig", "rot90", "trimmed", "tl60", "tr60", "bl60", "br60"];
const BANK_NAMES: [&str; 6] = ["c90", "tl90", "trimmed", "tl60", "tr60", "br60"];

fn hash(words: [u64; 4]) -> PdqHash {
    PdqHash(words)
}

/// `base` with the bits of `mask` that fall in the first `flips` positions
/// of a fixed order flipped: a hash `≤ flips` bits away.
fn near(base: PdqHash, flips: u32, mask: [u64; 4]) -> PdqHash {
    let mut words = base.0;
    let mut left = flips;
    for (w, m) in words.iter_mut().zip(mask) {
        for bit in 0..64 {
            if left == 0 {
                break;
            }
            if m >> bit & 1 == 1 {
                *w ^= 1 << bit;
                left -= 1;
            }
        }
    }
    hash(words)
}

fn variant(name: &str, hash: PdqHash) -> VariantHash {
    VariantHash {
        variant: Variant::parse(name).unwrap(),
        pdq: Pdq { hash, quality: 90 },
    }
}

/// A banked content: per hash, either a random one or one near the query's
/// variant of the same (or the plain) name.
#[derive(Debug, Clone)]
struct Banked {
    plain: Option<(bool, u32, [u64; 4])>,
    variants: Vec<(usize, bool, u32, [u64; 4])>,
}

fn banked() -> impl Strategy<Value = Banked> {
    let one = (any::<bool>(), 0u32..48, any::<[u64; 4]>());
    (
        proptest::option::of(one.clone()),
        proptest::collection::vec(
            (
                0..BANK_NAMES.len(),
                any::<bool>(),
                0u32..48,
                any::<[u64; 4]>(),
            ),
            0..6,
        ),
    )
        .prop_map(|(plain, variants)| Banked { plain, variants })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn defended_lookups_equal_brute_force(
        query_words in proptest::collection::vec(any::<[u64; 4]>(), QUERY_NAMES.len()),
        contents in proptest::collection::vec(banked(), 1..12),
    ) {
        let query: Vec<VariantHash> = QUERY_NAMES
            .iter()
            .zip(&query_words)
            .map(|(name, words)| variant(name, hash(*words)))
            .collect();
        let query_hash = |name: &str| {
            query
                .iter()
                .find(|q| q.variant.name() == name)
                .map_or(query[0].pdq.hash, |q| q.pdq.hash)
        };
        let engine = Engine::open(Arc::new(SqliteStore::open_in_memory().unwrap())).unwrap();
        let bank: BankName = "KNOWN".parse().unwrap();
        engine.create_bank(&bank, 1.0, "t").unwrap();
        let mut expected = Vec::new();
        for content in &contents {
            let pick = |name: &str, (is_near, flips, words): (bool, u32, [u64; 4])| {
                if is_near { near(query_hash(name), flips, words) } else { hash(words) }
            };
            let plain = content.plain.map(|p| pick("orig", p));
            let mut variants: Vec<VariantHash> = Vec::new();
            for (k, is_near, flips, words) in &content.variants {
                let name = BANK_NAMES[*k];
                if variants.iter().any(|v| v.variant.name() == name) {
                    continue;
                }
                variants.push(variant(name, pick(name, (*is_near, *flips, *words))));
            }
            let mut new = NewContent::default();
            if let Some(plain) = plain {
                new.signals.insert(SignalType::Pdq, &plain.to_string()).unwrap();
            }
            if !variants.is_empty() {
                new.signals
                    .insert(SignalType::PdqVariants, &VariantHash::format_list(&variants))
                    .unwrap();
            }
            if plain.is_none() && variants.is_empty() {
                continue;
            }
            let id = engine.add_contents(&bank, &[new], "t").unwrap()[0];
            if let Some(found) = nearest_pairing(&query, plain.as_ref(), &variants, 31) {
                expected.push((id, found.distance, found.query.name(), found.banked.name()));
            }
        }
        let options = LookupOptions {
            max_distance: Some(31),
            bypass_enabled_ratio: true,
            ..Default::default()
        };
        let mut got: Vec<(i64, u32, String, String)> = engine
            .lookup_defended(&query, &options)
            .unwrap()
            .into_iter()
            .map(|m| (m.found.content_id, m.found.distance(), m.query_variant, m.banked_variant))
            .collect();
        got.sort();
        expected.sort();
        prop_assert_eq!(&got, &expected);

        // Deleted contents leave the plain and the variant index alike.
        for (id, ..) in &expected {
            engine.delete_content(*id, "t").unwrap();
        }
        prop_assert!(engine.lookup_defended(&query, &options).unwrap().is_empty());
    }
}

#[test]
fn plain_matches_report_orig_on_both_sides() {
    let engine = Engine::open(Arc::new(SqliteStore::open_in_memory().unwrap())).unwrap();
    let bank: BankName = "KNOWN".parse().unwrap();
    engine.create_bank(&bank, 1.0, "t").unwrap();
    let plain = hash([1, 2, 3, 4]);
    let mut new = NewContent::default();
    new.signals
        .insert(SignalType::Pdq, &plain.to_string())
        .unwrap();
    let id = engine.add_contents(&bank, &[new], "t").unwrap()[0];
    let options = LookupOptions {
        bypass_enabled_ratio: true,
        ..Default::default()
    };
    let found = engine
        .lookup_defended(&[variant("orig", plain)], &options)
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].found.content_id, id);
    assert_eq!(
        (
            found[0].query_variant.as_str(),
            found[0].banked_variant.as_str()
        ),
        ("orig", "orig")
    );
    assert_eq!(
        engine
            .index_sizes()
            .iter()
            .find(|(t, _)| *t == SignalType::PdqVariants)
            .unwrap()
            .1,
        0
    );
}
