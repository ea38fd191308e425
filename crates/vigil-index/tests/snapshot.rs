//! Snapshots: a saved index loads back identical without rebuilding, and a
//! damaged or truncated file is refused whole.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use vigil_index::{Code256, Error, HammingIndex, snapshot};

fn code(seed: u64) -> Code256 {
    Code256(vigil_testkit::random_limbs(seed))
}

fn sample_index() -> HammingIndex {
    let mut index = HammingIndex::build((0..5000).map(|i| (i, code(i))));
    // A delta, a tombstone and a duplicate id survive the round trip too.
    index.insert(9000, code(9000));
    index.insert(7, code(7).with_bit_flipped(3));
    assert!(index.remove(12, &code(12)));
    index
}

#[test]
fn round_trip_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pdq.index");
    let index = sample_index();
    snapshot::save(&index, &path).unwrap();
    let loaded = snapshot::load(&path).unwrap();
    assert_eq!(loaded.len(), index.len());
    assert_eq!(loaded.delta_len(), index.delta_len());
    for seed in [0u64, 7, 12, 4999, 9000, 123_456] {
        let query = code(seed).with_bit_flipped(100);
        for radius in [0, 1, 31, 64] {
            assert_eq!(
                loaded.search(&query, radius),
                index.search(&query, radius),
                "seed {seed} radius {radius}"
            );
        }
    }
    assert!(
        loaded.search(&code(12), 0).is_empty(),
        "the deleted entry stays deleted"
    );
    assert!(
        !dir.path().join("pdq.index.tmp").exists(),
        "no temporary file left behind"
    );
}

#[test]
fn truncated_snapshots_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pdq.index");
    snapshot::save(&sample_index(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 7, 40, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = snapshot::load(&path).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "cut at {cut}: {err}");
        assert!(err.to_string().contains("nothing was loaded"), "{err}");
    }
}

#[test]
fn flipped_bits_are_detected_by_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pdq.index");
    snapshot::save(&sample_index(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for at in [100, bytes.len() / 3, bytes.len() - 20] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        std::fs::write(&path, &damaged).unwrap();
        let err = snapshot::load(&path).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "byte {at}: {err}");
    }
}

#[test]
fn other_files_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-an-index");
    std::fs::write(
        &path,
        b"a neutral sentence that is not a snapshot, long enough for a header",
    )
    .unwrap();
    let err = snapshot::load(&path).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err}");
    let missing = snapshot::load(&dir.path().join("missing")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
}
