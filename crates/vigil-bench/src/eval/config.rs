//! The lookup configurations `vigil eval images` compares: plain PDQ, the
//! one-DCT dihedral set, and each of Vigil's defences, with the distance a
//! lookup under each would report.

use vigil_media::{Defences, Variant, VariantHash, nearest_pairing};
use vigil_signal::PdqHash;

/// A way of looking up: plain PDQ, or with some of Vigil's defences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Config {
    /// The query's PDQ against the bank's.
    Plain,
    /// The eight dihedral hashes from one DCT (Meta's reference method).
    DihedralDct,
    /// The eight rotations and mirrors of the pixels, each hashed.
    Dihedral,
    /// The query with uniform borders trimmed (and the original, when its
    /// own edges are uniform), as well.
    Trim,
    /// The bank's crops and the query's corner regions, as well.
    Crops,
    /// Every defence.
    All,
}

/// The configs, in report order.
pub(crate) const CONFIGS: [Config; 6] = [
    Config::Plain,
    Config::DihedralDct,
    Config::Dihedral,
    Config::Trim,
    Config::Crops,
    Config::All,
];

impl Config {
    /// The name in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::DihedralDct => "dihedral_dct",
            Self::Dihedral => "dihedral",
            Self::Trim => "trim",
            Self::Crops => "crops",
            Self::All => "all",
        }
    }

    /// The defences a lookup under this config uses (`None` for the
    /// one-DCT dihedral, which is not a pixel defence).
    pub(crate) fn defences(self) -> Option<Defences> {
        let only = |dihedral, trim, crops| {
            Some(Defences {
                dihedral,
                trim,
                crops,
            })
        };
        match self {
            Self::Plain => only(false, false, false),
            Self::DihedralDct => None,
            Self::Dihedral => only(true, false, false),
            Self::Trim => only(false, true, false),
            Self::Crops => only(false, false, true),
            Self::All => Some(Defences::ALL),
        }
    }

    /// Whether the query's variant is looked up under this config.
    pub(crate) fn keeps(self, variant: Variant) -> bool {
        match self {
            Self::Plain | Self::DihedralDct => variant == Variant::Original,
            Self::Dihedral => matches!(variant, Variant::Original | Variant::Symmetry(_)),
            Self::Trim => matches!(variant, Variant::Original | Variant::Trimmed),
            Self::Crops => matches!(variant, Variant::Original | Variant::Corner(..)),
            Self::All => true,
        }
    }

    /// Whether the bank's variant is compared under this config.
    pub(crate) fn keeps_banked(self, variant: Variant) -> bool {
        match self {
            Self::Plain | Self::DihedralDct | Self::Dihedral => false,
            Self::Trim => variant == Variant::Trimmed,
            Self::Crops => matches!(variant, Variant::Centre(_) | Variant::Corner(..)),
            Self::All => true,
        }
    }

    /// The effective distance of a query (all its variants, and its
    /// one-DCT dihedral set) to a banked image under this config: the
    /// nearest distance a lookup would report, 256 when none qualifies.
    pub(crate) fn distance(
        self,
        query: &[VariantHash],
        query_dct: &[PdqHash; 8],
        bank_plain: &PdqHash,
        bank_variants: &[VariantHash],
    ) -> u32 {
        if self == Self::DihedralDct {
            return query_dct
                .iter()
                .map(|h| h.distance(bank_plain))
                .min()
                .unwrap_or(256);
        }
        let kept: Vec<VariantHash> = query
            .iter()
            .filter(|v| self.keeps(v.variant))
            .copied()
            .collect();
        let banked: Vec<VariantHash> = bank_variants
            .iter()
            .filter(|v| self.keeps_banked(v.variant))
            .copied()
            .collect();
        nearest_pairing(&kept, Some(bank_plain), &banked, 256).map_or(256, |m| m.distance)
    }
}
