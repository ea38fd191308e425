//! [`TextIndex`]: an inverted index over the sampled shingle values of
//! banked [`TextSketch`]es, answering "which banked texts are at least this
//! much contained in the query?".
//!
//! Each sampled value of a banked text is a posting. A query looks up each
//! of its own sampled values, counts the postings per banked text, and turns
//! the count into the containment estimate of
//! [`TextSketch::containment_in`] — the same number, without visiting texts
//! that share no shingle with the query. Postings live in one array sorted
//! by value with a directory on the value's top bits (8 bytes a posting);
//! new texts go to a small hash map merged into the array in one sequential
//! pass when it grows past a share of the array; removed texts are skipped
//! until a compaction drops them.
//!
//! *Common* values — posted by more than one text in 2,000 (and at least
//! [`TextIndexOptions::common_postings`]) — are phrases like "one of the"
//! that copying does not explain. Their postings are not read (they would
//! dominate lookup time), and they are left out of both sides of the
//! estimate: the containment is the share found among a banked text's
//! *uncommon* sampled shingles, still a uniform sample of them.

use std::collections::{HashMap, HashSet};

use rayon::slice::ParallelSliceMut;
use vigil_signal::{TextContainment, TextSketch};

/// Tuning of a [`TextIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextIndexOptions {
    /// New postings held outside the sorted array before a merge, at least
    /// (or an eighth of the merged ones).
    pub merge_threshold: usize,
    /// Postings a value needs at least to be *common* (besides one text in
    /// 2,000).
    pub common_postings: usize,
}

impl Default for TextIndexOptions {
    fn default() -> Self {
        Self {
            merge_threshold: 1 << 16,
            common_postings: 256,
        }
    }
}

