//! [`TextSketch`]: a sample of a text's shingles that estimates how much of
//! one text reappears in another.
//!
//! # The fingerprint
//!
//! The text is [normalised](super::normalize) and cut into *shingles*: every
//! run of [`SHINGLE_WORDS`] consecutive words (a text of fewer words is one
//! shingle). Each shingle's value is the upper 32 bits of the XXH3-64 hash
//! (seed 0) of its UTF-8 bytes, its words joined by single spaces. The sketch
//! keeps the number of distinct values and the smallest `k` of them — a
//! *bottom-k* sample, uniform over the text's shingles because the hash is.
//!
//! # Why a bottom-k sample and containment, not MinHash resemblance
//!
//! MinHash estimates resemblance (Jaccard similarity), which falls with the
//! *length* of the other text: a statement pasted into a post three times
//! its length has resemblance 0.25 to the post, an excerpt of half a
//! statement 0.5, and both drown in the noise of heavily edited copies. The
//! question asked of a bank is different — *how much of this known text is
//! in the query?* — and a uniform sample answers it directly: look up each
//! sampled shingle of the banked text in the query's shingles; the share
//! found estimates the containment, whatever the query's length. Queries
//! computed from text keep (nearly) all their shingles ([`QUERY_SAMPLE`]),
//! banked sketches a small sample ([`BANK_SAMPLE`]), and a shingle value is
//! a ready-made key for an inverted index, so lookups touch only texts that
//! share a shingle with the query. `vigil bench text` measures the choice
//! against MinHash's best case (exact resemblance).
//!
//! # Text form
//!
//! `v1.<shingles>.<sample>`: the version, the number of distinct shingle
//! values in decimal, and the sample as big-endian 32-bit values in
//! ascending order, base64url-encoded without padding. A 64-value sample is
//! 349 characters or fewer.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::normalize;
use crate::Error;

/// Words per shingle. Three words make a phrase rare enough that unrelated
/// texts share few shingles, and short enough that an edited word spoils only
/// three of them.
pub const SHINGLE_WORDS: usize = 3;

/// Sample size of sketches that are banked and shared: enough for a
/// containment estimate within ±0.06 (one standard deviation at 0.5), small
/// enough for a million texts in a few hundred megabytes of index.
pub const BANK_SAMPLE: usize = 64;

/// Sample size of sketches computed to query with, and the largest sample a
/// text form may carry: every shingle of a text up to 65,536 distinct
/// shingles, so containment is estimated from the banked sample alone.
pub const QUERY_SAMPLE: usize = 1 << 16;

/// The containment a match needs by default: a quarter of a banked text's
/// shingles. `vigil bench text` measures recall and false matches at this
/// threshold; every lookup can set its own.
pub const DEFAULT_CONTAINMENT: f64 = 0.25;

/// Sampled shingles a match needs in common at least (or all of a banked
/// text that has fewer): one or two shared phrases — a greeting, a quoted
/// verse — are not evidence that a text was copied, whatever share of a
/// short text they are.
pub const MIN_FOUND: u32 = 3;

/// A text's shingle count and a bottom-k sample of its shingle values (see
/// [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextSketch {
    shingles: u32,
    /// Distinct values, ascending.
    sample: Vec<u32>,
}

/// How much of a banked text was found in a query, from
/// [`TextSketch::containment_in`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextContainment {
    /// Estimated share of the banked text's shingles present in the query,
    /// 0–1: 1 for a verbatim copy, also when pasted into a longer text.
    pub containment: f64,
    /// Estimated resemblance (Jaccard similarity) of the two shingle sets,
    /// 0–1: low when the texts differ in length even if one holds the other.
    pub similarity: f64,
    /// Sampled shingles of the banked text that the query's sample could
    /// show (the estimate's sample size).
    pub sampled: u32,
    /// How many of those the query has.
    pub found: u32,
}

impl TextSketch {
    /// The sketch of `text` with a sample of at most `sample_size` values
    /// (clamped to 1..=[`QUERY_SAMPLE`]). Text with no letters or digits gives
    /// an empty sketch.
    pub fn of_text(text: &str, sample_size: usize) -> Self {
        Self::of_normalized(&normalize(text), sample_size)
    }

    /// As [`of_text`](Self::of_text) for text already put through
    /// [`normalize`] (for callers that also need the normalised words);
    /// other input gives a sketch that matches nothing normalised.
    pub fn of_normalized(normalized: &str, sample_size: usize) -> Self {
        let words = word_spans(normalized);
        let mut values: Vec<u32> = match words.len() {
            0 => Vec::new(),
            n => {
                let width = SHINGLE_WORDS.min(n);
                words
                    .windows(width)
                    .map(|w| shingle_value(&normalized[w[0].0..w[width - 1].1]))
                    .collect()
            }
        };
        values.sort_unstable();
        values.dedup();
        let shingles = u32::try_from(values.len()).unwrap_or(u32::MAX);
        values.truncate(sample_size.clamp(1, QUERY_SAMPLE));
        Self {
            shingles,
            sample: values,
        }
    }

