//! `vigil eval images`: how well PDQ survives each edit on a corpus of
//! benign photographs — recall per transform at a threshold, the distance
//! distribution, the false-positive rate over every distinct pair of
//! corpus images, and a threshold sweep.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::RgbImage;
use image::imageops::{self, FilterType};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::{Value, json};
use vigil_signal::{PdqHash, PdqHasher, PdqMode};

use super::eval_transforms::{ALL, Transform};
use crate::ExitStatus;

/// Resolved arguments.
#[derive(Debug, Clone)]
pub(crate) struct EvalImagesSettings {
    pub(crate) corpus: PathBuf,
    pub(crate) threshold: u32,
    pub(crate) max_side: u32,
    pub(crate) limit: Option<usize>,
    pub(crate) threads: usize,
    pub(crate) progress: bool,
}

/// Thresholds of the sweep.
const SWEEP: [u32; 13] = [0, 8, 16, 20, 24, 28, 31, 32, 36, 40, 48, 56, 64];

/// One corpus image: its PDQ (and its eight dihedral variants), and for
/// each transformed copy the distance to the original's PDQ, plainly and
/// with the dihedral defence (nearest of the copy's eight variants).
struct Measured {
    original: PdqHash,
    variants: [PdqHash; 8],
    plain: Vec<u32>,
    dihedral: Vec<u32>,
}

