//! From the 64×64 downsample to bits: quality metric, the partial 2-D DCT,
//! the median threshold and the dihedral coefficient transforms.
//!
//! Every float operation here follows the reference's order so the bits
//! agree; see the comments on each function.

use std::sync::LazyLock;

use super::hash::PdqHash;
use super::jarosz::SIDE;

/// Number of DCT coefficients kept per axis.
pub(crate) const COEFFS: usize = 16;

/// The 16×64 DCT-II basis for frequencies 1..=16 (the DC term is skipped).
///
/// The scale factor is rounded to `f32` first and the product is formed in
/// double precision before the final rounding, as the reference's
/// `float * double` expression does.
static DCT_MATRIX: LazyLock<[[f32; SIDE]; COEFFS]> = LazyLock::new(|| {
    let scale = (2.0 / SIDE as f64).sqrt() as f32;
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            let angle =
                (std::f64::consts::PI / 2.0 / SIDE as f64) * (i + 1) as f64 * (2 * j + 1) as f64;
            (f64::from(scale) * angle.cos()) as f32
        })
    })
});

/// Counts significant gradients of the 64×64 image (0–100).
///
/// Each neighbour difference is scaled to a 0–100 range and truncated to an
/// integer, so only differences above ~2.5 grey levels count; the sum is then
/// scaled by a heuristic 1/90 and capped. Hashes below quality 50 are not
/// trusted for matching (see `PdqHash` docs).
pub(crate) fn quality(buffer: &[[f32; SIDE]; SIDE]) -> u8 {
    let mut gradient_sum: i32 = 0;
    let mut add = |u: f32, v: f32| {
        let d = ((u - v) * 100.0 / 255.0) as i32;
        gradient_sum += d.abs();
    };
    for (upper, lower) in buffer.iter().zip(&buffer[1..]) {
        for (&u, &v) in upper.iter().zip(lower) {
            add(u, v);
        }
    }
    for row in buffer {
        for j in 0..SIDE - 1 {
            add(row[j], row[j + 1]);
        }
    }
    (gradient_sum / 90).min(100) as u8
}

/// `B = D · A · Dᵀ`, keeping only the 16×16 low (non-DC) frequencies.
///
/// Sums run over `k` in increasing order with one `f32` rounding per step,
/// as the reference's unrolled loops do.
pub(crate) fn dct_64_to_16(a: &[[f32; SIDE]; SIDE]) -> [[f32; COEFFS]; COEFFS] {
    let d = &*DCT_MATRIX;
    let mut t = [[0f32; SIDE]; COEFFS];
    for (t_row, d_row) in t.iter_mut().zip(d) {
        // Accumulate a whole row of T at once: each column j is an
        // independent sum over k, so the per-element order is unchanged.
        for (d_ik, a_row) in d_row.iter().zip(a) {
            for (t_ij, a_kj) in t_row.iter_mut().zip(a_row) {
                *t_ij += d_ik * a_kj;
            }
        }
    }
    let mut b = [[0f32; COEFFS]; COEFFS];
    for (b_row, t_row) in b.iter_mut().zip(&t) {
        for (b_ij, d_row) in b_row.iter_mut().zip(d) {
            let mut sum = 0f32;
            for (t_ik, d_jk) in t_row.iter().zip(d_row) {
                sum += t_ik * d_jk;
            }
            *b_ij = sum;
        }
    }
    b
}

/// Torben's median (the reference's selection algorithm, including its
/// choice among equal values), so ties resolve as the reference's do.
fn torben_median(m: &[f32]) -> f32 {
    let n = m.len();
    let (mut min, mut max) = (m[0], m[0]);
    for &x in &m[1..] {
        if x < min {
            min = x;
        }
        if x > max {
            max = x;
        }
    }
    let half = n.div_ceil(2);
    loop {
        let guess = f32::midpoint(min, max);
        let (mut less, mut greater, mut equal) = (0usize, 0usize, 0usize);
        let (mut max_lt_guess, mut min_gt_guess) = (min, max);
        for &x in m {
            if x < guess {
                less += 1;
                if x > max_lt_guess {
                    max_lt_guess = x;
                }
            } else if x > guess {
                greater += 1;
                if x < min_gt_guess {
                    min_gt_guess = x;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                max_lt_guess
            } else if less + equal >= half {
                guess
            } else {
                min_gt_guess
            };
        } else if less > greater {
            max = max_lt_guess;
        } else {
            min = min_gt_guess;
        }
    }
}

/// One bit per coefficient: set where it exceeds the median. Bit `16·i + j`
/// is coefficient `(i, j)`.
pub(crate) fn to_bits(coefficients: &[[f32; COEFFS]; COEFFS]) -> PdqHash {
    let flat = coefficients.as_flattened();
    let median = torben_median(flat);
    let mut hash = PdqHash::ZERO;
    for (k, &c) in flat.iter().enumerate() {
        if c > median {
            hash.set_bit(k);
        }
    }
    hash
}

/// A symmetry of the square, applied to DCT coefficients instead of pixels.
///
/// Rotating or flipping an image only transposes the coefficient matrix
/// and/or negates the odd rows or columns, so all eight hashes come from one
/// transform.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Symmetry {
    transpose: bool,
    /// Negate coefficient `(i, j)` when this returns true.
    negate: fn(usize, usize) -> bool,
}

