//! Golden tests: Vigil's PDQ against Meta's reference outputs, bit for bit,
//! over every image in `shared/vectors/pdq` (see its README.txt).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::collections::BTreeSet;

use vigil_media::{HashOptions, PhotoSignals, hash_media};
use vigil_signal::{PdqHash, PdqMode};

fn hash_file(path: &str, pdq_mode: PdqMode, dihedral: bool) -> PhotoSignals {
    let bytes =
        std::fs::read(vigil_testkit::pdq_vectors().join(path)).expect("vector image is readable");
    let options = HashOptions {
        pdq_mode,
        dihedral,
        ..HashOptions::default()
    };
    hash_media(&bytes, &options).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hash(text: &str) -> PdqHash {
    text.parse().expect("vector hash is valid hex")
}

/// Compares every row and reports all mismatches at once.
fn check_rows(tsv: &str, mode: PdqMode) {
    let rows = vigil_testkit::pdq_tsv_rows(tsv);
    assert!(rows.len() >= 58, "{tsv} has only {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let signals = hash_file(&row[0], mode, false);
        let (want_hash, want_quality) = (hash(&row[1]), row[2].parse::<u8>().expect("quality"));
        if signals.pdq.hash != want_hash || signals.pdq.quality != want_quality {
            failures.push(format!(
                "{}: got {} q{}, want {} q{} ({} bits apart)",
                row[0],
                signals.pdq.hash,
                signals.pdq.quality,
                want_hash,
                want_quality,
                signals.pdq.hash.distance(&want_hash)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn full_resolution_equals_pypi_pdqhash() {
    check_rows("pdq_pdqhash_pypi.tsv", PdqMode::FullResolution);
}

#[test]
fn reference_cli_equals_cpp_pdq_photo_hasher() {
    check_rows("pdq_reference.tsv", PdqMode::ReferenceCli);
}

#[test]
fn dihedral_hashes_equal_cpp_pdqdih_across() {
    let mut failures = Vec::new();
    for row in vigil_testkit::pdq_tsv_rows("pdq_dihedral.tsv") {
        let signals = hash_file(&row[0], PdqMode::ReferenceCli, true);
        let dihedral = signals.dihedral.expect("dihedral hashes were requested");
        let ours = dihedral.to_array();
        for (k, name) in [
            "orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm",
        ]
        .iter()
        .enumerate()
        {
            if ours[k] != hash(&row[1 + k]) {
                failures.push(format!(
                    "{} {name}: got {}, want {}",
                    row[0],
                    ours[k],
                    row[1 + k]
                ));
            }
        }
        if signals.pdq.quality.to_string() != row[9] {
            failures.push(format!(
                "{} quality {} want {}",
                row[0], signals.pdq.quality, row[9]
            ));
        }
        assert_eq!(signals.pdq.hash, dihedral.original);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_vector_image_is_covered() {
    let listed: BTreeSet<String> = vigil_testkit::pdq_tsv_rows("pdq_reference.tsv")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let root = vigil_testkit::pdq_vectors();
    let mut stack = vec![root.clone()];
    let mut on_disk = BTreeSet::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("vectors dir is readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if !matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("tsv" | "txt")
            ) {
                let relative = path.strip_prefix(&root).expect("under root");
                on_disk.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    assert_eq!(
        on_disk, listed,
        "images on disk and rows in pdq_reference.tsv differ"
    );
}

#[test]
fn exif_orientation_is_reported_not_applied() {
    let rotated = hash_file(
        "synthetic/exif-orientation-6-1008x756.jpg",
        PdqMode::FullResolution,
        false,
    );
    assert_eq!(rotated.image.orientation, 6);
    // Stored pixels, not the displayed (rotated) ones.
    assert_eq!((rotated.image.width, rotated.image.height), (1008, 756));
    let plain = hash_file("bridge-mods/aaa-orig.jpg", PdqMode::FullResolution, false);
    assert_eq!(plain.image.orientation, 1);
}

#[test]
fn exact_digests_are_of_the_file_bytes() {
    let signals = hash_file("synthetic/rgb-1x1.png", PdqMode::FullResolution, false);
    let bytes = std::fs::read(vigil_testkit::pdq_vectors().join("synthetic/rgb-1x1.png"))
        .expect("readable");
    assert_eq!(signals.exact, vigil_signal::ExactDigests::of(&bytes));
    assert_eq!(signals.pdq.hash, PdqHash::ZERO);
    assert_eq!(signals.pdq.quality, 0);
}
