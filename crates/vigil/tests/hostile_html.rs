//! Hostile web pages through `vigil hash`: a page of a million nested
//! elements (11 MB) once never finished (the tree builder's work grows with
//! the square of the depth); it must now answer within the bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The page: a million `<div>` around one sentence.
fn million_deep() -> String {
    format!(
        "<!doctype html><html><body>{}The river is calm today.{}</body></html>",
        "<div>".repeat(1_000_000),
        "</div>".repeat(1_000_000)
    )
}

/// The peak resident memory of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_million_nested_elements_hash_within_2_s_and_256_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.html");
    std::fs::write(&path, million_deep()).unwrap();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["--data-dir", dir.path().to_str().unwrap()])
        .args(["hash", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigil runs");
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(2) {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("vigil hash still reading the page after 2 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let output = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
    let line: serde_json::Value =
        serde_json::from_slice(output.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["media"], "text", "{line}");
    assert!(
        line["text"].as_str().is_some_and(|t| t.starts_with("v1.")),
        "{line}"
    );
}
