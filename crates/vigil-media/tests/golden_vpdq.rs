//! vPDQ frames of every sample video against Meta's `vpdq-hash-video`
//! (`../shared/vectors/vpdq/hashes`): every frame number, quality, hash and
//! timestamp, for every frame (`-r 0`), frames scaled to 128×128 (`-s 128`)
//! and one frame per second (`-r 1`). Needs FFmpeg (`scripts/install-deps`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use vigil_media::{VideoOptions, hash_video_file};
use vigil_signal::vpdq;

#[test]
fn every_frame_of_every_sample_video_matches_the_reference() {
    let root = vigil_testkit::vpdq_vectors();
    let mut videos: Vec<_> = std::fs::read_dir(root.join("videos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    videos.sort();
    assert_eq!(videos.len(), 13);
    let variants = [
        ("", VideoOptions::default()),
        (
            "-128x128",
            VideoOptions {
                downscale: Some(128),
                ..VideoOptions::default()
            },
        ),
        (
            "-r1",
            VideoOptions {
                seconds_per_hash: 1.0,
                ..VideoOptions::default()
            },
        ),
    ];
    for video in &videos {
        let name = video.file_stem().unwrap().to_string_lossy();
        for (suffix, options) in &variants {
            let expected =
                std::fs::read_to_string(root.join(format!("hashes/{name}{suffix}.txt"))).unwrap();
            let hashed =
                hash_video_file(video, options).unwrap_or_else(|e| panic!("{name}{suffix}: {e}"));
            let produced = vpdq::to_reference(&hashed.frames);
            if produced != expected {
                let first_difference = produced.lines().zip(expected.lines()).find(|(a, b)| a != b);
                panic!(
                    "{name}{suffix}: {} lines vs {} expected; first difference {first_difference:?}",
                    produced.lines().count(),
                    expected.lines().count()
                );
            }
        }
    }
}
