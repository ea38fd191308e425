//! `vigil eval images`: how well PDQ, plainly and with each of Vigil's
//! defences, survives each edit on a corpus of benign photographs — recall
//! per transform at a threshold, the distance distribution, the
//! false-positive rate over every distinct pair of corpus images, a
//! threshold sweep, what each defence costs, and an SVG chart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use image::RgbImage;
use image::imageops::{self, FilterType};
use rayon::prelude::*;
use vigil_media::{Defences, bank_variants, query_variants};
use vigil_signal::{PdqHash, PdqHasher, PdqMode};

use super::chart::write_chart;
use super::corpus::{corpus_files, progress_bar, related_groups};
use super::report::{CONFIGS, Measured, print_table, report, write_details};
use super::transforms::ALL;

/// Settings of `vigil eval images`.
#[derive(Debug, Clone)]
pub struct EvalImagesSettings {
    /// A folder of JPEG and PNG images, searched recursively.
    pub corpus: PathBuf,
    /// The PDQ distance that counts as a match.
    pub threshold: u32,
    /// Images are scaled so their longer side is at most this before the
    /// edits.
    pub max_side: u32,
    /// Only the first images (by path).
    pub limit: Option<usize>,
    /// Worker threads.
    pub threads: usize,
    /// Show a progress bar.
    pub progress: bool,
    /// Where to write the SVG chart, if anywhere.
    pub chart: Option<PathBuf>,
    /// Where to write per-image distances and the false pairs (JSON Lines).
    pub details: Option<PathBuf>,
    /// Groups of related images (`group<TAB>path` lines, paths relative to
    /// the corpus); default `related.tsv` in the corpus, when it exists.
    pub related: Option<PathBuf>,
}

/// Edits and hashes every corpus image, compares every pair, and writes the
/// report as one JSON object to `out` (a table on stderr; the chart and the
/// details where the settings say).
pub fn run(settings: &EvalImagesSettings, mut out: impl Write) -> anyhow::Result<()> {
    let mut paths = corpus_files(&settings.corpus, &["jpg", "jpeg", "png"])?;
    let groups = related_groups(&settings.corpus, settings.related.as_deref())?;
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
    let bar = progress_bar(paths.len(), "evaluating images", settings.progress);
    let started = Instant::now();
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
    let mut measured: Vec<Measured> = results.into_iter().flatten().collect();
    for m in &mut measured {
        let relative = m.path.strip_prefix(&settings.corpus).unwrap_or(&m.path);
        m.group = groups.get(relative).copied();
    }
    let skipped = paths.len() - measured.len();
    let (report, pairs) = pool.install(|| report(&measured, settings.threshold, skipped, started));
    if let Some(path) = &settings.chart {
        write_chart(&report, path)
            .with_context(|| format!("cannot write the chart to {}", path.display()))?;
    }
    if let Some(path) = &settings.details {
        write_details(&measured, &pairs, settings.threshold, path)
            .with_context(|| format!("cannot write the details to {}", path.display()))?;
    }
    print_table(&report, settings.threshold);
    writeln!(out, "{report}")?;
    Ok(())
}

/// Decodes one image (scaled so its longer side is at most `max_side`:
/// PDQ sees 64×64 anyway, and the edits cost less), hashes it as bank and
/// query, and every transformed copy under every config. `None` for
/// images that do not decode or hash below PDQ's quality floor.
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
    let (dct, quality) = dct_dihedral(&image, hasher)?;
    if quality < PdqHash::MIN_TRUSTED_QUALITY {
        return None;
    }
    let mut query_seconds = [0.0; CONFIGS.len()];
    for (config, seconds) in CONFIGS.iter().zip(query_seconds.iter_mut()) {
        let started = Instant::now();
        match config.defences() {
            Some(defences) => drop(query_variants(&image, defences, hasher)),
            None => drop(dct_dihedral(&image, hasher)),
        }
        *seconds = started.elapsed().as_secs_f64();
    }
    let started = Instant::now();
    let bank = bank_variants(&image, hasher);
    let bank_seconds = started.elapsed().as_secs_f64();
    let original = dct.to_array();
    let copies = ALL
        .iter()
        .map(|transform| {
            let copy = transform.apply(&image, seed);
            let query = query_variants(&copy, Defences::ALL, hasher);
            let dct = dct_dihedral(&copy, hasher).map_or([PdqHash::ZERO; 8], |(d, _)| d.to_array());
            CONFIGS.map(|config| config.distance(&query, &dct, &original[0], &bank))
        })
        .collect();
    Some(Measured {
        path: path.to_owned(),
        group: None,
        original: original[0],
        dct_variants: original,
        query: query_variants(&image, Defences::ALL, hasher),
        bank,
        copies,
        query_seconds,
        bank_seconds,
    })
}

/// The eight one-DCT dihedral hashes (the first is the plain PDQ) and the
/// quality.
fn dct_dihedral(image: &RgbImage, hasher: PdqHasher) -> Option<(vigil_signal::Dihedral, u8)> {
    let (w, h) = image.dimensions();
    vigil_signal::RgbView::new(w, h, image.as_raw())
        .ok()
        .map(|rgb| hasher.hash_dihedral(&rgb))
}
