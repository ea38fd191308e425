//! The signal types as one closed set: their names, their parsed values
//! and how each is matched.
//!
//! Every other crate names signal types through [`SignalType`] and carries
//! signals as [`SignalValue`]s, parsed once where text enters (a request, a
//! file, a database row). Adding a signal type starts here: a variant in
//! both enums, its text form, and its [`MatchRule`].

use std::fmt;
use std::str::FromStr;

use crate::variants::VariantHash;
use crate::vpdq::{self, VpdqFrame, VpdqMatch};
use crate::{Error, Md5, PdqHash, Sha256, TextSketch};

/// A kind of signal, named as HMA names it (`pdq`, `vpdq`, `md5`, …).
///
/// The variants are declared in the alphabetical order of their names, so
/// ordered maps keyed by type list signals as they always have (`md5`
/// before `pdq` before `sha256`), in files, JSON and lookups alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignalType {
    /// MD5 of the media bytes.
    Md5,
    /// Meta's 256-bit perceptual image hash.
    Pdq,
    /// Vigil's own: PDQ hashes of a banked photo's trimmed, cropped and
    /// corner regions, for the lookup defences. Never on HMA's routes.
    PdqVariants,
    /// SHA-256 of the media bytes.
    Sha256,
    /// Vigil's near-duplicate text sketch.
    Text,
    /// MD5 of a video file, HMA's exact video signal.
    VideoMd5,
    /// Meta's video fingerprint: one PDQ hash per sampled frame.
    Vpdq,
}

impl SignalType {
    /// Every signal type, in name order.
    pub const ALL: [SignalType; 7] = [
        SignalType::Md5,
        SignalType::Pdq,
        SignalType::PdqVariants,
        SignalType::Sha256,
        SignalType::Text,
        SignalType::VideoMd5,
        SignalType::Vpdq,
    ];

    /// The type's name, as stored and as HMA's JSON spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            SignalType::Md5 => "md5",
            SignalType::Pdq => "pdq",
            SignalType::PdqVariants => "pdq_variants",
            SignalType::Sha256 => "sha256",
            SignalType::Text => "text",
            SignalType::VideoMd5 => "video_md5",
            SignalType::Vpdq => "vpdq",
        }
    }

    /// Whether signals of this type match only when equal (digests).
    pub const fn is_exact(self) -> bool {
        matches!(
            self,
            SignalType::Md5 | SignalType::Sha256 | SignalType::VideoMd5
        )
    }

    /// Whether HMA's routes show and accept this type. `pdq_variants` is
    /// Vigil's own and would confuse an HMA client that lists types.
    pub const fn on_hma_routes(self) -> bool {
        !matches!(self, SignalType::PdqVariants)
    }

    /// Whether a query can be looked up by this type. `pdq_variants` is
    /// only ever banked: a query's regions are searched as `pdq`.
    pub const fn is_queryable(self) -> bool {
        !matches!(self, SignalType::PdqVariants)
    }

    /// How signals of this type match by default.
    pub const fn default_rule(self) -> MatchRule {
        match self {
            SignalType::Md5 | SignalType::Sha256 | SignalType::VideoMd5 => MatchRule::Equal,
            SignalType::Pdq | SignalType::PdqVariants => MatchRule::Hamming {
                max_distance: PdqHash::DEFAULT_MATCH_DISTANCE,
            },
            SignalType::Vpdq => MatchRule::Frames {
                query_pct: vpdq::DEFAULT_QUERY_MATCH_PCT,
                compared_pct: 0.0,
                frame_distance: vpdq::DEFAULT_FRAME_DISTANCE,
            },
            SignalType::Text => MatchRule::Containment {
                min_containment: crate::text::DEFAULT_CONTAINMENT,
            },
        }
    }
}

impl fmt::Display for SignalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignalType {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        SignalType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| Error::UnknownSignalType(name.chars().take(80).collect()))
    }
}

impl serde::Serialize for SignalType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for SignalType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// How two signals of one type are compared, with the thresholds each
/// type's reference defines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatchRule {
    /// Digests: equal or not.
    Equal,
    /// PDQ: Hamming distance at most `max_distance` bits (31 by default,
    /// the threshold of Meta's PDQ paper and of HMA).
    Hamming {
        /// Largest distance that matches.
        max_distance: u32,
    },
    /// vPDQ: the share of the query's frames found in the video (and of
    /// the video's frames found in the query) reaches these percents, a
    /// frame being found within `frame_distance` bits (HMA's vPDQ: 80 %,
    /// 0 %, 31 bits).
    Frames {
        /// Least percent of the query's frames found.
        query_pct: f64,
        /// Least percent of the compared video's frames found.
        compared_pct: f64,
        /// Largest PDQ distance between two frames that match.
        frame_distance: u32,
    },
    /// Text: the share of the banked text found in the query reaches
    /// `min_containment` (0–1; see [`crate::text::DEFAULT_CONTAINMENT`]).
    Containment {
        /// Least share found.
        min_containment: f64,
    },
}