thread_local! {
    /// Postings counted per slot during one search; every touched counter
    /// is reset before the search returns, so the next one starts at zero.
    static COUNTS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One banked text found by [`TextIndex::search`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextHit {
    /// The id given when the text was added.
    pub id: u64,
    /// How much of it is in the query.
    pub found: TextContainment,
}

#[derive(Debug, Clone)]
struct Slot {
    id: u64,
    shingles: u32,
    /// Range of the text's sample in `TextIndex::samples`.
    start: usize,
    len: u32,
    /// How many of the sampled values are common.
    common: u32,
    live: bool,
}

/// Postings sorted by value, with bucket offsets on the value's top bits.
#[derive(Debug, Default)]
struct Postings {
    shift: u32,
    /// `dir[b]..dir[b + 1]` are the postings whose value's top bits are `b`.
    dir: Vec<u32>,
    values: Vec<u32>,
    slots: Vec<u32>,
}

impl Postings {
    /// Builds from `(value, slot)` pairs sorted by value.
    fn from_sorted(pairs: &[(u32, u32)]) -> Self {
        let bits = (usize::BITS - (pairs.len() / 4).max(1).leading_zeros()).clamp(4, 24);
        let shift = 32 - bits;
        let mut dir = vec![0u32; (1 << bits) + 1];
        for &(value, _) in pairs {
            dir[(value >> shift) as usize + 1] += 1;
        }
        for b in 1..dir.len() {
            dir[b] += dir[b - 1];
        }
        Self {
            shift,
            dir,
            values: pairs.iter().map(|p| p.0).collect(),
            slots: pairs.iter().map(|p| p.1).collect(),
        }
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    /// The slots posted under `value`.
    fn get(&self, value: u32) -> &[u32] {
        if self.values.is_empty() {
            return &[];
        }
        let bucket = (value >> self.shift) as usize;
        let (lo, hi) = (self.dir[bucket] as usize, self.dir[bucket + 1] as usize);
        let values = &self.values[lo..hi];
        let first = values.partition_point(|&v| v < value);
        let end = first + values[first..].partition_point(|&v| v == value);
        &self.slots[lo + first..lo + end]
    }

    fn pairs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.values.iter().copied().zip(self.slots.iter().copied())
    }

    /// The values posted more than `limit` times.
    fn common_values(&self, limit: usize) -> HashSet<u32> {
        self.values
            .chunk_by(|a, b| a == b)
            .filter(|run| run.len() > limit)
            .map(|run| run[0])
            .collect()
    }
}

/// An inverted index of banked text sketches.
#[derive(Debug)]
pub struct TextIndex {
    slots: Vec<Slot>,
    /// Every slot's sample, back to back.
    samples: Vec<u32>,
    by_id: HashMap<u64, u32>,
    base: Postings,
    delta: HashMap<u32, Vec<u32>>,
    delta_len: usize,
    dead: usize,
    common: HashSet<u32>,
    options: TextIndexOptions,
}

impl Default for TextIndex {
    fn default() -> Self {
        Self::with_options(TextIndexOptions::default())
    }
}

impl TextIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index tuned by `options`.
    pub fn with_options(options: TextIndexOptions) -> Self {
        Self {
            slots: Vec::new(),
            samples: Vec::new(),
            by_id: HashMap::new(),
            base: Postings::default(),
            delta: HashMap::new(),
            delta_len: 0,
            dead: 0,
            common: HashSet::new(),
            options: TextIndexOptions {
                merge_threshold: options.merge_threshold.max(1),
                ..options
            },
        }
    }

    /// Builds an index of `texts` in one pass (a later duplicate id replaces
    /// an earlier one; an empty sketch indexes nothing).
    pub fn build<'a>(texts: impl IntoIterator<Item = (u64, &'a TextSketch)>) -> Self {
        Self::build_with_options(texts, TextIndexOptions::default())
    }

    /// As [`build`](Self::build), tuned by `options`.
    pub fn build_with_options<'a>(
        texts: impl IntoIterator<Item = (u64, &'a TextSketch)>,
        options: TextIndexOptions,
    ) -> Self {
        let mut index = Self::with_options(options);
        for (id, sketch) in texts {
            index.add_slot(id, sketch);
        }
        index.rebuild();
        index
    }

    /// Number of texts indexed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no text is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Approximate heap bytes held, for benchmarks and metrics.
    pub fn memory_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
            + self.samples.capacity() * 4
            + self.by_id.capacity() * 16
            + (self.base.dir.capacity() + self.base.values.capacity() + self.base.slots.capacity())
                * 4
            + self.delta_len * 8
            + self.common.capacity() * 8
    }

    /// How many sampled values are common.
    pub fn common_values(&self) -> usize {
        self.common.len()
    }

    /// Adds `sketch` under `id`, replacing what `id` held; visible to the
    /// next search. Empty sketches are not indexed (they match nothing).
    pub fn insert(&mut self, id: u64, sketch: &TextSketch) {
        self.remove(id);
        let Some(slot) = self.add_slot(id, sketch) else {
            return;
        };
        for &value in sketch.sample() {
            self.delta.entry(value).or_default().push(slot);
        }
        self.delta_len += sketch.sample().len();
        if self.delta_len > self.options.merge_threshold.max(self.base.len() / 8) {
            self.merge();
        }
    }

    /// Removes `id`; returns whether it was there.
    pub fn remove(&mut self, id: u64) -> bool {
        let Some(slot) = self.by_id.remove(&id) else {
            return false;
        };
        self.slots[slot as usize].live = false;
        self.dead += 1;
        if self.dead > 1024 && self.dead * 2 > self.slots.len() {
            self.rebuild();
        }
        true
    }

    /// Every indexed text that matches `query` at `min_containment` (see
    /// [`TextContainment::is_match`]), most contained first (ties by id).
    pub fn search(&self, query: &TextSketch, min_containment: f64) -> Vec<TextHit> {
        let limit = query.sample_limit();
        let mut hits = Vec::new();
        COUNTS.with_borrow_mut(|counts| {
            if counts.len() < self.slots.len() {
                counts.resize(self.slots.len(), 0);
            }
            let mut touched: Vec<u32> = Vec::new();
            let mut count = |slot: u32| {
                let c = &mut counts[slot as usize];
                if *c == 0 {
                    touched.push(slot);
                }
                *c += 1;
            };
            for &value in query.sample() {
                if self.common.contains(&value) {
                    continue;
                }
                self.base.get(value).iter().for_each(|&slot| count(slot));
                if let Some(slots) = self.delta.get(&value) {
                    for &slot in slots {
                        count(slot);
                    }
                }
            }
            for slot_number in touched {
                let found = std::mem::take(&mut counts[slot_number as usize]);
                let slot = &self.slots[slot_number as usize];
                if !slot.live {
                    continue;
                }
                let sampled = if limit == u32::MAX {
                    slot.len - slot.common
                } else {
                    self.samples[slot.start..slot.start + slot.len as usize]
                        .iter()
                        .take_while(|&&v| v <= limit)
                        .filter(|v| !self.common.contains(v))
                        .count() as u32
                };
                // Cheap reject before the estimate: containment is found/sampled.
                if f64::from(found) < min_containment * f64::from(sampled) {
                    continue;
                }
                let found =
                    TextContainment::estimate(slot.shingles, query.shingles(), sampled, found);
                if found.is_match(min_containment) {
                    hits.push(TextHit { id: slot.id, found });
                }
            }
        });
        hits.sort_by(|a, b| {
            b.found
                .containment
                .total_cmp(&a.found.containment)
                .then(a.id.cmp(&b.id))
        });
        hits
    }

    fn add_slot(&mut self, id: u64, sketch: &TextSketch) -> Option<u32> {
        if let Some(old) = self.by_id.remove(&id) {
            self.slots[old as usize].live = false;
            self.dead += 1;
        }
        if sketch.is_empty() {
            return None;
        }
        let slot = u32::try_from(self.slots.len()).ok()?;
        self.slots.push(Slot {
            id,
            shingles: sketch.shingles(),
            start: self.samples.len(),
            len: sketch.sample().len() as u32,
            common: self.count_common(sketch.sample()),
            live: true,
        });
        self.samples.extend_from_slice(sketch.sample());
        self.by_id.insert(id, slot);
        Some(slot)
    }

    /// Folds the waiting postings into the sorted array in one pass.
    fn merge(&mut self) {
        let mut new: Vec<(u32, u32)> = self
            .delta
            .drain()
            .flat_map(|(value, slots)| slots.into_iter().map(move |s| (value, s)))
            .collect();
        new.par_sort_unstable();
        let mut merged = Vec::with_capacity(self.base.len() + new.len());
        let mut old = self.base.pairs().peekable();
        for pair in new {
            while let Some(&o) = old.peek() {
                if o > pair {
                    break;
                }
                merged.push(o);
                old.next();
            }
            merged.push(pair);
        }
        merged.extend(old);
        self.base = Postings::from_sorted(&merged);
        self.delta_len = 0;
        self.refresh_common();
    }

    /// Recomputes the common values from the merged postings, and each
    /// text's count of them.
    fn refresh_common(&mut self) {
        let limit = self.options.common_postings.max(self.by_id.len() / 2000);
        self.common = self.base.common_values(limit);
        let counts: Vec<u32> = self
            .slots
            .iter()
            .map(|slot| {
                self.count_common(&self.samples[slot.start..slot.start + slot.len as usize])
            })
            .collect();
        for (slot, count) in self.slots.iter_mut().zip(counts) {
            slot.common = count;
        }
    }

    fn count_common(&self, sample: &[u32]) -> u32 {
        if self.common.is_empty() {
            return 0;
        }
        sample.iter().filter(|v| self.common.contains(v)).count() as u32
    }

    /// Rebuilds slots and postings from the live texts only.
    fn rebuild(&mut self) {
        let mut slots = Vec::with_capacity(self.by_id.len());
        let mut samples = Vec::new();
        let mut by_id = HashMap::with_capacity(self.by_id.len());
        for slot in self.slots.iter().filter(|s| s.live) {
            let start = samples.len();
            samples.extend_from_slice(&self.samples[slot.start..slot.start + slot.len as usize]);
            by_id.insert(slot.id, slots.len() as u32);
            slots.push(Slot {
                start,
                ..slot.clone()
            });
        }
        let mut pairs: Vec<(u32, u32)> = slots
            .iter()
            .enumerate()
            .flat_map(|(i, slot)| {
                samples[slot.start..slot.start + slot.len as usize]
                    .iter()
                    .map(move |&v| (v, i as u32))
            })
            .collect();
        pairs.par_sort_unstable();
        self.base = Postings::from_sorted(&pairs);
        self.slots = slots;
        self.samples = samples;
        self.by_id = by_id;
        self.delta.clear();
        self.delta_len = 0;
        self.dead = 0;
        self.refresh_common();
    }
}
