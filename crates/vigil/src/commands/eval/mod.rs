//! `vigil eval …`: the evaluations of `vigil-bench`, over settings resolved
//! in [`super::run`], with their reports on stdout. `vigil eval text` is
//! `vigil bench text` ([`super::bench::text`]).

use std::io::Write;

use vigil_bench::{EvalImagesSettings, EvalVideosSettings};

use crate::ExitStatus;

/// `vigil eval images`.
pub(crate) fn images(settings: &EvalImagesSettings, out: impl Write) -> anyhow::Result<ExitStatus> {
    vigil_bench::eval_images(settings, out)?;
    Ok(ExitStatus::Success)
}

/// `vigil eval videos`.
pub(crate) fn videos(settings: &EvalVideosSettings, out: impl Write) -> anyhow::Result<ExitStatus> {
    vigil_bench::eval_videos(settings, out)?;
    Ok(ExitStatus::Success)
}
