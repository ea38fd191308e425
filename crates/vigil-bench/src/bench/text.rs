//! `vigil bench text`: recall of the `text` signal per kind of edit, false
//! matches among unrelated texts, and lookup time in a large bank.
//!
//! The bank holds the corpus documents and generated filler up to
//! `--bank` texts. Every edited copy of every document is looked up (recall:
//! its document is found at the threshold), then unrelated generated texts
//! (false matches: any banked text found). Each lookup is timed on this
//! thread alone: sketching the query, and the index search.
//!
//! To justify containment over MinHash, each lookup also records the
//! estimated resemblance (Jaccard similarity) of the found document — the
//! quantity MinHash estimates — and the report gives the recall MinHash
//! could have at best: at the lowest resemblance threshold that no
//! unrelated text reaches.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;
use serde_json::json;
use vigil_index::TextIndex;
use vigil_signal::text::{QUERY_SAMPLE, TextSketch};

use super::text_corpus::{Document, Generator, VariantKind};
use crate::support::{SplitMix, process_memory_bytes};

/// Settings of `vigil bench text` (and `vigil eval text`).
#[derive(Debug, Clone)]
pub struct BenchTextSettings {
    /// A folder of text files (one document each); none: generate.
    pub corpus: Option<PathBuf>,
    /// Documents generated when no corpus is given.
    pub documents: usize,
    /// Unrelated texts looked up for false matches.
    pub unrelated: usize,
    /// Texts in the bank (documents plus generated filler).
    pub bank: usize,
    /// Containment threshold of a match.
    pub threshold: f64,
    /// Sample size of banked sketches.
    pub sample: usize,
    /// Seed of the generated texts and edits.
    pub seed: u64,
}

/// What one lookup of an edited copy found.
struct Lookup {
    /// Containment and resemblance of the copied document, if found at all.
    target: Option<(f64, f64)>,
    /// Another banked text matched at the threshold.
    false_match: bool,
    /// The highest containment and resemblance of any other banked text.
    other_max: (f64, f64),
    sketch_micros: f64,
    search_micros: f64,
}

