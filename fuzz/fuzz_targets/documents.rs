//! Untrusted bytes through the document path: sniffing, charset decoding,
//! HTML's visible text, PDF parsing (pages, streams, embedded images) and
//! the text sketch, under small limits.
//!
//! Run with `cargo fuzz run documents --sanitizer none` on stable; seed the
//! corpus with a few small PDFs and web pages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_media::{HashOptions, Limits, PdfLimits, hash_document, html_visible_text};

fuzz_target!(|data: &[u8]| {
    let options = HashOptions {
        limits: Limits {
            max_pixels: 4_000_000,
            max_side: 4096,
            max_alloc: 64 * 1024 * 1024,
            ..Limits::default()
        },
        pdf: PdfLimits {
            max_pages: 50,
            max_stream_bytes: 8 << 20,
            max_images: 20,
            ..PdfLimits::default()
        },
        ..HashOptions::default()
    };
    let _ = hash_document(data, &options);
    let _ = html_visible_text(data);
});
