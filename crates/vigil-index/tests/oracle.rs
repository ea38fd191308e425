//! The Hamming index against a brute-force oracle: identical result sets for
//! every radius 0..=64, on random and clustered codes, through bulk builds,
//! interleaved inserts and deletes, merges and compaction.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use proptest::prelude::*;
use vigil_index::{Code256, HammingIndex, HammingOptions, Hit};

/// The oracle: a list of live (id, code) entries.
#[derive(Default, Clone)]
struct Oracle(Vec<(u64, Code256)>);

impl Oracle {
    fn search(&self, query: &Code256, radius: u32) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .0
            .iter()
            .map(|(id, code)| Hit {
                id: *id,
                distance: code.distance(query),
            })
            .filter(|hit| hit.distance <= radius)
            .collect();
        hits.sort_unstable_by_key(|hit| (hit.distance, hit.id));
        hits
    }

    fn remove(&mut self, id: u64, code: &Code256) -> bool {
        match self.0.iter().position(|(i, c)| *i == id && c == code) {
            Some(at) => {
                self.0.remove(at);
                true
            }
            None => false,
        }
    }
}

fn code_from(seed: u64) -> Code256 {
    Code256(vigil_testkit::random_limbs(seed))
}

/// `flips` distinct-ish bits of `code` flipped, chosen by `seed`.
fn near(code: Code256, flips: u32, seed: u64) -> Code256 {
    let mut out = code;
    let mut state = seed | 1;
    for _ in 0..flips {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out = out.with_bit_flipped((state % 256) as u32);
    }
    out
}

/// Codes drawn from a few clusters of near-duplicates, as real banks have.
fn clustered(count: usize, seed: u64) -> Vec<Code256> {
    let centres: Vec<Code256> = (0..4).map(|c| code_from(seed ^ (c * 7919))).collect();
    (0..count)
        .map(|i| {
            near(
                centres[i % centres.len()],
                (i as u32 * 7) % 40,
                seed.wrapping_add(i as u64),
            )
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u64),
    Remove(usize),
    Query(u64, u32),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(
        prop_oneof![
            3 => any::<u64>().prop_map(Op::Insert),
            1 => any::<usize>().prop_map(Op::Remove),
            3 => (any::<u64>(), 0u32..=64).prop_map(|(s, r)| Op::Query(s, r)),
        ],
        1..60,
    )
}

fn check(
    initial: Vec<Code256>,
    ops: Vec<Op>,
    options: HammingOptions,
) -> Result<(), TestCaseError> {
    let entries: Vec<(u64, Code256)> = initial
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u64, *c))
        .collect();
    let mut index = HammingIndex::with_options(entries.clone(), options);
    let mut oracle = Oracle(entries);
    let mut next_id = initial.len() as u64;
    for op in ops {
        match op {
            Op::Insert(seed) => {
                // Half of the inserts are near-duplicates of stored codes.
                let code = match oracle.0.get(seed as usize % (oracle.0.len() + 1)) {
                    Some((_, stored)) if seed % 2 == 0 => near(*stored, (seed % 33) as u32, seed),
                    _ => code_from(seed),
                };
                index.insert(next_id, code);
                oracle.0.push((next_id, code));
                next_id += 1;
            }
            Op::Remove(pick) => {
                if oracle.0.is_empty() {
                    continue;
                }
                let (id, code) = oracle.0[pick % oracle.0.len()];
                prop_assert!(index.remove(id, &code));
                prop_assert!(oracle.remove(id, &code));
                prop_assert!(!index.remove(id, &code), "removed twice");
            }
            Op::Query(seed, radius) => {
                let query = match oracle.0.get(seed as usize % (oracle.0.len() + 1)) {
                    Some((_, stored)) if seed % 3 != 0 => near(*stored, (seed % 65) as u32, seed),
                    _ => code_from(seed),
                };
                prop_assert_eq!(index.search(&query, radius), oracle.search(&query, radius));
            }
        }
        prop_assert_eq!(index.len(), oracle.0.len());
    }
    // Every radius for one planted and one random query at the end, then
    // again after compaction.
    for round in 0..2 {
        for query in [
            oracle.0.first().map(|(_, c)| near(*c, 20, 5)),
            Some(code_from(99)),
        ]
        .into_iter()
        .flatten()
        {
            for radius in 0..=64 {
                prop_assert_eq!(
                    index.search(&query, radius),
                    oracle.search(&query, radius),
                    "radius {} round {}",
                    radius,
                    round
                );
            }
            let k = 5.min(oracle.0.len());
            let nearest = index.nearest(&query, k);
            let expected: Vec<Hit> = oracle.search(&query, 256).into_iter().take(k).collect();
            prop_assert_eq!(nearest, expected);
        }
        index.compact();
    }
    Ok(())
}

/// Probing only (no scan fallback), with small merge thresholds so merges
/// happen mid-sequence, across table counts.
fn probing(substrings: u32, voting: bool) -> HammingOptions {
    HammingOptions {
        substrings: Some(substrings),
        merge_threshold: 7,
        allow_scan: false,
        voting: Some(voting),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_codes_match_the_oracle(seeds in proptest::collection::vec(any::<u64>(), 0..200), ops in ops(), substrings in prop::sample::select(vec![16u32, 20, 32, 64]), voting: bool) {
        check(seeds.into_iter().map(code_from).collect(), ops, probing(substrings, voting))?;
    }

    #[test]
    fn clustered_codes_match_the_oracle(count in 0usize..300, seed: u64, ops in ops(), substrings in prop::sample::select(vec![16u32, 21, 40]), voting: bool) {
        check(clustered(count, seed), ops, probing(substrings, voting))?;
    }

    #[test]
    fn default_options_match_the_oracle(seeds in proptest::collection::vec(any::<u64>(), 0..300), ops in ops()) {
        check(seeds.into_iter().map(code_from).collect(), ops, HammingOptions::default())?;
    }
}

/// The wide-substring layouts used at millions of codes (12 tables of 21–22
/// bits): too big to rebuild in every property case, so checked once.
#[test]
fn wide_layout_matches_the_oracle() {
    let codes = clustered(3000, 42);
    let mut initial = codes.clone();
    initial.extend((0..3000).map(code_from));
    let ops: Vec<Op> = (0..200u64)
        .map(|i| match i % 4 {
            0 => Op::Insert(i * 31),
            1 => Op::Remove(i as usize * 13),
            _ => Op::Query(i * 17, (i % 65) as u32),
        })
        .collect();
    for voting in [false, true] {
        let options = HammingOptions {
            substrings: Some(12),
            merge_threshold: 50,
            allow_scan: false,
            voting: Some(voting),
        };
        check(initial.clone(), ops.clone(), options).unwrap();
    }
}

#[test]
fn planted_duplicates_are_found_at_the_pdq_threshold() {
    let codes: Vec<Code256> = (0..20_000).map(code_from).collect();
    let index = HammingIndex::build(codes.iter().enumerate().map(|(i, c)| (i as u64, *c)));
    for (i, flips) in [(17usize, 0u32), (1234, 15), (19_999, 31)] {
        let query = near(codes[i], flips, i as u64);
        let hits = index.search(&query, 31);
        assert!(
            hits.iter().any(|h| h.id == i as u64),
            "planted code {i} with {flips} flips not found"
        );
    }
}
