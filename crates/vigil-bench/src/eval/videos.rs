//! `vigil eval videos`: how well vPDQ survives the edits made to videos —
//! re-encoding, resizing, cropping, letterboxing, a logo, mirroring,
//! trimming, speed changes, splicing into unrelated footage — on a corpus
//! of benign sample videos. FFmpeg makes each copy; the copy is hashed as
//! `vigil match` hashes videos (one frame per second) and compared with the
//! original the way a lookup compares it.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde_json::{Value, json};
use vigil_media::{VideoOptions, hash_video_file};
use vigil_signal::VpdqFrame;
use vigil_signal::vpdq::{
    DEFAULT_FRAME_DISTANCE, DEFAULT_QUALITY_THRESHOLD, DEFAULT_QUERY_MATCH_PCT, match_frames,
};

use super::corpus::{corpus_files, progress_bar, related_groups};

/// Settings of `vigil eval videos`.
#[derive(Debug, Clone)]
pub struct EvalVideosSettings {
    /// A folder of videos, searched recursively.
    pub corpus: PathBuf,
    /// Only the first videos (by path).
    pub limit: Option<usize>,
    /// Worker threads.
    pub threads: usize,
    /// Show a progress bar.
    pub progress: bool,
    /// Groups of related videos (`group<TAB>path` lines); default
    /// `related.tsv` in the corpus, when it exists.
    pub related: Option<PathBuf>,
}

/// One edit, made by FFmpeg.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum VideoEdit {
    /// Re-encoded with H.264 at this CRF (higher is worse).
    Reencode(u8),
    /// Scaled by this factor.
    Resize(f32),
    /// This share of each side cut away, centred.
    Crop(f32),
    /// Black bars adding this share to the height.
    Letterbox(f32),
    /// A white badge over this share of the area, bottom right.
    Logo(f32),
    /// Mirrored left to right.
    Mirror,
    /// Only the middle part, this share of the duration.
    Trim(f32),
    /// Played this many times as fast.
    Speed(f32),
    /// Followed by as long again of unrelated footage (FFmpeg's Game of
    /// Life: cheap to make, all movement and texture).
    Spliced,
}

/// The edits, in report order.
pub(crate) const EDITS: &[VideoEdit] = &[
    VideoEdit::Reencode(28),
    VideoEdit::Reencode(40),
    VideoEdit::Resize(0.5),
    VideoEdit::Crop(0.1),
    VideoEdit::Crop(0.2),
    VideoEdit::Letterbox(0.25),
    VideoEdit::Logo(0.15),
    VideoEdit::Mirror,
    VideoEdit::Trim(0.5),
    VideoEdit::Speed(1.1),
    VideoEdit::Speed(0.9),
    VideoEdit::Spliced,
];

impl VideoEdit {
    /// The edit's name in reports.
    pub(crate) fn name(self) -> String {
        let pct = |share: f32| (share * 100.0).round() as u32;
        match self {
            Self::Reencode(crf) => format!("reencode_crf{crf}"),
            Self::Resize(f) => format!("resize_x{f}"),
            Self::Crop(s) => format!("crop_centre_{}pct", pct(s)),
            Self::Letterbox(s) => format!("letterbox_{}pct", pct(s)),
            Self::Logo(s) => format!("logo_{}pct", pct(s)),
            Self::Mirror => "mirror".to_owned(),
            Self::Trim(s) => format!("trim_middle_{}pct", pct(s)),
            Self::Speed(f) => format!("speed_x{f}"),
            Self::Spliced => "spliced_with_unrelated".to_owned(),
        }
    }

