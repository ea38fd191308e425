//! `/m/lookup?defend=…`: photos banked through the API keep their variants,
//! edited copies are found through the defences with the variants named,
//! and HMA's answers stay HMA's without `defend`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{Server, vector};
use serde_json::json;

fn centre_crop_png(jpeg: &[u8]) -> Vec<u8> {
    let image = image::load_from_memory(jpeg).unwrap().to_rgb8();
    let (w, h) = image.dimensions();
    let cropped =
        image::imageops::crop_imm(&image, w / 10, h / 10, w - w / 5, h - h / 5).to_image();
    let mut png = Vec::new();
    cropped
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

#[test]
fn defended_lookups_find_turned_and_cropped_copies() {
    let server = Server::start();
    let original = vector("reg-test-input/dih/bridge-1-original.jpg");
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    let (status, added) = server.upload(
        "/c/bank/KNOWN/content",
        &[("photo", "o.jpg", &original)],
        &[],
    );
    assert_eq!(status, 200, "{added}");
    let id = added["id"].clone();
    // HMA's answers show HMA's signal types only.
    let signals = added["signals"].as_object().unwrap();
    assert!(
        signals.contains_key("pdq") && !signals.contains_key("pdq_variants"),
        "{added}"
    );
    let (_, content) = server.get(&format!("/c/bank/KNOWN/content/{id}?include_signals=true"));
    assert!(
        content["signals"].get("pdq_variants").is_none(),
        "{content}"
    );
    let (_, status) = server.get("/m/index/status");
    assert!(status.get("pdq_variants").is_none(), "{status}");

    let turned = vector("reg-test-input/dih/bridge-2-rotate-90.jpg");
    let cropped = centre_crop_png(&original);
    for (name, bytes) in [("turned.jpg", &turned), ("cropped.png", &cropped)] {
        let (status, plain) = server.upload("/m/lookup", &[("photo", name, bytes)], &[]);
        assert_eq!(status, 200, "{plain}");
        assert_eq!(plain["pdq"], json!({}), "{name}: plain PDQ misses it");
    }
    let (status, found) = server.upload(
        "/m/lookup?defend=dihedral",
        &[("photo", "t.jpg", &turned)],
        &[],
    );
    assert_eq!(status, 200, "{found}");
    let hit = &found["pdq"]["KNOWN"][0];
    assert_eq!(hit["bank_content_id"], id, "{found}");
    assert_eq!(hit["banked_variant"], "orig", "{found}");
    assert!(
        hit["variant"].as_str().unwrap().starts_with("rot"),
        "{found}"
    );
    assert!(hit["distance"].as_str().unwrap().parse::<u32>().unwrap() <= 31);

    let (_, found) = server.upload("/m/lookup?defend=all", &[("photo", "c.png", &cropped)], &[]);
    let hit = &found["pdq"]["KNOWN"][0];
    assert_eq!(hit["bank_content_id"], id, "{found}");
    assert_eq!(
        (&hit["variant"], &hit["banked_variant"]),
        (&json!("orig"), &json!("c80"))
    );

    // The original itself is a plain match, listed once, without variants.
    let (_, itself) = server.upload(
        "/m/lookup?defend=all",
        &[("photo", "o.jpg", &original)],
        &[],
    );
    assert_eq!(
        itself["pdq"]["KNOWN"].as_array().unwrap().len(),
        1,
        "{itself}"
    );
    assert!(itself["pdq"]["KNOWN"][0].get("variant").is_none());

    let (status, refused) = server.upload(
        "/m/lookup?defend=blur",
        &[("photo", "o.jpg", &original)],
        &[],
    );
    assert_eq!(status, 400);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("unknown defence"),
        "{refused}"
    );
}
