//! Query-side defences: lookups that catch copies an adversary edited in
//! ways PDQ itself does not survive — rotated or mirrored, framed by
//! borders or letterbox bars, cropped, or with a logo or caption over a
//! corner. `vigil_media::query_variants` hashes the query's variants and
//! `vigil_media::bank_variants` the bank's (stored as the `pdq_variants`
//! signal); this module finds the candidates through the indexes and lets
//! `vigil_media::nearest_pairing` judge each, so a lookup and
//! `vigil eval images` apply one rule.

use std::collections::{BTreeSet, HashMap};
use std::sync::PoisonError;

use vigil_index::Code256;
use vigil_media::{PairedMatch, Pairing, Variant, VariantHash, nearest_pairing};
use vigil_signal::{Closeness, PdqHash, SignalType};

use crate::indexes::VARIANT_BITS;
use crate::{Engine, Error, LookupOptions, Match};

/// A match found through the defences.
#[derive(Debug, Clone, PartialEq)]
pub struct DefendedMatch {
    /// The match (its distance is the pair's).
    pub found: Match,
    /// The query's variant that matched: `orig`, `rot90`, `trimmed`,
    /// `br60`, …
    pub query_variant: String,
    /// The banked variant it matched: `orig` for the banked PDQ itself,
    /// else a crop (`c80`, `tl90`, …), `trimmed` or a corner region.
    pub banked_variant: String,
}

impl Engine {
    /// Defended PDQ lookup: `query` holds the query's variants from
    /// `vigil_media::query_variants` (its plain hash, `orig`, first). Each
    /// whole-image variant is looked up against banked PDQ hashes and the
    /// banks' crops and trimmed copies; corner regions against the same
    /// regions of banked images, at least two of which must agree. Each
    /// content keeps its nearest qualifying pair; plain matches come out
    /// as `orig`/`orig`. Costs one or two index probes per variant.
    pub fn lookup_defended(
        &self,
        query: &[VariantHash],
        options: &LookupOptions,
    ) -> Result<Vec<DefendedMatch>, Error> {
        let radius = options
            .max_distance
            .unwrap_or(PdqHash::DEFAULT_MATCH_DISTANCE);
        let mut candidates = BTreeSet::new();
        for variant in query {
            let code = Code256::from(variant.pdq.hash);
            if variant.variant.pairing() == Pairing::Whole {
                candidates.extend(
                    self.indexes
                        .pdq
                        .search(&code, radius)
                        .into_iter()
                        .map(|hit| hit.id as i64),
                );
            }
            candidates.extend(
                self.indexes
                    .pdq_variants
                    .search(&code, radius)
                    .into_iter()
                    .map(|hit| (hit.id >> VARIANT_BITS) as i64),
            );
        }
        let judged: HashMap<i64, PairedMatch> = {
            let entries = self
                .indexes
                .entries
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            candidates
                .into_iter()
                .filter_map(|id| {
                    let entry = entries.get(&id)?;
                    let plain = entry.pdq.map(PdqHash::from);
                    let banked = entry.variants.as_deref().unwrap_or_default();
                    nearest_pairing(query, plain.as_ref(), banked, radius).map(|m| (id, m))
                })
                .collect()
        };
        let hits = judged
            .iter()
            .map(|(id, m)| (*id, Closeness::Bits(m.distance)))
            .collect();
        let mut matches: Vec<DefendedMatch> = self
            .filter_hits(SignalType::Pdq, hits, options)
            .into_iter()
            .map(|found| {
                let pair = judged.get(&found.content_id);
                let name = |v: Option<Variant>| v.unwrap_or(Variant::Original).name();
                DefendedMatch {
                    query_variant: name(pair.map(|p| p.query)),
                    banked_variant: name(pair.map(|p| p.banked)),
                    found,
                }
            })
            .collect();
        matches.sort_by_key(|m| (m.found.distance(), m.found.content_id));
        Ok(matches)
    }
}