    /// FFmpeg's arguments to make the edited copy of `input` (lasting
    /// `duration` seconds, `width`×`height`) at `output`.
    fn ffmpeg_args(
        self,
        input: &Path,
        output: &Path,
        duration: f64,
        (width, height): (u32, u32),
    ) -> Vec<OsString> {
        let mut args: Vec<OsString> = ["-nostdin", "-loglevel", "error", "-y", "-threads", "1"]
            .iter()
            .map(OsString::from)
            .collect();
        let mut push = |items: &[&str]| args.extend(items.iter().map(OsString::from));
        if let Self::Trim(share) = self {
            let start = duration * f64::from(1.0 - share) / 2.0;
            push(&["-ss", &format!("{start:.3}")]);
        }
        args.push("-i".into());
        args.push(input.into());
        let mut push = |items: &[&str]| args.extend(items.iter().map(OsString::from));
        let filter = match self {
            Self::Reencode(_) | Self::Trim(_) => None,
            // Even sides: H.264 in 4:2:0 needs them.
            Self::Resize(f) => Some(format!("scale=trunc(iw*{f}/2)*2:trunc(ih*{f}/2)*2")),
            Self::Crop(s) => Some(format!(
                "crop=trunc(iw*{k}/2)*2:trunc(ih*{k}/2)*2",
                k = 1.0 - s
            )),
            Self::Letterbox(s) => Some(format!(
                "pad=iw:trunc(ih*{}/2)*2:0:trunc(ih*{}/2):black",
                1.0 + s,
                s / 2.0
            )),
            Self::Logo(s) => {
                let side = s.sqrt();
                Some(format!(
                    "drawbox=x=iw*{o}:y=ih*{o}:w=iw*{side}:h=ih*{side}:color=white:t=fill,\
                     drawbox=x=iw*{o}:y=ih*{bar}:w=iw*{side}:h=ih*{thick}:color=black:t=fill",
                    o = 1.0 - side,
                    bar = 1.0 - side / 2.0 - side / 10.0,
                    thick = side / 5.0,
                ))
            }
            Self::Mirror => Some("hflip".to_owned()),
            Self::Speed(f) => Some(format!("setpts=PTS/{f}")),
            Self::Spliced => None,
        };
        if let Self::Spliced = self {
            let source = format!("testsrc2=size={width}x{height}:rate=25:duration={duration:.3}");
            push(&["-f", "lavfi", "-i", &source]);
            push(&[
                "-filter_complex",
                "[0:v]setsar=1,format=yuv420p,fps=25[a];[1:v]setsar=1,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[v]",
                "-map",
                "[v]",
            ]);
        }
        if let Some(filter) = &filter {
            push(&["-vf", filter]);
        }
        if let Self::Trim(share) = self {
            push(&["-t", &format!("{:.3}", duration * f64::from(share))]);
        }
        let crf = match self {
            Self::Reencode(crf) => crf.to_string(),
            _ => "23".to_owned(),
        };
        push(&[
            "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", &crf,
        ]);
        push(&["-pix_fmt", "yuv420p"]);
        args.push(output.into());
        args
    }
}

/// One corpus video: its frames, and each edited copy's comparison with
/// it (`None` when FFmpeg or hashing failed).
struct MeasuredVideo {
    path: PathBuf,
    group: Option<usize>,
    frames: Vec<VpdqFrame>,
    copies: Vec<Option<(f64, f64)>>,
}