/// Banks the corpus with filler, looks up every edited copy and the
/// unrelated texts, and writes one JSON object to `out` (a table on
/// stderr).
pub fn run(settings: &BenchTextSettings, mut out: impl Write) -> anyhow::Result<()> {
    let generator = Generator::new(settings.seed);
    let documents = if let Some(dir) = &settings.corpus {
        read_corpus(dir)?
    } else {
        eprintln!("generating {} documents…", settings.documents);
        (0..settings.documents)
            .map(|i| generator.document(&mut SplitMix(settings.seed ^ ((i as u64) << 20)), i))
            .collect()
    };
    anyhow::ensure!(!documents.is_empty(), "the corpus has no documents");
    let bank_size = settings.bank.max(documents.len());
    eprintln!("sketching a bank of {bank_size} texts…");
    let started = Instant::now();
    let sample = settings.sample;
    let sketches: Vec<(u64, TextSketch)> = (0..bank_size)
        .into_par_iter()
        .map(|i| {
            let text = match documents.get(i) {
                Some(doc) => doc.text(),
                None => filler(&generator, settings.seed, i),
            };
            (i as u64, TextSketch::of_text(&text, sample))
        })
        .collect();
    let sketch_seconds = started.elapsed().as_secs_f64();
    let rss_before = process_memory_bytes("VmRSS").unwrap_or(0);
    let started = Instant::now();
    let index = TextIndex::build(sketches.iter().map(|(id, s)| (*id, s)));
    let build_seconds = started.elapsed().as_secs_f64();
    drop(sketches);
    let index_bytes = index.memory_bytes();
    eprintln!(
        "bank built: {bank_size} texts in {build_seconds:.1} s, {} MB",
        index_bytes >> 20
    );

    let mut latencies = Vec::new();
    let mut rows = Vec::new();
    let mut rng = SplitMix(settings.seed ^ 0xed17);
    let mut per_kind: Vec<(VariantKind, Vec<Lookup>)> = Vec::new();
    let progress = indicatif::ProgressBar::new(
        (documents.len() * VariantKind::ALL.len() + settings.unrelated) as u64,
    )
    .with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} lookups, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for kind in VariantKind::ALL {
        let mut lookups = Vec::new();
        for (id, doc) in documents.iter().enumerate() {
            let Some(text) = generator.variant(doc, kind, &mut rng) else {
                continue;
            };
            lookups.push(look_up(&index, &text, Some(id as u64), settings.threshold));
            progress.inc(1);
        }
        per_kind.push((kind, lookups));
    }
    let mut unrelated_false = 0usize;
    let mut unrelated_max_containment: f64 = 0.0;
    let mut unrelated_max_resemblance: f64 = 0.0;
    for i in 0..settings.unrelated {
        let text = filler(&generator, settings.seed ^ 0x5eed_0000_0000, i);
        let lookup = look_up(&index, &text, None, settings.threshold);
        unrelated_false += usize::from(lookup.false_match);
        unrelated_max_containment = unrelated_max_containment.max(lookup.other_max.0);
        unrelated_max_resemblance = unrelated_max_resemblance.max(lookup.other_max.1);
        latencies.push((lookup.sketch_micros, lookup.search_micros));
        progress.inc(1);
    }
    progress.finish_and_clear();

    // MinHash's best case: the lowest resemblance no unrelated text reaches.
    let resemblance_threshold = unrelated_max_resemblance + 1e-9;
    eprintln!(
        "\n{:<20} {:>7} {:>9} {:>11} {:>14} {:>13}",
        "variant", "copies", "recall", "containment", "resemblance", "minhash-best"
    );
    for (kind, lookups) in &per_kind {
        let n = lookups.len().max(1) as f64;
        let found = lookups
            .iter()
            .filter(|l| l.target.is_some_and(|(c, _)| c >= settings.threshold))
            .count();
        let minhash = lookups
            .iter()
            .filter(|l| l.target.is_some_and(|(_, r)| r >= resemblance_threshold))
            .count();
        let median = |f: fn(&(f64, f64)) -> f64| {
            let mut values: Vec<f64> = lookups
                .iter()
                .map(|l| l.target.as_ref().map_or(0.0, f))
                .collect();
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied().unwrap_or(0.0)
        };
        let (median_containment, median_resemblance) = (median(|t| t.0), median(|t| t.1));
        let false_matches = lookups.iter().filter(|l| l.false_match).count();
        latencies.extend(lookups.iter().map(|l| (l.sketch_micros, l.search_micros)));
        eprintln!(
            "{:<20} {:>7} {:>9.4} {:>11.3} {:>14.3} {:>13.4}",
            kind.name(),
            lookups.len(),
            found as f64 / n,
            median_containment,
            median_resemblance,
            minhash as f64 / n
        );
        rows.push(json!({
            "variant": kind.name(),
            "copies": lookups.len(),
            "recall": found as f64 / n,
            "median_containment": median_containment,
            "median_resemblance": median_resemblance,
            "minhash_best_recall": minhash as f64 / n,
            "false_matches": false_matches,
        }));
    }
    let search = percentiles(latencies.iter().map(|l| l.1).collect());
    let total = percentiles(latencies.iter().map(|l| l.0 + l.1).collect());
    eprintln!(
        "\nunrelated: {unrelated_false} false matches in {} (max containment {unrelated_max_containment:.3}, max resemblance {unrelated_max_resemblance:.3})",
        settings.unrelated
    );
    eprintln!(
        "lookup in {bank_size} texts, one thread: search p50 {:.0} µs p99 {:.0} µs; sketch+search p50 {:.0} µs p99 {:.0} µs",
        search.0, search.1, total.0, total.1
    );
    let summary = json!({
        "bank_texts": bank_size,
        "documents": documents.len(),
        "threshold": settings.threshold,
        "bank_sample": sample,
        "variants": rows,
        "unrelated": settings.unrelated,
        "unrelated_false_matches": unrelated_false,
        "unrelated_max_containment": unrelated_max_containment,
        "unrelated_max_resemblance": unrelated_max_resemblance,
        "search_p50_us": search.0,
        "search_p99_us": search.1,
        "lookup_p50_us": total.0,
        "lookup_p99_us": total.1,
        "lookups_timed": latencies.len(),
        "sketch_bank_seconds": sketch_seconds,
        "index_build_seconds": build_seconds,
        "index_bytes": index_bytes,
        "rss_growth_bytes": process_memory_bytes("VmRSS").unwrap_or(0).saturating_sub(rss_before),
    });
    writeln!(out, "{summary}")?;
    Ok(())
}

/// The `i`-th generated text not in the corpus (bank filler or unrelated
/// queries, by seed).
fn filler(generator: &Generator, seed: u64, i: usize) -> String {
    generator
        .document(&mut SplitMix(seed ^ 0xf111 ^ ((i as u64) << 24)), i)
        .text()
}

fn look_up(index: &TextIndex, text: &str, target: Option<u64>, threshold: f64) -> Lookup {
    let started = Instant::now();
    let query = TextSketch::of_text(text, QUERY_SAMPLE);
    let sketched = Instant::now();
    let hits = index.search(&query, 0.0);
    let searched = Instant::now();
    let mut found = None;
    let mut false_match = false;
    let mut other_max: (f64, f64) = (0.0, 0.0);
    for hit in &hits {
        if Some(hit.id) == target {
            found = Some((hit.found.containment, hit.found.similarity));
        } else {
            false_match |= hit.found.containment >= threshold;
            other_max.0 = other_max.0.max(hit.found.containment);
            other_max.1 = other_max.1.max(hit.found.similarity);
        }
    }
    Lookup {
        target: found,
        false_match,
        other_max,
        sketch_micros: (sketched - started).as_secs_f64() * 1e6,
        search_micros: (searched - sketched).as_secs_f64() * 1e6,
    }
}

/// (p50, p99) of `values`.
fn percentiles(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        values
            .get(((values.len() as f64 * q) as usize).min(values.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    (at(0.5), at(0.99))
}

/// Every file under `dir`, one document each, in path order.
fn read_corpus(dir: &std::path::Path) -> anyhow::Result<Vec<Document>> {
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot list {}", dir.display()))?
        .into_iter()
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    paths.sort();
    let mut documents = Vec::new();
    for path in paths {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = vigil_media::decode_text(&bytes);
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            continue;
        }
        let arabic = text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c));
        documents.push(Document { words, arabic });
    }
    Ok(documents)
}
