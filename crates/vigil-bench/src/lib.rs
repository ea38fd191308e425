//! Vigil's benchmark and evaluation harnesses: what `vigil bench …` and
//! `vigil eval …` run.
//!
//! The benchmarks time the pipeline: decoding and PDQ beside the PyPI
//! `pdqhash` package ([`bench_hash`]), the Hamming index against a
//! brute-force scan ([`bench_index`]), importing into a store and opening
//! the engine over it ([`bench_import`]), vPDQ hashing and matching
//! ([`bench_video`]), the `text` signal ([`bench_text`]), and the monitor
//! against `vigil-sim`'s simulated ecosystem on loopback
//! ([`bench_monitor`]). The evaluations measure what the signals catch:
//! PDQ, plainly and with each lookup defence, under 41 image edits
//! ([`eval_images`]), and vPDQ under 12 FFmpeg edits ([`eval_videos`]).
//!
//! Each harness takes a plain settings struct (the `vigil` binary resolves
//! its flags into it; nothing here knows the command line), writes its
//! results as JSON to the writer it is given, and its human table and
//! progress to stderr. The image edits and the SVG chart of the evaluation
//! live here too: the product crates never need them, and this is the only
//! crate that depends on `vigil-sim`.
//!
//! Errors are [`anyhow::Error`]: a harness is a report-producing tool whose
//! failures are only ever printed, with the chain of context (which file,
//! which step) that led to them. No caller acts on a kind of failure, so a
//! typed enum would only wrap every other crate's error. A measurement that
//! comes out badly is a result, not an error: see [`Checks`].
#![deny(missing_docs)]

mod bench;
mod eval;
mod support;

pub use bench::hash::{BenchHashSettings, run as bench_hash};
pub use bench::images::parse_size;
pub use bench::import::{BenchImportSettings, OpenStore, run as bench_import};
pub use bench::index::{BenchIndexSettings, run as bench_index};
pub use bench::monitor::{BenchMonitorSettings, run as bench_monitor};
pub use bench::text::{BenchTextSettings, run as bench_text};
pub use bench::video::{BenchVideoSettings, run as bench_video};
pub use eval::images::{EvalImagesSettings, run as eval_images};
pub use eval::videos::{EvalVideosSettings, run as eval_videos};

/// Whether a harness's own correctness checks held: the index answered
/// exactly as a brute-force scan and saw fresh inserts ([`bench_index`]),
/// the first imported content was found ([`bench_import`]). The figures are
/// reported either way; the `vigil` binary exits 1 when a check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// Every check held.
    Passed,
    /// Some check failed (the report says which).
    Failed,
}

impl Checks {
    /// `Passed` when `held`.
    fn from_held(held: bool) -> Self {
        if held { Self::Passed } else { Self::Failed }
    }
}