/// Edits and hashes every corpus video, compares every pair, and writes the
/// report as one JSON object to `out` (a table on stderr).
pub fn run(settings: &EvalVideosSettings, mut out: impl Write) -> anyhow::Result<()> {
    let mut paths = corpus_files(
        &settings.corpus,
        &["avi", "mp4", "mkv", "webm", "mov", "ogv"],
    )?;
    if let Some(limit) = settings.limit {
        paths.truncate(limit);
    }
    if paths.len() < 2 {
        bail!(
            "{} holds {} videos; build the corpus with scripts/eval-corpus",
            settings.corpus.display(),
            paths.len()
        );
    }
    let groups = related_groups(&settings.corpus, settings.related.as_deref())?;
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        bail!("ffmpeg is needed to edit the videos: scripts/install-deps");
    }
    let scratch = tempfile::tempdir().context("cannot make a scratch folder")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads.max(1))
        .build()
        .context("cannot start worker threads")?;
    let bar = progress_bar(
        paths.len() * (EDITS.len() + 1),
        "editing and hashing videos",
        settings.progress,
    );
    let started = Instant::now();
    let measured: Vec<MeasuredVideo> = pool.install(|| {
        paths
            .par_iter()
            .enumerate()
            .filter_map(|(i, path)| {
                let measured = measure(path, &scratch.path().join(i.to_string()), &bar);
                if measured.is_none() {
                    tracing::warn!(path = %path.display(), "cannot hash the video; left out");
                }
                measured
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut measured = measured;
    for m in &mut measured {
        let relative = m.path.strip_prefix(&settings.corpus).unwrap_or(&m.path);
        m.group = groups.get(relative).copied();
    }
    let report = report(&measured, paths.len() - measured.len(), started);
    print_table(&report);
    writeln!(out, "{report}")?;
    Ok(())
}

/// Hashes one video as `vigil match` does (a frame a second).
fn hash(path: &Path) -> Option<vigil_media::VideoHash> {
    let options = VideoOptions {
        seconds_per_hash: 1.0,
        ..VideoOptions::default()
    };
    hash_video_file(path, &options).ok()
}

fn measure(path: &Path, scratch: &Path, bar: &ProgressBar) -> Option<MeasuredVideo> {
    let original = hash(path);
    bar.inc(1);
    let original = original?;
    std::fs::create_dir_all(scratch).ok()?;
    let duration = original
        .info
        .duration_seconds
        .unwrap_or(original.frames_decoded as f64 / f64::from(original.info.fps.max(1.0)));
    let size = (original.info.width, original.info.height);
    let copies = EDITS
        .iter()
        .enumerate()
        .map(|(k, edit)| {
            let output = scratch.join(format!("{k}.mp4"));
            let made = Command::new("ffmpeg")
                .args(edit.ffmpeg_args(path, &output, duration, size))
                .output()
                .ok()
                .filter(|o| o.status.success());
            let compared = made.and_then(|_| hash(&output)).map(|copy| {
                let found = match_frames(
                    &copy.frames,
                    &original.frames,
                    DEFAULT_FRAME_DISTANCE,
                    DEFAULT_QUALITY_THRESHOLD,
                );
                (found.query_pct, found.compared_pct)
            });
            let _ = std::fs::remove_file(&output);
            bar.inc(1);
            compared
        })
        .collect();
    Some(MeasuredVideo {
        path: path.to_owned(),
        group: None,
        frames: original.frames,
        copies,
    })
}

/// The share of `found` flags set.
fn share(found: impl Iterator<Item = bool>) -> f64 {
    let (hits, total) = found.fold((0usize, 0usize), |(h, n), f| (h + usize::from(f), n + 1));
    hits as f64 / total.max(1) as f64
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len().saturating_sub(1) / 2).copied()
}

/// Whether a comparison matches under `vigil match`'s default (the query's
/// frames at least 80% found) and under the "banked video inside the
/// upload" rule (the banked video's frames at least 80% found).
fn matches((query_pct, compared_pct): (f64, f64)) -> (bool, bool) {
    (
        query_pct >= DEFAULT_QUERY_MATCH_PCT,
        compared_pct >= DEFAULT_QUERY_MATCH_PCT,
    )
}

fn report(measured: &[MeasuredVideo], skipped: usize, started: Instant) -> Value {
    let edits: Vec<Value> = EDITS
        .iter()
        .enumerate()
        .map(|(k, edit)| {
            let results: Vec<(f64, f64)> = measured.iter().filter_map(|m| m.copies[k]).collect();
            json!({
                "edit": edit.name(),
                "copies": results.len(),
                "failed_copies": measured.len() - results.len(),
                "recall": share(results.iter().map(|r| matches(*r).0)),
                "recall_contained": share(results.iter().map(|r| matches(*r).1)),
                "query_pct_median": median(results.iter().map(|r| r.0).collect()),
                "compared_pct_median": median(results.iter().map(|r| r.1).collect()),
            })
        })
        .collect();
    let (mut pairs, mut independent) = (0usize, 0usize);
    let (mut false_pairs, mut false_independent) = ([0usize; 2], [0usize; 2]);
    for (i, a) in measured.iter().enumerate() {
        for b in &measured[i + 1..] {
            let related = a.group.is_some() && a.group == b.group;
            let one_way = |q: &MeasuredVideo, c: &MeasuredVideo| {
                let m = match_frames(
                    &q.frames,
                    &c.frames,
                    DEFAULT_FRAME_DISTANCE,
                    DEFAULT_QUALITY_THRESHOLD,
                );
                matches((m.query_pct, m.compared_pct))
            };
            let (ab, ba) = (one_way(a, b), one_way(b, a));
            let hit = [ab.0 || ba.0, ab.1 || ba.1];
            pairs += 1;
            independent += usize::from(!related);
            for rule in 0..2 {
                false_pairs[rule] += usize::from(hit[rule]);
                false_independent[rule] += usize::from(hit[rule] && !related);
            }
        }
    }
    let per_video: Vec<Value> = measured
        .iter()
        .map(|m| {
            let copies: serde_json::Map<String, Value> = EDITS
                .iter()
                .zip(&m.copies)
                .map(|(edit, result)| {
                    let value = result.map_or(Value::Null, |(q, c)| {
                        json!({"query_pct": q, "compared_pct": c})
                    });
                    (edit.name(), value)
                })
                .collect();
            json!({
                "video": m.path,
                "frames": m.frames.len(),
                "usable_frames": vigil_signal::vpdq::usable_hashes(&m.frames, DEFAULT_QUALITY_THRESHOLD).len(),
                "copies": copies,
            })
        })
        .collect();
    json!({
        "videos": measured.len(),
        "skipped_videos": skipped,
        "per_video": per_video,
        "frame_distance": DEFAULT_FRAME_DISTANCE,
        "match_pct": DEFAULT_QUERY_MATCH_PCT,
        "edits": edits,
        "distinct_pairs": pairs,
        "independent_pairs": independent,
        "false_pairs": false_pairs[0],
        "false_pairs_independent": false_independent[0],
        "false_pairs_contained": false_pairs[1],
        "false_pairs_contained_independent": false_independent[1],
        "elapsed_s": started.elapsed().as_secs_f64(),
    })
}

fn print_table(report: &Value) {
    eprintln!(
        "{:<26} {:>8} {:>10} {:>10} {:>10}",
        "edit", "recall", "contained", "query %", "banked %"
    );
    for line in report["edits"].as_array().into_iter().flatten() {
        let pct = |key: &str| {
            line[key]
                .as_f64()
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
        };
        eprintln!(
            "{:<26} {:>8.3} {:>10.3} {:>10} {:>10}",
            line["edit"].as_str().unwrap_or_default(),
            line["recall"].as_f64().unwrap_or_default(),
            line["recall_contained"].as_f64().unwrap_or_default(),
            pct("query_pct_median"),
            pct("compared_pct_median"),
        );
    }
    eprintln!(
        "false pairs: {} of {} distinct pairs ({} of {} independent); contained rule: {} ({}); {} videos, {:.0} s",
        report["false_pairs"],
        report["distinct_pairs"],
        report["false_pairs_independent"],
        report["independent_pairs"],
        report["false_pairs_contained"],
        report["false_pairs_contained_independent"],
        report["videos"],
        report["elapsed_s"].as_f64().unwrap_or_default()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_have_distinct_names_and_ffmpeg_arguments() {
        let mut names: Vec<String> = EDITS.iter().map(|e| e.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), EDITS.len());
        for edit in EDITS {
            let args =
                edit.ffmpeg_args(Path::new("in.avi"), Path::new("out.mp4"), 10.0, (320, 240));
            let args: Vec<String> = args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            assert_eq!(args.last().map(String::as_str), Some("out.mp4"));
            assert!(args.windows(2).any(|w| w == ["-i", "in.avi"]), "{args:?}");
        }
        let trim = VideoEdit::Trim(0.5).ffmpeg_args(
            Path::new("in.avi"),
            Path::new("out.mp4"),
            10.0,
            (320, 240),
        );
        let trim: Vec<String> = trim
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(trim.windows(2).any(|w| w == ["-ss", "2.500"]), "{trim:?}");
        assert!(trim.windows(2).any(|w| w == ["-t", "5.000"]), "{trim:?}");
    }
}
