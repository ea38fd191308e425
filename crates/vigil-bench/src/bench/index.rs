//! `vigil bench index`: the PDQ index at scale, against a brute-force scan.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use rayon::prelude::*;
use serde_json::json;
use vigil_index::{Code256, HammingIndex, Hit};

use crate::Checks;
use crate::support::{SplitMix, process_memory_bytes};

/// Settings of `vigil bench index`.
#[derive(Debug, Clone)]
pub struct BenchIndexSettings {
    /// Codes in the index.
    pub size: usize,
    /// Queries timed (half planted near-duplicates, half random).
    pub queries: usize,
    /// Search radius.
    pub radius: u32,
    /// Draw the database from clusters of near-duplicates.
    pub clustered: bool,
    /// Queries checked against a brute-force scan.
    pub recall_queries: usize,
    /// Seed of the synthetic data.
    pub seed: u64,
    /// Also time saving the index to this file and loading it back.
    pub snapshot: Option<std::path::PathBuf>,
    /// Threads of the all-threads runs.
    pub threads: usize,
}

/// Synthetic codes from the benchmark generator.
trait CodeSource {
    fn code(&mut self) -> Code256;
    fn near(&mut self, code: Code256, flips: u32) -> Code256;
}

impl CodeSource for SplitMix {
    fn code(&mut self) -> Code256 {
        Code256([self.next(), self.next(), self.next(), self.next()])
    }

    /// `code` with `flips` random bits flipped (a bit may flip twice, so up
    /// to `flips` bits differ).
    fn near(&mut self, code: Code256, flips: u32) -> Code256 {
        (0..flips).fold(code, |c, _| c.with_bit_flipped((self.next() % 256) as u32))
    }
}

/// The database: uniform codes, or clusters whose sizes follow a heavy tail
/// (most small, a few with hundreds of variants) and whose members differ
/// from their centre by up to 24 bits.
fn database(size: usize, clustered: bool, rng: &mut SplitMix) -> Vec<Code256> {
    if !clustered {
        return (0..size).map(|_| rng.code()).collect();
    }
    let mut codes = Vec::with_capacity(size);
    while codes.len() < size {
        let centre = rng.code();
        // Pareto-like: cluster size = 1 / u² capped at 1000 (mean ≈ 30).
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let members = ((1.0 / (u * u + 1e-6)) as usize)
            .clamp(1, 1000)
            .min(size - codes.len());
        for _ in 0..members {
            let flips = (rng.next() % 25) as u32;
            codes.push(rng.near(centre, flips));
        }
    }
    codes
}

