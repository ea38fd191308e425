//! The Jarosz downsample from any size to 64×64, bit-exact with the
//! reference, in a single streaming sweep.
//!
//! The reference blurs the whole luma plane with four box-filter passes
//! (rows, columns, rows, columns), each a running sum written to a full-size
//! buffer, then keeps 64×64 samples. Its floats are rounded after every
//! addition, so the only way to get its bits is to perform the same additions
//! in the same order. This module does exactly that, but reorganises *where*
//! the work happens:
//!
//! 1. Row pass 1 runs on 8 rows at a time, interleaved so that one vector
//!    operation advances eight independent running sums (the reference's
//!    per-row loop is latency bound).
//! 2. Column pass 2 is streamed: a running sum per column plus a ring of the
//!    last `window` rows is all it needs, so no full-size buffer exists.
//! 3. Row pass 3 must still sum along whole rows, but only the 64 sampled
//!    columns are ever read afterwards, so only they are divided and kept.
//! 4. Column pass 4 runs over those 64 columns alone.
//!
//! Memory is a few rows plus `height × 64` floats instead of two full-size
//! float planes, and every division whose result is never read is skipped.
//! The naive transcription of the reference in the tests is the oracle.

/// Number of rows processed together by the row passes.
const LANES: usize = 8;
/// Side of the downsampled image.
pub(crate) const SIDE: usize = 64;

/// The reference's window size per pass for an axis of `old` pixels: half of
/// `old / 64`, rounded up, since two passes together span the full block.
pub(crate) fn window_size(old: usize) -> usize {
    old.div_ceil(2 * SIDE)
}

/// Indexes of the 64 samples taken along an axis of `len` pixels (block
/// centres), computed in double precision as the reference does.
pub(crate) fn sample_indexes(len: usize) -> [usize; SIDE] {
    std::array::from_fn(|k| ((k as f64 + 0.5) * len as f64 / SIDE as f64) as usize)
}

/// A source of float luma, one row at a time.
pub(crate) trait LumaRows {
    /// Columns per row.
    fn width(&self) -> usize;
    /// Number of rows.
    fn height(&self) -> usize;
    /// Calls `put(x, luma)` for every column `x` of row `y`, in order.
    /// Implementations should be `#[inline(always)]` so that they are
    /// compiled into each instruction-set variant of [`downsample`].
    fn for_each_in_row(&self, y: usize, put: impl FnMut(usize, f32));
}

/// Downsamples `luma` to 64×64 exactly as the reference's
/// `jaroszFilterFloat` (two passes) followed by `decimateFloat` would.
///
/// Both sides must be at least 1 (callers reject sides below 5 earlier).
///
/// On x86-64 CPUs with AVX2 the same code is compiled a second time with
/// AVX2 enabled and chosen at run time: twice the lanes per instruction for
/// the luma conversion and every pass. The results are bit-identical: add,
/// subtract, multiply, divide and conversions are exactly rounded whatever
/// the vector width, and Rust never fuses a multiply and an add on its own.
pub(crate) fn downsample(luma: &impl LumaRows) -> [[f32; SIDE]; SIDE] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the only precondition of calling a function compiled with
        // `target_feature(enable = "avx2")` is that the running CPU supports
        // AVX2, which was checked just above.
        #[allow(unsafe_code)]
        return unsafe { downsample_avx2(luma) };
    }
    downsample_portable(luma)
}

/// [`downsample_portable`] compiled with AVX2 enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn downsample_avx2(luma: &impl LumaRows) -> [[f32; SIDE]; SIDE] {
    downsample_portable(luma)
}

