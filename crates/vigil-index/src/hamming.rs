//! [`HammingIndex`]: exact radius and nearest-neighbour search over 256-bit
//! codes, with live inserts and deletes.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::mih::{Layout, Tables, for_each_mask};
use crate::{Code256, Hit};

/// Per-thread buffers reused by every query, so a query allocates nothing
/// once warm.
#[derive(Default)]
struct Scratch {
    /// Probe masks by (substring bits, radius).
    masks: HashMap<(u32, u32), Vec<u32>>,
    /// Non-empty buckets as (table, from, to).
    buckets: Vec<(u32, u32, u32)>,
    /// Candidate slots.
    slots: Vec<u32>,
    /// Second buffer for sorting the candidates.
    spare: Vec<u32>,
}

/// Sorts `values` with up to three passes of an 11-bit LSD radix sort
/// (only as many as the largest value needs): linear time, cache-resident
/// counts, much faster than a comparison sort for the thousands of
/// candidates a query gathers at millions of codes.
fn radix_sort(values: &mut Vec<u32>, spare: &mut Vec<u32>) {
    // Below a few thousand values the count arrays cost more than they save.
    if values.len() < 4096 {
        values.sort_unstable();
        return;
    }
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    let highest = values.iter().copied().max().unwrap_or(0);
    spare.clear();
    spare.resize(values.len(), 0);
    let mut shift = 0;
    while shift < 32 && (shift == 0 || highest >> shift != 0) {
        let mut counts = [0u32; BUCKETS];
        for &v in values.iter() {
            counts[(v >> shift) as usize & (BUCKETS - 1)] += 1;
        }
        let mut total = 0;
        for count in &mut counts {
            let c = *count;
            *count = total;
            total += c;
        }
        for &v in values.iter() {
            let bucket = (v >> shift) as usize & (BUCKETS - 1);
            spare[counts[bucket] as usize] = v;
            counts[bucket] += 1;
        }
        std::mem::swap(values, spare);
        shift += BITS;
    }
}

/// How many buckets ahead of use their memory is requested.
const PREFETCH_DISTANCE: usize = 32;

/// Asks the CPU to start loading `value`'s cache line.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, never changes
    // memory and has no effect on program semantics; the address comes from
    // a live reference anyway. The SSE instruction set it needs is part of
    // the x86-64 baseline, so it exists on every CPU this code runs on.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            std::ptr::from_ref::<T>(value).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Inserts go to a delta that every query scans (sequential, a few
/// microseconds); past this many they are merged into the tables.
pub const DEFAULT_MERGE_THRESHOLD: usize = 16_384;

/// Above this ratio of probing work to a full scan, a query scans instead:
/// a sequential pass over the codes costs about a twentieth of a random
/// probe or candidate read per code.
const SCAN_WORK_RATIO: f64 = 1.0 / 20.0;

/// An exact index of 256-bit codes under Hamming distance, built on
/// multi-index hashing (see the `mih` module for the method).
///
/// * Every entry lives in a *slot*: its code, its id, and a deleted flag.
///   Slots `0..tables.len()` are in the substring tables; later slots form
///   the *delta*, scanned by every query until merged.
/// * Deleting marks the slot (a tombstone); queries skip tombstones, and
///   [`HammingIndex::compact`] drops them.
/// * Queries are exact for any radius: beyond the tables' efficient range
///   they fall back to a scan of all codes.
///
/// Ids are the caller's (e.g. content ids); one id may hold several codes
/// (video frames) and the same code may appear under several ids.
#[derive(Debug, Clone)]
pub struct HammingIndex {
    codes: Vec<Code256>,
    ids: Vec<u64>,
    /// One bit per slot: set when deleted.
    deleted: Vec<u64>,
    deleted_count: usize,
    tables: Tables,
    options: HammingOptions,
}

