//! The command line of the evaluations: clap types only.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// How well PDQ survives the edits adversaries make, on a corpus of
    /// benign photographs (build it with `scripts/eval-corpus`).
    ///
    /// Each image is edited 41 ways — JPEG quality 90/70/50/30; resize
    /// ×0.5, ×0.25, ×2; centre and off-centre crops of 5–50%; borders and
    /// letterboxing of 10/25%; a logo over 5/15/30% of the area; a caption
    /// bar; rotations by 90/180/270 and a mirror; tilts of 3° and 10°;
    /// brightness, contrast and gamma shifts; greyscale; blur; noise; a
    /// screenshot of it inside a larger canvas — and each copy's PDQ is
    /// compared with the original's. Reports, per edit, the recall at
    /// --threshold and the distance distribution; the false-positive rate
    /// over every distinct pair of corpus images; and a threshold sweep.
    /// A table on stderr, one JSON object on stdout. Build with --release:
    ///
    ///   scripts/eval-corpus ~/.cache/vigil/eval-corpus
    ///
    ///   target/release/vigil eval images --corpus ~/.cache/vigil/eval-corpus/images
    Images(EvalImagesArgs),
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
    #[command(flatten)]
    pub(crate) workers: crate::cli::WorkerArgs,
    /// No progress bar.
    #[arg(long)]
    pub(crate) no_progress: bool,
}
