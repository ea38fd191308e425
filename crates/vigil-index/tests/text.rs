//! The text index against a brute-force oracle: for any sequence of builds,
//! inserts, replacements, removals, merges and compactions, a search returns
//! exactly the texts whose [`TextSketch::containment_in`] the query reaches
//! the threshold, with the same estimates.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::collections::BTreeMap;

use proptest::prelude::*;
use vigil_index::{TextIndex, TextIndexOptions};
use vigil_signal::TextSketch;

/// Texts over a small vocabulary, so that texts share shingles often.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..12, 0..40).prop_map(|words| {
        words
            .iter()
            .map(|w| format!("w{w}"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u64, String, usize),
    Remove(u64),
    Search(String, usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..30, text(), 1usize..20).prop_map(|(id, t, k)| Op::Insert(id, t, k)),
        1 => (0u64..30).prop_map(Op::Remove),
        2 => (text(), 1usize..200, 0u8..=10).prop_map(|(t, k, c)| Op::Search(t, k, c)),
    ]
}

fn oracle_search(
    oracle: &BTreeMap<u64, TextSketch>,
    query: &TextSketch,
    min: f64,
) -> Vec<(u64, f64, u32, u32)> {
    let mut hits: Vec<(u64, f64, u32, u32)> = oracle
        .iter()
        .filter_map(|(id, sketch)| {
            let found = sketch.containment_in(query)?;
            found
                .is_match(min)
                .then_some((*id, found.containment, found.sampled, found.found))
        })
        .collect();
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn searches_equal_the_oracle(
        initial in prop::collection::vec((0u64..30, text(), 1usize..20), 0..20),
        ops in prop::collection::vec(op(), 1..60),
        merge_threshold in 1usize..64,
    ) {
        let mut oracle = BTreeMap::new();
        let sketches: Vec<(u64, TextSketch)> = initial
            .iter()
            .map(|(id, t, k)| (*id, TextSketch::of_text(t, *k)))
            .collect();
        for (id, sketch) in &sketches {
            oracle.remove(id);
            if !sketch.is_empty() {
                oracle.insert(*id, sketch.clone());
            }
        }
        let mut index = if merge_threshold % 2 == 0 {
            TextIndex::build(sketches.iter().map(|(id, s)| (*id, s)))
        } else {
            let mut index = TextIndex::with_options(TextIndexOptions {
                merge_threshold,
                ..TextIndexOptions::default()
            });
            for (id, sketch) in &sketches {
                index.insert(*id, sketch);
            }
            index
        };
        prop_assert_eq!(index.len(), oracle.len());
        for op in ops {
            match op {
                Op::Insert(id, t, k) => {
                    let sketch = TextSketch::of_text(&t, k);
                    index.insert(id, &sketch);
                    oracle.remove(&id);
                    if !sketch.is_empty() {
                        oracle.insert(id, sketch);
                    }
                }
                Op::Remove(id) => {
                    prop_assert_eq!(index.remove(id), oracle.remove(&id).is_some());
                }
                Op::Search(t, k, c) => {
                    let query = TextSketch::of_text(&t, k);
                    let min = f64::from(c) / 10.0;
                    let got: Vec<(u64, f64, u32, u32)> = index
                        .search(&query, min)
                        .iter()
                        .map(|h| (h.id, h.found.containment, h.found.sampled, h.found.found))
                        .collect();
                    prop_assert_eq!(got, oracle_search(&oracle, &query, min));
                }
            }
            prop_assert_eq!(index.len(), oracle.len());
        }
    }
}

#[test]
fn an_edited_statement_is_found_among_many_texts() {
    let statement = "the regional office confirmed on tuesday that the new water plant will \
        open in the spring after two years of building work and a long dispute over the cost";
    let mut texts: Vec<(u64, TextSketch)> = (0..5_000u64)
        .map(|i| {
            let words: Vec<String> = (0..40)
                .map(|j| format!("t{}", (i * 7919 + j * 104_729) % 50_000))
                .collect();
            (i, TextSketch::of_text(&words.join(" "), 64))
        })
        .collect();
    texts.push((99_999, TextSketch::of_text(statement, 64)));
    let index = TextIndex::build(texts.iter().map(|(id, s)| (*id, s)));
    let edited = statement.replace("tuesday", "monday").replace("long ", "");
    let post = format!("read this: {edited} share widely");
    let hits = index.search(&TextSketch::of_text(&post, 1 << 16), 0.5);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, 99_999);
    assert!(hits[0].found.containment > 0.7, "{hits:?}");
}

/// A phrase in many banked texts is common: its postings are skipped, and it
/// counts neither for nor against a text.
#[test]
fn common_phrases_are_left_out_of_the_estimate() {
    let options = TextIndexOptions {
        merge_threshold: 1 << 16,
        common_postings: 10,
    };
    // Forty texts share the phrase "alpha beta gamma"; each has 3 own words.
    let texts: Vec<(u64, TextSketch)> = (0..40u64)
        .map(|i| {
            let text = format!("alpha beta gamma own{i} word{i} more{i}");
            (i, TextSketch::of_text(&text, 64))
        })
        .collect();
    let index = TextIndex::build_with_options(texts.iter().map(|(id, s)| (*id, s)), options);
    assert_eq!(index.common_values(), 1);
    // The shared phrase alone finds nothing.
    let phrase = TextSketch::of_text("alpha beta gamma", 1 << 16);
    assert!(index.search(&phrase, 0.0).is_empty());
    // Text 7 in full: its three uncommon shingles are all found.
    let query = TextSketch::of_text("alpha beta gamma own7 word7 more7", 1 << 16);
    let hits = index.search(&query, 0.9);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, 7);
    assert_eq!((hits[0].found.sampled, hits[0].found.found), (3, 3));
    // Inserted later, a text is measured the same way.
    let mut index = index;
    let late = TextSketch::of_text("alpha beta gamma late words here", 64);
    index.insert(100, &late);
    let hits = index.search(
        &TextSketch::of_text("see alpha beta gamma late words here", 1 << 16),
        0.5,
    );
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [100]);
}
