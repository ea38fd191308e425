//! Video hashing beyond the reference files: a re-encoded sub-clip is found
//! in its source, and hostile or broken files fail within their limits with
//! a clear error. Inputs are made here with FFmpeg from the sample videos
//! and from FFmpeg's synthetic sources.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use vigil_media::{Error, VideoLimits, VideoOptions, hash_video_file};
use vigil_signal::vpdq::{DEFAULT_FRAME_DISTANCE, DEFAULT_QUALITY_THRESHOLD, match_frames};

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg runs (scripts/install-deps installs it)");
    assert!(status.success(), "ffmpeg {args:?}");
}

fn sample(name: &str) -> PathBuf {
    vigil_testkit::vpdq_vectors().join("videos").join(name)
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_reencoded_five_second_clip_is_found_in_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    let source = sample("chair-orig-22-sd-bar.mp4");
    // Seconds 8–13, at another size and a much lower bitrate.
    ffmpeg(&[
        "-ss",
        "8",
        "-t",
        "5",
        "-i",
        path_str(&source),
        "-vf",
        "scale=320:-2",
        "-c:v",
        "libx264",
        "-b:v",
        "150k",
        "-an",
        path_str(&clip),
    ]);
    let options = VideoOptions::default();
    let clip_frames = hash_video_file(&clip, &options).unwrap().frames;
    let source_frames = hash_video_file(&source, &options).unwrap().frames;
    assert!(
        (140..=160).contains(&clip_frames.len()),
        "{}",
        clip_frames.len()
    );
    let found = match_frames(
        &clip_frames,
        &source_frames,
        DEFAULT_FRAME_DISTANCE,
        DEFAULT_QUALITY_THRESHOLD,
    );
    assert!(found.query_pct >= 80.0, "{found:?}");
    assert!(
        found.compared_pct < 40.0,
        "a clip covers a part of the source: {found:?}"
    );
    // And not in an unrelated video.
    let other = hash_video_file(&sample("pattern-hd-no-bar.mp4"), &options)
        .unwrap()
        .frames;
    let unrelated = match_frames(
        &clip_frames,
        &other,
        DEFAULT_FRAME_DISTANCE,
        DEFAULT_QUALITY_THRESHOLD,
    );
    assert!(unrelated.query_pct < 5.0, "{unrelated:?}");
}

#[test]
fn broken_and_hostile_files_fail_clearly_within_their_limits() {
    let dir = tempfile::tempdir().unwrap();
    let options = VideoOptions::default();

    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        hash_video_file(&empty, &options),
        Err(Error::Empty)
    ));

    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(&garbage, vec![0x5au8; 100_000]).unwrap();
    assert!(matches!(
        hash_video_file(&garbage, &options),
        Err(Error::UnsupportedVideo { .. })
    ));
    // Bytes in a whitelisted container that do not decode.
    let mut broken = b"\0\0\0\x20ftypisom".to_vec();
    broken.resize(100_000, 0x5a);
    std::fs::write(&garbage, broken).unwrap();
    assert!(matches!(
        hash_video_file(&garbage, &options),
        Err(Error::VideoDecode(_))
    ));

    // Audio only: no video stream.
    let audio = dir.path().join("tone.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        path_str(&audio),
    ]);
    match hash_video_file(&audio, &options) {
        Err(Error::VideoDecode(message)) => {
            assert!(message.contains("no video stream"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    // Truncated in the middle: what decodes is hashed or the file is refused, never a hang.
    let truncated = dir.path().join("truncated.mp4");
    let bytes = std::fs::read(sample("pattern-hd-no-bar.mp4")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let started = Instant::now();
    let _ = hash_video_file(&truncated, &options);
    assert!(started.elapsed() < Duration::from_secs(120));

    // Frames larger than the limit are refused from the probe, before decoding.
    let large = dir.path().join("large.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=1600x1200:d=0.2",
        "-c:v",
        "libx264",
        path_str(&large),
    ]);
    let small_frames = VideoOptions {
        limits: VideoLimits {
            max_side: 1024,
            ..VideoLimits::default()
        },
        ..VideoOptions::default()
    };
    match hash_video_file(&large, &small_frames) {
        Err(Error::VideoLimit(message)) => assert!(message.contains("1600x1200"), "{message}"),
        other => panic!("{other:?}"),
    }

    // A long black video: refused by duration, by frame count, or stopped at the deadline.
    let long = dir.path().join("long-black.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=64x64:r=30:d=600",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        path_str(&long),
    ]);
    let short_only = VideoOptions {
        limits: VideoLimits {
            max_duration_seconds: 60.0,
            ..VideoLimits::default()
        },
        ..VideoOptions::default()
    };
    assert!(matches!(
        hash_video_file(&long, &short_only),
        Err(Error::VideoLimit(_))
    ));
    let few_frames = VideoOptions {
        limits: VideoLimits {
            max_frames: 100,
            ..VideoLimits::default()
        },
        ..VideoOptions::default()
    };
    match hash_video_file(&long, &few_frames) {
        Err(Error::VideoLimit(message)) => assert!(message.contains("100 frames"), "{message}"),
        other => panic!("{other:?}"),
    }
    let quick = VideoOptions {
        limits: VideoLimits {
            max_wall_time: Duration::from_millis(200),
            ..VideoLimits::default()
        },
        ..VideoOptions::default()
    };
    let started = Instant::now();
    match hash_video_file(&long, &quick) {
        Err(Error::VideoLimit(message)) => assert!(message.contains("within"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // Black frames hash with quality 0: kept as frames, ignored by matching.
    let first_second = VideoOptions {
        limits: VideoLimits {
            max_frames: 1_000_000,
            ..VideoLimits::default()
        },
        seconds_per_hash: 60.0,
        ..VideoOptions::default()
    };
    let hashed = hash_video_file(&long, &first_second).unwrap();
    assert_eq!(hashed.frames_decoded, 18_000);
    assert!(hashed.frames.iter().all(|f| f.quality == 0));
}
