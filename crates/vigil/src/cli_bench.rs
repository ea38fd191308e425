//! The command line of the benchmarks: clap types only.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::WorkerArgs;
use crate::cli_monitor::BenchMonitorArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Time decoding and PDQ hashing of JPEGs, one core and all cores, side
    /// by side with the PyPI `pdqhash` package decoding with Pillow.
    ///
    /// Given a DIR, it times the images in it; otherwise it generates benign
    /// synthetic JPEGs (quality 90) of each --sizes entry in a temporary
    /// folder. Results are JSON Lines on
    /// stdout (one per implementation, mode and thread count, then one
    /// comparison per size) and a table on stderr. Build with --release for
    /// meaningful figures:
    ///
    ///   cargo run --release -p vigil -- bench hash
    ///
    /// The Python side needs `pip install pdqhash pillow numpy`; without it
    /// the comparison is reported as unavailable.
    Hash(BenchHashArgs),
    /// Time the PDQ index: build, memory, queries per second and latency on
    /// one and all threads, and recall against a brute-force scan.
    ///
    /// The database is synthetic: uniform random 256-bit codes, or with
    /// --clustered, clusters of near-duplicates (variants of one picture, as
    /// real banks hold) whose shared substrings make some buckets large.
    /// Half of the queries are planted near-duplicates (0 to RADIUS bits
    /// flipped from a stored code), half are random. Prints one JSON object.
    /// Build with --release:
    ///
    ///   cargo run --release -p vigil -- bench index --size 10M --radius 31
    Index(BenchIndexArgs),
    /// Time importing PDQ signals with labels into a fresh store, then
    /// opening the engine over it (store → indexes). Prints one JSON object.
    ///
    ///   cargo run --release -p vigil -- bench import --size 1M
    ///
    /// Uses a temporary SQLite store unless --database names a PostgreSQL
    /// database (whose banks it then adds to).
    Import(BenchImportArgs),
    /// Time vPDQ: hashing every frame of each given video (frames per
    /// second of wall time and per CPU second, FFmpeg's decoding included),
    /// then matching long videos against a bank of synthetic ones through
    /// the frame index (latency, planted copies found, false matches).
    ///
    ///   cargo run --release -p vigil -- bench video ../shared/vectors/vpdq/videos --bank-videos 10000
    Video(BenchVideoArgs),
    /// Measure the `text` signal: recall per kind of edit, false matches
    /// among unrelated texts, and lookup time in a large bank.
    ///
    /// Each document of the corpus (a folder of text files, one document
    /// each; by default 1,000 generated Arabic and English documents of
    /// 40–400 neutral words) is banked with generated filler up to --bank
    /// texts. Edited copies are looked up — 5/10/20/40% of words inserted,
    /// deleted or replaced; diacritics removed and added (Arabic); letters
    /// swapped for look-alikes; punctuation and spacing changed; the first
    /// or second half only; pasted into unrelated text three times its
    /// length — then --unrelated generated texts. Reports recall per kind at
    /// --threshold, false matches, the recall MinHash resemblance could reach
    /// at best, and lookup latency on one thread. A table on stderr, one JSON
    /// object on stdout. Build with --release:
    ///
    ///   cargo run --release -p vigil -- bench text
    Text(BenchTextArgs),
    /// Run the monitor against a simulated ecosystem on loopback and time
    /// it: beacon sources (read every --interval) post --posts posts with
    /// --links links over --duration, to lockers, mirrors and shorteners
    /// serving the reference images, a --banked-share of them banked.
    /// Reports time from a link's appearance to its alert (median, p95),
    /// fetched links per second and peak memory, as one JSON object. Runs
    /// in real time; build with --release:
    ///
    ///   cargo run --release -p vigil -- bench monitor
    Monitor(BenchMonitorArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BenchTextArgs {
    /// A folder of text files to use as the corpus instead of generated
    /// documents.
    #[arg(value_name = "DIR")]
    pub(crate) corpus: Option<PathBuf>,
    /// Documents to generate when no corpus is given.
    #[arg(long, default_value = "1000", value_parser = parse_count)]
    pub(crate) documents: usize,
    /// Unrelated texts looked up to count false matches.
    #[arg(long, default_value = "100k", value_parser = parse_count)]
    pub(crate) unrelated: usize,
    /// Texts in the bank: the documents plus generated filler.
    #[arg(long, default_value = "1M", value_parser = parse_count)]
    pub(crate) bank: usize,
    /// Share of a banked text that must be found in a query (0–1).
    #[arg(long, default_value_t = vigil_signal::text::DEFAULT_CONTAINMENT)]
    pub(crate) threshold: f64,
    /// Shingles sampled per banked text.
    #[arg(long, default_value_t = vigil_signal::text::BANK_SAMPLE)]
    pub(crate) sample: usize,
    /// Seed of the generated texts and edits.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

#[derive(Debug, Args)]
pub(crate) struct BenchVideoArgs {
    /// Videos or folders of videos to hash.
    #[arg(value_name = "PATH")]
    pub(crate) videos: Vec<PathBuf>,
    /// Synthetic videos in the bank (0: skip matching).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) bank_videos: usize,
    /// Frames per video, one per second (600: ten minutes).
    #[arg(long, default_value_t = 600)]
    pub(crate) frames: usize,
    /// Copies of banked videos to look up (as many unrelated ones too).
    #[arg(long, default_value_t = 20)]
    pub(crate) queries: usize,
}

#[derive(Debug, Args)]
pub(crate) struct BenchImportArgs {
    /// Contents to import (suffixes k and M allowed).
    #[arg(long, default_value = "1M", value_parser = parse_count)]
    pub(crate) size: usize,
}

#[derive(Debug, Args)]
pub(crate) struct BenchIndexArgs {
    /// Codes in the index (suffixes k and M allowed: 10M).
    #[arg(long, default_value = "1M", value_parser = parse_count)]
    pub(crate) size: usize,

    /// Queries to time (each pass runs them all; passes repeat for at least
    /// a second).
    #[arg(long, default_value = "2000", value_parser = parse_count)]
    pub(crate) queries: usize,

    /// Search radius (PDQ's match threshold is 31).
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub(crate) radius: u32,

    /// Draw the database from clusters of near-duplicates.
    #[arg(long)]
    pub(crate) clustered: bool,

    /// Queries checked against a brute-force scan for recall.
    #[arg(long, default_value = "2000", value_parser = parse_count)]
    pub(crate) recall_queries: usize,

    /// Seed for the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,

    /// Also time saving the index to this file and loading it back (the
    /// file is left in place).
    #[arg(long, value_name = "FILE")]
    pub(crate) snapshot: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) workers: WorkerArgs,
}

/// Parses counts such as `2000`, `10_000`, `500k` or `10M`.
fn parse_count(text: &str) -> Result<usize, String> {
    let cleaned = text.trim().replace('_', "");
    let (digits, scale) = match cleaned.chars().last() {
        Some('k' | 'K') => (&cleaned[..cleaned.len() - 1], 1_000),
        Some('m' | 'M') => (&cleaned[..cleaned.len() - 1], 1_000_000),
        _ => (cleaned.as_str(), 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?} is not a count (examples: 2000, 500k, 10M)"))
}

#[derive(Debug, Args)]
pub(crate) struct BenchHashArgs {
    /// Time the images in this folder instead of generated ones.
    #[arg(value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,

    /// Image sizes to generate, as WIDTHxHEIGHT.
    #[arg(long, value_delimiter = ',', default_value = "1024x768,4000x3000")]
    pub(crate) sizes: Vec<String>,

    /// Images to generate per size [default: 40 up to 1 megapixel, else 10].
    #[arg(long)]
    pub(crate) count: Option<usize>,

    /// Timed passes over the images; the fastest counts.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) rounds: u32,

    /// Python interpreter with `pdqhash` and Pillow installed.
    #[arg(long, default_value = "python3")]
    pub(crate) python: String,

    /// Skip the pdqhash comparison.
    #[arg(long)]
    pub(crate) no_reference: bool,

    #[command(flatten)]
    pub(crate) workers: WorkerArgs,
}
