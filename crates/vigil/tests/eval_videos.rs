//! `vigil eval videos` on two short reference videos: the report's shape,
//! and what vPDQ is known to survive and not.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{json_lines, vigil};

#[test]
fn eval_videos_reports_recall_per_edit_and_false_matches_over_pairs() {
    let corpus = tempfile::tempdir().unwrap();
    for name in ["doorknob-hd-no-bar.mp4", "test-padded-dimensions.mp4"] {
        let from = vigil_testkit::vpdq_vectors().join("videos").join(name);
        std::fs::copy(from, corpus.path().join(name)).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let output = vigil(
        data.path(),
        &[
            "eval",
            "videos",
            "--corpus",
            corpus.path().to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let report = &json_lines(&output)[0];
    assert_eq!(report["videos"], 2, "{report}");
    assert_eq!(report["distinct_pairs"], 1);
    assert_eq!(report["false_pairs"], 0, "{report}");
    let edit = |name: &str| {
        report["edits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["edit"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    assert_eq!(report["edits"].as_array().unwrap().len(), 12);
    for line in report["edits"].as_array().unwrap() {
        assert_eq!(line["copies"], 2, "FFmpeg made every copy: {line}");
    }
    // Re-encoding, halving and trimming keep the frames vPDQ sees.
    for name in ["reencode_crf28", "resize_x0.5", "trim_middle_50pct"] {
        assert_eq!(edit(name)["recall"], 1.0, "{}", edit(name));
    }
    // Spliced into as long again of unrelated footage, the copy is half
    // unknown: missed by the default rule, found by the "contained" one.
    let spliced = edit("spliced_with_unrelated");
    assert_eq!(spliced["recall_contained"], 1.0, "{spliced}");
    assert!(
        spliced["query_pct_median"].as_f64().unwrap() < 80.0,
        "{spliced}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("reencode_crf40"));

    let empty = tempfile::tempdir().unwrap();
    let refused = vigil(
        data.path(),
        &["eval", "videos", "--corpus", empty.path().to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("eval-corpus"));
}
