//! Text lookups: banked texts contained in the query, through the text
//! index, at the lookup's containment threshold.

use std::sync::PoisonError;

use vigil_signal::text::DEFAULT_CONTAINMENT;
use vigil_signal::{Closeness, SignalType, TextSketch};

use crate::{Engine, Error, LookupOptions, Match};

impl Engine {
    /// Every banked text of which at least the lookup's containment
    /// threshold is found in the sketch `query`, most contained first.
    pub(crate) fn lookup_text(
        &self,
        query: &TextSketch,
        options: &LookupOptions,
    ) -> Result<Vec<Match>, Error> {
        let threshold = options.text_containment.unwrap_or(DEFAULT_CONTAINMENT);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(Error::Invalid(format!(
                "the text containment threshold must be between 0 and 1, got {threshold}"
            )));
        }
        let hits = self
            .indexes
            .text
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .search(query, threshold);
        let hits = hits
            .into_iter()
            .map(|hit| {
                let closeness = Closeness::Text {
                    containment: hit.found.containment,
                    similarity: hit.found.similarity,
                };
                (hit.id as i64, closeness)
            })
            .collect();
        Ok(self.filter_hits(SignalType::Text, hits, options))
    }
}
