//! vPDQ lookups: which banked videos a query video (or clip) is in.
//!
//! Comparing a query with every banked video costs `frames × frames ×
//! videos`; instead every usable frame hash of every video sits in one
//! Hamming index (see `indexes`). Radius searches for a sample of the
//! query's frames find every video that can reach the threshold (see
//! `lookup_video` for why the sample cannot miss one); only those are
//! compared frame by frame, for exact `query_pct` and `compared_pct`.

use std::sync::PoisonError;

use rayon::prelude::*;
use vigil_index::Code256;
use vigil_signal::vpdq::{self, DEFAULT_FRAME_DISTANCE, DEFAULT_QUALITY_THRESHOLD};
use vigil_signal::{Closeness, PdqHash, SignalType, VpdqFrame, VpdqMatch};

use crate::indexes::FRAME_BITS;
use crate::{Engine, LookupOptions, Match};

impl Engine {
    /// Looks up a video's frame hashes: videos holding at least
    /// [`LookupOptions::vpdq_query_pct`] of the query's frames, best first.
    pub(crate) fn lookup_video(&self, frames: &[VpdqFrame], options: &LookupOptions) -> Vec<Match> {
        let query = vpdq::usable_hashes(frames, DEFAULT_QUALITY_THRESHOLD);
        if query.is_empty() {
            return Vec::new();
        }
        let radius = options.max_distance.unwrap_or(DEFAULT_FRAME_DISTANCE);
        let wanted_query = options
            .vpdq_query_pct
            .unwrap_or(vpdq::DEFAULT_QUERY_MATCH_PCT);
        let wanted_compared = options.vpdq_compared_pct.unwrap_or(0.0);

        // Candidates: the videos holding one of a sample of the query's
        // frames. A video holding at least `wanted_query` % of the n frames
        // misses at most ⌊(1 − wanted/100)·n⌋ of them, so any sample one
        // larger contains a frame it holds: no video that can match is
        // missed, and at the default 80 % only a fifth of the frames are
        // searched. Percentages are then computed exactly, frame by frame.
        let n = query.len();
        let missable = ((1.0 - (wanted_query / 100.0).clamp(0.0, 1.0)) * n as f64 + 1e-9).floor();
        let sample_size = (missable as usize + 1).min(n);
        let sample: Vec<PdqHash> = (0..sample_size)
            .map(|i| query[i * n / sample_size])
            .collect();
        let mut candidates: Vec<i64> = sample
            .par_iter()
            .flat_map_iter(|hash| {
                self.indexes
                    .vpdq_frames
                    .search(&Code256::from(*hash), radius)
                    .into_iter()
                    .map(|hit| (hit.id >> FRAME_BITS) as i64)
            })
            .collect();
        candidates.sort_unstable();
        candidates.dedup();

        let entries = self
            .indexes
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let banked: Vec<(i64, std::sync::Arc<[PdqHash]>)> = candidates
            .into_iter()
            .filter_map(|id| {
                entries
                    .get(&id)
                    .and_then(|e| e.vpdq.clone())
                    .map(|v| (id, v))
            })
            .collect();
        drop(entries);
        let measured: Vec<(i64, f64, f64)> = banked
            .par_iter()
            .map(|(id, frames)| {
                let query_pct = covered(&query, frames, radius) as f64 * 100.0 / n as f64;
                let compared_pct =
                    covered(frames, &query, radius) as f64 * 100.0 / frames.len() as f64;
                (*id, query_pct, compared_pct)
            })
            .collect();
        let mut hits = Vec::new();
        for (content_id, query_pct, compared_pct) in measured {
            if query_pct + 1e-9 < wanted_query || compared_pct + 1e-9 < wanted_compared {
                continue;
            }
            let found = VpdqMatch {
                query_pct,
                compared_pct,
            };
            hits.push((content_id, Closeness::Frames(found)));
        }
        hits.sort_by_key(|(id, closeness)| (closeness.distance(), *id));
        self.filter_hits(SignalType::Vpdq, hits, options)
    }
}

/// How many of `these` are within `radius` of one of `those`.
fn covered(these: &[PdqHash], those: &[PdqHash], radius: u32) -> usize {
    these
        .iter()
        .filter(|a| those.iter().any(|b| a.distance(b) <= radius))
        .count()
}
