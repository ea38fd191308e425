//! In-memory signal indexes for Vigil: "which contents are within distance
//! d of this signal?", answered exactly and fast, with live updates.
//!
//! This crate owns search structures and their snapshots. It knows codes,
//! digests and numeric ids — not banks, contents, files beyond its own
//! snapshots, or HTTP.
//!
//! * [`HammingIndex`] — multi-index hashing over 256-bit codes ([`Code256`],
//!   e.g. PDQ hashes): all entries within a radius, or the k nearest, exact
//!   for every radius; bulk build, live insert and delete, compaction.
//! * [`SharedHammingIndex`] — the same behind a lock designed so that
//!   queries never wait for a merge of new entries into the tables.
//! * [`ExactIndex`] — a hash map for exact signals (`md5`, `sha256`).
//! * [`TextIndex`] — an inverted index of text sketches' sampled shingles:
//!   every banked text at least this much contained in a query, with the
//!   estimate per text.
//! * [`SignalIndex`] — the small trait both implement, so the engine can
//!   hold one index per signal type.
//! * [`snapshot`] — saving a Hamming index to a file and loading it back
//!   without rebuilding, with a checksum so a damaged file is refused whole.
//!
//! ```
//! use vigil_index::{Code256, HammingIndex};
//!
//! let stored = Code256([0xdead_beef, 1, 2, 3]);
//! let mut index = HammingIndex::build([(7, stored)]);
//! let near = stored.with_bit_flipped(3).with_bit_flipped(200);
//! let hits = index.search(&near, 31);
//! assert_eq!((hits[0].id, hits[0].distance), (7, 2));
//! index.insert(8, near);
//! assert_eq!(index.nearest(&near, 1)[0].id, 8);
//! ```
#![deny(missing_docs)]

mod code;
mod error;
mod exact;
mod hamming;
mod mih;
mod shared;
pub mod snapshot;
mod text;

pub use code::Code256;
pub use error::Error;
pub use exact::ExactIndex;
pub use hamming::{DEFAULT_MERGE_THRESHOLD, HammingIndex, HammingOptions};
pub use shared::SharedHammingIndex;
pub use text::{TextHit, TextIndex, TextIndexOptions};

/// One entry found by a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hit {
    /// The entry's id, as given when it was added.
    pub id: u64,
    /// Its distance to the query (0 for exact indexes).
    pub distance: u32,
}

/// What the engine needs of an index for one signal type.
pub trait SignalIndex: Send + Sync {
    /// The signal value indexed (a PDQ hash, an MD5 digest, …).
    type Signal;

    /// Adds `id` under `signal`; visible to the next search.
    fn insert(&self, id: u64, signal: &Self::Signal);

    /// Removes `id` under `signal`; returns whether it was there.
    fn remove(&self, id: u64, signal: &Self::Signal) -> bool;

    /// Every id within `max_distance` of `signal`, nearest first. Exact
    /// indexes ignore the distance: only equal signals match.
    fn search(&self, signal: &Self::Signal, max_distance: u32) -> Vec<Hit>;

    /// Number of live entries.
    fn len(&self) -> usize;

    /// Whether there are no live entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
