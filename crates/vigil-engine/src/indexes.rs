//! The engine's in-memory view: one index per signal type, plus what each
//! indexed content needs for filtering (bank, enabled state) and removal
//! (its signals), kept current by replaying the store's change log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use vigil_index::{Code256, ExactIndex, HammingIndex, SharedHammingIndex, SignalIndex, TextIndex};
use vigil_media::VariantHash;
use vigil_signal::text::{BANK_SAMPLE, TextSketch};
use vigil_signal::{PdqHash, SignalType, vpdq};
use vigil_store::{Bank, ChangeKind, Content, Signals, Store};

use crate::Error;

/// Contents read from the store per page when loading or replaying.
const PAGE: usize = 10_000;

/// The exact signal types, each with its own hash map, in name order.
fn exact_types() -> impl Iterator<Item = SignalType> {
    SignalType::ALL.into_iter().filter(|t| t.is_exact())
}

/// Frame ids in the vPDQ frame index: the content id above this many bits,
/// the frame's position among the content's unique hashes below.
pub(crate) const FRAME_BITS: u32 = 24;

/// Variant ids in the variant index: the content id above this many bits,
/// the variant's position among the content's banked variants below.
pub(crate) const VARIANT_BITS: u32 = 8;

/// What the engine remembers of one indexed content.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) bank_id: i64,
    pub(crate) disable_until_ts: i64,
    pub(crate) pdq: Option<Code256>,
    exact: Vec<(SignalType, String)>,
    /// An image's banked variants for the lookup defences (crops, trimmed),
    /// for the variant index and for judging a defended lookup.
    pub(crate) variants: Option<Arc<[VariantHash]>>,
    /// A video's unique frame hashes of usable quality, for the frame index
    /// and for computing how much of the video a query covers.
    pub(crate) vpdq: Option<Arc<[PdqHash]>>,
    /// Whether the content is in the text index (which holds its sketch).
    has_text: bool,
}

impl Entry {
    fn new(signals: &Signals, bank_id: i64, disable_until_ts: i64) -> Self {
        let exact = exact_types()
            .filter_map(|t| signals.get(t).map(|v| (t, v.to_owned())))
            .collect();
        let vpdq = signals
            .get(SignalType::Vpdq)
            .and_then(|value| vpdq::parse_hma_signal(value).ok())
            .map(|frames| {
                let mut unique = vpdq::usable_hashes(&frames, vpdq::DEFAULT_QUALITY_THRESHOLD);
                unique.truncate(1 << FRAME_BITS);
                Arc::from(unique)
            });
        let variants = signals
            .get(SignalType::PdqVariants)
            .and_then(VariantHash::parse_list)
            .map(|mut list| {
                list.truncate(1 << VARIANT_BITS);
                Arc::from(list)
            });
        Self {
            bank_id,
            disable_until_ts,
            pdq: signals.pdq().map(Code256::from),
            exact,
            variants,
            vpdq,
            has_text: signals.get(SignalType::Text).is_some(),
        }
    }

    /// The variant-index entries of an image content.
    fn variant_codes(&self, content_id: i64) -> impl Iterator<Item = (u64, Code256)> + '_ {
        self.variants.iter().flat_map(move |variants| {
            variants
                .iter()
                .enumerate()
                .map(move |(k, v)| (variant_id(content_id, k), Code256::from(v.pdq.hash)))
        })
    }

    /// The frame-index entries of a video content.
    fn frames(&self, content_id: i64) -> impl Iterator<Item = (u64, Code256)> + '_ {
        self.vpdq.iter().flat_map(move |hashes| {
            hashes
                .iter()
                .enumerate()
                .map(move |(i, hash)| (frame_id(content_id, i), Code256::from(*hash)))
        })
    }
}