impl MatchRule {
    /// Whether a pair this close matches under the rule. A closeness of
    /// another type's measure never does.
    pub fn accepts(&self, closeness: &Closeness) -> bool {
        // Shares are computed as ratios of counts: allow for rounding.
        const SLACK: f64 = 1e-9;
        match (self, closeness) {
            (MatchRule::Equal, Closeness::Exact) => true,
            (MatchRule::Hamming { max_distance }, Closeness::Bits(bits)) => bits <= max_distance,
            (
                MatchRule::Frames {
                    query_pct,
                    compared_pct,
                    ..
                },
                Closeness::Frames(found),
            ) => {
                found.query_pct + SLACK >= *query_pct && found.compared_pct + SLACK >= *compared_pct
            }
            (MatchRule::Containment { min_containment }, Closeness::Text { containment, .. }) => {
                containment + SLACK >= *min_containment
            }
            _ => false,
        }
    }
}

/// How close a match is, in the measure of its signal type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Closeness {
    /// Equal digests.
    Exact,
    /// PDQ: differing bits out of 256.
    Bits(u32),
    /// vPDQ: how much of each video is found in the other.
    Frames(VpdqMatch),
    /// Text: how much of the banked text is found in the query.
    Text {
        /// Estimated share of the banked text's shingles in the query, 0–1.
        containment: f64,
        /// Estimated resemblance (Jaccard similarity) of the two texts, 0–1.
        similarity: f64,
    },
}

impl Closeness {
    /// One number, smaller is closer, as Vigil's JSON has always reported
    /// it: the bits for PDQ, 0 for digests, and for vPDQ and text the
    /// percent of the query's frames (of the banked text) *not* found.
    pub fn distance(&self) -> u32 {
        match self {
            Closeness::Exact => 0,
            Closeness::Bits(bits) => *bits,
            Closeness::Frames(found) => (100.0 - found.query_pct).round().max(0.0) as u32,
            Closeness::Text { containment, .. } => ((1.0 - containment) * 100.0).round() as u32,
        }
    }
}

/// A parsed signal: its type and its value.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalValue {
    /// An MD5 digest.
    Md5(Md5),
    /// A PDQ hash.
    Pdq(PdqHash),
    /// A banked photo's region hashes (see [`crate::variants`]).
    PdqVariants(Vec<VariantHash>),
    /// A SHA-256 digest.
    Sha256(Sha256),
    /// A text sketch.
    Text(TextSketch),
    /// The MD5 digest of a video file.
    VideoMd5(Md5),
    /// A video's frame hashes, at least one.
    Vpdq(Vec<VpdqFrame>),
}

/// Most region hashes a `pdq_variants` signal may hold: Vigil banks 11 per
/// photo, so a long list is not from Vigil.
pub const MAX_PDQ_VARIANTS: usize = 64;

impl SignalValue {
    /// Parses the text form of a signal of `signal_type` (surrounding
    /// spaces ignored). Digests accept either case; the value's
    /// [`Display`](fmt::Display) is the canonical form stored and shown.
    pub fn parse(signal_type: SignalType, text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let because = |reason: String| Error::InvalidSignal {
            signal_type,
            reason,
        };
        let invalid = |error: Error| because(error.to_string());
        Ok(match signal_type {
            SignalType::Md5 => SignalValue::Md5(text.parse().map_err(invalid)?),
            SignalType::VideoMd5 => SignalValue::VideoMd5(text.parse().map_err(invalid)?),
            SignalType::Sha256 => SignalValue::Sha256(text.parse().map_err(invalid)?),
            SignalType::Pdq => SignalValue::Pdq(text.parse().map_err(invalid)?),
            SignalType::Text => SignalValue::Text(text.parse().map_err(invalid)?),
            // HMA's form: a JSON list of "pdq_hex,quality,timestamp"
            // strings. An empty list parses (a lookup of it finds nothing);
            // banks refuse it.
            SignalType::Vpdq => SignalValue::Vpdq(vpdq::parse_hma_signal(text).map_err(invalid)?),
            SignalType::PdqVariants => {
                let variants = VariantHash::parse_list(text).ok_or_else(|| {
                    because(
                        "expected name:pdq_hex:quality items joined by commas, with names \
                         such as orig, rot90, trimmed, c80, tl90, br60"
                            .to_owned(),
                    )
                })?;
                if variants.len() > MAX_PDQ_VARIANTS {
                    return Err(because(format!(
                        "{} variants, at most {MAX_PDQ_VARIANTS}",
                        variants.len()
                    )));
                }
                SignalValue::PdqVariants(variants)
            }
        })
    }

