//! vPDQ: Meta's video fingerprint, a PDQ hash per (sampled) frame, and its
//! matching.
//!
//! A [`VpdqFrame`] is one hashed frame: its 0-based number in decoder
//! order, the PDQ quality, the hash and its timestamp (seconds, computed in
//! `f32` as `frame_number / fps`, as the reference does). Two text forms
//! exist and both are read and written here:
//!
//! - the reference tool's file ([`VpdqFrame::to_reference_line`]): one
//!   `frame_number,quality,pdq_hex,timestamp` line per frame, timestamp with
//!   exactly three decimals;
//! - HMA's signal ([`to_hma_signal`]): a JSON list of
//!   `"pdq_hex,quality,timestamp"` strings.
//!
//! # Matching
//!
//! [`match_frames`] follows python-threatexchange's `vpdq_brute_matcher`
//! (what HMA's vPDQ extension runs): frames below the quality threshold are
//! dropped, exact-duplicate hashes are kept once, and a unique frame hash
//! *matches* when some unique hash of the other video is within the
//! distance (≤ 31 by default). `query_pct` is the share of the query's
//! unique hashes that match, `compared_pct` the share of the compared
//! video's. A query *is* in a video when both shares reach their thresholds
//! (80 % and 0 % by default): a short clip found inside a long video has a
//! high `query_pct` and a low `compared_pct`.

use std::collections::BTreeSet;

use crate::{Error, PdqHash};

/// One hashed frame of a video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpdqFrame {
    /// 0-based index of the frame in decoder order.
    pub frame_number: u64,
    /// PDQ quality, 0–100.
    pub quality: u8,
    /// The frame's PDQ hash.
    pub hash: PdqHash,
    /// Seconds from the start: `frame_number / fps` in `f32`.
    pub timestamp: f32,
}

/// Frames below this PDQ quality are ignored when matching.
pub const DEFAULT_QUALITY_THRESHOLD: u8 = 50;

/// Largest frame-to-frame PDQ distance that counts as a match.
pub const DEFAULT_FRAME_DISTANCE: u32 = 31;

/// Share of the query's frames (percent) that must match by default.
pub const DEFAULT_QUERY_MATCH_PCT: f64 = 80.0;

impl VpdqFrame {
    /// The timestamp the reference writes for `frame_number` at `fps`.
    pub fn timestamp_of(frame_number: u64, fps: f32) -> f32 {
        frame_number as f32 / fps
    }

    /// The reference tool's line: `frame_number,quality,pdq_hex,timestamp`.
    pub fn to_reference_line(&self) -> String {
        format!(
            "{},{},{},{:.3}",
            self.frame_number, self.quality, self.hash, self.timestamp
        )
    }

    /// One item of HMA's signal form: `pdq_hex,quality,timestamp`.
    pub fn to_hma_item(&self) -> String {
        format!("{},{},{:.3}", self.hash, self.quality, self.timestamp)
    }

    /// Parses a reference line.
    pub fn parse_reference_line(line: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Vpdq(format!("vPDQ frame line {line:?}: {why}"));
        let mut parts = line.trim().split(',');
        let (Some(number), Some(quality), Some(hash), Some(timestamp), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad("expected frame_number,quality,pdq_hex,timestamp"));
        };
        Ok(Self {
            frame_number: number
                .parse()
                .map_err(|_| bad("frame number is not a whole number"))?,
            quality: parse_quality(quality).ok_or_else(|| bad("quality must be 0 to 100"))?,
            hash: hash.parse().map_err(|e| bad(&format!("{e}")))?,
            timestamp: parse_timestamp(timestamp).ok_or_else(|| bad("bad timestamp"))?,
        })
    }
}

fn parse_quality(text: &str) -> Option<u8> {
    text.trim().parse().ok().filter(|q| *q <= 100)
}

fn parse_timestamp(text: &str) -> Option<f32> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
}

/// Parses a whole reference hash file (one frame per line; blank lines
/// skipped).
pub fn parse_reference(text: &str) -> Result<Vec<VpdqFrame>, Error> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(VpdqFrame::parse_reference_line)
        .collect()
}

/// Writes frames as a reference hash file.
pub fn to_reference(frames: &[VpdqFrame]) -> String {
    frames
        .iter()
        .map(|f| f.to_reference_line() + "\n")
        .collect()
}

/// HMA's signal value: a JSON list of `"pdq_hex,quality,timestamp"`.
pub fn to_hma_signal(frames: &[VpdqFrame]) -> String {
    let items: Vec<String> = frames.iter().map(VpdqFrame::to_hma_item).collect();
    serde_json::Value::from(items).to_string()
}

/// Parses HMA's signal value. Frames are numbered in list order, as HMA
/// stores no frame numbers.
pub fn parse_hma_signal(text: &str) -> Result<Vec<VpdqFrame>, Error> {
    let bad = |why: String| Error::Vpdq(format!("vPDQ signal: {why}"));
    let items: Vec<String> = serde_json::from_str(text)
        .map_err(|e| bad(format!("expected a JSON list of strings ({e})")))?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let mut parts = item.split(',');
            let (Some(hash), Some(quality), Some(timestamp), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad(format!(
                    "item {index}: expected \"pdq_hex,quality,timestamp\""
                )));
            };
            Ok(VpdqFrame {
                frame_number: index as u64,
                quality: parse_quality(quality)
                    .ok_or_else(|| bad(format!("item {index}: quality must be 0 to 100")))?,
                hash: hash
                    .trim()
                    .parse()
                    .map_err(|e| bad(format!("item {index}: {e}")))?,
                timestamp: parse_timestamp(timestamp)
                    .ok_or_else(|| bad(format!("item {index}: bad timestamp")))?,
            })
        })
        .collect()
}

/// How much two videos share.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VpdqMatch {
    /// Percent of the query's unique usable frame hashes found in the other
    /// video.
    pub query_pct: f64,
    /// Percent of the other video's unique usable frame hashes found in the
    /// query.
    pub compared_pct: f64,
}

impl VpdqMatch {
    /// HMA's distance string for a vPDQ match: `"<query>%,<compared>%"`
    /// with two decimals.
    pub fn distance_text(&self) -> String {
        format!("{:.2}%,{:.2}%", self.query_pct, self.compared_pct)
    }
}

/// The unique hashes of frames of at least `quality`.
pub fn usable_hashes(frames: &[VpdqFrame], quality: u8) -> Vec<PdqHash> {
    let unique: BTreeSet<[u64; 4]> = frames
        .iter()
        .filter(|f| f.quality >= quality)
        .map(|f| f.hash.0)
        .collect();
    unique.into_iter().map(PdqHash).collect()
}

/// Compares two videos frame by frame (see the [module docs](self)).
pub fn match_frames(
    query: &[VpdqFrame],
    compared: &[VpdqFrame],
    max_distance: u32,
    quality: u8,
) -> VpdqMatch {
    let query = usable_hashes(query, quality);
    let compared = usable_hashes(compared, quality);
    let matched = |these: &[PdqHash], those: &[PdqHash]| {
        these
            .iter()
            .filter(|a| those.iter().any(|b| a.distance(b) <= max_distance))
            .count()
    };
    let pct = |count: usize, of: usize| {
        if of == 0 {
            0.0
        } else {
            count as f64 * 100.0 / of as f64
        }
    };
    VpdqMatch {
        query_pct: pct(matched(&query, &compared), query.len()),
        compared_pct: pct(matched(&compared, &query), compared.len()),
    }
}
