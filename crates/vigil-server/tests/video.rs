//! Videos over HTTP: hashed to vPDQ on upload, banked by upload or signal,
//! and matched with HMA's distance string and the native percentages.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{Server, encode};
use serde_json::json;
use vigil_signal::vpdq;

fn reference(name: &str) -> Vec<vigil_signal::VpdqFrame> {
    let path = vigil_testkit::vpdq_vectors().join("hashes").join(name);
    vpdq::parse_reference(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn videos_are_hashed_banked_and_matched() {
    let server = Server::start();
    let video =
        std::fs::read(vigil_testkit::vpdq_vectors().join("videos/doorknob-hd-no-bar.mp4")).unwrap();
    let (status, hashes) = server.upload("/h/hash", &[("video", "d.mp4", &video)], &[]);
    assert_eq!(status, 200, "{hashes}");
    // One frame per second, as the reference binding hashes by default.
    assert_eq!(
        hashes["vpdq"].as_str().unwrap(),
        vpdq::to_hma_signal(&reference("doorknob-hd-no-bar-r1.txt"))
    );
    assert_eq!(hashes["video_md5"], hashes["md5"]);
    assert!(hashes.get("pdq").is_none());

    server.send("POST", "/c/banks", &json!({ "name": "VIDEOS" }));
    let (status, added) = server.upload(
        "/c/bank/VIDEOS/content",
        &[("video", "d.mp4", &video)],
        &[("note", "a doorknob")],
    );
    assert_eq!(status, 200, "{added}");
    assert!(added["signals"]["vpdq"].is_string());
    let chair = vpdq::to_hma_signal(&reference("chair-orig-22-sd-bar-r1.txt"));
    let (status, by_signal) =
        server.send("POST", "/c/bank/VIDEOS/signal", &json!({ "vpdq": chair }));
    assert_eq!(status, 200, "{by_signal}");
    let chair_id = by_signal["id"].as_i64().unwrap();

    // A shorter, edited version of the chair video is found in it.
    let query = vpdq::to_hma_signal(&reference("chair-22-with-small-logo-bar-r1.txt"));
    let (status, found) = server.get(&format!(
        "/m/lookup?signal_type=vpdq&signal={}",
        encode(&query)
    ));
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["VIDEOS"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["VIDEOS"][0]["bank_content_id"], chair_id);
    let distance = found["VIDEOS"][0]["distance"].as_str().unwrap();
    assert!(
        distance.ends_with('%') && distance.contains("%,"),
        "{distance}"
    );

    let (_, native) = server.get(&format!(
        "/v1/lookup?signal_type=vpdq&signal={}",
        encode(&query)
    ));
    let best = &native["matches"][0];
    assert_eq!(best["content_id"], chair_id);
    assert!(best["query_pct"].as_f64().unwrap() >= 80.0, "{best}");
    assert!(best["compared_pct"].as_f64().is_some());
    // Stricter thresholds per lookup.
    let (_, strict) = server.get(&format!(
        "/v1/lookup?signal_type=vpdq&signal={}&vpdq_query_pct=100&vpdq_compared_pct=100",
        encode(&query)
    ));
    assert!(
        strict["matches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["query_pct"] == 100.0),
        "{strict}"
    );

    // The uploaded doorknob is matched by uploading it again.
    let (status, again) = server.upload("/m/lookup", &[("video", "d.mp4", &video)], &[]);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["vpdq"]["VIDEOS"][0]["bank_content_id"], added["id"]);
    assert_eq!(again["video_md5"]["VIDEOS"][0]["distance"], "-");
    assert_eq!(
        server.get("/m/index/status?signal_type=vpdq").1["vpdq"]["size"],
        2
    );

    // Broken videos are a 400 with the reason.
    let (status, body) = server.upload("/h/hash", &[("video", "x.mp4", b"not a video")], &[]);
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("video"),
        "{body}"
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/c/bank/VIDEOS/signal",
                &json!({ "vpdq": "[\"zz,1,0\"]" })
            )
            .0,
        400
    );
}
