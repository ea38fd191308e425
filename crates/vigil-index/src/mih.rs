//! Multi-index hashing: the substring tables behind [`HammingIndex`].
//!
//! The 256 bits are cut into `m` substrings, and each substring indexes a
//! table mapping its value to the slots holding it. The pigeonhole
//! principle makes search exact: if two codes are within distance
//! `r = m·r' + a` (`0 ≤ a < m`), then one of the first `a + 1` substrings is
//! within `r'` of the query's, or one of the others is within `r' − 1`
//! (otherwise the distance would be at least `(a+1)(r'+1) + (m−a−1)r' > r`).
//! So probing every key within that radius in each table finds every code
//! within `r`, and a full 256-bit comparison then discards the rest.
//!
//! Each table is a CSR array — `offsets[key]..offsets[key + 1]` delimits the
//! key's slots — built by a counting sort in two passes over the codes: no
//! per-bucket allocation, 4 bytes per code per table, and probing a key is
//! two adjacent reads.
//!
//! [`HammingIndex`]: crate::HammingIndex

use rayon::prelude::*;

use crate::Code256;

/// Widest substring, in bits: its offsets table alone is 64 MiB.
const MAX_SUBSTRING_BITS: u32 = 24;

/// One substring: `bits` bits starting at bit `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) start: u32,
    pub(crate) bits: u32,
}

/// How the 256 bits are cut into substrings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    parts: Vec<Part>,
}

/// The probing plan for one search radius.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The substring radius per part, or `None` where the part need not be
    /// probed at all.
    pub(crate) radii: Vec<Option<u32>>,
    /// How many tables a code within the radius is certain to be found in:
    /// candidates found fewer times are discarded without reading them.
    pub(crate) votes: u32,
    /// Expected relative cost of a random query over `n` uniform codes,
    /// from the keys probed and the candidates they yield.
    pub(crate) cost: f64,
}

/// Relative costs of the steps of a query, in units of one random memory
/// read. A probe reads a bucket's bounds and then its slots; a candidate
/// that must be verified reads its 32-byte code from anywhere in memory; a
/// candidate that is only counted stays in cache.
const PROBE_COST: f64 = 2.0;
const VERIFY_COST: f64 = 1.0;
const COUNT_COST: f64 = 0.2;

impl Plan {
    fn new(radii: Vec<Option<u32>>, votes: u32, parts: &[Part], n: usize) -> Self {
        let (mut probes, mut candidates) = (0.0, 0.0);
        for (part, radius) in parts.iter().zip(&radii) {
            if let Some(radius) = *radius {
                let keys = keys_within(part.bits, radius);
                probes += keys;
                candidates += keys * n as f64 / (1u64 << part.bits) as f64;
            }
        }
        let per_candidate = if votes > 1 { COUNT_COST } else { VERIFY_COST };
        Self {
            radii,
            votes,
            cost: probes * PROBE_COST + candidates * per_candidate,
        }
    }
}

impl Layout {
    /// `m` substrings of as equal a width as possible (wider ones first).
    pub(crate) fn with_parts(m: u32) -> Self {
        let m = m.clamp(256u32.div_ceil(MAX_SUBSTRING_BITS), 256);
        let (base, extra) = (256 / m, 256 % m);
        let mut start = 0;
        let parts = (0..m)
            .map(|j| {
                let bits = base + u32::from(j < extra);
                let part = Part { start, bits };
                start += bits;
                part
            })
            .collect();
        Self { parts }
    }

    /// The layout that minimises the expected work of a radius-31 query (the
    /// PDQ match threshold) over `n` codes, within a memory budget for the
    /// offsets arrays of about 16 bytes per code.
    pub(crate) fn for_size(n: usize) -> Self {
        let budget = (n as f64 * 16.0).max(4.0 * 1024.0 * 1024.0);
        (11..=64)
            .map(Self::with_parts)
            .filter(|layout| layout.offsets_bytes() as f64 <= budget)
            .min_by(|a, b| a.work(31, n).total_cmp(&b.work(31, n)))
            .unwrap_or_else(|| Self::with_parts(64))
    }