pub(crate) fn run(
    settings: &EvalImagesSettings,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let mut paths = corpus_images(&settings.corpus)?;
    if let Some(limit) = settings.limit {
        paths.truncate(limit);
    }
    if paths.len() < 2 {
        bail!(
            "{} holds {} images; build the corpus with scripts/eval-corpus",
            settings.corpus.display(),
            paths.len()
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads.max(1))
        .build()
        .context("cannot start worker threads")?;
    let bar = if settings.progress {
        ProgressBar::new(paths.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} evaluating {pos}/{len} images [{bar:30}] eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let started = std::time::Instant::now();
    let results: Vec<Option<Measured>> = pool.install(|| {
        paths
            .par_iter()
            .enumerate()
            .map(|(i, path)| {
                let measured = measure(path, settings.max_side, i as u64);
                bar.inc(1);
                measured
            })
            .collect()
    });
    bar.finish_and_clear();
    let measured: Vec<Measured> = results.into_iter().flatten().collect();
    let skipped = paths.len() - measured.len();
    let report = report(&measured, settings.threshold, skipped, started.elapsed());
    print_table(&report, settings.threshold);
    writeln!(out, "{report}")?;
    Ok(ExitStatus::Success)
}

/// The JPEG and PNG files under `dir`, sorted.
fn corpus_images(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!(
            "no corpus at {}: build it with scripts/eval-corpus DIR",
            dir.display()
        );
    }
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// Decodes one image (scaled so its longer side is at most `max_side`:
/// PDQ sees 64×64 anyway, and the edits cost less), hashes it and every
/// transformed copy. `None` for images that do not decode or hash below
/// PDQ's quality floor.
fn measure(path: &Path, max_side: u32, seed: u64) -> Option<Measured> {
    let bytes = std::fs::read(path).ok()?;
    let decoded = vigil_media::decode_image(&bytes, &vigil_media::Limits::default()).ok()?;
    let image = RgbImage::from_raw(decoded.width(), decoded.height(), decoded.pixels().to_vec())?;
    let (w, h) = image.dimensions();
    let image = if w.max(h) > max_side {
        let scale = max_side as f32 / w.max(h) as f32;
        let (nw, nh) = (
            ((w as f32 * scale) as u32).max(1),
            ((h as f32 * scale) as u32).max(1),
        );
        imageops::resize(&image, nw, nh, FilterType::Triangle)
    } else {
        image
    };
    let hasher = PdqHasher::new(PdqMode::FullResolution);
    // One DCT gives the plain hash (the first variant) and all eight.
    let hash = |image: &RgbImage| {
        let (w, h) = image.dimensions();
        vigil_signal::RgbImage::new(w, h, image.as_raw())
            .ok()
            .map(|rgb| hasher.hash_dihedral(&rgb))
    };
    let (original, quality) = hash(&image)?;
    if quality < PdqHash::MIN_TRUSTED_QUALITY {
        return None;
    }
    let original = original.to_array();
    let (mut plain, mut dihedral) = (Vec::new(), Vec::new());
    for transform in ALL {
        let copy =
            hash(&transform.apply(&image, seed)).map_or([PdqHash::ZERO; 8], |(d, _)| d.to_array());
        plain.push(copy[0].distance(&original[0]));
        dihedral.push(nearest(&copy, &original[0]));
    }
    Some(Measured {
        original: original[0],
        variants: original,
        plain,
        dihedral,
    })
}

/// The distance from `target` to the nearest of `variants`.
fn nearest(variants: &[PdqHash; 8], target: &PdqHash) -> u32 {
    variants
        .iter()
        .map(|v| v.distance(target))
        .min()
        .unwrap_or(256)
}

fn report(
    measured: &[Measured],
    threshold: u32,
    skipped: usize,
    elapsed: std::time::Duration,
) -> Value {
    let per_transform: Vec<Value> = ALL
        .iter()
        .enumerate()
        .map(|(t, transform)| transform_line(measured, t, *transform, threshold))
        .collect();
    let pair_distances = pair_distances(measured);
    let pair_dihedral = pair_distances_dihedral(measured);
    let pairs = pair_distances.len() as f64;
    let sweep: Vec<Value> = SWEEP
        .iter()
        .map(|&t| {
            let (found, total) = measured.iter().fold((0usize, 0usize), |(f, n), m| {
                let near = m.plain.iter().filter(|d| **d <= t).count();
                (f + near, n + m.plain.len())
            });
            let false_pairs = pair_distances.iter().filter(|d| **d <= t).count();
            json!({
                "threshold": t,
                "recall_all_transforms": found as f64 / total.max(1) as f64,
                "false_positive_rate": false_pairs as f64 / pairs.max(1.0),
                "false_pairs": false_pairs,
            })
        })
        .collect();
    let false_pairs = pair_distances.iter().filter(|d| **d <= threshold).count();
    let false_pairs_dihedral = pair_dihedral.iter().filter(|d| **d <= threshold).count();
    json!({
        "images": measured.len(),
        "skipped_images": skipped,
        "threshold": threshold,
        "transforms": per_transform,
        "distinct_pairs": pair_distances.len(),
        "false_pairs": false_pairs,
        "false_positive_rate": false_pairs as f64 / pairs.max(1.0),
        "closest_distinct_pair": pair_distances.iter().min(),
        "dihedral": {
            "false_pairs": false_pairs_dihedral,
            "false_positive_rate": false_pairs_dihedral as f64 / pairs.max(1.0),
        },
        "sweep": sweep,
        "elapsed_s": elapsed.as_secs_f64(),
    })
}

fn transform_line(measured: &[Measured], t: usize, transform: Transform, threshold: u32) -> Value {
    let with_dihedral = measured
        .iter()
        .filter(|m| m.dihedral[t] <= threshold)
        .count();
    let mut nearest: Vec<u32> = measured.iter().map(|m| m.dihedral[t]).collect();
    nearest.sort_unstable();
    let dihedral_p50 = nearest.get(nearest.len().saturating_sub(1) / 2).copied();
    let mut distances: Vec<u32> = measured.iter().map(|m| m.plain[t]).collect();
    distances.sort_unstable();
    let at = |q: f64| {
        distances
            .get(((q * distances.len() as f64).ceil() as usize).saturating_sub(1))
            .copied()
    };
    let found = distances.iter().filter(|d| **d <= threshold).count();
    json!({
        "transform": transform.name(),
        "recall": found as f64 / distances.len().max(1) as f64,
        "distance_p50": at(0.5),
        "distance_p90": at(0.9),
        "distance_max": distances.last(),
        "recall_dihedral": with_dihedral as f64 / measured.len().max(1) as f64,
        "dihedral_distance_p50": dihedral_p50,
    })
}

/// The PDQ distance of every distinct pair of corpus images.
fn pair_distances(measured: &[Measured]) -> Vec<u32> {
    let mut distances = Vec::with_capacity(measured.len() * measured.len().saturating_sub(1) / 2);
    for (i, a) in measured.iter().enumerate() {
        for b in &measured[i + 1..] {
            distances.push(a.original.distance(&b.original));
        }
    }
    distances
}

/// The same with the dihedral defence: a query's eight variants against the
/// other image's banked PDQ, both ways round (either could be the query).
fn pair_distances_dihedral(measured: &[Measured]) -> Vec<u32> {
    let mut distances = Vec::with_capacity(measured.len() * measured.len().saturating_sub(1) / 2);
    for (i, a) in measured.iter().enumerate() {
        for b in &measured[i + 1..] {
            distances
                .push(nearest(&a.variants, &b.original).min(nearest(&b.variants, &a.original)));
        }
    }
    distances
}

fn print_table(report: &Value, threshold: u32) {
    eprintln!(
        "{:<24} {:>8} {:>6} {:>6} {:>6} {:>9}",
        format!("transform (d ≤ {threshold})"),
        "recall",
        "p50",
        "p90",
        "max",
        "dihedral"
    );
    for line in report["transforms"].as_array().into_iter().flatten() {
        eprintln!(
            "{:<24} {:>8.3} {:>6} {:>6} {:>6} {:>9.3}",
            line["transform"].as_str().unwrap_or_default(),
            line["recall"].as_f64().unwrap_or_default(),
            line["distance_p50"].to_string(),
            line["distance_p90"].to_string(),
            line["distance_max"].to_string(),
            line["recall_dihedral"].as_f64().unwrap_or_default()
        );
    }
    eprintln!(
        "false positives: {} of {} distinct pairs (rate {:.2e}; with dihedral lookup {} pairs, {:.2e}); {} images, {:.0} s",
        report["false_pairs"],
        report["distinct_pairs"],
        report["false_positive_rate"].as_f64().unwrap_or_default(),
        report["dihedral"]["false_pairs"],
        report["dihedral"]["false_positive_rate"]
            .as_f64()
            .unwrap_or_default(),
        report["images"],
        report["elapsed_s"].as_f64().unwrap_or_default()
    );
}
