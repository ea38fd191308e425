//! 256-bit codes: the unit the Hamming index stores.

use vigil_signal::PdqHash;

/// A 256-bit binary code, such as a PDQ hash, aligned to 32 bytes so that
/// reading one never straddles two cache lines.
///
/// Bit `i` is bit `i % 64` of limb `i / 64`. The layout only has to be
/// consistent within one index: distances do not depend on it.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Debug,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(C, align(32))]
pub struct Code256(pub [u64; 4]);

impl Code256 {
    /// The Hamming distance to `other` (0–256).
    #[inline(always)]
    pub fn distance(&self, other: &Self) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones()
            + (self.0[1] ^ other.0[1]).count_ones()
            + (self.0[2] ^ other.0[2]).count_ones()
            + (self.0[3] ^ other.0[3]).count_ones()
    }

    /// The `len` bits (at most 32) starting at bit `start`, as an integer.
    #[inline(always)]
    pub(crate) fn substring(&self, start: u32, len: u32) -> u32 {
        debug_assert!(len <= 32 && start + len <= 256);
        let limb = (start / 64) as usize;
        let offset = start % 64;
        let mut bits = self.0[limb] >> offset;
        if offset + len > 64 {
            // offset > 0 here, so the shift is below 64.
            bits |= self.0[limb + 1] << (64 - offset);
        }
        (bits & ((1u64 << len) - 1)) as u32
    }

    /// This code with bit `i` flipped.
    pub fn with_bit_flipped(mut self, i: u32) -> Self {
        self.0[(i / 64) as usize] ^= 1 << (i % 64);
        self
    }
}

impl From<PdqHash> for Code256 {
    fn from(hash: PdqHash) -> Self {
        Self(hash.0)
    }
}

impl From<Code256> for PdqHash {
    fn from(code: Code256) -> Self {
        PdqHash(code.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substrings_cross_limbs() {
        let code = Code256([u64::MAX << 60, 0b1011, 0, 1 << 63]);
        assert_eq!(code.substring(60, 8), 0b1011_1111);
        assert_eq!(code.substring(0, 32), 0);
        assert_eq!(code.substring(224, 32), 1 << 31);
        assert_eq!(code.substring(64, 4), 0b1011);
    }

    #[test]
    fn distance_and_flips() {
        let code = Code256([1, 2, 3, 4]);
        let flipped = code
            .with_bit_flipped(0)
            .with_bit_flipped(255)
            .with_bit_flipped(100);
        assert_eq!(code.distance(&flipped), 3);
        assert_eq!(std::mem::align_of::<Code256>(), 32);
        assert_eq!(std::mem::size_of::<Code256>(), 32);
    }
}
