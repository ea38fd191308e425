//! HMA's documented flows against the real server on a loopback port, with
//! a real HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{Server, vector};
use serde_json::{Value, json};

const PDQ: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
const PDQ_NEAR: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

#[test]
fn status_and_types() {
    let server = Server::start();
    assert_eq!(
        server.get("/status"),
        (200, Value::String("I-AM-ALIVE".into()))
    );
    assert_eq!(server.get("/status/live").0, 200);
    let (status, types) = server.get("/c/signal_type");
    assert_eq!(status, 200);
    assert!(types.as_array().unwrap().iter().any(|t| t["name"] == "pdq"));
    assert_eq!(server.get("/c/content_type").1[0]["name"], "photo");
}

#[test]
fn banks_are_created_read_updated_and_deleted() {
    let server = Server::start();
    assert_eq!(
        server.send("POST", "/c/banks", &json!({ "name": "TEST_BANK" })),
        (
            201,
            json!({ "name": "TEST_BANK", "matching_enabled_ratio": 1.0 })
        )
    );
    let (status, body) = server.send("POST", "/c/banks", &json!({ "name": "TEST_BANK" }));
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Bank already exists"))
    );
    let (status, body) = server.send("POST", "/c/banks", &json!({ "name": "bad-name" }));
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Bank names must be UPPER_WITH_UNDERSCORE"))
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/c/banks",
                &json!({ "name": "OFF", "enabled_ratio": null, "enabled": false })
            )
            .1["matching_enabled_ratio"],
        0.0
    );
    assert_eq!(server.get("/c/banks").1.as_array().unwrap().len(), 2);
    assert_eq!(server.get("/c/bank/TEST_BANK").1["name"], "TEST_BANK");
    assert_eq!(server.get("/c/bank/NOPE").0, 404);
    let (status, body) = server.send(
        "PUT",
        "/c/bank/TEST_BANK",
        &json!({ "name": "RENAMED", "enabled_ratio": 0.5 }),
    );
    assert_eq!(
        (status, body),
        (
            200,
            json!({ "name": "RENAMED", "matching_enabled_ratio": 0.5 })
        )
    );
    assert_eq!(
        server
            .send("PUT", "/c/bank/RENAMED", &json!({ "name": "OFF" }))
            .0,
        403
    );
    assert_eq!(
        server
            .send("PUT", "/c/bank/NOPE", &json!({ "enabled": true }))
            .0,
        404
    );
    assert_eq!(
        server.send("DELETE", "/c/bank/RENAMED", &json!({})),
        (200, json!({ "message": "Done" }))
    );
    assert_eq!(
        server.send("DELETE", "/c/bank/NEVER_WAS", &json!({})),
        (200, json!({ "message": "Done" }))
    );
    assert_eq!(server.get("/c/banks").1.as_array().unwrap().len(), 1);
}

