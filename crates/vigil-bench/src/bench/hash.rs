//! `vigil bench hash`: decode + PDQ throughput, one core and all cores,
//! side by side with the PyPI `pdqhash` package decoding with Pillow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use vigil_media::{Limits, decode_image};
use vigil_signal::{PdqHash, PdqHasher, PdqMode};

use super::images;
use crate::support::process_memory_bytes;

/// Settings of `vigil bench hash`.
#[derive(Debug, Clone)]
pub struct BenchHashSettings {
    /// A folder of images to time instead of generated ones.
    pub dir: Option<PathBuf>,
    /// Sizes (width, height) of the generated JPEGs, one set each.
    pub sizes: Vec<(u32, u32)>,
    /// Images generated per size; `None`: 40 up to 1 megapixel, else 10.
    pub count: Option<usize>,
    /// Timed passes over each set; the fastest counts.
    pub rounds: u32,
    /// The Python interpreter for the reference, or `None` to skip it.
    pub python: Option<String>,
    /// Worker threads of the all-cores runs.
    pub threads: usize,
}

/// One image set: a label and its files' bytes, held in memory so that disk
/// speed is not measured.
struct ImageSet {
    label: String,
    files: Vec<PathBuf>,
    bytes: Vec<Vec<u8>>,
}

/// One measured configuration, as printed.
#[derive(Debug, Serialize)]
struct Measurement {
    set: String,
    images: usize,
    implementation: &'static str,
    pdq_mode: &'static str,
    threads: usize,
    images_per_second: f64,
    /// Per image; present for single-thread runs only, where the two stages
    /// are timed apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    decode_ms_per_image: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash_ms_per_image: Option<f64>,
}

/// Times every image set with both PDQ modes on one thread and on
/// `threads`, then the reference, writing one JSON line per measurement and
/// comparison to `out` and a table to stderr.
pub fn run(settings: &BenchHashSettings, mut out: impl Write) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    let sets = image_sets(settings, scratch.path())?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .context("cannot start worker threads")?;
    writeln!(out, "{}", json!({ "machine": machine(settings.threads) }))?;
    let mut table = Vec::new();
    for set in &sets {
        let mut full_hashes = Vec::new();
        let mut vigil_full_1t = 0.0;
        for mode in [PdqMode::FullResolution, PdqMode::ReferenceCli] {
            let (single, hashes) = single_thread(set, mode, settings.rounds)?;
            let parallel = all_threads(set, mode, settings.rounds, &pool, settings.threads)?;
            if mode == PdqMode::FullResolution {
                full_hashes = hashes;
                vigil_full_1t = single.images_per_second;
            }
            for m in [single, parallel] {
                writeln!(out, "{}", serde_json::to_string(&m)?)?;
                table.push(m);
            }
        }
        if let Some(python) = &settings.python {
            let reference = run_pdqhash(
                python,
                set,
                settings.rounds,
                settings.threads,
                scratch.path(),
            )?;
            match reference {
                Ok(reference) => {
                    let identical = reference
                        .hashes
                        .iter()
                        .zip(&full_hashes)
                        .filter(|(a, b)| a == b)
                        .count();
                    let max_distance = reference
                        .hashes
                        .iter()
                        .zip(&full_hashes)
                        .map(|(a, b)| a.distance(b))
                        .max();
                    let speedup = vigil_full_1t / reference.single.images_per_second;
                    writeln!(out, "{}", serde_json::to_string(&reference.single)?)?;
                    writeln!(out, "{}", serde_json::to_string(&reference.parallel)?)?;
                    writeln!(
                        out,
                        "{}",
                        json!({
                            "set": set.label,
                            "comparison": "vigil full vs pdqhash+pillow",
                            "identical_hashes": identical,
                            "images": set.bytes.len(),
                            "max_distance": max_distance,
                            "speedup_one_core": speedup,
                            "versions": reference.versions,
                        })
                    )?;
                    table.push(reference.single);
                    table.push(reference.parallel);
                    eprintln!(
                        "{}: vigil (full) {:.1}x pdqhash+pillow on one core; identical hashes {identical}/{}",
                        set.label,
                        speedup,
                        set.bytes.len()
                    );
                }
                Err(reason) => {
                    writeln!(
                        out,
                        "{}",
                        json!({ "set": set.label, "reference": "pdqhash", "unavailable": reason })
                    )?;
                    eprintln!("pdqhash comparison unavailable: {reason}");
                }
            }
        }
    }
    writeln!(
        out,
        "{}",
        json!({ "peak_rss_bytes": process_memory_bytes("VmHWM") })
    )?;
    print_table(&table);
    Ok(())
}

