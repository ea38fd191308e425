//! Query-side defences: lookups that catch copies an adversary edited in
//! ways the signal itself does not survive. Each is opt-in per lookup and
//! measured by `vigil eval images` (recall gained, false positives and time
//! paid).

use vigil_index::Code256;
use vigil_signal::{Dihedral, PdqHash};

use crate::{Engine, Error, LookupOptions, Match};

/// Names of the dihedral variants, in [`Dihedral::to_array`] order, as
/// they appear in matches (`"variant": "rot90"`).
pub const DIHEDRAL_NAMES: [&str; 8] = [
    "orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm",
];

/// A match found through a variant of the query.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantMatch {
    /// The match (its distance is the variant's).
    pub found: Match,
    /// Which variant matched, from [`DIHEDRAL_NAMES`].
    pub variant: &'static str,
}

impl Engine {
    /// Dihedral lookup: the PDQ of each rotation and mirror of the query
    /// (all eight come from one DCT, see `PdqHasher::hash_dihedral`) is
    /// looked up, and each content keeps its nearest variant. Catches copies
    /// rotated by 90°, 180° or 270° or mirrored, which plain PDQ misses
    /// entirely; costs eight index probes instead of one.
    pub fn lookup_dihedral(
        &self,
        dihedral: &Dihedral,
        options: &LookupOptions,
    ) -> Result<Vec<VariantMatch>, Error> {
        let radius = options
            .max_distance
            .unwrap_or(PdqHash::DEFAULT_MATCH_DISTANCE);
        let mut nearest: std::collections::BTreeMap<i64, (u32, usize)> =
            std::collections::BTreeMap::new();
        for (variant, hash) in dihedral.to_array().iter().enumerate() {
            for hit in self.indexes.pdq.search(&Code256::from(*hash), radius) {
                let entry = nearest
                    .entry(hit.id as i64)
                    .or_insert((hit.distance, variant));
                if hit.distance < entry.0 {
                    *entry = (hit.distance, variant);
                }
            }
        }
        let hits = nearest
            .iter()
            .map(|(id, (distance, _))| (*id, *distance, None))
            .collect();
        let mut matches: Vec<VariantMatch> = self
            .filter_hits("pdq", hits, options)
            .into_iter()
            .map(|found| VariantMatch {
                variant: DIHEDRAL_NAMES[nearest.get(&found.content_id).map_or(0, |n| n.1)],
                found,
            })
            .collect();
        matches.sort_by_key(|m| (m.found.distance, m.found.content_id));
        Ok(matches)
    }
}