/// The sketch a content's `text` signal is indexed under: its first
/// [`BANK_SAMPLE`] values.
fn bank_sketch(signals: &Signals) -> Option<TextSketch> {
    signals
        .get(SignalType::Text)
        .and_then(|value| value.parse::<TextSketch>().ok())
        .map(|sketch| sketch.truncated(BANK_SAMPLE))
}

/// The frame index id of a content's `i`-th unique frame hash.
pub(crate) fn frame_id(content_id: i64, i: usize) -> u64 {
    ((content_id as u64) << FRAME_BITS) | i as u64
}

/// The variant index id of a content's `k`-th banked variant.
pub(crate) fn variant_id(content_id: i64, k: usize) -> u64 {
    ((content_id as u64) << VARIANT_BITS) | k as u64
}

pub(crate) struct Indexes {
    pub(crate) pdq: SharedHammingIndex,
    /// Every banked image variant (see `vigil_media::bank_variants`), by
    /// [`variant_id`].
    pub(crate) pdq_variants: SharedHammingIndex,
    /// Every usable frame hash of every video, by [`frame_id`].
    pub(crate) vpdq_frames: SharedHammingIndex,
    /// Contents with a vPDQ signal.
    pub(crate) videos: AtomicUsize,
    exact: HashMap<SignalType, ExactIndex<String>>,
    /// Text sketches; writes are rare and short next to lookups.
    pub(crate) text: RwLock<TextIndex>,
    pub(crate) entries: RwLock<HashMap<i64, Entry>>,
    /// Banks by id, refreshed on every sync (renames and ratios are not in
    /// the change log; there are few banks).
    pub(crate) banks: RwLock<HashMap<i64, Bank>>,
    /// The last change-log entry applied; held while applying, so two syncs
    /// never interleave.
    applied: Mutex<i64>,
}

impl Indexes {
    /// The contents whose `signal_type` digest is `digest` (canonical form).
    pub(crate) fn exact_search(&self, signal_type: SignalType, digest: &str) -> Vec<i64> {
        self.exact.get(&signal_type).map_or_else(Vec::new, |index| {
            index
                .search(&digest.to_owned(), 0)
                .into_iter()
                .map(|hit| hit.id as i64)
                .collect()
        })
    }

    /// Entries per exact type's map, in name order.
    pub(crate) fn exact_sizes(&self) -> Vec<(SignalType, usize)> {
        exact_types()
            .map(|t| (t, self.exact.get(&t).map_or(0, SignalIndex::len)))
            .collect()
    }