#[test]
fn signals_are_banked_and_looked_up_as_hma_does() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    server.send(
        "POST",
        "/c/banks",
        &json!({ "name": "HIDDEN", "enabled_ratio": 0.0 }),
    );
    let (status, added) = server.send(
        "POST",
        "/c/bank/KNOWN/signal",
        &json!({ "pdq": PDQ, "md5": MD5, "note": "benign test" }),
    );
    assert_eq!(status, 200);
    assert_eq!(
        added,
        json!({ "id": 1, "signals": { "md5": MD5, "pdq": PDQ } })
    );
    let (_, hidden) = server.send("POST", "/c/bank/HIDDEN/signal", &json!({ "pdq": PDQ }));
    assert_eq!(hidden["id"], 2, "content ids are one global serial");
    assert_eq!(
        server
            .send("POST", "/c/bank/KNOWN/signal", &json!({ "tlsh": "x" }))
            .0,
        400
    );
    let (status, body) = server.send("POST", "/c/bank/KNOWN/signal", &json!({ "pdq": "nothex" }));
    assert!(
        status == 400
            && body["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid pdq signal"),
        "{body}"
    );
    assert_eq!(
        server
            .send("POST", "/c/bank/KNOWN/signal", &json!({ "note": "x" }))
            .1["message"],
        "No signals given"
    );
    assert_eq!(
        server
            .send("POST", "/c/bank/NOPE/signal", &json!({ "pdq": PDQ }))
            .0,
        404
    );

    // The next lookup finds what was just added; ratio-0 banks only in raw lookups.
    let (status, found) = server.get(&format!("/m/lookup?signal_type=pdq&signal={PDQ_NEAR}"));
    assert_eq!(
        (status, found),
        (
            200,
            json!({ "KNOWN": [{ "bank_content_id": 1, "distance": "6" }] })
        )
    );
    assert_eq!(
        server
            .get(&format!("/m/raw_lookup?signal_type=pdq&signal={PDQ_NEAR}"))
            .1,
        json!({ "matches": [1, 2] })
    );
    assert_eq!(
        server
            .get(&format!(
                "/m/raw_lookup?signal_type=pdq&signal={PDQ_NEAR}&banks=HIDDEN&include_distance=true"
            ))
            .1,
        json!({ "matches": [{ "bank_content_id": 2, "distance": "6" }] })
    );
    assert_eq!(
        server
            .get(&format!("/m/lookup?signal_type=md5&signal={MD5}"))
            .1,
        json!({ "KNOWN": [{ "bank_content_id": 1, "distance": "-" }] })
    );
    assert_eq!(server.get("/m/lookup?signal_type=pdq&signal=0000").0, 400);
    assert_eq!(
        server.get("/m/lookup").1["message"],
        "Either url or both signal and signal_type are required"
    );
    assert_eq!(
        server
            .get(&format!("/m/raw_lookup?signal_type=nope&signal={PDQ}"))
            .1["message"],
        "No such SignalType 'nope'"
    );

    // Disabling hides a content from lookups (not from raw lookups).
    let (status, updated) = server.send(
        "PUT",
        "/c/bank/KNOWN/content/1",
        &json!({ "disable_until_ts": 0 }),
    );
    assert_eq!((status, &updated["disable_until_ts"]), (200, &json!(0)));
    assert_eq!(
        server
            .get(&format!("/m/lookup?signal_type=pdq&signal={PDQ}"))
            .1,
        json!({})
    );
    assert_eq!(
        server
            .get(&format!(
                "/m/raw_lookup?signal_type=pdq&signal={PDQ}&banks=KNOWN"
            ))
            .1,
        json!({ "matches": [1] })
    );
    assert_eq!(
        server
            .send(
                "PUT",
                "/c/bank/KNOWN/content/1",
                &json!({ "disable_until_ts": "1" })
            )
            .0,
        200
    );
    assert_eq!(
        server
            .get(&format!("/m/lookup?signal_type=pdq&signal={PDQ}"))
            .1["KNOWN"][0]["distance"],
        "0"
    );

    let (status, sizes) = server.get("/m/index/status");
    assert_eq!(
        (status, &sizes["pdq"]["size"], &sizes["pdq"]["present"]),
        (200, &json!(2), &json!(true))
    );
    assert_eq!(server.get("/m/index/status?signal_type=nope").0, 400);
}

#[test]
fn contents_are_read_updated_and_deleted() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    server.send(
        "POST",
        "/c/bank/KNOWN/signal",
        &json!({ "pdq": PDQ, "note": "first" }),
    );
    let (status, content) = server.get("/c/bank/KNOWN/content/1?include_signals=true");
    assert_eq!(status, 200);
    assert_eq!(content["signals"]["pdq"], PDQ);
    assert_eq!(content["note"], "first");
    assert_eq!(content["disable_until_ts"], 1);
    assert_eq!(content["bank"]["name"], "KNOWN");
    // No metadata and no provenance: HMA leaves the key out.
    assert!(content.get("metadata").is_none(), "{content}");
    assert!(
        server
            .get("/c/bank/KNOWN/content/1")
            .1
            .get("signals")
            .is_none()
    );
    assert_eq!(server.get("/c/bank/KNOWN/content/99").0, 404);
    assert_eq!(server.get("/c/bank/NOPE/content/1").0, 404);
    assert_eq!(
        server
            .send(
                "PUT",
                "/c/bank/KNOWN/content/1",
                &json!({ "note": "x".repeat(256) })
            )
            .0,
        400
    );
    assert_eq!(
        server
            .send(
                "PUT",
                "/c/bank/KNOWN/content/1",
                &json!({ "disable_until_ts": -5 })
            )
            .0,
        400
    );
    let (status, updated) = server.send("PUT", "/c/bank/KNOWN/content/1", &json!({ "note": null }));
    assert_eq!((status, &updated["note"]), (200, &Value::Null));
    assert_eq!(
        server.send("DELETE", "/c/bank/KNOWN/content/1", &json!({})),
        (200, json!({ "deleted": 1 }))
    );
    assert_eq!(
        server.send("DELETE", "/c/bank/KNOWN/content/1", &json!({})),
        (200, json!({ "deleted": 0 }))
    );
    assert_eq!(
        server
            .send("DELETE", "/c/bank/NOPE/content/1", &json!({}))
            .0,
        404
    );
    assert_eq!(
        server
            .get(&format!("/m/raw_lookup?signal_type=pdq&signal={PDQ}"))
            .1,
        json!({ "matches": [] })
    );
}

