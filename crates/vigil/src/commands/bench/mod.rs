//! `vigil bench …`: the harnesses of `vigil-bench`, over settings resolved
//! in [`super::run`], with their results on stdout.

use std::io::Write;
use std::path::Path;

use vigil_bench::{
    BenchHashSettings, BenchImportSettings, BenchIndexSettings, BenchMonitorSettings,
    BenchTextSettings, BenchVideoSettings, Checks,
};

use super::store_access::StoreSettings;
use crate::ExitStatus;

/// `vigil bench hash`.
pub(crate) fn hash(settings: &BenchHashSettings, out: impl Write) -> anyhow::Result<ExitStatus> {
    vigil_bench::bench_hash(settings, out)?;
    Ok(ExitStatus::Success)
}

/// `vigil bench index`.
pub(crate) fn index(settings: &BenchIndexSettings, out: impl Write) -> anyhow::Result<ExitStatus> {
    vigil_bench::bench_index(settings, out).map(status)
}

/// `vigil bench import`: into a SQLite store in a temporary folder of the
/// benchmark's, or into the PostgreSQL database `--database` names.
pub(crate) fn import(
    store: &StoreSettings,
    settings: &BenchImportSettings,
    out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let open = |data_dir: &Path| {
        StoreSettings {
            data_dir: data_dir.to_owned(),
            database: store.database.clone(),
        }
        .open()
    };
    vigil_bench::bench_import(settings, &open, out).map(status)
}

/// `vigil bench video`.
pub(crate) fn video(settings: &BenchVideoSettings, out: impl Write) -> anyhow::Result<ExitStatus> {
    vigil_bench::bench_video(settings, out)?;
    Ok(ExitStatus::Success)
}

/// `vigil bench text` and `vigil eval text`.
pub(crate) fn text(settings: &BenchTextSettings, out: impl Write) -> anyhow::Result<ExitStatus> {
    vigil_bench::bench_text(settings, out)?;
    Ok(ExitStatus::Success)
}

/// `vigil bench monitor`.
pub(crate) fn monitor(
    settings: &BenchMonitorSettings,
    out: impl Write,
) -> anyhow::Result<ExitStatus> {
    vigil_bench::bench_monitor(settings, out)?;
    Ok(ExitStatus::Success)
}

/// A failed self-check is reported like a failed input: exit status 1.
fn status(checks: Checks) -> ExitStatus {
    match checks {
        Checks::Passed => ExitStatus::Success,
        Checks::Failed => ExitStatus::InputsFailed,
    }
}
