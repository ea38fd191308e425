//! The variants of an image that Vigil's lookup defences hash — rotations
//! and mirrors, the image with its uniform borders trimmed, crops and corner
//! regions — as names, as the stored `pdq_variants` signal, and the rule
//! that says when a query's variants match a banked image's. Computing them
//! from pixels is `vigil_media`'s part.

use crate::{Pdq, PdqHash};

/// Which part or transformation of an image a hash was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// The image as given.
    Original,
    /// The pixels rotated or mirrored: one of the seven non-identity
    /// symmetries, in [`crate::Dihedral`] order (1 = `rot90` … 7 =
    /// `flipm`).
    Symmetry(u8),
    /// Uniform borders and letterbox bars trimmed off.
    Trimmed,
    /// The central region keeping this percentage of each side.
    Centre(u8),
    /// The region keeping this percentage of each side, anchored at a
    /// corner.
    Corner(Corner, u8),
}

/// A corner of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Corner {
    /// Top left.
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
}

/// The four corners, in the order variants list them.
pub const CORNERS: [Corner; 4] = [
    Corner::TopLeft,
    Corner::TopRight,
    Corner::BottomLeft,
    Corner::BottomRight,
];

/// Names of the symmetries in [`crate::Dihedral`] order.
const SYMMETRY_NAMES: [&str; 8] = [
    "orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm",
];

/// Share of each side the corner regions compared for overlays keep: a
/// logo or caption in one corner or along one edge leaves at least two of
/// the four clean.
pub const OVERLAY_KEEP: u8 = 60;

/// How many corner regions must match for an overlay match: one could be
/// chance, two of four regions of an unrelated picture rarely are.
pub const OVERLAY_CORNERS_NEEDED: usize = 2;

impl Variant {
    /// The variant's name in matches and reports: `orig`, `rot90`,
    /// `trimmed`, `c80`, `tl90`, …
    pub fn name(self) -> String {
        match self {
            Self::Original => "orig".to_owned(),
            Self::Symmetry(k) => SYMMETRY_NAMES
                .get(usize::from(k))
                .copied()
                .unwrap_or("orig")
                .to_owned(),
            Self::Trimmed => "trimmed".to_owned(),
            Self::Centre(keep) => format!("c{keep}"),
            Self::Corner(corner, keep) => {
                let prefix = match corner {
                    Corner::TopLeft => "tl",
                    Corner::TopRight => "tr",
                    Corner::BottomLeft => "bl",
                    Corner::BottomRight => "br",
                };
                format!("{prefix}{keep}")
            }
        }
    }

    /// The variant named `name` (as [`Variant::name`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(k) = SYMMETRY_NAMES.iter().position(|n| *n == name) {
            return Some(if k == 0 {
                Self::Original
            } else {
                Self::Symmetry(k as u8)
            });
        }
        if name == "trimmed" {
            return Some(Self::Trimmed);
        }
        let keep = |digits: &str| digits.parse::<u8>().ok().filter(|k| (1..100).contains(k));
        if let Some(rest) = name.strip_prefix('c') {
            return keep(rest).map(Self::Centre);
        }
        let corner = match name.get(..2)? {
            "tl" => Corner::TopLeft,
            "tr" => Corner::TopRight,
            "bl" => Corner::BottomLeft,
            "br" => Corner::BottomRight,
            _ => return None,
        };
        keep(name.get(2..)?).map(|k| Self::Corner(corner, k))
    }
}

/// One hashed variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantHash {
    /// What was hashed.
    pub variant: Variant,
    /// Its PDQ and quality.
    pub pdq: Pdq,
}