/// The downsample itself, in plain Rust; inlined into each instruction-set
/// variant above so that all of it is compiled for that variant.
#[inline(always)]
fn downsample_portable(luma: &impl LumaRows) -> [[f32; SIDE]; SIDE] {
    let (width, height) = (luma.width(), luma.height());
    let (row_window, col_window) = (window_size(width), window_size(height));
    let sampled_cols = sorted_samples(width);
    let sampled_rows = sorted_samples(height);

    let mut columns = ColumnBox::new(width, height, col_window);
    let mut row_pass_3 = SampledRowBox::new(width, height, row_window, sampled_cols);

    // Row pass 1 over blocks of LANES rows, feeding column pass 2 row by row.
    let mut interleaved = vec![[0f32; LANES]; width];
    let mut filtered = vec![[0f32; LANES]; width];
    let mut row = vec![0f32; width];
    for block_start in (0..height).step_by(LANES) {
        let lanes = LANES.min(height - block_start);
        // Lanes past `lanes` in the last block keep stale rows: they are
        // filtered along but never read.
        for (lane, y) in (block_start..block_start + lanes).enumerate() {
            luma.for_each_in_row(y, |x, value| interleaved[x][lane] = value);
        }
        box_lanes(&interleaved, row_window, |oi, sum, divisor| {
            filtered[oi] = sum.map(|s| s / divisor);
        });
        for lane in 0..lanes {
            for (value, cell) in row.iter_mut().zip(&filtered) {
                *value = cell[lane];
            }
            columns.push(&row, |out| row_pass_3.push(out));
        }
    }
    columns.finish(|out| row_pass_3.push(out));
    let pass_3 = row_pass_3.finish();

    // Column pass 4 over the 64 sampled columns, keeping the sampled rows.
    let mut out = [[0f32; SIDE]; SIDE];
    let mut next = 0;
    box_lanes(&pass_3, col_window, |oi, sum, divisor| {
        while let Some(&(row, k)) = sampled_rows.get(next) {
            if row != oi {
                break;
            }
            out[k] = sum.map(|s| s / divisor);
            next += 1;
        }
    });
    out
}

/// The 64 sample positions along an axis as `(pixel index, sample number)`,
/// sorted by pixel index (small axes sample some pixels more than once).
fn sorted_samples(len: usize) -> Vec<(usize, usize)> {
    let mut samples: Vec<(usize, usize)> = sample_indexes(len)
        .into_iter()
        .enumerate()
        .map(|(k, index)| (index, k))
        .collect();
    samples.sort_unstable();
    samples
}

/// The reference's `box1DFloat` over `L` independent lanes at once.
#[inline(always)]
///
/// The running sum grows over the first half window, slides, then shrinks;
/// `emit(output_index, running_sums, divisor)` is called once per output in
/// order, and the caller divides only the outputs it needs.
fn box_lanes<const L: usize>(
    input: &[[f32; L]],
    window: usize,
    mut emit: impl FnMut(usize, &[f32; L], f32),
) {
    let half = usize::midpoint(window, 2);
    let mut sum = [0f32; L];
    let mut current = 0usize;
    let (mut left, mut right, mut out) = (0usize, 0usize, 0usize);
    // Phase 1: accumulate without writing.
    for _ in 0..half - 1 {
        add(&mut sum, &input[right]);
        current += 1;
        right += 1;
    }
    // Phase 2: write with a growing window.
    for _ in 0..window + 1 - half {
        add(&mut sum, &input[right]);
        current += 1;
        emit(out, &sum, current as f32);
        right += 1;
        out += 1;
    }
    // Phase 3: slide the full window (add first, then subtract, as the
    // reference does: the order changes the rounding).
    for _ in 0..input.len().saturating_sub(window) {
        add(&mut sum, &input[right]);
        sub(&mut sum, &input[left]);
        emit(out, &sum, current as f32);
        left += 1;
        right += 1;
        out += 1;
    }
    // Phase 4: write with a shrinking window.
    for _ in 0..half - 1 {
        sub(&mut sum, &input[left]);
        current -= 1;
        emit(out, &sum, current as f32);
        left += 1;
        out += 1;
    }
}

#[inline(always)]
fn add<const L: usize>(sum: &mut [f32; L], values: &[f32; L]) {
    for (s, v) in sum.iter_mut().zip(values) {
        *s += v;
    }
}

#[inline(always)]
fn sub<const L: usize>(sum: &mut [f32; L], values: &[f32; L]) {
    for (s, v) in sum.iter_mut().zip(values) {
        *s -= v;
    }
}

/// Column pass 2 as a stream: rows go in one at a time and filtered rows
/// come out as soon as the running sums allow.
struct ColumnBox {
    width: usize,
    height: usize,
    window: usize,
    half: usize,
    /// The last `window` input rows; row `r` lives in slot `r % window`.
    ring: Vec<f32>,
    sum: Vec<f32>,
    out: Vec<f32>,
    received: usize,
}

