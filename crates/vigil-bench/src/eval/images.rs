//! `vigil eval images`: how well PDQ, plainly and with each of Vigil's
//! defences, survives each edit on a corpus of benign photographs — recall
//! per transform at a threshold, the distance distribution, the
//! false-positive rate over every distinct pair of corpus images, a
//! threshold sweep, what each defence costs, and an SVG chart.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use image::RgbImage;
use image::imageops::{self, FilterType};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use vigil_media::{Defences, VariantHash, bank_variants, query_variants};
use vigil_signal::{PdqHash, PdqHasher, PdqMode};

use super::eval_report::{CONFIGS, report, write_chart, write_details};
use super::eval_transforms::ALL;
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
    /// Where to write the SVG chart, if anywhere.
    pub(crate) chart: Option<PathBuf>,
    /// Where to write per-image distances and the false pairs (JSON Lines).
    pub(crate) details: Option<PathBuf>,
    /// Groups of related images (`group<TAB>path` lines, paths relative to
    /// the corpus); default `related.tsv` in the corpus, when it exists.
    pub(crate) related: Option<PathBuf>,
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

pub(crate) fn run(
    settings: &EvalImagesSettings,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
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
    super::eval_report::print_table(&report, settings.threshold);
    writeln!(out, "{report}")?;
    Ok(ExitStatus::Success)
}

/// The group of each related image (see `scripts/eval-corpus`): from
/// `related`, or `related.tsv` in the corpus when it exists; no groups
/// otherwise.
pub(crate) fn related_groups(
    corpus: &Path,
    related: Option<&Path>,
) -> anyhow::Result<HashMap<PathBuf, usize>> {
    let default = corpus.join("related.tsv");
    let path = match related {
        Some(path) => path.to_owned(),
        None if default.is_file() => default,
        None => return Ok(HashMap::new()),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the related images from {}", path.display()))?;
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut groups = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((group, member)) = line.split_once('\t') else {
            bail!("{}:{}: expected group<TAB>path", path.display(), n + 1);
        };
        let next = names.len();
        let id = *names.entry(group).or_insert(next);
        groups.insert(PathBuf::from(member), id);
    }
    Ok(groups)
}

/// The files under `dir` whose extension is one of `extensions`
/// (lower-case), sorted: an evaluation corpus.
pub(crate) fn corpus_files(dir: &Path, extensions: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
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
                .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// An evaluation's progress bar (hidden unless `show`), counting `what`.
pub(crate) fn progress_bar(len: usize, what: &str, show: bool) -> ProgressBar {
    let bar = if show {
        ProgressBar::new(len as u64)
    } else {
        ProgressBar::hidden()
    };
    let template = format!("{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] eta {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
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
    vigil_signal::RgbImage::new(w, h, image.as_raw())
        .ok()
        .map(|rgb| hasher.hash_dihedral(&rgb))
}