    /// Number of substrings.
    pub(crate) fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Builds from explicit substring widths (snapshot loading); `None` if
    /// they do not tile 256 bits within the width limit.
    pub(crate) fn from_widths(widths: &[u32]) -> Option<Self> {
        let mut start = 0;
        let mut parts = Vec::with_capacity(widths.len());
        for &bits in widths {
            if bits == 0 || bits > MAX_SUBSTRING_BITS {
                return None;
            }
            parts.push(Part { start, bits });
            start += bits;
        }
        (start == 256).then_some(Self { parts })
    }

    fn offsets_bytes(&self) -> u64 {
        self.parts.iter().map(|p| (1u64 << p.bits) * 4).sum()
    }

    /// Relative cost of a query at `radius` over `n` codes.
    pub(crate) fn work(&self, radius: u32, n: usize) -> f64 {
        self.plan(radius, n, None).cost
    }

    /// The cheaper of two exact ways to search within `radius`:
    ///
    /// * **Refined pigeonhole** (one vote): with `radius = m·r' + a`, a code
    ///   within the radius has one of the first `a + 1` substrings within
    ///   `r'` of the query's or one of the others within `r' − 1`; every
    ///   candidate is verified.
    /// * **Voting**: probing every table within `ρ`, a code within the radius
    ///   is found in at least `v = m − ⌊radius / (ρ + 1)⌋` tables, because at
    ///   most `⌊radius / (ρ + 1)⌋` substrings can each differ in more than
    ///   `ρ` bits. With the smallest `ρ` giving `v ≥ 2`, candidates found once
    ///   — nearly all of them, for unrelated codes — are dropped by counting
    ///   in cache, without reading their codes from memory.
    ///
    /// `voting` forces one method (`Some(true)` falls back to the refined
    /// pigeonhole where no radius gives two votes); `None` picks by cost.
    pub(crate) fn plan(&self, radius: u32, n: usize, voting: Option<bool>) -> Plan {
        let m = self.parts.len() as u32;
        let (r, a) = (radius / m, radius % m);
        let refined_radii = (0..m)
            .map(|j| if j <= a { Some(r) } else { r.checked_sub(1) })
            .collect();
        let refined = Plan::new(refined_radii, 1, &self.parts, n);
        let voting_choice = voting;
        let voting = (0..=radius.min(32)).find_map(|rho| {
            let votes = m.checked_sub(radius / (rho + 1))?;
            (votes >= 2).then(|| Plan::new(vec![Some(rho); m as usize], votes, &self.parts, n))
        });
        match (voting, voting_choice) {
            (Some(plan), Some(true)) => plan,
            (Some(plan), None) if plan.cost < refined.cost => plan,
            _ => refined,
        }
    }
}

/// Number of `bits`-bit keys within Hamming distance `radius` of one key.
fn keys_within(bits: u32, radius: u32) -> f64 {
    let mut total = 0.0;
    let mut binomial = 1.0;
    for i in 0..=radius.min(bits) {
        if i > 0 {
            binomial = binomial * f64::from(bits - i + 1) / f64::from(i);
        }
        total += binomial;
    }
    total
}

/// Calls `visit(mask)` for every `bits`-bit mask of weight ≤ `radius`,
/// lightest first (Gosper's hack within each weight).
#[inline]
pub(crate) fn for_each_mask(bits: u32, radius: u32, mut visit: impl FnMut(u32)) {
    let limit = 1u64 << bits;
    for weight in 0..=radius.min(bits) {
        let mut mask: u64 = (1u64 << weight) - 1;
        while mask < limit {
            visit(mask as u32);
            if mask == 0 {
                break;
            }
            let lowest = mask & mask.wrapping_neg();
            let ripple = mask + lowest;
            mask = (((ripple ^ mask) >> 2) / lowest) | ripple;
        }
    }
}

/// The substring tables over slots `0..len` of a code array.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    layout: Layout,
    /// Per part: `2^bits + 1` offsets into `slots`.
    offsets: Vec<Vec<u32>>,
    /// Per part: slot numbers grouped by substring value.
    slots: Vec<Vec<u32>>,
    len: usize,
}

impl Tables {
    /// Indexes `codes` (all of them) under `layout`, one table per thread.
    pub(crate) fn build(layout: Layout, codes: &[Code256]) -> Self {
        let (offsets, slots) = layout
            .parts
            .par_iter()
            .map(|part| build_table(*part, codes))
            .unzip();
        Self {
            layout,
            offsets,
            slots,
            len: codes.len(),
        }
    }