impl VariantHash {
    /// The stored form of a bank's variants (the `pdq_variants` signal):
    /// `name:hash:quality` items joined by commas, e.g.
    /// `c90:f8f8…:87,tl60:0e1f…:64`.
    pub fn format_list(variants: &[VariantHash]) -> String {
        variants
            .iter()
            .map(|v| format!("{}:{}:{}", v.variant.name(), v.pdq.hash, v.pdq.quality))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The variants of a stored `pdq_variants` signal; `None` if any item
    /// is malformed or names an unknown variant.
    pub fn parse_list(value: &str) -> Option<Vec<VariantHash>> {
        value
            .split(',')
            .map(|item| {
                let mut parts = item.trim().split(':');
                let variant = Variant::parse(parts.next()?)?;
                let hash = parts.next()?.parse::<PdqHash>().ok()?;
                let quality = parts.next()?.parse::<u8>().ok().filter(|q| *q <= 100)?;
                parts.next().is_none().then_some(VariantHash {
                    variant,
                    pdq: Pdq { hash, quality },
                })
            })
            .collect()
    }
}

/// How a query variant may be compared with bank variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// With the bank's plain hash and every crop of the original: the query
    /// may be the original, or the original with its edges cut away.
    Whole,
    /// With the bank's hash of the same corner region only; an overlay
    /// match needs [`OVERLAY_CORNERS_NEEDED`] such regions.
    SameRegion,
}

impl Variant {
    /// How this query variant is compared (see [`Pairing`]).
    pub fn pairing(self) -> Pairing {
        match self {
            Self::Corner(_, keep) if keep == OVERLAY_KEEP => Pairing::SameRegion,
            _ => Pairing::Whole,
        }
    }
}

/// How a query was found through the defences: the distance, the query
/// variant and the bank variant (`Variant::Original` for the bank's plain
/// hash) that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairedMatch {
    /// The Hamming distance of the pair (for corner regions, the larger of
    /// the [`OVERLAY_CORNERS_NEEDED`] nearest).
    pub distance: u32,
    /// The query's variant.
    pub query: Variant,
    /// The banked variant.
    pub banked: Variant,
}

/// The verdict of comparing one query's variants with one banked image's
/// plain hash and banked variants (`vigil_media::bank_variants`) at
/// `threshold`:
/// the nearest qualifying pair, or `None`.
///
/// A `Whole` query variant qualifies against the plain hash or any banked
/// variant but the corner regions; `SameRegion` variants qualify when at
/// least [`OVERLAY_CORNERS_NEEDED`] regions are each within `threshold` of
/// the bank's same region. Ties go to the plainer pair (query variants are
/// tried in the order given, the bank's plain hash first).
pub fn nearest_pairing(
    query: &[VariantHash],
    plain: Option<&PdqHash>,
    banked: &[VariantHash],
    threshold: u32,
) -> Option<PairedMatch> {
    let mut best: Option<PairedMatch> = None;
    let mut keep_best = |candidate: PairedMatch| {
        if candidate.distance <= threshold && best.is_none_or(|b| candidate.distance < b.distance) {
            best = Some(candidate);
        }
    };
    let mut regions: Vec<PairedMatch> = Vec::new();
    for q in query {
        match q.variant.pairing() {
            Pairing::Whole => {
                if let Some(plain) = plain {
                    keep_best(PairedMatch {
                        distance: q.pdq.hash.distance(plain),
                        query: q.variant,
                        banked: Variant::Original,
                    });
                }
                for c in banked
                    .iter()
                    .filter(|c| c.variant.pairing() == Pairing::Whole)
                {
                    keep_best(PairedMatch {
                        distance: q.pdq.hash.distance(&c.pdq.hash),
                        query: q.variant,
                        banked: c.variant,
                    });
                }
            }
            Pairing::SameRegion => {
                if let Some(c) = banked.iter().find(|c| c.variant == q.variant) {
                    regions.push(PairedMatch {
                        distance: q.pdq.hash.distance(&c.pdq.hash),
                        query: q.variant,
                        banked: c.variant,
                    });
                }
            }
        }
    }
    regions.sort_by_key(|r| r.distance);
    if let Some(&region) = regions.get(OVERLAY_CORNERS_NEEDED - 1) {
        keep_best(region);
    }
    best
}
