//! Text lookups: banked texts contained in the query, through the text
//! index, at the lookup's containment threshold.

use std::sync::PoisonError;

use vigil_signal::TextSketch;
use vigil_signal::text::DEFAULT_CONTAINMENT;

use crate::{Engine, Error, LookupOptions, Match, MatchDetail, TextMatch};

impl Engine {
    /// Every banked text of which at least the lookup's containment
    /// threshold is found in the `text` signal `value`, most contained
    /// first.
    pub(crate) fn lookup_text(
        &self,
        value: &str,
        options: &LookupOptions,
    ) -> Result<Vec<Match>, Error> {
        let query: TextSketch = value
            .parse()
            .map_err(|e| Error::Invalid(format!("invalid text signal: {e}")))?;
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
            .search(&query, threshold);
        let hits = hits
            .into_iter()
            .map(|hit| {
                let text = TextMatch {
                    containment: hit.found.containment,
                    similarity: hit.found.similarity,
                };
                let distance = ((1.0 - text.containment) * 100.0).round() as u32;
                (hit.id as i64, distance, Some(MatchDetail::Text(text)))
            })
            .collect();
        Ok(self.filter_hits("text", hits, options))
    }
}
