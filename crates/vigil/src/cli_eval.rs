//! The command line of the evaluations: clap types only.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// How well PDQ, plainly and with each of Vigil's defences, survives
    /// the edits adversaries make, on a corpus of benign photographs (build
    /// it with `scripts/eval-corpus`).
    ///
    /// Each image is edited 41 ways — JPEG quality 90/70/50/30; resize
    /// ×0.5, ×0.25, ×2; centre and off-centre crops of 5–50%; borders and
    /// letterboxing of 10/25%; a logo over 5/15/30% of the area; a caption
    /// bar; rotations by 90/180/270 and a mirror; tilts of 3° and 10°;
    /// brightness, contrast and gamma shifts; greyscale; blur; noise; a
    /// screenshot of it inside a larger canvas — and each copy's PDQ is
    /// compared with the original's. Each copy is looked up plainly and
    /// with each defence: `dihedral_dct` (the eight rotation/flip hashes
    /// from one DCT, as Meta's reference), `dihedral` (the rotated and
    /// mirrored pixels hashed), `trim` (uniform borders and letterbox bars
    /// trimmed), `crops` (the bank's central and corner crops, and the
    /// query's corner regions for overlays), and `all`.
    ///
    /// Reports, per edit and config, the recall at --threshold and the
    /// distance distribution; per config, the false-positive rate over
    /// every distinct pair of corpus images (both ways round), a threshold
    /// sweep and the hashing cost. A table on stderr, one JSON object on
    /// stdout, optionally an SVG chart and per-image details. Build with
    /// --release:
    ///
    ///   scripts/eval-corpus ~/.cache/vigil/eval-corpus
    ///
    ///   target/release/vigil eval images --corpus ~/.cache/vigil/eval-corpus/images
    Images(EvalImagesArgs),
    /// How well vPDQ survives the edits made to videos, on a corpus of
    /// benign sample videos (`scripts/eval-corpus` puts OpenCV's in
    /// DIR/videos). Needs FFmpeg.
    ///
    /// Each video is edited 12 ways with FFmpeg — re-encoded at CRF 28 and
    /// 40, halved, cropped by 10 and 20%, letterboxed, a logo over 15%,
    /// mirrored, its middle half kept, played 10% faster and slower, and
    /// followed by as long again of unrelated footage — and each copy is
    /// hashed as `vigil match` hashes videos (a frame a second) and compared
    /// with the original. Reports per edit the recall under `vigil match`'s
    /// default (80% of the copy's frames found) and under the "banked video
    /// inside the upload" rule (80% of the original's frames found, as
    /// `--vpdq-compared-pct 80`), the median percentages, and false
    /// matches over every distinct pair of corpus videos. A table on
    /// stderr, one JSON object on stdout.
    ///
    ///   target/release/vigil eval videos --corpus ~/.cache/vigil/eval-corpus/videos
    Videos(EvalVideosArgs),
    /// How well the `text` signal survives edits to statements: the same
    /// measurement as `vigil bench text` (recall per kind of edit, false
    /// matches among unrelated texts, lookup time), under the family name.
    ///
    ///   target/release/vigil eval text
    Text(crate::cli_bench::BenchTextArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EvalVideosArgs {
    /// The corpus: a folder of videos (searched recursively).
    #[arg(long, value_name = "DIR")]
    pub(crate) corpus: PathBuf,
    /// Evaluate only the first N videos (sorted by path).
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Groups of related videos as `group<TAB>path` lines; their pairs are
    /// reported apart. Default: `related.tsv` in the corpus, if any.
    #[arg(long, value_name = "FILE")]
    pub(crate) related: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) workers: crate::cli::WorkerArgs,
    /// No progress bar.
    #[arg(long)]
    pub(crate) no_progress: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EvalImagesArgs {
    /// The corpus: a folder of JPEG and PNG images (searched recursively).
    #[arg(long, value_name = "DIR")]
    pub(crate) corpus: PathBuf,
    /// The PDQ distance that counts as a match.
    #[arg(long, default_value_t = 31)]
    pub(crate) threshold: u32,
    /// Images are scaled so their longer side is at most this before the
    /// edits (PDQ works on 64×64 anyway).
    #[arg(long, default_value_t = 1024)]
    pub(crate) max_side: u32,
    /// Evaluate only the first N images (sorted by path).
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Also draw the figures as an SVG chart: recall per edit and config,
    /// and the ROC-style threshold sweep.
    #[arg(long, value_name = "FILE")]
    pub(crate) chart: Option<PathBuf>,
    /// Also write, as JSON Lines, every copy's distance under each config
    /// and every pair of corpus images some config finds within the
    /// threshold (to study misses and near-duplicates).
    #[arg(long, value_name = "FILE")]
    pub(crate) details: Option<PathBuf>,
    /// Groups of related images — frames of one video, one picture at
    /// several resolutions, views of one scene — as `group<TAB>path`
    /// lines (paths relative to the corpus). Their pairs are reported apart
    /// from the false positives between independent pictures. Default:
    /// `related.tsv` in the corpus (written by `scripts/eval-corpus`).
    #[arg(long, value_name = "FILE")]
    pub(crate) related: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) workers: crate::cli::WorkerArgs,
    /// No progress bar.
    #[arg(long)]
    pub(crate) no_progress: bool,
}