/// Tuning for a [`HammingIndex`]. The defaults suit PDQ at any size; the
/// other settings exist for tests and experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HammingOptions {
    /// Number of substrings (one table each); `None` chooses by size, for
    /// the least work at radius 31 within about 16 bytes of offsets per code.
    pub substrings: Option<u32>,
    /// Inserts held in the delta (scanned by every query) before they are
    /// merged into the tables.
    pub merge_threshold: usize,
    /// Let a query scan all codes when that is cheaper than probing (large
    /// radii, small indexes). Results are the same either way.
    pub allow_scan: bool,
    /// Force the voting method (`Some(true)`) or the refined pigeonhole
    /// (`Some(false)`) instead of choosing by cost (`None`). Results are the
    /// same either way.
    pub voting: Option<bool>,
}

impl Default for HammingOptions {
    fn default() -> Self {
        Self {
            substrings: None,
            merge_threshold: DEFAULT_MERGE_THRESHOLD,
            allow_scan: true,
            voting: None,
        }
    }
}

impl HammingOptions {
    fn layout(&self, n: usize) -> Layout {
        self.substrings
            .map_or_else(|| Layout::for_size(n), Layout::with_parts)
    }
}

impl Default for HammingIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl HammingIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::build(std::iter::empty())
    }

    /// Builds an index of `entries` in one pass (tables built in parallel).
    pub fn build(entries: impl IntoIterator<Item = (u64, Code256)>) -> Self {
        Self::with_options(entries, HammingOptions::default())
    }

    /// Builds an index of `entries` with explicit tuning.
    pub fn with_options(
        entries: impl IntoIterator<Item = (u64, Code256)>,
        options: HammingOptions,
    ) -> Self {
        let (ids, codes): (Vec<u64>, Vec<Code256>) = entries.into_iter().unzip();
        Self::from_vecs(ids, codes, options)
    }

    fn from_vecs(mut ids: Vec<u64>, mut codes: Vec<Code256>, options: HammingOptions) -> Self {
        let tables = Tables::build(options.layout(codes.len()), &codes);
        // Room for a full delta, so inserts until the next merge never move
        // the (possibly gigabyte-sized) arrays.
        ids.reserve_exact(options.merge_threshold);
        codes.reserve_exact(options.merge_threshold);
        Self {
            deleted: vec![0; codes.len().div_ceil(64)],
            deleted_count: 0,
            codes,
            ids,
            tables,
            options,
        }
    }

    /// Reassembles an index read from a snapshot.
    pub(crate) fn from_snapshot(
        ids: Vec<u64>,
        codes: Vec<Code256>,
        deleted: Vec<u64>,
        tables: Tables,
    ) -> Self {
        let deleted_count = deleted.iter().map(|w| w.count_ones() as usize).sum();
        Self {
            codes,
            ids,
            deleted,
            deleted_count,
            tables,
            options: HammingOptions::default(),
        }
    }

    /// The tuning in effect.
    pub fn options(&self) -> HammingOptions {
        self.options
    }

    /// Number of live (not deleted) entries.
    pub fn len(&self) -> usize {
        self.codes.len() - self.deleted_count
    }

    /// Whether there are no live entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries inserted since the last merge.
    pub fn delta_len(&self) -> usize {
        self.codes.len() - self.tables.len()
    }

    /// Whether the delta has outgrown its threshold and should be merged.
    pub fn needs_merge(&self) -> bool {
        self.delta_len() >= self.options.merge_threshold.max(1)
    }

    /// Adds an entry. It is visible to the next query. Merges the delta into
    /// the tables when it reaches the threshold (use [`crate::SharedHammingIndex`]
    /// to keep queries running during merges).
    pub fn insert(&mut self, id: u64, code: Code256) {
        self.push(id, code);
        if self.needs_merge() {
            let tables = self.merged_tables();
            self.install(tables);
        }
    }

    /// Appends to the delta without ever merging.
    pub(crate) fn push(&mut self, id: u64, code: Code256) {
        self.codes.push(code);
        self.ids.push(id);
        if self.deleted.len() * 64 < self.codes.len() {
            self.deleted.push(0);
        }
    }

    /// Tables covering every slot, built without modifying the index (so a
    /// shared index can build them under a read lock).
    ///
    /// The delta is merged into the existing tables in one sequential pass
    /// per table. Only when the index has doubled since its layout was
    /// chosen, and a different layout now suits it better, are the tables
    /// rebuilt with that layout (amortised: once per doubling).
    pub(crate) fn merged_tables(&self) -> Tables {
        let n = self.codes.len();
        let ideal = self.options.layout(n);
        if ideal != *self.tables.layout() && n >= 2 * self.tables.len() {
            Tables::build(ideal, &self.codes)
        } else {
            self.tables.merged_with(&self.codes)
        }
    }

    /// Replaces the tables by `tables`, which cover the first `tables.len()`
    /// slots; later slots stay in the delta.
    pub(crate) fn install(&mut self, tables: Tables) {
        debug_assert!(tables.len() <= self.codes.len());
        self.tables = tables;
        let room = self.options.merge_threshold;
        self.ids.reserve_exact(room);
        self.codes.reserve_exact(room);
    }

    /// Deletes the entry `id` with `code`; returns whether one was live.
    ///
    /// The code is needed to find the entry without an id-to-slot map, which
    /// would cost more memory than the whole table set; callers have it.
    pub fn remove(&mut self, id: u64, code: &Code256) -> bool {
        let mut found = None;
        self.visit_candidates(code, 0, |slot| {
            if found.is_none() && self.ids[slot] == id && !self.is_deleted(slot) {
                found = Some(slot);
            }
        });
        let Some(slot) = found else { return false };
        self.deleted[slot / 64] |= 1 << (slot % 64);
        self.deleted_count += 1;
        true
    }

    #[inline(always)]
    fn is_deleted(&self, slot: usize) -> bool {
        self.deleted[slot / 64] >> (slot % 64) & 1 == 1
    }

    /// Every live entry within `radius` of `query`, nearest first (ties by
    /// id). Exact for every radius.
    pub fn search(&self, query: &Code256, radius: u32) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.search_into(query, radius, &mut hits);
        hits
    }

    /// As [`HammingIndex::search`], reusing `hits`' allocation.
    pub fn search_into(&self, query: &Code256, radius: u32, hits: &mut Vec<Hit>) {
        hits.clear();
        let mut slots = Vec::new();
        self.visit_candidates(query, radius, |slot| {
            if self.codes[slot].distance(query) <= radius && !self.is_deleted(slot) {
                slots.push(slot as u32);
            }
        });
        // A code found through several tables is reported once.
        slots.sort_unstable();
        slots.dedup();
        hits.extend(slots.iter().map(|&slot| Hit {
            id: self.ids[slot as usize],
            distance: self.codes[slot as usize].distance(query),
        }));
        hits.sort_unstable_by_key(|hit| (hit.distance, hit.id));
    }

    /// The `k` live entries nearest to `query` (ties by id), nearest first.
    pub fn nearest(&self, query: &Code256, k: usize) -> Vec<Hit> {
        if k == 0 {
            return Vec::new();
        }
        // Widen the radius until k entries are inside it: those k are then
        // the k nearest, since the search within a radius is exact.
        let mut hits = Vec::new();
        for radius in [15, 31, 47, 63, 95, 127, 256] {
            self.search_into(query, radius, &mut hits);
            if hits.len() >= k {
                break;
            }
        }
        hits.truncate(k);
        hits
    }

    /// Calls `visit(slot)` for a superset of the slots within `radius`
    /// (possibly more than once each, deleted ones included).
    ///
    /// Candidates are gathered in phases — all bucket bounds, then all
    /// bucket contents, then the visits — so that the cache misses of one
    /// phase are independent of each other and the CPU overlaps them,
    /// instead of chasing offsets → slots → code one probe at a time.
    fn visit_candidates(&self, query: &Code256, radius: u32, mut visit: impl FnMut(usize)) {
        let tabled = self.tables.len();
        let plan = self
            .tables
            .layout()
            .plan(radius, tabled, self.options.voting);
        if self.options.allow_scan && plan.cost > tabled as f64 * SCAN_WORK_RATIO {
            (0..self.codes.len()).for_each(visit);
            return;
        }
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                masks,
                buckets,
                slots,
                spare,
            } = scratch;
            buckets.clear();
            slots.clear();
            let parts = self.tables.layout().parts();
            // Phase 1: every key to probe.
            for (part_index, (part, part_radius)) in parts.iter().zip(&plan.radii).enumerate() {
                let Some(part_radius) = *part_radius else {
                    continue;
                };
                let key = query.substring(part.start, part.bits);
                let masks = masks.entry((part.bits, part_radius)).or_insert_with(|| {
                    let mut list = Vec::new();
                    for_each_mask(part.bits, part_radius, |mask| list.push(mask));
                    list
                });
                buckets.extend(masks.iter().map(|&mask| (part_index as u32, key ^ mask, 0)));
            }
            // Phase 2: their bucket bounds, fetched ahead of use.
            for i in 0..buckets.len() {
                if let Some(&(part, key, _)) = buckets.get(i + PREFETCH_DISTANCE) {
                    prefetch(self.tables.bounds_location(part as usize, key));
                }
                let (part, key, _) = buckets[i];
                let (from, to) = self.tables.bucket_bounds(part as usize, key);
                buckets[i] = (part, from, to);
            }
            // Phase 3: their slots, fetched ahead of use.
            for i in 0..buckets.len() {
                if let Some(&(part, from, to)) = buckets.get(i + PREFETCH_DISTANCE)
                    && let Some(first) = self.tables.bucket_slots(part as usize, from, to).first()
                {
                    prefetch(first);
                }
                let (part, from, to) = buckets[i];
                slots.extend_from_slice(self.tables.bucket_slots(part as usize, from, to));
            }
            if plan.votes > 1 {
                // A slot appears at most once per table, so the length of
                // its run after sorting is its number of votes.
                radix_sort(slots, spare);
                let mut run_start = 0;
                for i in 1..=slots.len() {
                    if i == slots.len() || slots[i] != slots[run_start] {
                        if (i - run_start) as u32 >= plan.votes {
                            visit(slots[run_start] as usize);
                        }
                        run_start = i;
                    }
                }
            } else {
                for &slot in slots.iter() {
                    visit(slot as usize);
                }
            }
        });
        (tabled..self.codes.len()).for_each(visit);
    }

    /// Every live entry as `(id, code)`, in slot order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &Code256)> + '_ {
        (0..self.codes.len())
            .filter(|&slot| !self.is_deleted(slot))
            .map(|slot| (self.ids[slot], &self.codes[slot]))
    }

    /// Number of substring tables.
    pub fn table_count(&self) -> usize {
        self.tables.layout().parts().len()
    }

    /// Rebuilds the tables without deleted entries, freeing their memory.
    /// Slots are renumbered; ids and codes are kept.
    pub fn compact(&mut self) {
        let (ids, codes): (Vec<u64>, Vec<Code256>) = (0..self.codes.len())
            .filter(|&slot| !self.is_deleted(slot))
            .map(|slot| (self.ids[slot], self.codes[slot]))
            .unzip();
        *self = Self::from_vecs(ids, codes, self.options);
    }

    /// Bytes of memory held by the index (codes, ids, flags and tables).
    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity() * std::mem::size_of::<Code256>()
            + self.ids.capacity() * 8
            + self.deleted.capacity() * 8
            + self.tables.memory_bytes()
    }

    pub(crate) fn parts(&self) -> (&[u64], &[Code256], &[u64], &Tables) {
        (&self.ids, &self.codes, &self.deleted, &self.tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_sorts() {
        let mut spare = Vec::new();
        for values in [
            vec![],
            vec![5],
            vec![3, 1, 2, 1],
            (0..5000u32)
                .map(|i| i.wrapping_mul(2_654_435_761))
                .collect(),
        ] {
            let mut expected = values.clone();
            expected.sort_unstable();
            let mut values = values;
            radix_sort(&mut values, &mut spare);
            assert_eq!(values, expected);
        }
    }
}