impl Symmetry {
    pub(crate) const IDENTITY: Self = Self::new(false, |_, _| false);
    pub(crate) const ROTATE_90: Self = Self::new(true, |_, j| j % 2 == 0);
    pub(crate) const ROTATE_180: Self = Self::new(false, |i, j| (i + j) % 2 == 1);
    pub(crate) const ROTATE_270: Self = Self::new(true, |i, _| i % 2 == 0);
    pub(crate) const FLIP_X: Self = Self::new(false, |i, _| i % 2 == 0);
    pub(crate) const FLIP_Y: Self = Self::new(false, |_, j| j % 2 == 0);
    pub(crate) const FLIP_PLUS_1: Self = Self::new(true, |_, _| false);
    pub(crate) const FLIP_MINUS_1: Self = Self::new(true, |i, j| (i + j) % 2 == 1);

    const fn new(transpose: bool, negate: fn(usize, usize) -> bool) -> Self {
        Self { transpose, negate }
    }

    pub(crate) fn apply(self, a: &[[f32; COEFFS]; COEFFS]) -> [[f32; COEFFS]; COEFFS] {
        let mut b = [[0f32; COEFFS]; COEFFS];
        for (i, row) in a.iter().enumerate() {
            for (j, &value) in row.iter().enumerate() {
                let value = if (self.negate)(i, j) { -value } else { value };
                if self.transpose {
                    b[j][i] = value;
                } else {
                    b[i][j] = value;
                }
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference's loops as written: one dot product per output.
    fn reference_dct(a: &[[f32; SIDE]; SIDE]) -> [[f32; COEFFS]; COEFFS] {
        let d = &*DCT_MATRIX;
        let mut t = [[0f32; SIDE]; COEFFS];
        for i in 0..COEFFS {
            for j in 0..SIDE {
                let mut sum = 0f32;
                for k in 0..SIDE {
                    sum += d[i][k] * a[k][j];
                }
                t[i][j] = sum;
            }
        }
        let mut b = [[0f32; COEFFS]; COEFFS];
        for i in 0..COEFFS {
            for j in 0..COEFFS {
                let mut sum = 0f32;
                for k in 0..SIDE {
                    sum += t[i][k] * d[j][k];
                }
                b[i][j] = sum;
            }
        }
        b
    }

    proptest! {
        #[test]
        fn dct_equals_reference_loop_order(values in proptest::collection::vec(0f32..255.0, SIDE * SIDE)) {
            let a: [[f32; SIDE]; SIDE] = std::array::from_fn(|i| std::array::from_fn(|j| values[i * SIDE + j]));
            let ours = dct_64_to_16(&a);
            let reference = reference_dct(&a);
            for i in 0..COEFFS {
                for j in 0..COEFFS {
                    prop_assert_eq!(ours[i][j].to_bits(), reference[i][j].to_bits());
                }
            }
        }

        #[test]
        fn half_the_bits_are_set_when_values_are_distinct(seed: u64) {
            let mut state = seed | 1;
            let c: [[f32; COEFFS]; COEFFS] = std::array::from_fn(|i| std::array::from_fn(|j| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 1_000_000) as f32 + (i * COEFFS + j) as f32 * 1e-3
            }));
            let distinct = {
                let mut flat: Vec<u32> = c.as_flattened().iter().map(|x| x.to_bits()).collect();
                flat.sort_unstable();
                flat.dedup();
                flat.len() == 256
            };
            prop_assume!(distinct);
            prop_assert_eq!(to_bits(&c).count_ones(), 128);
        }
    }

    #[test]
    fn torben_is_a_median() {
        let values: Vec<f32> = (0..256).map(|i| ((i * 37) % 256) as f32).collect();
        // 256 distinct values: the reference picks the lower middle one.
        assert_eq!(torben_median(&values), 127.0);
        let mut ties = vec![1.0f32; 200];
        ties.extend(std::iter::repeat_n(5.0, 56));
        assert_eq!(torben_median(&ties), 1.0);
    }

    #[test]
    fn quality_of_flat_and_busy_images() {
        assert_eq!(quality(&[[7.0; SIDE]; SIDE]), 0);
        let checker: [[f32; SIDE]; SIDE] = std::array::from_fn(|i| {
            std::array::from_fn(|j| if (i + j) % 2 == 0 { 0.0 } else { 255.0 })
        });
        assert_eq!(quality(&checker), 100);
    }

    #[test]
    fn dct_basis_is_orthonormal_enough() {
        for (i, row) in DCT_MATRIX.iter().enumerate() {
            let norm: f64 = row.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
            assert!((norm - 1.0).abs() < 1e-5, "row {i} norm {norm}");
        }
    }

    #[test]
    fn symmetries_compose_like_the_dihedral_group() {
        let a: [[f32; COEFFS]; COEFFS] =
            std::array::from_fn(|i| std::array::from_fn(|j| (i * 16 + j) as f32 + 1.0));
        let r90 = Symmetry::ROTATE_90;
        let twice = r90.apply(&r90.apply(&a));
        assert_eq!(twice, Symmetry::ROTATE_180.apply(&a));
        let thrice = r90.apply(&twice);
        assert_eq!(thrice, Symmetry::ROTATE_270.apply(&a));
        assert_eq!(r90.apply(&thrice), a);
        let fx = Symmetry::FLIP_X;
        assert_eq!(fx.apply(&fx.apply(&a)), a);
    }
}
