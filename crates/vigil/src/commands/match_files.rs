//! `vigil match`: hash files and look them up in the banks.

use std::io::Write;
use std::path::PathBuf;

use rayon::prelude::*;
use serde_json::json;
use vigil_engine::LookupOptions;
use vigil_media::HashOptions;

use super::hash::{hash_path, list_files};
use super::store_access::{StoreSettings, bank_name};
use crate::ExitStatus;

/// Resolved settings for `vigil match`.
#[derive(Debug, Clone)]
pub(crate) struct MatchSettings {
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) lookup: LookupOptions,
    pub(crate) banks: Vec<String>,
    pub(crate) options: HashOptions,
}

/// One JSON line per file:
/// `{"path", "signals": {"pdq", "md5", "sha256"}, "pdq_quality", "matches": [{"bank", "content_id", "signal_type", "distance", "labels"}]}`,
/// or `{"path", "error"}`. A PDQ of quality under 50 is not looked up (its
/// bits are noise); exact digests always are.
pub(crate) fn run(
    store: &StoreSettings,
    settings: &MatchSettings,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let mut lookup = settings.lookup.clone();
    if !settings.banks.is_empty() {
        lookup.banks = Some(
            settings
                .banks
                .iter()
                .map(|b| bank_name(b))
                .collect::<anyhow::Result<_>>()?,
        );
    }
    let engine = store.engine()?;
    let hashed: Vec<_> = list_files(&settings.paths)
        .into_par_iter()
        .map(|file| match file {
            Ok(path) => {
                let result = hash_path(&path, &settings.options);
                (
                    path.to_string_lossy().into_owned(),
                    result.map_err(|f| f.error.to_string()),
                )
            }
            Err((path, error)) => (path, Err(format!("cannot read the file: {error}"))),
        })
        .collect();
    let mut failed = false;
    for (path, result) in hashed {
        let (_, media) = match result {
            Ok(hashed) => hashed,
            Err(error) => {
                failed = true;
                writeln!(out, "{}", json!({ "path": path, "error": error }))?;
                continue;
            }
        };
        let signals = vigil_engine::signals_of(&media)?;
        let mut matches = Vec::new();
        for found in engine.lookup_all(&signals, &lookup)? {
            let labels = engine
                .store()
                .content(found.content_id)?
                .map(|c| c.fields.labels)
                .unwrap_or_default();
            matches.push(json!({
                "bank": found.bank,
                "content_id": found.content_id,
                "signal_type": found.signal_type,
                "distance": found.distance,
                "labels": labels,
            }));
        }
        let line = json!({
            "path": path,
            "signals": signals,
            "pdq_quality": media.pdq.quality,
            "matches": matches,
        });
        writeln!(out, "{line}")?;
    }
    Ok(if failed {
        ExitStatus::InputsFailed
    } else {
        ExitStatus::Success
    })
}
