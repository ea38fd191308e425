//! `vigil match --defend`: copies framed, cropped, overlaid or turned that
//! plain PDQ misses are found through the defences, each naming the
//! variants that found it, and nothing unrelated is.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use std::path::{Path, PathBuf};

use common::{json_lines, vigil};
use image::{Rgb, RgbImage, imageops};

/// Writes the edited copies of `original` into `dir` and returns their
/// paths by name.
fn edited_copies(original: &RgbImage, dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let (w, h) = original.dimensions();
    let mut framed = RgbImage::from_pixel(w + w / 5, h + h / 5, Rgb([255, 255, 255]));
    imageops::replace(&mut framed, original, i64::from(w / 10), i64::from(h / 10));
    let mut letterboxed = RgbImage::from_pixel(w, h + h / 4, Rgb([0, 0, 0]));
    imageops::replace(&mut letterboxed, original, 0, i64::from(h / 8));
    let cropped = imageops::crop_imm(original, w / 10, h / 10, w - w / 5, h - h / 5).to_image();
    let mut logo = original.clone();
    // A white badge with a dark bar over 15% of the area.
    let side = ((w * h) as f32 * 0.15).sqrt() as u32;
    for y in h - side..h {
        for x in w - side..w {
            let bar = (y + side / 8).abs_diff(h - side / 2) < side / 8;
            logo.put_pixel(
                x,
                y,
                if bar {
                    Rgb([20, 20, 20])
                } else {
                    Rgb([250, 250, 250])
                },
            );
        }
    }
    let copies = [
        ("framed", framed),
        ("letterboxed", letterboxed),
        ("cropped", cropped),
        ("logo", logo),
        ("rotated", imageops::rotate90(original)),
    ];
    copies
        .into_iter()
        .map(|(name, image)| {
            let path = dir.join(format!("{name}.png"));
            image.save(&path).unwrap();
            (name, path)
        })
        .collect()
}

#[test]
fn defences_find_framed_cropped_overlaid_and_turned_copies() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let vectors = vigil_testkit::pdq_vectors();
    let original_path = vectors.join("bridge-mods/aaa-orig.jpg");
    let original = image::open(&original_path).unwrap().to_rgb8();
    let copies = edited_copies(&original, files.path());
    let unrelated = vectors.join("reg-test-input/pen-and-coaster.png");

    assert!(
        vigil(data.path(), &["bank", "create", "KNOWN"])
            .status
            .success()
    );
    let added = json_lines(&vigil(
        data.path(),
        &["bank", "add", "KNOWN", original_path.to_str().unwrap()],
    ));
    let content_id = added[0]["id"].as_i64().unwrap();

    let match_lines = |defend: Option<&str>| {
        let mut args: Vec<String> = vec!["match".into()];
        if let Some(defend) = defend {
            args.extend(["--defend".into(), defend.into()]);
        }
        args.extend(copies.iter().map(|(_, p)| p.to_string_lossy().into_owned()));
        args.push(unrelated.to_string_lossy().into_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = vigil(data.path(), &args);
        assert!(output.status.success(), "{output:?}");
        json_lines(&output)
    };
    // Plain PDQ finds none of the copies.
    for line in match_lines(None) {
        assert_eq!(line["matches"], serde_json::json!([]), "{line}");
    }
    let defended = match_lines(Some("all"));
    let expected = [
        ("framed", "trimmed", "orig"),
        ("letterboxed", "trimmed", "orig"),
        ("cropped", "orig", "c80"),
        ("rotated", "rot90", "orig"),
    ];
    for (name, query_variant, banked_variant) in expected {
        let i = copies.iter().position(|(n, _)| *n == name).unwrap();
        let matches = defended[i]["matches"].as_array().unwrap();
        assert_eq!(matches.len(), 1, "{name}: {matches:?}");
        assert_eq!(matches[0]["content_id"].as_i64(), Some(content_id));
        assert_eq!(matches[0]["variant"], query_variant, "{name}: {matches:?}");
        assert_eq!(
            matches[0]["banked_variant"], banked_variant,
            "{name}: {matches:?}"
        );
        assert!(matches[0]["distance"].as_u64().unwrap() <= 31);
    }
    // The logo covers the bottom-right corner: the other corner regions
    // match the bank's same regions.
    let i = copies.iter().position(|(n, _)| *n == "logo").unwrap();
    let logo = &defended[i]["matches"][0];
    assert_eq!(logo["content_id"].as_i64(), Some(content_id), "{logo}");
    let region = logo["variant"].as_str().unwrap();
    assert!(["tl60", "tr60", "bl60"].contains(&region), "{logo}");
    assert_eq!(logo["banked_variant"], region);
    assert_eq!(defended[copies.len()]["matches"], serde_json::json!([]));

    // One defence at a time finds only its own edits.
    let trim_only = match_lines(Some("trim"));
    let found: Vec<bool> = trim_only
        .iter()
        .map(|l| !l["matches"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(found, [true, true, false, false, false, false]);

    // Banked without its variants, the crops have nothing to compare with.
    assert!(
        vigil(data.path(), &["bank", "create", "BARE"])
            .status
            .success()
    );
    let bare = vigil(
        data.path(),
        &[
            "bank",
            "add",
            "BARE",
            "--no-variants",
            original_path.to_str().unwrap(),
        ],
    );
    assert!(bare.status.success());
    let cropped = &copies.iter().find(|(n, _)| *n == "cropped").unwrap().1;
    let lines = json_lines(&vigil(
        data.path(),
        &[
            "match",
            "--defend",
            "all",
            "--banks",
            "BARE",
            cropped.to_str().unwrap(),
        ],
    ));
    assert_eq!(lines[0]["matches"], serde_json::json!([]), "{}", lines[0]);

    let refused = vigil(
        data.path(),
        &["match", "--defend", "blur", cropped.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown defence \"blur\""));
}