    /// The same sketch with its sample cut to `sample_size` values: equal to
    /// sketching the text again with that size, so one pass can give both a
    /// query sketch and a bank sketch.
    pub fn truncated(&self, sample_size: usize) -> Self {
        let mut sample = self.sample.clone();
        sample.truncate(sample_size.clamp(1, QUERY_SAMPLE));
        Self {
            shingles: self.shingles,
            sample,
        }
    }

    /// Number of distinct shingle values in the text.
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// The sampled values, ascending.
    pub fn sample(&self) -> &[u32] {
        &self.sample
    }

    /// Whether the text had no words.
    pub fn is_empty(&self) -> bool {
        self.sample.is_empty()
    }

    /// Whether the sample holds every shingle of the text.
    pub fn is_complete(&self) -> bool {
        self.sample.len() as u64 == u64::from(self.shingles)
    }

    /// The largest value this sample would hold if the text had it: every
    /// value of the text up to here is in the sample.
    pub fn sample_limit(&self) -> u32 {
        match self.sample.last() {
            Some(&last) if !self.is_complete() => last,
            _ => u32::MAX,
        }
    }

    /// How much of this (banked) text is in `query`, or `None` when the
    /// samples give no evidence either way (an empty sketch, or a query
    /// sample that stops before this one's first value).
    ///
    /// Of this sample's values, those the query's sample could show (up to
    /// its [`sample_limit`](Self::sample_limit)) are looked up in it; the
    /// share found is the containment estimate — exact when both sketches
    /// are complete.
    pub fn containment_in(&self, query: &TextSketch) -> Option<TextContainment> {
        let limit = query.sample_limit();
        let mut sampled = 0u32;
        let mut found = 0u32;
        let mut rest = query.sample.as_slice();
        for &value in self.sample.iter().take_while(|&&v| v <= limit) {
            sampled += 1;
            let skip = rest.partition_point(|&q| q < value);
            rest = &rest[skip..];
            if rest.first() == Some(&value) {
                found += 1;
            }
        }
        (sampled > 0)
            .then(|| TextContainment::estimate(self.shingles, query.shingles, sampled, found))
    }
}

impl TextContainment {
    /// Whether this is a match at `min_containment`: at least that share of
    /// the banked text found, from at least [`MIN_FOUND`] sampled shingles
    /// (or all of a shorter sample).
    pub fn is_match(&self, min_containment: f64) -> bool {
        self.containment >= min_containment && self.found >= MIN_FOUND.min(self.sampled).max(1)
    }

    /// The estimate from `found` of `sampled` values of a banked text of
    /// `banked_shingles` shingles, in a query of `query_shingles` (for
    /// indexes that count `found` from their postings).
    pub fn estimate(banked_shingles: u32, query_shingles: u32, sampled: u32, found: u32) -> Self {
        let containment = if sampled == 0 {
            0.0
        } else {
            f64::from(found.min(sampled)) / f64::from(sampled)
        };
        let shared = containment * f64::from(banked_shingles);
        let union = f64::from(banked_shingles) + f64::from(query_shingles) - shared;
        let similarity = if union > 0.0 {
            (shared / union).min(1.0)
        } else {
            0.0
        };
        Self {
            containment,
            similarity,
            sampled,
            found,
        }
    }
}

/// The value of one shingle (see the [module docs](self)).
fn shingle_value(shingle: &str) -> u32 {
    (xxhash_rust::xxh3::xxh3_64(shingle.as_bytes()) >> 32) as u32
}

/// Byte ranges of the space-separated words of a normalised text.
fn word_spans(normalized: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, byte) in normalized.bytes().enumerate() {
        if byte == b' ' {
            if i > start {
                spans.push((start, i));
            }
            start = i + 1;
        }
    }
    if normalized.len() > start {
        spans.push((start, normalized.len()));
    }
    spans
}

impl fmt::Display for TextSketch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: Vec<u8> = self.sample.iter().flat_map(|v| v.to_be_bytes()).collect();
        write!(f, "v1.{}.{}", self.shingles, URL_SAFE_NO_PAD.encode(bytes))
    }
}

impl FromStr for TextSketch {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::TextSketch(why.to_owned());
        let mut parts = text.trim().splitn(3, '.');
        if parts.next() != Some("v1") {
            return Err(bad("expected the form v1.<shingles>.<sample>"));
        }
        let shingles: u32 = parts
            .next()
            .and_then(|count| count.parse().ok())
            .ok_or_else(|| bad("the shingle count is not a number"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(parts.next().unwrap_or(""))
            .map_err(|e| Error::TextSketch(format!("the sample is not base64url: {e}")))?;
        if bytes.is_empty() || bytes.len() % 4 != 0 {
            return Err(bad("the sample must hold one or more 32-bit values"));
        }
        let sample: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if sample.len() > QUERY_SAMPLE {
            return Err(Error::TextSketch(format!(
                "the sample holds {} values, more than {QUERY_SAMPLE}",
                sample.len()
            )));
        }
        if sample.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("the sample values must be ascending and distinct"));
        }
        if (sample.len() as u64) > u64::from(shingles) {
            return Err(bad(
                "the sample holds more values than the text has shingles",
            ));
        }
        Ok(Self { shingles, sample })
    }
}

#[cfg(test)]
mod tests;