impl ColumnBox {
    fn new(width: usize, height: usize, window: usize) -> Self {
        Self {
            width,
            height,
            window,
            half: usize::midpoint(window, 2),
            ring: vec![0.0; window * width],
            sum: vec![0.0; width],
            out: vec![0.0; width],
            received: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, row: &[f32], mut emit: impl FnMut(&[f32])) {
        let index = self.received;
        self.received += 1;
        let slot_start = (index % self.window) * self.width;
        let slot = &mut self.ring[slot_start..slot_start + self.width];
        if index < self.window {
            add_slices(&mut self.sum, row);
            slot.copy_from_slice(row);
            if index + 1 >= self.half {
                divide_into(&mut self.out, &self.sum, (index + 1) as f32);
                emit(&self.out);
            }
        } else {
            // The slot holds row `index - window`, the one leaving the window.
            let divisor = self.window as f32;
            for (((s, new), old), out) in self
                .sum
                .iter_mut()
                .zip(row)
                .zip(slot.iter_mut())
                .zip(self.out.iter_mut())
            {
                *s += new;
                *s -= *old;
                *old = *new;
                *out = *s / divisor;
            }
            emit(&self.out);
        }
    }

    #[inline(always)]
    fn finish(&mut self, mut emit: impl FnMut(&[f32])) {
        debug_assert_eq!(self.received, self.height);
        let first_leaving = self.height - self.window;
        for (step, leaving) in (first_leaving..first_leaving + self.half - 1).enumerate() {
            let slot_start = (leaving % self.window) * self.width;
            let slot = &self.ring[slot_start..slot_start + self.width];
            for (s, old) in self.sum.iter_mut().zip(slot) {
                *s -= old;
            }
            divide_into(&mut self.out, &self.sum, (self.window - 1 - step) as f32);
            emit(&self.out);
        }
    }
}

#[inline(always)]
fn add_slices(sum: &mut [f32], values: &[f32]) {
    for (s, v) in sum.iter_mut().zip(values) {
        *s += v;
    }
}

#[inline(always)]
fn divide_into(out: &mut [f32], sum: &[f32], divisor: f32) {
    for (o, s) in out.iter_mut().zip(sum) {
        *o = s / divisor;
    }
}

/// Row pass 3: full running sums along each row, but only the 64 sampled
/// columns are divided and kept, as `height` rows of 64 values.
struct SampledRowBox {
    window: usize,
    sampled_cols: Vec<(usize, usize)>,
    interleaved: Vec<[f32; LANES]>,
    lanes: usize,
    rows_done: usize,
    kept: Vec<[f32; SIDE]>,
}

impl SampledRowBox {
    fn new(width: usize, height: usize, window: usize, sampled_cols: Vec<(usize, usize)>) -> Self {
        Self {
            window,
            sampled_cols,
            interleaved: vec![[0.0; LANES]; width],
            lanes: 0,
            rows_done: 0,
            kept: vec![[0.0; SIDE]; height],
        }
    }

    #[inline(always)]
    fn push(&mut self, row: &[f32]) {
        let lane = self.lanes;
        for (cell, value) in self.interleaved.iter_mut().zip(row) {
            cell[lane] = *value;
        }
        self.lanes += 1;
        if self.lanes == LANES {
            self.flush();
        }
    }

    #[inline(always)]
    fn flush(&mut self) {
        let (lanes, base) = (self.lanes, self.rows_done);
        let kept = &mut self.kept[base..base + lanes];
        let sampled = &self.sampled_cols;
        // Almost every output is skipped: keep that test to one register
        // compare so the running sums stay in registers.
        let mut next = 0;
        let mut next_col = sampled[0].0;
        box_lanes(&self.interleaved, self.window, |oi, sum, divisor| {
            if oi == next_col {
                next = keep_samples(sampled, next, oi, *sum, divisor, kept);
                next_col = sampled.get(next).map_or(usize::MAX, |&(col, _)| col);
            }
        });
        self.rows_done += lanes;
        self.lanes = 0;
    }

