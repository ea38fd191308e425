//! The enabled-ratio coinflip, drawn exactly as HMA draws it, so a lookup
//! sent with the same `seed` keeps the same banks on Vigil and on HMA.
//!
//! HMA creates `random.Random(seed)` from the raw `seed` query string for
//! every signal type it looks up and takes its first `random()`; without a
//! seed, Python seeds from the operating system. CPython seeds a string
//! (version 2 seeding) with the integer whose big-endian bytes are the
//! string's UTF-8 followed by their SHA-512 digest, fed to MT19937's
//! `init_by_array` as 32-bit words, least significant first. `random()`
//! then joins 27 and 26 bits of two outputs into a double in [0, 1).

use rand_mt::Mt;
use sha2::{Digest, Sha512};

/// The first `random()` of CPython's `random.Random(seed)` for a `str`
/// seed: HMA's coinflip for that seed.
pub fn seeded(seed: &str) -> f64 {
    let mut bytes = seed.as_bytes().to_vec();
    bytes.extend_from_slice(&Sha512::digest(seed.as_bytes()));
    random(&mut Mt::new_with_key(key_words(&bytes)))
}

/// A draw from the operating system's randomness (HMA's unseeded
/// `Random()`), or 0.5 if none can be read: a failing entropy source must
/// not fail the lookup, and half the ratio range is the neutral guess.
pub fn unseeded() -> f64 {
    let mut key = [0u8; 16];
    if getrandom::fill(&mut key).is_err() {
        return 0.5;
    }
    random(&mut Mt::new_with_key(key_words(&key)))
}

/// The 32-bit words of the big-endian integer `bytes`, least significant
/// first, without the zero words above its highest set bit (but at least
/// one word), as CPython's `random_seed` passes an int to `init_by_array`.
fn key_words(bytes: &[u8]) -> Vec<u32> {
    let mut words: Vec<u32> = bytes
        .rchunks(4)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u32, |word, &b| (word << 8) | u32::from(b))
        })
        .collect();
    while words.len() > 1 && words.last() == Some(&0) {
        words.pop();
    }
    if words.is_empty() {
        words.push(0);
    }
    words
}

/// CPython's `random()`: 53 random bits from two 32-bit outputs.
fn random(mt: &mut Mt) -> f64 {
    let a = f64::from(mt.next_u32() >> 5);
    let b = f64::from(mt.next_u32() >> 6);
    (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `random.Random(seed).random()` from CPython 3 (generated once with
    /// `python3 -c 'import random; print(repr(random.Random(s).random()))'`).
    const PYTHON: [(&str, f64); 25] = [
        ("", 0.9602256525641875),
        ("0", 0.3616904771377427),
        ("1", 0.4782479962566343),
        ("2", 0.5558450440322502),
        ("7", 0.7124376338974682),
        ("42", 0.473659421919327),
        ("123", 0.726645656476562),
        ("999", 0.855388929236726),
        ("abc", 0.7720246314157545),
        ("seed", 0.1382359792209653),
        ("hello world", 0.8952335074947013),
        (
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            0.6449261434223933,
        ),
        ("München", 0.05937181341522457),
        ("日本語", 0.4439074244048681),
        ("-5", 0.11911726872954431),
        ("3.14", 0.10459732348101902),
        (" 1", 0.12333595907203121),
        ("\u{0}", 0.761237843064138),
        ("\u{0}\u{0}a", 0.06358542558516034),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            0.8871350581732812,
        ),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            0.7926241790252145,
        ),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            0.27802844632239254,
        ),
        ("🙂", 0.8428429840389258),
        ("SEED_BANK_0", 0.2615136741314662),
        ("content-16", 0.12404844367790369),
    ];

    #[test]
    fn string_seeds_draw_what_cpython_draws() {
        for (seed, expected) in PYTHON {
            assert_eq!(seeded(seed), expected, "seed {seed:?}");
        }
    }

    #[test]
    fn key_words_drop_only_high_zero_words() {
        assert_eq!(
            key_words(&[0, 0, 0, 0, 1, 2, 3, 4, 5]),
            vec![0x0203_0405, 1]
        );
        assert_eq!(key_words(&[0; 8]), vec![0]);
        assert_eq!(key_words(&[]), vec![0]);
    }

    #[test]
    fn unseeded_draws_are_in_range_and_vary() {
        let draws: Vec<f64> = (0..16).map(|_| unseeded()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }
}