#[test]
fn compare_follows_hma() {
    let server = Server::start();
    assert_eq!(
        server.send("POST", "/m/compare", &json!({ "pdq": [PDQ, PDQ_NEAR] })),
        (200, json!({ "pdq": [true, { "distance": 6 }] }))
    );
    for bad in [
        json!([1, 2]),
        json!({ "pdq": [PDQ] }),
        json!({ "nope": [PDQ, PDQ] }),
        json!({ "pdq": [PDQ, "zz"] }),
    ] {
        assert_eq!(server.send("POST", "/m/compare", &bad).0, 400, "{bad}");
    }
}

#[test]
fn uploads_are_hashed_and_banked() {
    let server = Server::start();
    let photo = vector("bridge-mods/aaa-orig.jpg");
    let (status, hashes) = server.upload("/h/hash", &[("photo", "a.jpg", &photo)], &[]);
    assert_eq!(status, 200, "{hashes}");
    assert_eq!(
        hashes["pdq"],
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    );
    assert_eq!(hashes["md5"].as_str().map(str::len), Some(32));
    let tiny = vector("synthetic/rgb-1x1.png");
    assert_eq!(
        server
            .upload("/h/hash", &[("photo", "t.png", &tiny)], &[])
            .1["pdq"],
        "",
        "low quality gives an empty PDQ"
    );
    assert_eq!(
        server.upload("/h/hash", &[], &[("x", "y")]).1["message"],
        "Missing multipart/form-data file upload"
    );
    assert_eq!(
        server
            .upload(
                "/h/hash",
                &[("photo", "a", &photo), ("photo", "b", &photo)],
                &[]
            )
            .1["message"],
        "Only one file allowed per request"
    );
    assert_eq!(
        server.upload("/h/hash", &[("gif", "a", &photo)], &[]).1["message"],
        "no such content_type: 'gif'"
    );
    assert_eq!(
        server
            .upload("/h/hash", &[("photo", "x", b"not an image")], &[])
            .0,
        400
    );
    // Uploads far above axum's 2 MB default reach the decoder.
    let (status, body) = server.upload("/h/hash", &[("photo", "big", &vec![0u8; 5 << 20])], &[]);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("cannot hash"),
        "{body}"
    );

    server.send("POST", "/c/banks", &json!({ "name": "UPLOADS" }));
    let metadata = r#"{"content_id": "post-1", "content_uri": "https://example.test/p/1"}"#;
    let (status, added) = server.upload(
        "/c/bank/UPLOADS/content",
        &[("photo", "a.jpg", &photo)],
        &[("metadata", metadata), ("note", "banked by upload")],
    );
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["id"], 1);
    let (_, content) = server.get("/c/bank/UPLOADS/content/1?include_signals=true");
    assert_eq!(content["metadata"]["content_id"], "post-1");
    assert_eq!(content["note"], "banked by upload");
    // The next lookup finds a blurred copy.
    let blurred = vector("bridge-mods/blur-a-lot.jpg");
    let (_, query) = server.upload("/h/hash", &[("photo", "b.jpg", &blurred)], &[]);
    let (_, found) = server.get(&format!(
        "/m/lookup?signal_type=pdq&signal={}",
        query["pdq"].as_str().unwrap()
    ));
    assert_eq!(found["UPLOADS"][0]["bank_content_id"], 1);
    assert_eq!(
        server
            .upload("/c/bank/UPLOADS/content", &[], &[("note", "x")])
            .1["message"],
        "Neither `url` nor multipart file upload was received"
    );
    assert_eq!(
        server
            .upload("/c/bank/NOPE/content", &[("photo", "a.jpg", &photo)], &[])
            .0,
        404
    );
    assert_eq!(
        server
            .upload(
                "/c/bank/UPLOADS/content",
                &[("photo", "a.jpg", &photo)],
                &[("metadata", "{\"colour\": 1}")]
            )
            .0,
        400
    );
}
