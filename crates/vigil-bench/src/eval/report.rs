//! The figures of `vigil eval images`: what each defence configuration
//! recalls per edit, the false pairs it lets through, the threshold sweep
//! and the cost, as JSON, a table and per-image details (the SVG chart of
//! them is [`super::chart`]).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{Value, json};
use vigil_media::{Defences, Variant, VariantHash, nearest_pairing};
use vigil_signal::PdqHash;

use super::transforms::ALL;

/// Thresholds of the sweep.
const SWEEP: [u32; 13] = [0, 8, 16, 20, 24, 28, 31, 32, 36, 40, 48, 56, 64];

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

    fn keeps(self, variant: Variant) -> bool {
        match self {
            Self::Plain | Self::DihedralDct => variant == Variant::Original,
            Self::Dihedral => matches!(variant, Variant::Original | Variant::Symmetry(_)),
            Self::Trim => matches!(variant, Variant::Original | Variant::Trimmed),
            Self::Crops => matches!(variant, Variant::Original | Variant::Corner(..)),
            Self::All => true,
        }
    }

    /// Whether the bank's variant is compared under this config.
    fn keeps_banked(self, variant: Variant) -> bool {
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

/// One corpus image: its hashes as a bank holds them (plain PDQ, the
/// one-DCT dihedral set, the crop hashes of the `crops` defence), as a
/// pristine query is looked up (every defence's variants), and for each
/// transformed copy its effective distance under each config.
pub(crate) struct Measured {
    pub(crate) path: PathBuf,
    /// The group of related images it belongs to, if any.
    pub(crate) group: Option<usize>,
    pub(crate) original: PdqHash,
    pub(crate) dct_variants: [PdqHash; 8],
    pub(crate) query: Vec<VariantHash>,
    pub(crate) bank: Vec<VariantHash>,
    /// Per transform (in [`ALL`] order), per config (in [`CONFIGS`] order).
    pub(crate) copies: Vec<[u32; CONFIGS.len()]>,
    /// Time to compute each config's query hashes for the original, and
    /// the bank's crop hashes (seconds).
    pub(crate) query_seconds: [f64; CONFIGS.len()],
    pub(crate) bank_seconds: f64,
}

/// Every distinct pair's effective distance under each config, both ways
/// round (either image could be the query), in `(i, j > i)` order, and
/// whether the pair is related (same group: not independent pictures).
pub(crate) struct PairDistances(Vec<([u32; CONFIGS.len()], bool)>);

fn pair_distances(measured: &[Measured]) -> PairDistances {
    let rows: Vec<Vec<([u32; CONFIGS.len()], bool)>> = measured
        .par_iter()
        .enumerate()
        .map(|(i, a)| {
            measured[i + 1..]
                .iter()
                .map(|b| {
                    let distances = CONFIGS.map(|config| {
                        let one_way = |q: &Measured, bank: &Measured| {
                            config.distance(&q.query, &q.dct_variants, &bank.original, &bank.bank)
                        };
                        one_way(a, b).min(one_way(b, a))
                    });
                    (distances, a.group.is_some() && a.group == b.group)
                })
                .collect()
        })
        .collect();
    PairDistances(rows.into_iter().flatten().collect())
}

/// The report, and the pair distances it was computed from.
pub(crate) fn report(
    measured: &[Measured],
    threshold: u32,
    skipped: usize,
    started: Instant,
) -> (Value, PairDistances) {
    let pairs = pair_distances(measured);
    let pair_count = pairs.0.len().max(1) as f64;
    let related_pairs = pairs.0.iter().filter(|(_, related)| *related).count();
    let independent_count = (pairs.0.len() - related_pairs).max(1) as f64;
    // False pairs at `t` under config `c`: over all pairs, and over pairs of
    // independent pictures.
    let false_pairs = |c: usize, t: u32| {
        pairs
            .0
            .iter()
            .fold((0usize, 0usize), |(all, independent), (d, related)| {
                let hit = usize::from(d[c] <= t);
                (all + hit, independent + if *related { 0 } else { hit })
            })
    };
    let per_transform: Vec<Value> = ALL
        .iter()
        .enumerate()
        .map(|(t, transform)| {
            let mut line = distribution(measured.iter().map(|m| m.copies[t][0]), threshold);
            line["transform"] = json!(transform.name());
            let defences: serde_json::Map<String, Value> = CONFIGS
                .iter()
                .enumerate()
                .skip(1)
                .map(|(c, config)| {
                    let d = distribution(measured.iter().map(|m| m.copies[t][c]), threshold);
                    (
                        config.name().to_owned(),
                        json!({"recall": d["recall"], "distance_p50": d["distance_p50"]}),
                    )
                })
                .collect();
            line["defences"] = Value::Object(defences);
            line
        })
        .collect();
    let configs: Vec<Value> = CONFIGS
        .iter()
        .enumerate()
        .map(|(c, config)| {
            let (false_all, false_independent) = false_pairs(c, threshold);
            let sweep: Vec<Value> = SWEEP
                .iter()
                .map(|&t| {
                    let (found, total) = measured.iter().fold((0usize, 0usize), |(f, n), m| {
                        let near = m.copies.iter().filter(|d| d[c] <= t).count();
                        (f + near, n + m.copies.len())
                    });
                    let (all, independent) = false_pairs(c, t);
                    json!({
                        "threshold": t,
                        "recall_all_transforms": found as f64 / total.max(1) as f64,
                        "false_pairs": all,
                        "false_positive_rate": all as f64 / pair_count,
                        "false_pairs_independent": independent,
                        "false_positive_rate_independent": independent as f64 / independent_count,
                    })
                })
                .collect();
            let mean = |f: &dyn Fn(&Measured) -> f64| {
                measured.iter().map(f).sum::<f64>() / measured.len().max(1) as f64
            };
            let query_hashes = mean(&|m: &Measured| match config {
                Config::DihedralDct => 8.0,
                _ => m.query.iter().filter(|v| config.keeps(v.variant)).count() as f64,
            });
            let bank_hashes = mean(&|m: &Measured| {
                1.0 + m
                    .bank
                    .iter()
                    .filter(|v| config.keeps_banked(v.variant))
                    .count() as f64
            });
            json!({
                "config": config.name(),
                "false_pairs": false_all,
                "false_positive_rate": false_all as f64 / pair_count,
                "false_pairs_independent": false_independent,
                "false_positive_rate_independent": false_independent as f64 / independent_count,
                "closest_distinct_pair": pairs.0.iter().map(|(d, _)| d[c]).min(),
                "closest_independent_pair":
                    pairs.0.iter().filter(|(_, related)| !related).map(|(d, _)| d[c]).min(),
                "query_hashes_mean": query_hashes,
                "query_hash_ms_mean": mean(&|m: &Measured| m.query_seconds[c] * 1e3),
                "bank_hashes_mean": bank_hashes,
                "sweep": sweep,
            })
        })
        .collect();
    let plain = &configs[0];
    let report = json!({
        "images": measured.len(),
        "skipped_images": skipped,
        "threshold": threshold,
        "distinct_pairs": pairs.0.len(),
        "related_pairs": related_pairs,
        "independent_pairs": pairs.0.len() - related_pairs,
        "false_pairs": plain["false_pairs"],
        "false_positive_rate": plain["false_positive_rate"],
        "false_pairs_independent": plain["false_pairs_independent"],
        "false_positive_rate_independent": plain["false_positive_rate_independent"],
        "closest_distinct_pair": plain["closest_distinct_pair"],
        "transforms": per_transform,
        "configs": configs,
        "bank_crop_hash_ms_mean":
            measured.iter().map(|m| m.bank_seconds * 1e3).sum::<f64>() / measured.len().max(1) as f64,
        "elapsed_s": started.elapsed().as_secs_f64(),
    });
    (report, pairs)
}

/// Recall at `threshold` and the distance percentiles of some distances.
fn distribution(distances: impl Iterator<Item = u32>, threshold: u32) -> Value {
    let mut distances: Vec<u32> = distances.collect();
    distances.sort_unstable();
    let at = |q: f64| {
        distances
            .get(((q * distances.len() as f64).ceil() as usize).saturating_sub(1))
            .copied()
    };
    let found = distances.iter().filter(|d| **d <= threshold).count();
    json!({
        "recall": found as f64 / distances.len().max(1) as f64,
        "distance_p50": at(0.5),
        "distance_p90": at(0.9),
        "distance_max": distances.last(),
    })
}

/// The human table on stderr: recall per edit under each config, then each
/// config's false positives and cost.
pub(crate) fn print_table(report: &Value, threshold: u32) {
    let mut header = format!(
        "{:<24} {:>5} {:>5}",
        format!("recall at d ≤ {threshold}"),
        "p50",
        "p90"
    );
    for config in CONFIGS {
        let _ = write!(header, " {:>12}", config.name());
    }
    eprintln!("{header}");
    for line in report["transforms"].as_array().into_iter().flatten() {
        let mut row = format!(
            "{:<24} {:>5} {:>5} {:>12.3}",
            line["transform"].as_str().unwrap_or_default(),
            line["distance_p50"].to_string(),
            line["distance_p90"].to_string(),
            line["recall"].as_f64().unwrap_or_default()
        );
        for config in &CONFIGS[1..] {
            let recall = line["defences"][config.name()]["recall"]
                .as_f64()
                .unwrap_or_default();
            let _ = write!(row, " {recall:>12.3}");
        }
        eprintln!("{row}");
    }
    for config in report["configs"].as_array().into_iter().flatten() {
        eprintln!(
            "{:<13} false pairs {:>5} (rate {:.2e}), of independent pictures {:>4} ({:.2e}); {:.1} query hashes ({:.1} ms), {:.1} banked per image",
            config["config"].as_str().unwrap_or_default(),
            config["false_pairs"],
            config["false_positive_rate"].as_f64().unwrap_or_default(),
            config["false_pairs_independent"],
            config["false_positive_rate_independent"]
                .as_f64()
                .unwrap_or_default(),
            config["query_hashes_mean"].as_f64().unwrap_or_default(),
            config["query_hash_ms_mean"].as_f64().unwrap_or_default(),
            config["bank_hashes_mean"].as_f64().unwrap_or_default(),
        );
    }
    eprintln!(
        "{} images, {} distinct pairs ({} of related images), {:.0} s",
        report["images"],
        report["distinct_pairs"],
        report["related_pairs"],
        report["elapsed_s"].as_f64().unwrap_or_default()
    );
}

/// Per-image distances of every copy, then every pair that some config
/// finds within `threshold` (to inspect misses and near-duplicates in the
/// corpus), as JSON Lines.
pub(crate) fn write_details(
    measured: &[Measured],
    pairs: &PairDistances,
    threshold: u32,
    path: &Path,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let by_config = |d: &[u32; CONFIGS.len()]| -> Value {
        CONFIGS
            .iter()
            .zip(d)
            .map(|(c, d)| (c.name().to_owned(), json!(d)))
            .collect::<serde_json::Map<String, Value>>()
            .into()
    };
    for m in measured {
        for (transform, d) in ALL.iter().zip(&m.copies) {
            let line = json!({
                "image": m.path,
                "transform": transform.name(),
                "distance": by_config(d),
            });
            writeln!(out, "{line}")?;
        }
    }
    let mut k = 0;
    for (i, a) in measured.iter().enumerate() {
        for b in &measured[i + 1..] {
            let (d, related) = &pairs.0[k];
            k += 1;
            if d.iter().any(|d| *d <= threshold) {
                let line =
                    json!({"pair": [a.path, b.path], "related": related, "distance": by_config(d)});
                writeln!(out, "{line}")?;
            }
        }
    }
    out.flush()
}