fn image_sets(settings: &BenchHashSettings, scratch: &Path) -> anyhow::Result<Vec<ImageSet>> {
    let sets: Vec<(String, Vec<PathBuf>)> = match &settings.dir {
        Some(dir) => {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .collect();
            files.retain(|f| {
                std::fs::read(f).is_ok_and(|b| decode_image(&b, &Limits::default()).is_ok())
            });
            if files.is_empty() {
                bail!("no decodable images in {}", dir.display());
            }
            vec![(dir.display().to_string(), files)]
        }
        None => settings
            .sizes
            .iter()
            .map(|&(w, h)| {
                let count = settings
                    .count
                    .unwrap_or(if u64::from(w) * u64::from(h) <= 1_000_000 {
                        40
                    } else {
                        10
                    });
                eprintln!("generating {count} JPEGs of {w}x{h}…");
                Ok((format!("{w}x{h}"), images::generate(scratch, w, h, count)?))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    sets.into_iter()
        .map(|(label, files)| {
            let bytes = files
                .iter()
                .map(|f| std::fs::read(f).with_context(|| format!("reading {}", f.display())))
                .collect::<anyhow::Result<_>>()?;
            Ok(ImageSet {
                label,
                files,
                bytes,
            })
        })
        .collect()
}

fn decode_and_hash(
    bytes: &[u8],
    hasher: PdqHasher,
) -> anyhow::Result<(PdqHash, Duration, Duration)> {
    let started = Instant::now();
    let decoded = decode_image(bytes, &Limits::default())?;
    let decoded_at = Instant::now();
    let pdq = hasher.hash(&decoded.rgb());
    Ok((pdq.hash, decoded_at - started, decoded_at.elapsed()))
}

fn single_thread(
    set: &ImageSet,
    mode: PdqMode,
    rounds: u32,
) -> anyhow::Result<(Measurement, Vec<PdqHash>)> {
    let hasher = PdqHasher::new(mode);
    decode_and_hash(&set.bytes[0], hasher)?; // warm-up
    let mut best: Option<(Duration, Duration, Vec<PdqHash>)> = None;
    for _ in 0..rounds {
        let (mut decode, mut hash, mut hashes) = (Duration::ZERO, Duration::ZERO, Vec::new());
        for bytes in &set.bytes {
            let (h, d, t) = decode_and_hash(bytes, hasher)?;
            decode += d;
            hash += t;
            hashes.push(h);
        }
        if best
            .as_ref()
            .is_none_or(|(d, t, _)| decode + hash < *d + *t)
        {
            best = Some((decode, hash, hashes));
        }
    }
    let (decode, hash, hashes) = best.context("at least one round")?;
    let n = set.bytes.len() as f64;
    Ok((
        Measurement {
            set: set.label.clone(),
            images: set.bytes.len(),
            implementation: "vigil",
            pdq_mode: mode.name(),
            threads: 1,
            images_per_second: n / (decode + hash).as_secs_f64(),
            decode_ms_per_image: Some(decode.as_secs_f64() * 1000.0 / n),
            hash_ms_per_image: Some(hash.as_secs_f64() * 1000.0 / n),
        },
        hashes,
    ))
}

fn all_threads(
    set: &ImageSet,
    mode: PdqMode,
    rounds: u32,
    pool: &rayon::ThreadPool,
    threads: usize,
) -> anyhow::Result<Measurement> {
    let hasher = PdqHasher::new(mode);
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        pool.install(|| {
            set.bytes
                .par_iter()
                .with_max_len(1)
                .try_for_each(|bytes| decode_and_hash(bytes, hasher).map(drop))
        })?;
        best = best.min(started.elapsed());
    }
    Ok(Measurement {
        set: set.label.clone(),
        images: set.bytes.len(),
        implementation: "vigil",
        pdq_mode: mode.name(),
        threads,
        images_per_second: set.bytes.len() as f64 / best.as_secs_f64(),
        decode_ms_per_image: None,
        hash_ms_per_image: None,
    })
}

struct Reference {
    single: Measurement,
    parallel: Measurement,
    hashes: Vec<PdqHash>,
    versions: serde_json::Value,
}

/// Runs the embedded Python benchmark; `Ok(Err(reason))` when Python or its
/// packages are missing.
fn run_pdqhash(
    python: &str,
    set: &ImageSet,
    rounds: u32,
    threads: usize,
    scratch: &Path,
) -> anyhow::Result<Result<Reference, String>> {
    let script = scratch.join("bench_pdqhash.py");
    std::fs::write(&script, include_str!("pdqhash.py")).context("writing the Python benchmark")?;
    let request = json!({ "files": set.files, "rounds": rounds, "processes": threads });
    eprintln!("running pdqhash + Pillow on {}…", set.label);
    let output = match std::process::Command::new(python)
        .arg(&script)
        .arg(request.to_string())
        .output()
    {
        Ok(output) => output,
        Err(e) => return Ok(Err(format!("cannot run {python}: {e}"))),
    };
    if !output.status.success() {
        return Ok(Err(format!(
            "{python} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let reply: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("parsing the Python benchmark's output")?;
    if let Some(error) = reply.get("error").and_then(|e| e.as_str()) {
        return Ok(Err(format!(
            "pdqhash or Pillow missing ({error}); pip install pdqhash pillow numpy"
        )));
    }
    let seconds = |key: &str| {
        reply
            .get(key)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let hashes = reply
        .get("hashes")
        .and_then(|h| h.as_array())
        .context("no hashes in the Python benchmark's output")?
        .iter()
        .map(|h| h.as_str().unwrap_or_default().parse::<PdqHash>())
        .collect::<Result<Vec<_>, _>>()?;
    let n = set.bytes.len() as f64;
    let (decode, hash) = (seconds("decode_seconds"), seconds("hash_seconds"));
    let measurement = |threads: usize, ips: f64, per_image: bool| Measurement {
        set: set.label.clone(),
        images: set.bytes.len(),
        implementation: "pdqhash+pillow",
        pdq_mode: PdqMode::FullResolution.name(),
        threads,
        images_per_second: ips,
        decode_ms_per_image: per_image.then_some(decode * 1000.0 / n),
        hash_ms_per_image: per_image.then_some(hash * 1000.0 / n),
    };
    Ok(Ok(Reference {
        single: measurement(1, n / (decode + hash), true),
        parallel: measurement(threads, n / seconds("all_cores_seconds"), false),
        hashes,
        versions: reply.get("versions").cloned().unwrap_or_default(),
    }))
}

fn machine(threads: usize) -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        "threads": threads,
        "os": std::env::consts::OS,
        "vigil": env!("CARGO_PKG_VERSION"),
        "debug_build": cfg!(debug_assertions),
    })
}

fn print_table(rows: &[Measurement]) {
    eprintln!(
        "\n{:<12} {:<16} {:<14} {:>7} {:>10} {:>11} {:>10}",
        "set", "implementation", "pdq mode", "threads", "images/s", "decode ms", "hash ms"
    );
    for m in rows {
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
        eprintln!(
            "{:<12} {:<16} {:<14} {:>7} {:>10.2} {:>11} {:>10}",
            m.set,
            m.implementation,
            m.pdq_mode,
            m.threads,
            m.images_per_second,
            ms(m.decode_ms_per_image),
            ms(m.hash_ms_per_image)
        );
    }
}
