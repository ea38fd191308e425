//! The PDQ hash value: 256 bits, its text form and its distance.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, parse_hex, write_hex};

/// A 256-bit PDQ hash.
///
/// # Text form
///
/// 64 lowercase hex characters, exactly as Meta's reference prints it and as
/// ThreatExchange, HMA and GIFCT exchange it. Parsing also accepts uppercase.
///
/// # Layout
///
/// The reference stores the hash as sixteen 16-bit words `w[0..16]`, sets
/// bit `k` as bit `k % 16` of word `k / 16` (bit `16·i + j` is DCT
/// coefficient `(i, j)`), and prints the words from `w[15]` down to `w[0]`.
/// Here the same 256 bits are packed into four `u64` limbs **in text
/// order**: limb 0 holds the first 16 hex characters (words 15, 14, 13, 12,
/// most significant first). So
///
/// * hex text ↔ limbs is a plain big-endian conversion, and
/// * bit `k` is bit `16·(w % 4) + k % 16` of limb `(15 − w) / 4`, where
///   `w = k / 16`.
///
/// Distance is `popcount(a ⊕ b)` over the four limbs: four XORs and four
/// POPCNTs. Limb order matters for the text form only, never for distance.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash(pub [u64; 4]);

impl PdqHash {
    /// The signal type's name, as used in APIs and files.
    pub const SIGNAL_TYPE: &'static str = "pdq";

    /// All bits clear: what the reference returns for images too small to
    /// hash (a side under 5 pixels), always with quality 0.
    pub const ZERO: Self = Self([0; 4]);

    /// Default match threshold: HMA, ThreatExchange and GIFCT treat hashes
    /// within Hamming distance 31 (of 256 bits) as the same image. Meta's
    /// PDQ paper tunes this for a false-positive rate near 10⁻⁴ on unrelated
    /// photos while surviving re-encoding, resizing and mild edits.
    pub const DEFAULT_MATCH_DISTANCE: u32 = 31;

    /// Hashes whose quality is below this are not trusted for matching: they
    /// come from flat or near-blank images whose bits are decided by noise.
    pub const MIN_TRUSTED_QUALITY: u8 = 50;

    /// The Hamming distance to `other` (0–256).
    pub fn distance(&self, other: &Self) -> u32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    /// The 32 bytes in text order.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// The hash whose text form is the hex of `bytes`.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(std::array::from_fn(|i| {
            let mut limb = [0u8; 8];
            limb.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_be_bytes(limb)
        }))
    }

    /// Bit `k` (0–255) in the reference's numbering.
    pub fn bit(&self, k: usize) -> bool {
        let (limb, shift) = Self::locate(k);
        self.0[limb] >> shift & 1 == 1
    }

    /// Sets bit `k` (0–255) in the reference's numbering.
    pub fn set_bit(&mut self, k: usize) {
        let (limb, shift) = Self::locate(k);
        self.0[limb] |= 1 << shift;
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.0.iter().map(|limb| limb.count_ones()).sum()
    }

    fn locate(k: usize) -> (usize, u32) {
        let word = (k & 255) >> 4;
        ((15 - word) / 4, (16 * (word % 4) + (k & 15)) as u32)
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.to_bytes())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({self})")
    }
}

impl FromStr for PdqHash {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        parse_hex::<32>(Self::SIGNAL_TYPE, text).map(Self::from_bytes)
    }
}

impl serde::Serialize for PdqHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PdqHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";

    #[test]
    fn hex_round_trip() {
        let hash: PdqHash = SAMPLE.parse().unwrap();
        assert_eq!(hash.to_string(), SAMPLE);
        let upper: PdqHash = SAMPLE.to_uppercase().parse().unwrap();
        assert_eq!(upper, hash);
    }

    #[test]
    fn bit_numbering_matches_reference_words() {
        // Bit 0 is the lowest bit of w[0], printed last.
        let mut hash = PdqHash::ZERO;
        hash.set_bit(0);
        assert!(hash.to_string().ends_with("0001"));
        // Bit 255 is the top bit of w[15], printed first.
        let mut hash = PdqHash::ZERO;
        hash.set_bit(255);
        assert!(hash.to_string().starts_with("8000"));
        // Bit 16 is the lowest bit of w[1]: the second-to-last word.
        let mut hash = PdqHash::ZERO;
        hash.set_bit(16);
        assert!(hash.to_string().ends_with("00010000"));
    }

    #[test]
    fn rejects_bad_text() {
        assert!("abc".parse::<PdqHash>().is_err());
        assert!(SAMPLE.replace('d', "z").parse::<PdqHash>().is_err());
    }

    proptest! {
        #[test]
        fn distance_is_popcount_of_differing_bits(a: [u64; 4], b: [u64; 4]) {
            let (ha, hb) = (PdqHash(a), PdqHash(b));
            let by_bits = (0..256).filter(|&k| ha.bit(k) != hb.bit(k)).count() as u32;
            prop_assert_eq!(ha.distance(&hb), by_bits);
            prop_assert_eq!(ha.distance(&hb), hb.distance(&ha));
        }

        #[test]
        fn bytes_and_text_round_trip(a: [u64; 4]) {
            let hash = PdqHash(a);
            prop_assert_eq!(PdqHash::from_bytes(hash.to_bytes()), hash);
            prop_assert_eq!(hash.to_string().parse::<PdqHash>().unwrap(), hash);
        }
    }
}
