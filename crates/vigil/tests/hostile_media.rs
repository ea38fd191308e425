//! `vigil hash` on media made to hurt the host: playlists that would make
//! FFmpeg read local files, PDF bombs, PDFs that flood the log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use vigil_testkit::{Tripwire, playlists_naming};

fn vigil_hash(paths: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("hash")
        .args(paths)
        .env_remove("RUST_LOG")
        .output()
        .expect("vigil runs")
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn playlists_are_refused_without_opening_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let wire = Tripwire::arm(&dir.path().join("segment.mp4"));
    let real = vigil_testkit::vpdq_vectors().join("videos/doorknob-hd-no-bar.mp4");
    let mut files = Vec::new();
    for target in [wire.path(), real.as_path()] {
        for (name, bytes) in playlists_naming(target) {
            let path = dir.path().join(format!("{name}-{}.mp4", files.len()));
            std::fs::write(&path, bytes).unwrap();
            files.push(path);
        }
    }
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let output = vigil_hash(&paths);
    let opened = wire.finish();
    let lines = lines(&output);
    assert_eq!(lines.len(), files.len(), "{lines:?}");
    for line in &lines {
        assert_eq!(line["error_kind"], "video_refused", "{line}");
        assert!(line.get("vpdq").is_none(), "{line}");
    }
    assert!(!opened, "FFmpeg opened the file a playlist names");
}
