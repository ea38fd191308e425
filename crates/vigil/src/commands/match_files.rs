//! `vigil match`: hash files and look them up in the banks.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;
use vigil_engine::LookupOptions;
use vigil_media::HashOptions;

use super::hash::hash_files;
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
/// `{"path", "media", "signals": {"pdq", "md5", "sha256"}, "pdq_quality", "matches": [{"bank", "content_id", "signal_type", "distance", "labels"}]}`,
/// or `{"path", "error"}`. A PDQ of quality under 50 is not looked up (its
/// bits are noise); exact digests always are. Videos have `vpdq` and
/// `video_md5` signals, no `pdq_quality`, and their vPDQ matches carry
/// `query_pct` and `compared_pct` (`distance` is the percent of the video's
/// frames not found). Text files, web pages and PDFs have `md5`, `sha256`
/// and `text`; text matches carry `containment` and `similarity` (0–1;
/// `distance` is the percent of the banked text not found), and matches of
/// a PDF's embedded images name the image in `part`. With `--defend`,
/// photos found only through a defence carry `variant` (the query's:
/// `rot90`, `trimmed`, `br60`, …) and `banked_variant` (the bank's: `orig`,
/// `c80`, `tl90`, …).
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
    let hashed = hash_files(&settings.paths, &settings.options);
    let mut failed = false;
    for (path, result) in hashed {
        let hashed = match result {
            Ok(hashed) => hashed,
            Err(error) => {
                failed = true;
                writeln!(out, "{}", json!({ "path": path, "error": error }))?;
                continue;
            }
        };
        let signals = hashed.signals;
        let mut matches: Vec<serde_json::Value> = engine
            .with_labels(engine.lookup_all(&signals, &lookup)?)?
            .into_iter()
            .map(|m| json!(m))
            .collect();
        // With --defend, a photo's variants are looked up too: contents
        // already found as they are keep that match, the others name the
        // variants that found them.
        if hashed.query_variants.len() > 1 {
            let found_plain: Vec<i64> = matches
                .iter()
                .filter_map(|m| m["content_id"].as_i64())
                .collect();
            for defended in engine.lookup_defended(&hashed.query_variants, &lookup)? {
                if found_plain.contains(&defended.found.content_id) {
                    continue;
                }
                for found in engine.with_labels(vec![defended.found])? {
                    let mut found = json!(found);
                    found["variant"] = json!(defended.query_variant);
                    found["banked_variant"] = json!(defended.banked_variant);
                    matches.push(found);
                }
            }
        }
        // A PDF's embedded images are looked up too; their matches name them.
        for part in &hashed.parts {
            for found in engine.with_labels(engine.lookup_all(&part.signals, &lookup)?)? {
                let mut found = json!(found);
                found["part"] = json!(part.label);
                matches.push(found);
            }
        }
        let mut line = json!({
            "path": path,
            "media": hashed.media,
            "signals": signals.compacted(),
            "matches": matches,
        });
        if let Some(quality) = hashed.pdq_quality {
            line["pdq_quality"] = json!(quality);
        }
        writeln!(out, "{line}")?;
    }
    Ok(if failed {
        ExitStatus::InputsFailed
    } else {
        ExitStatus::Success
    })
}
