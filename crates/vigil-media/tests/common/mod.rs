//! Shared helpers for vigil-media's integration tests.
#![allow(dead_code, clippy::expect_used)] // Each test crate uses a subset.

use std::path::PathBuf;

/// The PDQ reference vectors: `$VIGIL_VECTORS/pdq` if set, else the
/// `shared/vectors/pdq` folder beside the repository (as CI lays it out).
pub fn pdq_vectors() -> PathBuf {
    let root = std::env::var_os("VIGIL_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
        });
    let dir = root.join("pdq");
    assert!(
        dir.join("pdq_reference.tsv").is_file(),
        "PDQ reference vectors not found at {}: set VIGIL_VECTORS to the folder holding pdq/",
        dir.display()
    );
    dir
}

/// The rows of a vectors TSV file, header skipped, split on tabs.
pub fn tsv_rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(pdq_vectors().join(name)).expect("vectors TSV is readable");
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}
