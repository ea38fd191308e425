//! Untrusted bytes given as a video: the container sniffing that decides
//! what FFmpeg may demux. It must never panic, a playlist must never be
//! taken for a container, and what `sniff` calls a playlist must be refused.
//!
//! Run with `cargo fuzz run video_sniff --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_media::{CONTAINER_SNIFF_BYTES, Error, MediaKind, Sniffed, sniff, video_container};

fuzz_target!(|data: &[u8]| {
    let head = &data[..data.len().min(CONTAINER_SNIFF_BYTES)];
    let verdict = video_container(head);
    if sniff(data) == Sniffed::Other(MediaKind::Video, "playlist") {
        assert!(
            matches!(verdict, Err(Error::VideoRefused { .. })),
            "a playlist by sniff, {verdict:?} by container"
        );
    }
    if let Ok(container) = verdict {
        // Whatever FFmpeg is told to demux is on the whitelist.
        assert!(matches!(
            container.demuxer(),
            "mov" | "matroska" | "avi" | "flv" | "mpegts" | "mpeg" | "ogg" | "asf" | "gif"
        ));
    }
});