    /// These tables extended to cover every slot of `codes` (the slots past
    /// [`Tables::len`] are new), without re-sorting what is already indexed:
    /// per table, the new entries are sorted by key and merged into the
    /// existing buckets in one sequential pass. The result is identical to
    /// [`Tables::build`] over all the codes with the same layout.
    pub(crate) fn merged_with(&self, codes: &[Code256]) -> Self {
        let (offsets, slots) = self
            .layout
            .parts
            .par_iter()
            .zip(&self.offsets)
            .zip(&self.slots)
            .map(|((part, offsets), slots)| merge_table(*part, offsets, slots, codes, self.len))
            .unzip();
        Self {
            layout: self.layout.clone(),
            offsets,
            slots,
            len: codes.len(),
        }
    }

    /// Reassembles tables read from a snapshot; `None` if inconsistent.
    pub(crate) fn from_parts(
        layout: Layout,
        offsets: Vec<Vec<u32>>,
        slots: Vec<Vec<u32>>,
        len: usize,
    ) -> Option<Self> {
        let consistent = offsets.len() == layout.parts.len()
            && slots.len() == layout.parts.len()
            && layout
                .parts
                .iter()
                .zip(&offsets)
                .zip(&slots)
                .all(|((part, offsets), slots)| {
                    offsets.len() == (1usize << part.bits) + 1
                        && offsets.first() == Some(&0)
                        && offsets.last().map(|&o| o as usize) == Some(len)
                        && offsets.windows(2).all(|w| w[0] <= w[1])
                        && slots.len() == len
                        && slots.iter().all(|&s| (s as usize) < len)
                });
        consistent.then_some(Self {
            layout,
            offsets,
            slots,
            len,
        })
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Number of slots covered.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn offsets(&self) -> &[Vec<u32>] {
        &self.offsets
    }

    pub(crate) fn slots(&self) -> &[Vec<u32>] {
        &self.slots
    }

    /// Where the slots whose substring `part` equals `key` lie in that
    /// table: `from..to`.
    #[inline(always)]
    pub(crate) fn bucket_bounds(&self, part: usize, key: u32) -> (u32, u32) {
        let offsets = &self.offsets[part];
        (offsets[key as usize], offsets[key as usize + 1])
    }

    /// The first offset read by [`Tables::bucket_bounds`], to prefetch.
    #[inline(always)]
    pub(crate) fn bounds_location(&self, part: usize, key: u32) -> &u32 {
        &self.offsets[part][key as usize]
    }

    /// The slots `from..to` of table `part`.
    #[inline(always)]
    pub(crate) fn bucket_slots(&self, part: usize, from: u32, to: u32) -> &[u32] {
        &self.slots[part][from as usize..to as usize]
    }

    /// Bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.iter().map(|o| o.capacity() * 4).sum::<usize>()
            + self.slots.iter().map(|s| s.capacity() * 4).sum::<usize>()
    }
}

/// One table of [`Tables::merged_with`]: old entries keep their order, new
/// ones (higher slot numbers) go to the end of their buckets, as a counting
/// sort of everything would place them.
fn merge_table(
    part: Part,
    offsets: &[u32],
    slots: &[u32],
    codes: &[Code256],
    tabled: usize,
) -> (Vec<u32>, Vec<u32>) {
    let mut added: Vec<(u32, u32)> = (tabled..codes.len())
        .map(|slot| (codes[slot].substring(part.start, part.bits), slot as u32))
        .collect();
    added.sort_unstable();
    let mut new_offsets = Vec::with_capacity(offsets.len());
    let mut before = 0;
    for (key, &offset) in offsets.iter().enumerate() {
        while added.get(before).is_some_and(|&(k, _)| (k as usize) < key) {
            before += 1;
        }
        new_offsets.push(offset + before as u32);
    }
    let mut new_slots = Vec::with_capacity(codes.len());
    let mut copied = 0;
    for &(key, slot) in &added {
        let bucket_end = offsets[key as usize + 1] as usize;
        new_slots.extend_from_slice(&slots[copied..bucket_end]);
        copied = bucket_end;
        new_slots.push(slot);
    }
    new_slots.extend_from_slice(&slots[copied..]);
    (new_offsets, new_slots)
}