/// Builds the index, times queries on one and all threads, checks recall
/// against a brute-force scan, inserts and merges, and writes one JSON
/// object to `out`. [`Checks::Failed`] when an answer differed from the
/// scan's or an insert was not found.
pub fn run(settings: &BenchIndexSettings, mut out: impl Write) -> anyhow::Result<Checks> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .context("cannot start worker threads")?;
    let mut rng = SplitMix(settings.seed);
    eprintln!("generating {} codes…", settings.size);
    let codes = database(settings.size, settings.clustered, &mut rng);
    let queries: Vec<Code256> = (0..settings.queries)
        .map(|i| {
            if i % 2 == 0 && !codes.is_empty() {
                let stored = codes[(rng.next() % codes.len() as u64) as usize];
                let flips = (rng.next() % (u64::from(settings.radius) + 1)) as u32;
                rng.near(stored, flips)
            } else {
                rng.code()
            }
        })
        .collect();

    eprintln!("building…");
    let rss_before = process_memory_bytes("VmRSS");
    let started = Instant::now();
    let mut index = pool
        .install(|| HammingIndex::build(codes.into_iter().enumerate().map(|(i, c)| (i as u64, c))));
    let build_seconds = started.elapsed().as_secs_f64();
    let rss_after = process_memory_bytes("VmRSS");
    let memory_bytes = index.memory_bytes();

    eprintln!("querying on 1 thread…");
    let radius = settings.radius;
    let mut latencies = Vec::with_capacity(queries.len());
    let mut hits = Vec::new();
    let mut total_hits = 0usize;
    let (mut passes, started) = (0u32, Instant::now());
    while passes == 0 || started.elapsed() < Duration::from_secs(1) {
        latencies.clear();
        total_hits = 0;
        for query in &queries {
            let t = Instant::now();
            index.search_into(query, radius, &mut hits);
            latencies.push(t.elapsed());
            total_hits += hits.len();
        }
        passes += 1;
    }
    let qps_1_thread = (queries.len() as f64 * f64::from(passes)) / started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile =
        |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;

    eprintln!("querying on {} threads…", settings.threads);
    let (mut passes, started) = (0u32, Instant::now());
    while passes == 0 || started.elapsed() < Duration::from_secs(1) {
        pool.install(|| {
            queries.par_iter().for_each_init(Vec::new, |hits, query| {
                index.search_into(query, radius, hits);
            });
        });
        passes += 1;
    }
    let qps_all_threads =
        (queries.len() as f64 * f64::from(passes)) / started.elapsed().as_secs_f64();

    eprintln!("checking recall against a brute-force scan…");
    let checked = &queries[..settings.recall_queries.min(queries.len())];
    let (expected, found, exact) = pool.install(|| {
        checked
            .par_iter()
            .map(|query| {
                let mut truth: Vec<Hit> = index
                    .entries()
                    .map(|(id, code)| Hit {
                        id,
                        distance: code.distance(query),
                    })
                    .filter(|hit| hit.distance <= radius)
                    .collect();
                truth.sort_unstable_by_key(|hit| (hit.distance, hit.id));
                let ours = index.search(query, radius);
                let found = truth
                    .iter()
                    .filter(|hit| {
                        ours.binary_search_by_key(&(hit.distance, hit.id), |h| (h.distance, h.id))
                            .is_ok()
                    })
                    .count();
                (truth.len(), found, ours == truth)
            })
            .reduce(|| (0, 0, true), |a, b| (a.0 + b.0, a.1 + b.1, a.2 && b.2))
    });
    let recall = if expected == 0 {
        1.0
    } else {
        found as f64 / expected as f64
    };

    let snapshot = match &settings.snapshot {
        Some(path) => {
            eprintln!("saving and loading a snapshot…");
            let started = Instant::now();
            vigil_index::snapshot::save(&index, path)?;
            let save_seconds = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let loaded = vigil_index::snapshot::load(path)?;
            let load_seconds = started.elapsed().as_secs_f64();
            let same = checked
                .iter()
                .all(|q| loaded.search(q, radius) == index.search(q, radius));
            drop(loaded);
            let bytes = std::fs::metadata(path).map(|m| m.len()).ok();
            Some(
                json!({ "save_seconds": save_seconds, "load_seconds": load_seconds, "bytes": bytes, "answers_identical": same }),
            )
        }
        None => None,
    };

    // A fresh code must be found by the very next query.
    let fresh = rng.code();
    let insert_started = Instant::now();
    index.insert(u64::MAX, fresh);
    let insert_micros = insert_started.elapsed().as_secs_f64() * 1e6;
    let insert_visible = index.search(&fresh, 0).iter().any(|hit| hit.id == u64::MAX);

    // Fill the delta until it is merged into the tables, timing the merge.
    eprintln!("inserting until the delta is merged…");
    let started = Instant::now();
    let mut merge_seconds = 0.0;
    for i in 0..index.options().merge_threshold {
        let before = index.delta_len();
        let insert_started = Instant::now();
        index.insert(u64::MAX - 1 - i as u64, rng.code());
        if index.delta_len() < before {
            merge_seconds = insert_started.elapsed().as_secs_f64();
            break;
        }
    }
    let fill_seconds = started.elapsed().as_secs_f64();
    let still_found = index.search(&fresh, 0).iter().any(|hit| hit.id == u64::MAX);

    let report = json!({
        "size": settings.size,
        "radius": radius,
        "clustered": settings.clustered,
        "queries": queries.len(),
        "tables": index.table_count(),
        "build_seconds": build_seconds,
        "memory_bytes": memory_bytes,
        "memory_bytes_per_code": memory_bytes as f64 / settings.size.max(1) as f64,
        "rss_growth_bytes": rss_after.zip(rss_before).map(|(a, b)| a.saturating_sub(b)),
        "qps_1_thread": qps_1_thread,
        "qps_all_threads": qps_all_threads,
        "threads": settings.threads,
        "p50_latency_us": percentile(0.5),
        "p99_latency_us": percentile(0.99),
        "mean_hits_per_query": total_hits as f64 / queries.len() as f64,
        "recall": recall,
        "recall_queries": checked.len(),
        "identical_to_brute_force": exact,
        "insert_visible_to_next_query": insert_visible,
        "found_after_merge": still_found,
        "insert_microseconds": insert_micros,
        "merge_seconds": merge_seconds,
        "inserts_per_second_including_merge": index.options().merge_threshold as f64 / fill_seconds,
        "snapshot": snapshot,
        "debug_build": cfg!(debug_assertions),
    });
    writeln!(out, "{report}")?;
    Ok(Checks::from_held(exact && insert_visible && still_found))
}
