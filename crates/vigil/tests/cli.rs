//! `vigil hash` from the user's side: the real binary, real files, JSON
//! Lines out, meaningful exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::stdout_lines;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vectors() -> PathBuf {
    vigil_testkit::pdq_vectors()
}

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .expect("vigil runs")
}

fn reference_row(tsv: &str, path: &str) -> (String, u64) {
    let text = std::fs::read_to_string(vectors().join(tsv)).expect("tsv readable");
    let row = text
        .lines()
        .find(|l| l.starts_with(&format!("{path}\t")))
        .expect("row present");
    let fields: Vec<&str> = row.split('\t').collect();
    (fields[1].to_owned(), fields[2].parse().expect("quality"))
}

fn copy(from: &str, to: &Path) {
    std::fs::copy(vectors().join(from), to).expect("copy vector");
}

#[test]
fn hashes_a_file_like_the_references() {
    let path = vectors().join("bridge-mods/aaa-orig.jpg");
    let output = vigil(&["hash", path.to_str().expect("utf-8 path")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = &stdout_lines(&output)[0];
    let (pdq, quality) = reference_row("pdq_pdqhash_pypi.tsv", "bridge-mods/aaa-orig.jpg");
    assert_eq!(line["pdq"], pdq.as_str());
    assert_eq!(line["pdq_quality"], quality);
    assert_eq!(line["media"], "photo");
    assert_eq!(line["format"], "jpeg");
    assert_eq!(
        (line["width"].as_u64(), line["height"].as_u64()),
        (Some(1600), Some(1004))
    );
    assert_eq!(line["orientation"], 1);
    assert_eq!(line["md5"].as_str().map(str::len), Some(32));
    assert_eq!(line["sha256"].as_str().map(str::len), Some(64));
    assert!(line.get("pdq_dihedral").is_none());

    let output = vigil(&[
        "hash",
        "--pdq-mode",
        "reference-cli",
        "--dihedral",
        path.to_str().expect("utf-8"),
    ]);
    let line = &stdout_lines(&output)[0];
    let (pdq, _) = reference_row("pdq_reference.tsv", "bridge-mods/aaa-orig.jpg");
    assert_eq!(line["pdq"], pdq.as_str());
    let dihedral = line["pdq_dihedral"].as_object().expect("dihedral object");
    let text = std::fs::read_to_string(vectors().join("pdq_dihedral.tsv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("bridge-mods/aaa-orig.jpg\t"))
        .unwrap()
        .split('\t')
        .collect();
    assert_eq!(dihedral.len(), 8);
    for (name, want) in header[1..9].iter().zip(&row[1..9]) {
        assert_eq!(dihedral[*name], *want, "{name}");
    }
}

#[test]
fn directories_are_walked_in_order_and_failures_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy("synthetic/rgb-63x65.png", &dir.path().join("b.png"));
    std::fs::create_dir(dir.path().join("nested")).expect("mkdir");
    copy("misc-images/wee.jpg", &dir.path().join("nested/c.jpg"));
    std::fs::write(
        dir.path().join("a.txt"),
        "a neutral sentence, not an image\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("empty.png"), b"").expect("write");

    let output = vigil(&[
        "hash",
        "--threads",
        "2",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "failures give exit code 1");
    let lines = stdout_lines(&output);
    let names: Vec<String> = lines
        .iter()
        .map(|l| {
            let path = l["path"].as_str().expect("path");
            Path::new(path)
                .strip_prefix(dir.path())
                .expect("under dir")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["a.txt", "b.png", "empty.png", "nested/c.jpg"]);
    // Text files are documents now: digests and a text sketch.
    assert_eq!(lines[0]["media"], "text", "{}", lines[0]);
    assert_eq!(lines[0]["bytes"], 33);
    assert!(lines[0]["md5"].is_string() && lines[0]["text"].is_string());
    assert!(
        lines[2]["md5"].is_string(),
        "exact digests even for unhashable files"
    );
    assert_eq!(lines[2]["error_kind"], "empty");
    assert_eq!(lines[2]["error"], "the file is empty");
    assert!(lines[1]["pdq"].is_string() && lines[3]["pdq"].is_string());
}

#[test]
fn missing_paths_are_reported_not_fatal() {
    let good = vectors().join("synthetic/grey-640x480.png");
    let output = vigil(&["hash", "/no/such/file.jpg", good.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["error_kind"], "io");
    assert!(lines[0].get("md5").is_none(), "nothing was read");
    assert!(lines[1]["pdq"].is_string());
}

#[test]
fn devices_are_refused_not_read_forever() {
    let output = vigil(&["hash", "/dev/zero"]);
    assert_eq!(output.status.code(), Some(1));
    let line = &stdout_lines(&output)[0];
    assert_eq!(line["error_kind"], "io");
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("not a regular file")
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(vigil(&["hash"]).status.code(), Some(2));
    assert_eq!(
        vigil(&["hash", "--pdq-mode", "sideways", "x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        vigil(&["hash", "--threads", "0", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn hostile_files_fail_cleanly_within_512_mib() {
    let dir = tempfile::tempdir().expect("temp dir");
    let photo = std::fs::read(vectors().join("bridge-mods/aaa-orig.jpg")).expect("read");
    let png = std::fs::read(vectors().join("misc-images/c.png")).expect("read");
    let noise: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let files: [(&str, Vec<u8>); 7] = [
        ("1-empty.jpg", Vec::new()),
        ("2-truncated.jpg", photo[..photo.len() / 2].to_vec()),
        ("3-truncated.png", png[..png.len() / 2].to_vec()),
        ("4-noise.bin", noise),
        ("5-bomb.png", vigil_testkit::png_declaring(100_000, 100_000)),
        ("6-text.pdf", b"%PDF-1.4\nnot really\n".to_vec()),
        ("7-fine.jpg", photo),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    // The address-space limit makes any allocation beyond 512 MiB fail (and
    // the process abort), so passing proves the peak stayed under it.
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" hash \"$1\"")
        .arg(env!("CARGO_BIN_EXE_vigil"))
        .arg(dir.path())
        .output()
        .expect("sh runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kinds: Vec<String> = stdout_lines(&output)
        .iter()
        .map(|l| l["error_kind"].as_str().unwrap_or("ok").to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "empty",
            "decode",
            "decode",
            "unknown_format",
            "image_too_large",
            "pdf",
            "ok"
        ]
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn oversized_files_are_digested_not_decoded() {
    let path = vectors().join("misc-images/c.png");
    let output = vigil(&[
        "hash",
        "--max-file-bytes",
        "1000",
        path.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let line = &stdout_lines(&output)[0];
    assert_eq!(line["error_kind"], "file_too_large");
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(line["bytes"], bytes.len());
    assert_eq!(line["sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn help_teaches() {
    let output = vigil(&["hash", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "JSON line",
        "--pdq-mode",
        "reference-cli",
        "--dihedral",
        "Examples",
        "exit status",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}");
    }
}

#[test]
fn bench_hash_reports_both_modes_as_json_lines() {
    let output = vigil(&[
        "bench",
        "hash",
        "--sizes",
        "96x64",
        "--count",
        "2",
        "--rounds",
        "1",
        "--no-reference",
        "-j",
        "2",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = stdout_lines(&output);
    assert!(lines[0]["machine"]["cores"].as_u64().is_some());
    let runs: Vec<(String, u64)> = lines
        .iter()
        .filter(|l| l["implementation"] == "vigil")
        .map(|l| {
            (
                l["pdq_mode"].as_str().unwrap().to_owned(),
                l["threads"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("full".to_owned(), 1),
            ("full".to_owned(), 2),
            ("reference-cli".to_owned(), 1),
            ("reference-cli".to_owned(), 2)
        ]
    );
    let single = lines.iter().find(|l| l["threads"] == 1).unwrap();
    assert!(single["images_per_second"].as_f64().unwrap() > 0.0);
    assert!(
        single["decode_ms_per_image"].as_f64().is_some()
            && single["hash_ms_per_image"].as_f64().is_some()
    );
    assert!(lines.last().unwrap().get("peak_rss_bytes").is_some());
}

#[test]
fn bench_index_reports_exact_results() {
    for clustered in [false, true] {
        let mut args = vec![
            "bench",
            "index",
            "--size",
            "20k",
            "--queries",
            "300",
            "--recall-queries",
            "300",
            "-j",
            "2",
        ];
        if clustered {
            args.push("--clustered");
        }
        let output = vigil(&args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report = &stdout_lines(&output)[0];
        assert_eq!(report["size"], 20_000);
        assert_eq!(report["radius"], 31);
        assert_eq!(report["recall"], 1.0);
        assert_eq!(report["identical_to_brute_force"], true);
        assert_eq!(report["insert_visible_to_next_query"], true);
        assert_eq!(report["found_after_merge"], true);
        for key in [
            "build_seconds",
            "memory_bytes",
            "qps_1_thread",
            "qps_all_threads",
            "p50_latency_us",
            "p99_latency_us",
        ] {
            assert!(
                report[key].as_f64().is_some_and(|v| v > 0.0),
                "{key}: {}",
                report[key]
            );
        }
    }
    assert_eq!(
        vigil(&["bench", "index", "--size", "ten"]).status.code(),
        Some(2)
    );
}

#[test]
fn videos_get_one_line_with_their_vpdq_frames() {
    let video = vigil_testkit::vpdq_vectors().join("videos/doorknob-hd-no-bar.mp4");
    let reference = std::fs::read_to_string(
        vigil_testkit::vpdq_vectors().join("hashes/doorknob-hd-no-bar-r1.txt"),
    )
    .unwrap();
    let output = vigil(&[
        "hash",
        video.to_str().unwrap(),
        "--seconds-per-hash",
        "1",
        "--frames",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = &stdout_lines(&output)[0];
    assert_eq!(line["media"], "video");
    assert_eq!(
        (line["width"].as_u64(), line["height"].as_u64()),
        (Some(1280), Some(720))
    );
    assert_eq!(line["frames_decoded"], 120);
    // `frames` in the reference tool's fields, `vpdq` in HMA's form.
    let expected: Vec<Vec<&str>> = reference.lines().map(|l| l.split(',').collect()).collect();
    let frames = line["frames"].as_array().unwrap();
    let vpdq = line["vpdq"].as_array().unwrap();
    assert_eq!(frames.len(), expected.len());
    for ((frame, signal), fields) in frames.iter().zip(vpdq).zip(&expected) {
        assert_eq!(frame["frame_number"].to_string(), fields[0]);
        assert_eq!(frame["quality"].to_string(), fields[1]);
        assert_eq!(frame["pdq"], fields[2]);
        assert_eq!(
            signal.as_str().unwrap(),
            format!("{},{},{}", fields[2], fields[1], fields[3])
        );
    }
    // A file that only claims to be a video fails on its own line, with digests.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.mp4");
    std::fs::write(&fake, b"\0\0\0\x18ftypmp42 but nothing else").unwrap();
    let output = vigil(&["hash", fake.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let line = &stdout_lines(&output)[0];
    assert_eq!(line["error_kind"], "video_decode", "{line}");
    assert!(line["md5"].is_string());
}
