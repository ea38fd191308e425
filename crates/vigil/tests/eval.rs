//! `vigil eval images` on a small corpus of reference images: the report's
//! shape and what PDQ is known to survive and not.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{json_lines, vigil};

#[test]
fn eval_images_reports_recall_per_edit_and_false_positives_over_pairs() {
    let corpus = tempfile::tempdir().unwrap();
    for path in [
        "bridge-mods/aaa-orig.jpg",
        "misc-images/c.png",
        "reg-test-input/pen-and-coaster.png",
        "reg-test-input/labelme-subset/q0746.jpg",
        "reg-test-input/labelme-subset/q2821.jpg",
    ] {
        let from = vigil_testkit::pdq_vectors().join(path);
        let name = path.replace('/', "_");
        std::fs::copy(from, corpus.path().join(name)).unwrap();
    }
    // Two of them are declared related (as frames of one video would be).
    std::fs::write(
        corpus.path().join("related.tsv"),
        "scene\tmisc-images_c.png\nscene\treg-test-input_pen-and-coaster.png\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let chart = data.path().join("eval.svg");
    let details = data.path().join("details.jsonl");
    let output = vigil(
        data.path(),
        &[
            "eval",
            "images",
            "--corpus",
            corpus.path().to_str().unwrap(),
            "--max-side",
            "256",
            "--no-progress",
            "--chart",
            chart.to_str().unwrap(),
            "--details",
            details.to_str().unwrap(),
        ],
    );
    let report = &json_lines(&output)[0];
    assert_eq!(report["images"], 5);
    assert_eq!(report["distinct_pairs"], 10);
    assert_eq!(report["related_pairs"], 1);
    assert_eq!(report["independent_pairs"], 9);
    assert!(report["false_pairs_independent"].as_u64() <= report["false_pairs"].as_u64());
    assert_eq!(report["threshold"], 31);
    let recall = |name: &str| {
        report["transforms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["transform"] == name)
            .unwrap_or_else(|| panic!("no {name}"))["recall"]
            .as_f64()
            .unwrap()
    };
    // What PDQ survives, and what it does not (it is not rotation-invariant).
    assert_eq!(recall("jpeg_q90"), 1.0);
    assert_eq!(recall("greyscale"), 1.0);
    assert_eq!(recall("resize_x0.5"), 1.0);
    assert_eq!(recall("rotate_90"), 0.0);
    let transform = |name: &str| {
        report["transforms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["transform"] == name)
            .unwrap()
            .clone()
    };
    let defended = |name: &str, config: &str| {
        transform(name)["defences"][config]["recall"]
            .as_f64()
            .unwrap()
    };
    for name in ["rotate_90", "rotate_180", "rotate_270", "mirror"] {
        let line = transform(name);
        assert!(line["distance_p50"].as_u64().unwrap() > 90, "{line}");
        // Turning the pixels back is exact; the one-DCT hashes (Meta's
        // method) come near but are inexact on these 256-px images.
        assert_eq!(defended(name, "dihedral"), 1.0, "{line}");
        assert_eq!(defended(name, "all"), 1.0, "{line}");
        let dct_p50 = line["defences"]["dihedral_dct"]["distance_p50"]
            .as_u64()
            .unwrap();
        assert!(
            dct_p50 * 2 <= line["distance_p50"].as_u64().unwrap(),
            "{line}"
        );
        assert_eq!(defended(name, "trim"), 0.0, "{line}");
    }
    // Frames go with trimming, cut edges with the bank's crops, corner
    // overlays with the corner regions; plain PDQ catches none of them.
    for (name, config) in [
        ("border_25pct", "trim"),
        ("letterbox_25pct", "trim"),
        ("crop_centre_10pct", "crops"),
        ("crop_centre_20pct", "crops"),
        ("logo_15pct", "crops"),
    ] {
        assert!(transform(name)["recall"].as_f64().unwrap() < 0.5, "{name}");
        assert_eq!(defended(name, config), 1.0, "{name} with {config}");
        assert_eq!(defended(name, "all"), 1.0, "{name} with all");
    }
    assert_eq!(defended("jpeg_q90", "all"), 1.0);
    assert_eq!(report["transforms"].as_array().unwrap().len(), 41);
    let configs = report["configs"].as_array().unwrap();
    let names: Vec<&str> = configs
        .iter()
        .map(|c| c["config"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["plain", "dihedral_dct", "dihedral", "trim", "crops", "all"]
    );
    assert_eq!(configs[0]["false_pairs"], report["false_pairs"]);
    for config in configs {
        // Every defence adds hashes, so it can only add false pairs.
        assert!(config["false_pairs"].as_u64() >= report["false_pairs"].as_u64());
        assert!(config["query_hashes_mean"].as_f64().unwrap() >= 1.0);
        let sweep = config["sweep"].as_array().unwrap();
        assert!(sweep.windows(2).all(|w| {
            w[0]["recall_all_transforms"].as_f64() <= w[1]["recall_all_transforms"].as_f64()
                && w[0]["false_positive_rate"].as_f64() <= w[1]["false_positive_rate"].as_f64()
        }));
    }
    assert!(configs[5]["query_hashes_mean"].as_f64().unwrap() >= 12.0);
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("crop_centre_20pct"));
    let details = std::fs::read_to_string(&details).unwrap();
    let lines: Vec<serde_json::Value> = details
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 5 * 41);
    assert_eq!(lines[0]["distance"].as_object().unwrap().len(), 6);
    assert!(String::from_utf8_lossy(&output.stderr).contains("jpeg_q50"));

    let bad = data.path().join("bad.tsv");
    std::fs::write(&bad, "no tab here\n").unwrap();
    let refused = vigil(
        data.path(),
        &[
            "eval",
            "images",
            "--corpus",
            corpus.path().to_str().unwrap(),
            "--related",
            bad.to_str().unwrap(),
            "--limit",
            "2",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("expected group<TAB>path"));

    let empty = tempfile::tempdir().unwrap();
    let refused = vigil(
        data.path(),
        &["eval", "images", "--corpus", empty.path().to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("eval-corpus"));
}
