//! [`SharedHammingIndex`]: one writer, many readers, no long waits.

use std::sync::{Mutex, PoisonError, RwLock};

use vigil_signal::PdqHash;

use crate::{Code256, HammingIndex, Hit, SignalIndex};

/// A [`HammingIndex`] shared between threads: any number of concurrent
/// queries, inserts and deletes visible to the next query, and merges that
/// never make a query wait.
///
/// # Locking
///
/// The index sits in a `RwLock`. An insert or delete holds the write lock
/// for a few microseconds (an append or a flag). A merge of the delta into
/// the tables — seconds at ten million entries — builds the new tables under
/// the *read* lock, so queries keep running, then takes the write lock only
/// to swap them in. Writers also take a separate mutex first, so at most one
/// of them ever waits on the `RwLock`: a queue of writers cannot hold back
/// readers behind it (the standard `RwLock` stops admitting readers while a
/// writer waits).
///
/// A query sees either the state before an insert or the state after it,
/// never a half-written entry, since entries are only written under the
/// write lock.
#[derive(Debug, Default)]
pub struct SharedHammingIndex {
    index: RwLock<HammingIndex>,
    writer: Mutex<()>,
}

impl SharedHammingIndex {
    /// Shares `index`.
    pub fn new(index: HammingIndex) -> Self {
        Self {
            index: RwLock::new(index),
            writer: Mutex::new(()),
        }
    }

    /// Adds an entry, visible to the next query; merges the delta into the
    /// tables when it is due, without blocking queries.
    pub fn insert(&self, id: u64, code: Code256) {
        // A panic while holding a lock cannot leave the index half-written
        // (every write is a single push or bit set), so poisoning is ignored.
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let due = {
            let mut index = self.write();
            index.push(id, code);
            index.needs_merge()
        };
        if due {
            let tables = self.read().merged_tables();
            self.write().install(tables);
        }
    }

    /// Deletes the entry `id` with `code`; returns whether it was live.
    pub fn remove(&self, id: u64, code: &Code256) -> bool {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.write().remove(id, code)
    }

    /// Every live entry within `radius`, nearest first.
    pub fn search(&self, query: &Code256, radius: u32) -> Vec<Hit> {
        self.read().search(query, radius)
    }

    /// The `k` nearest live entries.
    pub fn nearest(&self, query: &Code256, k: usize) -> Vec<Hit> {
        self.read().nearest(query, k)
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether there are no live entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` on the index under the read lock (e.g. to save a snapshot).
    pub fn with_read<T>(&self, f: impl FnOnce(&HammingIndex) -> T) -> T {
        f(&self.read())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HammingIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HammingIndex> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SignalIndex for SharedHammingIndex {
    type Signal = PdqHash;

    fn insert(&self, id: u64, signal: &PdqHash) {
        SharedHammingIndex::insert(self, id, Code256::from(*signal));
    }

    fn remove(&self, id: u64, signal: &PdqHash) -> bool {
        SharedHammingIndex::remove(self, id, &Code256::from(*signal))
    }

    fn search(&self, signal: &PdqHash, max_distance: u32) -> Vec<Hit> {
        SharedHammingIndex::search(self, &Code256::from(*signal), max_distance)
    }

    fn len(&self) -> usize {
        SharedHammingIndex::len(self)
    }
}
