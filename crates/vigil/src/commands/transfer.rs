//! `vigil import` and `vigil export`.

use std::io::{BufReader, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use vigil_engine::transfer::{self, Format};

use super::store_access::{ACTOR, StoreSettings, bank_name};
use crate::ExitStatus;

/// Imports `file` into `bank` in one transaction, in the `chosen` format or
/// else the one its name or first line shows.
pub(crate) fn import(
    store: &StoreSettings,
    bank: &str,
    file: &PathBuf,
    chosen: Option<Format>,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let bank = bank_name(bank)?;
    let file_format = match chosen {
        Some(chosen) => chosen,
        None => match Format::from_file_name(&file.to_string_lossy()) {
            Some(by_name) => by_name,
            None => sniff(file)?,
        },
    };
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let contents = transfer::read(BufReader::new(input), file_format)
        .with_context(|| format!("nothing imported from {}", file.display()))?;
    let store = store.open()?;
    let (mut first, mut last) = (None, None);
    let count = transfer::import(&*store, &bank, contents, ACTOR, &mut |id| {
        first.get_or_insert(id);
        last = Some(id);
    })
    .with_context(|| format!("nothing imported from {}", file.display()))?;
    writeln!(
        out,
        "{}",
        json!({ "bank": bank, "imported": count, "first_id": first, "last_id": last })
    )?;
    Ok(ExitStatus::Success)
}

/// The format of `file` from its first non-empty line.
fn sniff(file: &PathBuf) -> anyhow::Result<Format> {
    use std::io::BufRead;
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let first = BufReader::new(input)
        .lines()
        .map_while(Result::ok)
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    Format::sniff(&first).with_context(|| {
        format!(
            "cannot tell the format of {}: pass --format jsonl, csv or local-file",
            file.display()
        )
    })
}

/// Streams every content of `bank` to `out`.
pub(crate) fn export(
    store: &StoreSettings,
    bank: &str,
    format: Format,
    out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let bank = bank_name(bank)?;
    let store = store.open()?;
    if store.bank(&bank)?.is_none() {
        anyhow::bail!("bank {bank} not found");
    }
    transfer::export(&*store, &bank, format, out)?;
    Ok(ExitStatus::Success)
}
