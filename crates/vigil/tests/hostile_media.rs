//! `vigil hash` on media made to hurt the host: playlists that would make
//! FFmpeg read local files, PDF bombs, PDFs that flood the log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::stdout_lines;
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
    let paths: Vec<&Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    let output = vigil_hash(&paths);
    let opened = wire.finish();
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), files.len(), "{lines:?}");
    for line in &lines {
        assert_eq!(line["error_kind"], "video_refused", "{line}");
        assert!(line.get("vpdq").is_none(), "{line}");
    }
    assert!(!opened, "FFmpeg opened the file a playlist names");
}

/// A PDF of `pages` pages, each drawing content stream 5 (FlateDecode of
/// `content`), with the font `F1` on every page when `font`.
fn pdf(pages: usize, content: &[u8], font: bool) -> Vec<u8> {
    use std::io::Write;
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(content).unwrap();
    let stream = deflate.finish().unwrap();
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 6 + i)).collect();
    let resources = if font {
        "<< /Font << /F1 4 0 R >> >>"
    } else {
        "<< >>"
    };
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
        b"<< >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    let mut stream_object = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        stream.len()
    )
    .into_bytes();
    stream_object.extend(&stream);
    stream_object.extend(b"\nendstream");
    objects.push(stream_object);
    for _ in 0..pages {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} /Contents 5 0 R >>"
            )
            .into_bytes(),
        );
    }
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(object);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// `count` text operators showing one neutral letter each.
fn shows(count: usize, font: bool) -> Vec<u8> {
    let mut content = if font {
        b"BT /F1 12 Tf\n".to_vec()
    } else {
        b"BT\n".to_vec()
    };
    content.extend(b"(a) Tj\n".repeat(count));
    content.extend(b"ET\n");
    content
}

/// The bounds issue #17 sets for one hostile PDF through `vigil hash`.
const MAX_SECONDS: f64 = 5.0;
const MAX_RSS: u64 = 256 << 20;

fn hash_measured(path: &Path) -> (Value, vigil_testkit::Measured) {
    let measured = vigil_testkit::run_measured(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .arg("hash")
            .arg(path)
            .env_remove("RUST_LOG"),
    );
    let line = stdout_lines(&measured.output).pop().unwrap_or(Value::Null);
    eprintln!(
        "{}: {:.2} s, {} MiB peak: {line}",
        path.display(),
        measured.elapsed.as_secs_f64(),
        measured.peak_rss >> 20
    );
    (line, measured)
}

#[test]
fn pdf_bombs_finish_quickly_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // One page whose one stream inflates to 60 MiB of `(a) Tj`.
    let single = dir.path().join("single.pdf");
    std::fs::write(&single, pdf(1, &shows((60 << 20) / 7, true), true)).unwrap();
    // 50 pages sharing one stream of 8 MiB.
    let shared = dir.path().join("shared.pdf");
    std::fs::write(&shared, pdf(50, &shows((8 << 20) / 7, true), true)).unwrap();
    for path in [&single, &shared] {
        assert!(std::fs::metadata(path).unwrap().len() < 200 << 10);
        let (line, measured) = hash_measured(path);
        assert_eq!(line["error_kind"], "pdf_limit", "{line}");
        assert!(
            measured.elapsed.as_secs_f64() < MAX_SECONDS,
            "{}: {:?}",
            path.display(),
            measured.elapsed
        );
        assert!(
            measured.peak_rss < MAX_RSS,
            "{}: {} MiB",
            path.display(),
            measured.peak_rss >> 20
        );
    }
}

#[test]
fn a_pdf_of_undecodable_text_adds_a_line_of_log_at_most() {
    let dir = tempfile::tempdir().unwrap();
    // Two million text operators drawn without a font: lopdf warned once
    // for each.
    let flood = dir.path().join("flood.pdf");
    std::fs::write(&flood, pdf(1, &shows(2_000_000, false), false)).unwrap();
    assert!(std::fs::metadata(&flood).unwrap().len() < 32 << 10);
    let (line, measured) = hash_measured(&flood);
    assert!(line.get("error_kind").is_none(), "{line}");
    assert_eq!(line["media"], "pdf", "{line}");
    let stderr = String::from_utf8_lossy(&measured.output.stderr);
    assert!(
        stderr.lines().count() <= 3,
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
}