    /// The value's type.
    pub fn signal_type(&self) -> SignalType {
        match self {
            SignalValue::Md5(_) => SignalType::Md5,
            SignalValue::Pdq(_) => SignalType::Pdq,
            SignalValue::PdqVariants(_) => SignalType::PdqVariants,
            SignalValue::Sha256(_) => SignalType::Sha256,
            SignalValue::Text(_) => SignalType::Text,
            SignalValue::VideoMd5(_) => SignalType::VideoMd5,
            SignalValue::Vpdq(_) => SignalType::Vpdq,
        }
    }
}

impl fmt::Display for SignalValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalValue::Md5(digest) | SignalValue::VideoMd5(digest) => digest.fmt(f),
            SignalValue::Sha256(digest) => digest.fmt(f),
            SignalValue::Pdq(hash) => hash.fmt(f),
            SignalValue::Text(sketch) => sketch.fmt(f),
            SignalValue::Vpdq(frames) => f.write_str(&vpdq::to_hma_signal(frames)),
            SignalValue::PdqVariants(variants) => f.write_str(&VariantHash::format_list(variants)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_name_order() {
        let names: Vec<&str> = SignalType::ALL.iter().map(|t| t.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "variants must stay in name order");
        let listed = format!("expected one of {}", names.join(", "));
        assert!(
            Error::UnknownSignalType(String::new())
                .to_string()
                .ends_with(&listed)
        );
        for signal_type in SignalType::ALL {
            assert_eq!(signal_type.as_str().parse::<SignalType>(), Ok(signal_type));
        }
        assert_eq!(
            "PDQ".parse::<SignalType>().unwrap_err().to_string(),
            "no such signal type \"PDQ\"; expected one of md5, pdq, pdq_variants, sha256, text, \
             video_md5, vpdq"
        );
    }

    #[test]
    fn values_are_canonical_and_typed() {
        let value =
            SignalValue::parse(SignalType::Md5, " D41D8CD98F00B204E9800998ECF8427E ").unwrap();
        assert_eq!(value.to_string(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(value.signal_type(), SignalType::Md5);
        let video = SignalValue::parse(SignalType::VideoMd5, &value.to_string()).unwrap();
        assert_eq!(video.signal_type(), SignalType::VideoMd5);
    }

    #[test]
    fn bad_values_name_their_type() {
        let error = SignalValue::parse(SignalType::Sha256, "abc").unwrap_err();
        assert!(
            error.to_string().starts_with("invalid sha256 signal: "),
            "{error}"
        );
        assert!(SignalValue::parse(SignalType::Vpdq, "not json").is_err());
        assert!(SignalValue::parse(SignalType::PdqVariants, "nonsense").is_err());
    }

    #[test]
    fn closeness_keeps_the_reported_distance() {
        assert_eq!(Closeness::Exact.distance(), 0);
        assert_eq!(Closeness::Bits(12).distance(), 12);
        let text = Closeness::Text {
            containment: 0.75,
            similarity: 0.5,
        };
        assert_eq!(text.distance(), 25);
    }

    #[test]
    fn default_rules_use_the_reference_thresholds() {
        let pdq = SignalType::Pdq.default_rule();
        assert!(pdq.accepts(&Closeness::Bits(31)));
        assert!(!pdq.accepts(&Closeness::Bits(32)));
        assert!(!pdq.accepts(&Closeness::Exact));
        assert!(SignalType::Md5.default_rule().accepts(&Closeness::Exact));
        let frames = |query_pct| {
            Closeness::Frames(VpdqMatch {
                query_pct,
                compared_pct: 1.0,
            })
        };
        assert!(SignalType::Vpdq.default_rule().accepts(&frames(80.0)));
        assert!(!SignalType::Vpdq.default_rule().accepts(&frames(79.9)));
        let text = |containment| Closeness::Text {
            containment,
            similarity: 0.0,
        };
        assert!(SignalType::Text.default_rule().accepts(&text(0.25)));
        assert!(!SignalType::Text.default_rule().accepts(&text(0.2)));
    }

    #[test]
    fn only_variants_are_hidden_from_hma() {
        let hidden: Vec<SignalType> = SignalType::ALL
            .into_iter()
            .filter(|t| !t.on_hma_routes())
            .collect();
        assert_eq!(hidden, [SignalType::PdqVariants]);
        assert!(
            SignalType::ALL
                .iter()
                .all(|t| t.is_exact() == matches!(t.default_rule(), MatchRule::Equal))
        );
    }
}