/// Counting sort of all slots by one substring.
fn build_table(part: Part, codes: &[Code256]) -> (Vec<u32>, Vec<u32>) {
    let buckets = 1usize << part.bits;
    let mut offsets = vec![0u32; buckets + 1];
    for code in codes {
        offsets[code.substring(part.start, part.bits) as usize + 1] += 1;
    }
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
    let mut cursor = offsets.clone();
    let mut slots = vec![0u32; codes.len()];
    for (slot, code) in codes.iter().enumerate() {
        let key = code.substring(part.start, part.bits) as usize;
        slots[cursor[key] as usize] = slot as u32;
        cursor[key] += 1;
    }
    (offsets, slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_tile_256_bits() {
        for m in [11, 12, 16, 21, 32, 64] {
            let layout = Layout::with_parts(m);
            assert_eq!(layout.parts.len(), m as usize);
            assert_eq!(layout.parts.iter().map(|p| p.bits).sum::<u32>(), 256);
            assert!(
                layout
                    .parts
                    .windows(2)
                    .all(|w| w[0].start + w[0].bits == w[1].start)
            );
            assert_eq!(
                Layout::from_widths(&layout.parts.iter().map(|p| p.bits).collect::<Vec<_>>()),
                Some(layout)
            );
        }
        assert_eq!(Layout::from_widths(&[128, 128]), None);
        assert_eq!(Layout::from_widths(&[16; 15]), None);
    }

    #[test]
    fn chosen_layout_for_ten_million_fits_the_budget() {
        let layout = Layout::for_size(10_000_000);
        assert!(layout.offsets_bytes() <= 160_000_000, "{layout:?}");
        assert!(layout.parts.len() >= 11);
    }

    #[test]
    fn merging_equals_building() {
        let codes: Vec<Code256> = (0..3000u64)
            .map(|i| {
                Code256([
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    i ^ 0x5555,
                    i.rotate_left(17),
                    !i,
                ])
            })
            .collect();
        let layout = Layout::with_parts(16);
        let built = Tables::build(layout.clone(), &codes);
        for split in [0, 1, 1500, 2999, 3000] {
            let merged = Tables::build(layout.clone(), &codes[..split]).merged_with(&codes);
            assert_eq!(merged.offsets, built.offsets, "split {split}");
            assert_eq!(merged.slots, built.slots, "split {split}");
            assert_eq!(merged.len, built.len);
        }
    }

    #[test]
    fn masks_are_all_distinct_and_light() {
        let mut seen = std::collections::HashSet::new();
        for_each_mask(10, 3, |mask| {
            assert!(mask < 1024 && mask.count_ones() <= 3);
            assert!(seen.insert(mask));
        });
        assert_eq!(seen.len() as f64, keys_within(10, 3));
        assert_eq!(seen.len(), 1 + 10 + 45 + 120);
        let mut all = 0;
        for_each_mask(4, 9, |_| all += 1);
        assert_eq!(all, 16);
    }

    #[test]
    fn plan_follows_the_refined_pigeonhole() {
        let layout = Layout::with_parts(12);
        let plan = layout.plan(31, 10, None);
        // Tiny n: candidates are cheap, so fewer probes win. 31 = 12·2 + 7:
        // eight parts at radius 2, four at radius 1.
        assert_eq!(plan.votes, 1);
        assert_eq!(plan.radii.iter().filter(|r| **r == Some(2)).count(), 8);
        assert_eq!(plan.radii.iter().filter(|r| **r == Some(1)).count(), 4);
        let plan = layout.plan(5, 10, None);
        // 5 = 12·0 + 5: six parts at radius 0, the rest not probed.
        assert_eq!(plan.radii.iter().filter(|r| **r == Some(0)).count(), 6);
        assert_eq!(plan.radii.iter().filter(|r| r.is_none()).count(), 6);
        // Ten million codes: every table at radius 2, two votes needed
        // (31 / 3 = 10 substrings at most can differ in 3 bits or more).
        let plan = layout.plan(31, 10_000_000, None);
        assert_eq!((plan.votes, plan.radii[0]), (2, Some(2)));
        // Radius 0: one exact probe is enough.
        let plan = layout.plan(0, 10_000_000, None);
        assert_eq!(plan.votes, 1);
        assert_eq!(plan.radii.iter().flatten().count(), 1);
    }
}
