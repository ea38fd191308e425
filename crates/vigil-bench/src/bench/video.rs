//! `vigil bench video`: vPDQ hashing speed over videos, and the time to
//! match one long video against a large bank of videos.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use vigil_engine::{Engine, LookupOptions};
use vigil_media::{VideoOptions, hash_video_file};
use vigil_signal::vpdq::{self, VpdqFrame};
use vigil_signal::{PdqHash, SignalType, SignalValue};
use vigil_store::{BankName, NewContent, SqliteStore};

use crate::support::SplitMix;

/// Settings of `vigil bench video`.
#[derive(Debug, Clone)]
pub struct BenchVideoSettings {
    /// Videos to hash (files or folders); none skips the hashing part.
    pub videos: Vec<PathBuf>,
    /// Videos in the synthetic bank; 0 skips the matching part.
    pub bank_videos: usize,
    /// Frames (at one per second) of each banked video and of the query.
    pub frames: usize,
    /// Queries timed.
    pub queries: usize,
}

/// Times hashing each video, then matching against a synthetic bank,
/// writing one JSON line per part to `out`.
pub fn run(settings: &BenchVideoSettings, mut out: impl Write) -> anyhow::Result<()> {
    for video in list_videos(&settings.videos)? {
        let line = bench_hashing(&video)?;
        writeln!(out, "{line}")?;
    }
    if settings.bank_videos > 0 {
        let line = bench_matching(settings)?;
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn list_videos(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut videos = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            videos.extend(inside);
        } else {
            videos.push(path.clone());
        }
    }
    Ok(videos)
}

/// CPU seconds (user + system) of this process and its reaped children,
/// from `/proc/self/stat`: hashing uses two processes (FFmpeg decodes,
/// Vigil hashes), so CPU time is what "per core" means.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime, stime, cutime, cstime are fields 14–17 (1-based) of the line,
    // 11–14 after the state field.
    let ticks: f64 = fields
        .get(11..15)?
        .iter()
        .filter_map(|f| f.parse::<f64>().ok())
        .sum();
    Some(ticks / 100.0)
}

fn bench_hashing(video: &Path) -> anyhow::Result<serde_json::Value> {
    let options = VideoOptions::default();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let hashed = hash_video_file(video, &options)
        .with_context(|| format!("cannot hash {}", video.display()))?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let frames = hashed.frames_decoded as f64;
    eprintln!(
        "{}: {}x{}, {} frames: {:.1} frames/s wall, {} frames per CPU second",
        video.display(),
        hashed.info.width,
        hashed.info.height,
        hashed.frames_decoded,
        frames / wall,
        cpu.map_or("?".to_owned(), |c| format!("{:.1}", frames / c)),
    );
    Ok(json!({
        "bench": "vpdq_hash",
        "video": video.display().to_string(),
        "width": hashed.info.width,
        "height": hashed.info.height,
        "frames": hashed.frames_decoded,
        "wall_seconds": wall,
        "frames_per_second_wall": frames / wall,
        "cpu_seconds": cpu,
        "frames_per_cpu_second": cpu.map(|c| frames / c),
    }))
}

/// A synthetic video at one frame per second: scenes of 5–20 s whose frames
/// drift a few bits from the scene's first, as consecutive frames do.
fn synthetic_video(rng: &mut SplitMix, frames: usize) -> Vec<VpdqFrame> {
    let mut out = Vec::with_capacity(frames);
    let mut scene = PdqHash([0; 4]);
    let mut left = 0;
    for number in 0..frames {
        if left == 0 {
            scene = PdqHash([rng.next(), rng.next(), rng.next(), rng.next()]);
            left = 5 + (rng.next() % 16) as usize;
        }
        left -= 1;
        out.push(VpdqFrame {
            frame_number: number as u64,
            quality: 100,
            hash: flip(rng, scene, 6),
            timestamp: number as f32,
        });
    }
    out
}

fn flip(rng: &mut SplitMix, mut hash: PdqHash, bits: u32) -> PdqHash {
    for _ in 0..bits {
        let bit = (rng.next() % 256) as usize;
        hash.0[bit / 64] ^= 1 << (bit % 64);
    }
    hash
}

fn bench_matching(settings: &BenchVideoSettings) -> anyhow::Result<serde_json::Value> {
    let store = Arc::new(SqliteStore::open_in_memory()?);
    let bank: BankName = "BENCH_VIDEOS".parse()?;
    let engine = Engine::open(store)?;
    engine.create_bank(&bank, 1.0, "bench")?;
    let mut rng = SplitMix(11);
    eprintln!(
        "banking {} synthetic videos of {} frames…",
        settings.bank_videos, settings.frames
    );
    let started = Instant::now();
    let mut planted = Vec::new();
    let mut batch = Vec::new();
    for i in 0..settings.bank_videos {
        let frames = synthetic_video(&mut rng, settings.frames);
        if planted.len() < settings.queries {
            planted.push(frames.clone());
        }
        let mut content = NewContent::default();
        content.signals.insert_value(&SignalValue::Vpdq(frames))?;
        batch.push(content);
        if batch.len() == 500 || i + 1 == settings.bank_videos {
            engine.add_contents(&bank, &batch, "bench")?;
            batch.clear();
        }
    }
    let bank_seconds = started.elapsed().as_secs_f64();

    // Re-encoded copies of banked videos (up to 8 bits more per frame), and
    // as many unrelated videos.
    let mut queries: Vec<(String, bool)> = planted
        .iter()
        .map(|frames| {
            let noisy: Vec<VpdqFrame> = frames
                .iter()
                .map(|f| {
                    let bits = (rng.next() % 9) as u32;
                    VpdqFrame {
                        hash: flip(&mut rng, f.hash, bits),
                        ..*f
                    }
                })
                .collect();
            (vpdq::to_hma_signal(&noisy), true)
        })
        .collect();
    for _ in 0..settings.queries {
        queries.push((
            vpdq::to_hma_signal(&synthetic_video(&mut rng, settings.frames)),
            false,
        ));
    }
    eprintln!("timing {} queries…", queries.len());
    let mut latencies = Vec::new();
    let mut found_planted = 0;
    let mut false_matches = 0;
    for (signal, is_planted) in &queries {
        let started = Instant::now();
        let query = SignalValue::parse(SignalType::Vpdq, signal)?;
        let matches = engine.lookup(&query, &LookupOptions::default())?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        match (is_planted, matches.is_empty()) {
            (true, false) => found_planted += 1,
            (false, false) => false_matches += 1,
            _ => {}
        }
    }
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let line = json!({
        "bench": "vpdq_match",
        "bank_videos": settings.bank_videos,
        "frames_per_video": settings.frames,
        "frame_hashes_indexed": settings.bank_videos * settings.frames,
        "bank_seconds": bank_seconds,
        "queries": queries.len(),
        "planted_found": found_planted,
        "planted": settings.queries,
        "false_matches": false_matches,
        "p50_ms": percentile(0.5),
        "p99_ms": percentile(0.99),
        "max_ms": percentile(1.0),
    });
    eprintln!(
        "match a {}-frame video against {} videos: p50 {:.1} ms, p99 {:.1} ms; planted found {}/{}, false matches {}",
        settings.frames,
        settings.bank_videos,
        percentile(0.5),
        percentile(0.99),
        found_planted,
        settings.queries,
        false_matches
    );
    Ok(line)
}