    #[inline(always)]
    fn finish(mut self) -> Vec<[f32; SIDE]> {
        if self.lanes > 0 {
            for cell in &mut self.interleaved {
                cell[self.lanes..].fill(0.0);
            }
            self.flush();
        }
        self.kept
    }
}

/// Stores the outputs of every sample taken at column `col` (several when
/// the image is narrower than 64) and returns the index of the next sample.
#[cold]
#[inline(never)]
fn keep_samples(
    sampled: &[(usize, usize)],
    mut next: usize,
    col: usize,
    sum: [f32; LANES],
    divisor: f32,
    kept: &mut [[f32; SIDE]],
) -> usize {
    while let Some(&(sample_col, k)) = sampled.get(next) {
        if sample_col != col {
            break;
        }
        for (lane, row) in kept.iter_mut().enumerate() {
            row[k] = sum[lane] / divisor;
        }
        next += 1;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A plain row-major luma plane.
    struct Plane {
        width: usize,
        height: usize,
        values: Vec<f32>,
    }

    impl LumaRows for Plane {
        fn width(&self) -> usize {
            self.width
        }
        fn height(&self) -> usize {
            self.height
        }
        fn for_each_in_row(&self, y: usize, mut put: impl FnMut(usize, f32)) {
            for (x, &v) in self.values[y * self.width..(y + 1) * self.width]
                .iter()
                .enumerate()
            {
                put(x, v);
            }
        }
    }

    /// A line-by-line transcription of the reference's `box1DFloat`.
    fn reference_box_1d(
        input: &[f32],
        output: &mut [f32],
        len: usize,
        stride: usize,
        window: usize,
    ) {
        let half = usize::midpoint(window, 2);
        let phase_1 = half - 1;
        let phase_2 = window - half + 1;
        let phase_3 = len as isize - window as isize;
        let phase_4 = half - 1;
        let (mut li, mut ri, mut oi) = (0, 0, 0);
        let mut sum = 0f32;
        let mut current = 0i32;
        for _ in 0..phase_1 {
            sum += input[ri];
            current += 1;
            ri += stride;
        }
        for _ in 0..phase_2 {
            sum += input[ri];
            current += 1;
            output[oi] = sum / current as f32;
            ri += stride;
            oi += stride;
        }
        for _ in 0..phase_3.max(0) {
            sum += input[ri];
            sum -= input[li];
            output[oi] = sum / current as f32;
            li += stride;
            ri += stride;
            oi += stride;
        }
        for _ in 0..phase_4 {
            sum -= input[li];
            current -= 1;
            output[oi] = sum / current as f32;
            li += stride;
            oi += stride;
        }
    }

    /// The reference's full-buffer Jarosz filter and decimation.
    fn reference_downsample(plane: &Plane) -> [[f32; SIDE]; SIDE] {
        let (w, h) = (plane.width, plane.height);
        let mut a = plane.values.clone();
        let mut b = vec![0f32; w * h];
        for _ in 0..2 {
            for i in 0..h {
                reference_box_1d(&a[i * w..], &mut b[i * w..], w, 1, window_size(w));
            }
            for j in 0..w {
                reference_box_1d(&b[j..], &mut a[j..], h, w, window_size(h));
            }
        }
        let mut out = [[0f32; SIDE]; SIDE];
        let rows = sample_indexes(h);
        let cols = sample_indexes(w);
        for (oi, &ri) in rows.iter().enumerate() {
            for (oj, &cj) in cols.iter().enumerate() {
                out[oi][oj] = a[ri * w + cj];
            }
        }
        out
    }

    fn plane(width: usize, height: usize, seed: u64) -> Plane {
        let mut state = seed | 1;
        let values = (0..width * height)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Luma-like values with fractional parts, as 0.299*R+… gives.
                (state % 25_500) as f32 * 0.01 + 0.299
            })
            .collect();
        Plane {
            width,
            height,
            values,
        }
    }

    fn assert_bits_equal(a: &[[f32; SIDE]; SIDE], b: &[[f32; SIDE]; SIDE]) {
        for i in 0..SIDE {
            for j in 0..SIDE {
                assert_eq!(a[i][j].to_bits(), b[i][j].to_bits(), "at {i},{j}");
            }
        }
    }

    #[test]
    fn window_sizes_match_reference() {
        assert_eq!(window_size(1024), 8);
        assert_eq!(window_size(1025), 9);
        assert_eq!(window_size(64), 1);
        assert_eq!(window_size(5), 1);
        assert_eq!(window_size(4000), 32);
    }

    #[test]
    fn edge_sizes_match_reference_bit_for_bit() {
        for (w, h) in [
            (5, 5),
            (5, 7),
            (63, 65),
            (129, 130),
            (256, 300),
            (17, 9),
            (700, 3),
        ] {
            let p = plane(w, h, (w * 31 + h) as u64);
            assert_bits_equal(&downsample(&p), &reference_downsample(&p));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn streaming_filter_equals_reference(w in 1usize..400, h in 1usize..400, seed: u64) {
            let p = plane(w, h, seed);
            let reference = reference_downsample(&p);
            // The dispatched variant (AVX2 where available) and the portable
            // one must both agree with the reference.
            for ours in [downsample(&p), downsample_portable(&p)] {
                for i in 0..SIDE {
                    for j in 0..SIDE {
                        prop_assert_eq!(ours[i][j].to_bits(), reference[i][j].to_bits());
                    }
                }
            }
        }
    }
}
