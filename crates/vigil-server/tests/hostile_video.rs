//! Playlists and manifests sent as videos, by upload and by URL: refused
//! before FFmpeg runs, so it never opens the local files they name (no
//! hash of a server file, no existence oracle).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{Server, Site, encode};
use serde_json::Value;
use vigil_fetch::UrlPolicy;
use vigil_testkit::{Tripwire, playlists_naming};

/// Every hostile playlist: those naming a FIFO no one may open, and the
/// same naming a real video FFmpeg would happily hash.
fn playlists(wire: &Tripwire) -> Vec<(&'static str, Vec<u8>)> {
    let real = vigil_testkit::vpdq_vectors().join("videos/doorknob-hd-no-bar.mp4");
    let mut all = playlists_naming(wire.path());
    all.extend(playlists_naming(&real));
    all
}

fn assert_refused(name: &str, status: u16, body: &Value) {
    assert_eq!(status, 400, "{name}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("is not a video") && message.contains("never opens"),
        "{name}: {body}"
    );
    assert!(body.get("vpdq").is_none(), "{name}: {body}");
}

#[test]
fn uploaded_playlists_are_refused_without_opening_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let wire = Tripwire::arm(&dir.path().join("segment.mp4"));
    let server = Server::start();
    server.send("POST", "/c/banks", &serde_json::json!({ "name": "VIDEOS" }));
    for (name, bytes) in playlists(&wire) {
        let (status, body) = server.upload("/h/hash", &[("video", "v.mp4", &bytes)], &[]);
        assert_refused(name, status, &body);
        let (status, body) =
            server.upload("/c/bank/VIDEOS/content", &[("video", "v.mp4", &bytes)], &[]);
        assert_refused(name, status, &body);
    }
    assert!(!wire.finish(), "FFmpeg opened the file a playlist names");
}

#[test]
fn playlists_served_as_video_are_refused_without_opening_what_they_name() {
    const PATHS: [&str; 8] = [
        "/0.mp4", "/1.mp4", "/2.mp4", "/3.mp4", "/4.mp4", "/5.mp4", "/6.mp4", "/7.mp4",
    ];
    let dir = tempfile::tempdir().unwrap();
    let wire = Tripwire::arm(&dir.path().join("segment.mp4"));
    let all = playlists(&wire);
    assert_eq!(all.len(), PATHS.len());
    let names: Vec<&str> = all.iter().map(|(name, _)| *name).collect();
    let site = Site::start(
        PATHS
            .iter()
            .zip(all)
            .map(|(path, (_, bytes))| (*path, "video/mp4", bytes))
            .collect(),
    );
    let server = Server::start_with_policy(
        UrlPolicy {
            allow_private: true,
            ..UrlPolicy::default()
        },
        |_| {},
    );
    for (path, name) in PATHS.iter().zip(names) {
        let url = encode(&site.url(path));
        let (status, body) = server.get(&format!("/h/hash?url={url}"));
        assert_refused(name, status, &body);
        let (status, body) = server.get(&format!("/h/hash?url={url}&content_type=video"));
        assert_refused(name, status, &body);
    }
    assert!(!wire.finish(), "FFmpeg opened the file a playlist names");
}

#[test]
fn real_videos_still_hash() {
    let server = Server::start();
    let video = std::fs::read(vigil_testkit::vpdq_vectors().join("videos/pattern-sd-grey-bar.mp4"))
        .unwrap();
    let (status, hashes) = server.upload("/h/hash", &[("video", "p.mp4", &video)], &[]);
    assert_eq!(status, 200, "{hashes}");
    assert!(hashes["vpdq"].as_str().is_some_and(|v| !v.is_empty()));
}
