//! The JSON Lines scripts read from `vigil hash`, pinned field by field:
//! a change to any name, order or value shows up as a snapshot diff
//! (`tests/snapshots/`), reviewed like code.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use std::process::Command;

use serde_json::Value;

/// `vigil hash` of `paths`, each line's `path` cut to its file name (the
/// folders differ from machine to machine).
fn hash_lines(args: &[&str], paths: &[&std::path::Path]) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("hash")
        .args(args)
        .args(paths)
        .output()
        .expect("vigil runs");
    common::stdout_lines(&output)
        .into_iter()
        .map(|mut line| {
            let name = std::path::Path::new(line["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            line["path"] = Value::String(name);
            line
        })
        .collect()
}

#[test]
fn hash_lines_for_a_photo_a_text_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("statement.txt");
    std::fs::write(
        &text,
        "A neutral sentence about the weather in the valley, repeated to give the \
         sketch enough words: the weather in the valley is mild this week.",
    )
    .unwrap();
    let empty = dir.path().join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let unknown = dir.path().join("unknown.bin");
    std::fs::write(&unknown, [0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0x10, 0x20]).unwrap();
    let photo = vigil_testkit::pdq_vectors().join("bridge-mods/aaa-orig.jpg");
    let lines = hash_lines(&[], &[&photo, &text, &empty, &unknown]);
    insta::assert_json_snapshot!("hash_lines", lines);
    let dihedral = hash_lines(&["--dihedral"], &[&photo]);
    insta::assert_json_snapshot!("hash_line_dihedral", dihedral);
}
