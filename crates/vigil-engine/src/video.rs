//! vPDQ lookups: which banked videos a query video (or clip) is in.
//!
//! Comparing a query with every banked video costs `frames × frames ×
//! videos`; instead every usable frame hash of every video sits in one
//! Hamming index (see `indexes`). One radius search per unique query frame
//! gives, for each video, exactly how many query frames it contains — the
//! numerator of `query_pct` — so only videos that can reach the threshold
//! are compared frame by frame, for `compared_pct`.

use std::collections::HashMap;
use std::sync::PoisonError;

use vigil_index::Code256;
use vigil_signal::vpdq::{self, DEFAULT_FRAME_DISTANCE, DEFAULT_QUALITY_THRESHOLD};
use vigil_signal::{PdqHash, VpdqMatch};

use crate::indexes::FRAME_BITS;
use crate::{Engine, Error, LookupOptions, Match};

impl Engine {
    /// Looks up a vPDQ signal (HMA's form): videos holding at least
    /// [`LookupOptions::vpdq_query_pct`] of the query's frames, best first.
    pub(crate) fn lookup_video(
        &self,
        value: &str,
        options: &LookupOptions,
    ) -> Result<Vec<Match>, Error> {
        let frames = vpdq::parse_hma_signal(value)
            .map_err(|e| Error::Invalid(format!("invalid vpdq signal: {e}")))?;
        let query = vpdq::usable_hashes(&frames, DEFAULT_QUALITY_THRESHOLD);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let radius = options.max_distance.unwrap_or(DEFAULT_FRAME_DISTANCE);
        let wanted_query = options
            .vpdq_query_pct
            .unwrap_or(vpdq::DEFAULT_QUERY_MATCH_PCT);
        let wanted_compared = options.vpdq_compared_pct.unwrap_or(0.0);

        // For each video, how many unique query frames it contains.
        let mut found_in: HashMap<i64, usize> = HashMap::new();
        for hash in &query {
            let mut videos: Vec<i64> = self
                .indexes
                .vpdq_frames
                .search(&Code256::from(*hash), radius)
                .iter()
                .map(|hit| (hit.id >> FRAME_BITS) as i64)
                .collect();
            videos.sort_unstable();
            videos.dedup();
            for video in videos {
                *found_in.entry(video).or_default() += 1;
            }
        }
        let needed = wanted_query * query.len() as f64 / 100.0;
        let candidates: Vec<(i64, usize)> = found_in
            .into_iter()
            .filter(|(_, count)| *count as f64 >= needed - 1e-9)
            .collect();

        let entries = self
            .indexes
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut hits = Vec::new();
        for (content_id, count) in candidates {
            let Some(banked) = entries.get(&content_id).and_then(|e| e.vpdq.clone()) else {
                continue;
            };
            let query_pct = count as f64 * 100.0 / query.len() as f64;
            let compared_pct =
                covered(&banked, &query, radius) as f64 * 100.0 / banked.len() as f64;
            if compared_pct + 1e-9 < wanted_compared {
                continue;
            }
            let found = VpdqMatch {
                query_pct,
                compared_pct,
            };
            hits.push((content_id, (100.0 - query_pct).round() as u32, Some(found)));
        }
        drop(entries);
        hits.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok(self.filter_hits("vpdq", hits, options))
    }
}

/// How many of `these` are within `radius` of one of `those`.
fn covered(these: &[PdqHash], those: &[PdqHash], radius: u32) -> usize {
    these
        .iter()
        .filter(|a| those.iter().any(|b| a.distance(b) <= radius))
        .count()
}
