//! [`ExactIndex`]: equality lookups for exact signals.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{PoisonError, RwLock};

use crate::{Hit, SignalIndex};

/// Ids by exact signal value (`md5`, `sha256`, canonical URL, …). Lookups are
/// one hash-map probe; the distance in every hit is 0.
#[derive(Debug)]
pub struct ExactIndex<K> {
    map: RwLock<HashMap<K, Vec<u64>>>,
}

impl<K> Default for ExactIndex<K> {
    fn default() -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone + Send + Sync> ExactIndex<K> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds from `(id, signal)` pairs.
    pub fn build(entries: impl IntoIterator<Item = (u64, K)>) -> Self {
        let mut map: HashMap<K, Vec<u64>> = HashMap::new();
        for (id, key) in entries {
            map.entry(key).or_default().push(id);
        }
        Self {
            map: RwLock::new(map),
        }
    }
}

impl<K: Eq + Hash + Clone + Send + Sync> SignalIndex for ExactIndex<K> {
    type Signal = K;

    fn insert(&self, id: u64, signal: &K) {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(signal.clone()).or_default().push(id);
    }

    fn remove(&self, id: u64, signal: &K) -> bool {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let Some(ids) = map.get_mut(signal) else {
            return false;
        };
        let Some(position) = ids.iter().position(|&i| i == id) else {
            return false;
        };
        ids.swap_remove(position);
        if ids.is_empty() {
            map.remove(signal);
        }
        true
    }

    fn search(&self, signal: &K, _max_distance: u32) -> Vec<Hit> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let mut hits: Vec<Hit> = map
            .get(signal)
            .map(|ids| ids.iter().map(|&id| Hit { id, distance: 0 }).collect())
            .unwrap_or_default();
        hits.sort_unstable();
        hits
    }

    fn len(&self) -> usize {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_signal::Md5;

    #[test]
    fn exact_lookups_insert_and_remove() {
        let a: Md5 = "900150983cd24fb0d6963f7d28e17f72".parse().unwrap();
        let b: Md5 = "d41d8cd98f00b204e9800998ecf8427e".parse().unwrap();
        let index = ExactIndex::build([(1, a), (2, a), (3, b)]);
        assert_eq!(
            index.search(&a, 0),
            [Hit { id: 1, distance: 0 }, Hit { id: 2, distance: 0 }]
        );
        assert_eq!(index.len(), 3);
        assert!(index.remove(1, &a));
        assert!(!index.remove(1, &a));
        assert!(!index.remove(3, &a));
        index.insert(4, &b);
        assert_eq!(
            index
                .search(&b, 31)
                .iter()
                .map(|h| h.id)
                .collect::<Vec<_>>(),
            [3, 4]
        );
        assert_eq!(index.len(), 3);
    }
}
