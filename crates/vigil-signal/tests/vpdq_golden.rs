//! vPDQ against Meta's reference outputs (`../shared/vectors/vpdq`): every
//! reference hash file reads and writes back byte for byte, and the match
//! percentages of python-threatexchange are reproduced for every pair.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::collections::HashMap;

use vigil_signal::vpdq::{
    self, DEFAULT_FRAME_DISTANCE, DEFAULT_QUALITY_THRESHOLD, VpdqFrame, match_frames,
};

fn hash_files() -> Vec<(String, String)> {
    let dir = vigil_testkit::vpdq_vectors().join("hashes");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 42, "14 videos × 3 hash files");
    files
}

#[test]
fn every_reference_file_round_trips_exactly() {
    for (name, text) in hash_files() {
        let frames = vpdq::parse_reference(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!frames.is_empty(), "{name}");
        assert_eq!(vpdq::to_reference(&frames), text, "{name}");
        // The timestamps are the reference's f32 frame / 30 fps.
        for frame in &frames {
            assert_eq!(
                format!("{:.3}", frame.timestamp),
                format!("{:.3}", VpdqFrame::timestamp_of(frame.frame_number, 30.0)),
                "{name} frame {}",
                frame.frame_number
            );
        }
        // HMA's form keeps hash, quality and timestamp.
        let hma = vpdq::to_hma_signal(&frames);
        let back = vpdq::parse_hma_signal(&hma).unwrap();
        assert_eq!(back.len(), frames.len());
        for (a, b) in frames.iter().zip(&back) {
            assert_eq!((a.hash, a.quality), (b.hash, b.quality));
            assert!((a.timestamp - b.timestamp).abs() < 0.0006);
        }
    }
}

#[test]
fn python_threatexchange_match_percentages_for_every_pair() {
    let videos: HashMap<String, Vec<VpdqFrame>> = hash_files()
        .into_iter()
        .filter(|(name, _)| !name.ends_with("-r1") && !name.ends_with("-128x128"))
        .map(|(name, text)| (name, vpdq::parse_reference(&text).unwrap()))
        .collect();
    let matrix =
        std::fs::read_to_string(vigil_testkit::vpdq_vectors().join("vpdq_match_matrix.tsv"))
            .unwrap();
    let mut pairs = 0;
    for row in matrix.lines().skip(1) {
        let cells: Vec<&str> = row.split('\t').collect();
        let (query, target) = (&videos[cells[0]], &videos[cells[1]]);
        let found = match_frames(
            query,
            target,
            DEFAULT_FRAME_DISTANCE,
            DEFAULT_QUALITY_THRESHOLD,
        );
        assert_eq!(
            (
                format!("{:.2}", found.query_pct),
                format!("{:.2}", found.compared_pct)
            ),
            (cells[4].to_owned(), cells[5].to_owned()),
            "{} vs {}",
            cells[0],
            cells[1]
        );
        pairs += 1;
    }
    assert_eq!(pairs, 196, "every ordered pair of the 14 videos");
}

#[test]
fn malformed_text_forms_are_refused_with_the_reason() {
    for line in [
        "",
        "1,100,abc,0.000",
        "x,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000",
        "1,101,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000",
        "1,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,-1",
        "1,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,NaN",
        "1,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000,extra",
    ] {
        assert!(VpdqFrame::parse_reference_line(line).is_err(), "{line:?}");
    }
    for signal in [
        "",
        "{}",
        "[1]",
        "[\"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,100\"]",
        "[\"zz,100,0.000\"]",
    ] {
        assert!(vpdq::parse_hma_signal(signal).is_err(), "{signal:?}");
    }
    assert_eq!(vpdq::parse_hma_signal("[]").unwrap(), vec![]);
}
