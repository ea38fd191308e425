//! `vigil bench import`: import speed and engine start-up over a store.

use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use vigil_engine::transfer::{self, Format};
use vigil_engine::{Engine, LookupOptions};
use vigil_signal::{PdqHash, SignalValue};
use vigil_store::{BankName, Store};

use crate::Checks;
use crate::support::{SplitMix, process_memory_bytes};

/// Who the audit log records for the benchmark's writes: the command line,
/// as for `vigil import`.
const ACTOR: &str = "cli";

/// Settings of `vigil bench import`.
#[derive(Debug, Clone)]
pub struct BenchImportSettings {
    /// Contents to import.
    pub size: usize,
    /// The store is PostgreSQL, shared with other data (the benchmark's
    /// bank is deleted afterwards), rather than SQLite in a data directory
    /// of the benchmark's own.
    pub postgres: bool,
}

/// Opens the store the benchmark imports into, given a fresh data
/// directory for an embedded store (a shared store ignores it). Each call
/// opens it anew, as a process starting up would.
pub type OpenStore<'a> = dyn Fn(&Path) -> anyhow::Result<Arc<dyn Store>> + 'a;

/// Writes `size` synthetic contents to a JSON Lines file, imports it, then
/// times opening the engine over the store and looks the first content up,
/// writing one JSON object to `out`. [`Checks::Failed`] when the first
/// content is not found.
pub fn run(
    settings: &BenchImportSettings,
    open: &OpenStore<'_>,
    mut out: impl Write,
) -> anyhow::Result<Checks> {
    let size = settings.size;
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    let data_dir = scratch.path().join("data");
    let file = scratch.path().join("import.jsonl");
    eprintln!("writing {size} contents to {}…", file.display());
    let mut rng = SplitMix(7);
    let mut first_pdq = None;
    {
        let mut writer = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for i in 0..size {
            let pdq = PdqHash([rng.next(), rng.next(), rng.next(), rng.next()]);
            first_pdq.get_or_insert(pdq);
            let tier = ["threat-to-life", "crisis", "designated", "promotional"][i % 4];
            writeln!(
                writer,
                "{{\"signals\":{{\"pdq\":\"{pdq}\"}},\"labels\":{{\"entity\":\"Example Group {}\",\"behaviour\":\"glorification\",\"tier\":\"{tier}\",\"tags\":[\"synthetic\"]}},\"metadata\":{{\"content_id\":\"item-{i}\"}}}}",
                i % 50
            )?;
        }
        writer.flush()?;
    }
    let bytes = std::fs::metadata(&file)?.len();
    let target = open(&data_dir)?;
    let bank: BankName = format!("BENCH_IMPORT_{}", std::process::id()).parse()?;
    target.create_bank(&bank, 1.0, ACTOR)?;

    eprintln!("importing…");
    let started = Instant::now();
    let mut first_id = None;
    let contents = transfer::read(
        BufReader::new(std::fs::File::open(&file)?),
        Format::JsonLines,
    )?;
    transfer::import(&*target, &bank, contents, ACTOR, &mut |id| {
        first_id.get_or_insert(id);
    })?;
    let import_seconds = started.elapsed().as_secs_f64();
    drop(target);

    eprintln!("opening the engine…");
    let rss_before = process_memory_bytes("VmRSS");
    let started = Instant::now();
    let engine = Engine::open(open(&data_dir)?)?;
    let start_seconds = started.elapsed().as_secs_f64();
    let found = first_pdq
        .map(|pdq| engine.lookup(&SignalValue::Pdq(pdq), &LookupOptions::default()))
        .transpose()?
        .is_some_and(|matches| matches.iter().any(|m| Some(m.content_id) == first_id));
    let indexed = engine.indexed();
    if settings.postgres {
        engine.delete_bank(&bank, ACTOR)?;
    }
    let report = json!({
        "contents": size,
        "store": if settings.postgres { "postgres" } else { "sqlite" },
        "file_bytes": bytes,
        "import_seconds": import_seconds,
        "imports_per_second": size as f64 / import_seconds,
        "engine_start_seconds": start_seconds,
        "indexed": indexed,
        "first_content_found": found,
        "rss_growth_bytes": process_memory_bytes("VmRSS").zip(rss_before).map(|(a, b)| a.saturating_sub(b)),
        "debug_build": cfg!(debug_assertions),
    });
    writeln!(out, "{report}")?;
    Ok(Checks::from_held(found))
}