    /// Reads every content from `store` and indexes it in bulk.
    pub(crate) fn load(store: &dyn Store) -> Result<Self, Error> {
        // Note the log position first: changes made while loading are
        // replayed afterwards (replaying is idempotent).
        let start = store.last_change()?;
        let banks: HashMap<i64, Bank> = store.banks()?.into_iter().map(|b| (b.id, b)).collect();
        let mut entries = HashMap::new();
        let mut pdq = Vec::new();
        let mut frames = Vec::new();
        let mut variants = Vec::new();
        let mut texts = Vec::new();
        let exact: HashMap<SignalType, ExactIndex<String>> =
            exact_types().map(|t| (t, ExactIndex::default())).collect();
        let mut after = 0;
        loop {
            let page = store.indexed_after(after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for content in &page {
                let entry = Entry::new(&content.signals, content.bank_id, content.disable_until_ts);
                if let Some(code) = entry.pdq {
                    pdq.push((content.id as u64, code));
                }
                for (signal_type, value) in &entry.exact {
                    if let Some(index) = exact.get(signal_type) {
                        index.insert(content.id as u64, value);
                    }
                }
                frames.extend(entry.frames(content.id));
                variants.extend(entry.variant_codes(content.id));
                if let Some(sketch) = bank_sketch(&content.signals) {
                    texts.push((content.id as u64, sketch));
                }
                entries.insert(content.id, entry);
            }
        }
        let indexes = Self {
            pdq: SharedHammingIndex::new(HammingIndex::build(pdq)),
            pdq_variants: SharedHammingIndex::new(HammingIndex::build(variants)),
            vpdq_frames: SharedHammingIndex::new(HammingIndex::build(frames)),
            videos: AtomicUsize::new(entries.values().filter(|e| e.vpdq.is_some()).count()),
            exact,
            text: RwLock::new(TextIndex::build(texts.iter().map(|(id, s)| (*id, s)))),
            entries: RwLock::new(entries),
            banks: RwLock::new(banks),
            applied: Mutex::new(start),
        };
        indexes.sync(store)?;
        Ok(indexes)
    }

    /// Applies every change logged since the last sync; returns how many.
    pub(crate) fn sync(&self, store: &dyn Store) -> Result<usize, Error> {
        let mut applied = self.applied.lock().unwrap_or_else(PoisonError::into_inner);
        let banks: HashMap<i64, Bank> = store.banks()?.into_iter().map(|b| (b.id, b)).collect();
        *self.banks.write().unwrap_or_else(PoisonError::into_inner) = banks;
        let mut count = 0;
        loop {
            let changes = store.changes_after(*applied, PAGE)?;
            let Some(last) = changes.last() else { break };
            let last_seq = last.seq;
            for change in &changes {
                match change.kind {
                    ChangeKind::Content { content_id } => {
                        self.remove(content_id);
                        if let Some(content) = store.content(content_id)? {
                            self.insert(&content);
                        }
                    }
                    ChangeKind::ContentDeleted { content_id } => self.remove(content_id),
                    ChangeKind::BankDeleted { bank_id } => {
                        let doomed: Vec<i64> = self
                            .entries
                            .read()
                            .unwrap_or_else(PoisonError::into_inner)
                            .iter()
                            .filter(|(_, e)| e.bank_id == bank_id)
                            .map(|(id, _)| *id)
                            .collect();
                        for id in doomed {
                            self.remove(id);
                        }
                    }
                }
            }
            count += changes.len();
            *applied = last_seq;
        }
        Ok(count)
    }

    fn insert(&self, content: &Content) {
        let banks = self.banks.read().unwrap_or_else(PoisonError::into_inner);
        let Some(bank_id) = banks
            .values()
            .find(|b| b.name == content.bank)
            .map(|b| b.id)
        else {
            return;
        };
        drop(banks);
        let entry = Entry::new(&content.fields.signals, bank_id, content.disable_until_ts);
        if let Some(code) = entry.pdq {
            self.pdq.insert(content.id as u64, code);
        }
        for (signal_type, value) in &entry.exact {
            if let Some(index) = self.exact.get(signal_type) {
                index.insert(content.id as u64, value);
            }
        }
        for (id, code) in entry.frames(content.id) {
            self.vpdq_frames.insert(id, code);
        }
        for (id, code) in entry.variant_codes(content.id) {
            self.pdq_variants.insert(id, code);
        }
        if entry.vpdq.is_some() {
            self.videos.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(sketch) = bank_sketch(&content.fields.signals) {
            self.text
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(content.id as u64, &sketch);
        }
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(content.id, entry);
    }

    fn remove(&self, content_id: i64) {
        let entry = self
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&content_id);
        let Some(entry) = entry else { return };
        if let Some(code) = entry.pdq {
            self.pdq.remove(content_id as u64, &code);
        }
        for (signal_type, value) in &entry.exact {
            if let Some(index) = self.exact.get(signal_type) {
                index.remove(content_id as u64, value);
            }
        }
        for (id, code) in entry.frames(content_id) {
            self.vpdq_frames.remove(id, &code);
        }
        for (id, code) in entry.variant_codes(content_id) {
            self.pdq_variants.remove(id, &code);
        }
        if entry.vpdq.is_some() {
            self.videos.fetch_sub(1, Ordering::Relaxed);
        }
        if entry.has_text {
            self.text
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(content_id as u64);
        }
    }
}
