//! Where Vigil once differed from HMA 1.1.7 run beside it (issue #17), each
//! checked against what HMA's source does, and the typed JSON bodies: a
//! body of the wrong shape answers 4xx with a `{"message"}` naming the
//! field, read without building a tree of it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;
mod raw;

use common::{Server, vector};
use serde_json::{Value, json};

const PDQ: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
const PDQ_NEAR: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

/// Sends `body` as it is, with `content_type`.
fn send_raw(
    server: &Server,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", server.base);
    let request = match method {
        "PUT" => agent.put(&url),
        _ => agent.post(&url),
    };
    let mut response = request
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn message(body: &Value) -> &str {
    body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"))
}

#[test]
fn enabled_false_keeps_the_default_ratio_unless_the_ratio_is_null() {
    let server = Server::start();
    let ratio = |body: Value| {
        let (status, bank) = server.send("POST", "/c/banks", &body);
        assert_eq!(status, 201, "{bank}");
        bank["matching_enabled_ratio"].as_f64().unwrap()
    };
    // pydantic's default enabled_ratio (1.0) wins over `enabled`.
    assert_eq!(ratio(json!({ "name": "A", "enabled": false })), 1.0);
    assert_eq!(
        ratio(json!({ "name": "B", "enabled_ratio": null, "enabled": false })),
        0.0
    );
    assert_eq!(ratio(json!({ "name": "C", "enabled_ratio": null })), 1.0);
    // Numeric strings and booleans, as pydantic's lax float takes them.
    assert_eq!(ratio(json!({ "name": "D", "enabled_ratio": "0.25" })), 0.25);
    assert_eq!(ratio(json!({ "name": "E", "enabled_ratio": false })), 0.0);
    assert_eq!(
        ratio(json!({ "name": "F", "enabled_ratio": null, "enabled": "no" })),
        0.0
    );
    let (status, bank) = server.send("PUT", "/c/bank/A", &json!({ "enabled_ratio": " 0.5 " }));
    assert_eq!(
        (status, &bank["matching_enabled_ratio"]),
        (200, &json!(0.5))
    );
    let (status, bank) = server.send("PUT", "/c/bank/A", &json!({ "enabled": "off" }));
    assert_eq!(
        (status, &bank["matching_enabled_ratio"]),
        (200, &json!(0.0))
    );
    let (status, body) = server.send(
        "POST",
        "/c/banks",
        &json!({ "name": "G", "enabled_ratio": "much" }),
    );
    assert_eq!(status, 422, "{body}");
    assert!(message(&body).contains("enabled_ratio"), "{body}");
}

#[test]
fn a_seed_keeps_the_banks_hmas_python_coinflip_keeps() {
    let server = Server::start();
    // CPython: Random("abc").random() = 0.772…, Random("42") = 0.4736…,
    // Random(" 1") = 0.1233… (the space is part of the seed).
    for (name, ratio) in [
        ("R077", 0.772),
        ("R078", 0.78),
        ("R047", 0.47),
        ("R048", 0.48),
        ("R012", 0.12),
    ] {
        server.send(
            "POST",
            "/c/banks",
            &json!({ "name": name, "enabled_ratio": ratio }),
        );
        server.send(
            "POST",
            &format!("/c/bank/{name}/signal"),
            &json!({ "pdq": PDQ }),
        );
    }
    let banks = |seed: &str| -> Vec<String> {
        let (status, body) = server.get(&format!(
            "/m/lookup?signal_type=pdq&signal={PDQ}&seed={seed}"
        ));
        assert_eq!(status, 200, "{body}");
        let mut names: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    };
    assert_eq!(banks("abc"), ["R078"]);
    assert_eq!(banks("42"), ["R048", "R077", "R078"]);
    assert_eq!(banks("%201"), ["R047", "R048", "R077", "R078"]);
    // The same seed on an upload lookup: one draw per signal type.
    let photo = vector("bridge-mods/aaa-orig.jpg");
    let (status, body) = server.upload(
        "/m/lookup?seed=abc&types=pdq",
        &[("photo", "a.jpg", &photo)],
        &[],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["pdq"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["R078"]
    );
}

#[test]
fn content_read_through_another_bank_shows_its_own_bank() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "A" }));
    server.send(
        "POST",
        "/c/banks",
        &json!({ "name": "B", "enabled_ratio": 0.5 }),
    );
    server.send("POST", "/c/bank/B/signal", &json!({ "pdq": PDQ }));
    let (status, content) = server.get("/c/bank/A/content/1");
    assert_eq!(status, 200, "{content}");
    assert_eq!(
        content["bank"],
        json!({ "name": "B", "matching_enabled_ratio": 0.5 })
    );
    let (status, updated) = server.send("PUT", "/c/bank/A/content/1", &json!({ "note": "seen" }));
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["bank"]["name"], "B");
    let (status, missing) = server.get("/c/bank/A/content/7");
    assert_eq!((status, message(&missing)), (404, "content '7' not found"));
}

#[test]
fn types_select_what_uploads_bank_and_look_up() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "PHOTOS" }));
    let photo = vector("bridge-mods/aaa-orig.jpg");
    let (status, added) = server.upload(
        "/c/bank/PHOTOS/content?types=pdq",
        &[("photo", "a.jpg", &photo)],
        &[],
    );
    assert_eq!(status, 200, "{added}");
    let pdq = added["signals"]["pdq"].as_str().unwrap().to_owned();
    assert_eq!(added["signals"], json!({ "pdq": pdq }));
    let (_, content) = server.get("/c/bank/PHOTOS/content/1?include_signals=true");
    assert_eq!(content["signals"], json!({ "pdq": pdq }));
    let (status, found) = server.upload("/m/lookup?types=md5", &[("photo", "a.jpg", &photo)], &[]);
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["md5"]
    );
    let (status, body) = server.upload("/m/lookup?types=nope", &[("photo", "a.jpg", &photo)], &[]);
    assert_eq!(
        (status, message(&body)),
        (400, "signal type 'nope' doesn't exist or is disabled")
    );
}

#[test]
fn a_photo_below_pdq_quality_50_is_not_banked() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "PHOTOS" }));
    let flat = vector("synthetic/flat-400x300.png");
    let (status, body) = server.upload(
        "/c/bank/PHOTOS/content",
        &[("photo", "flat.png", &flat)],
        &[],
    );
    assert_eq!(
        (status, message(&body)),
        (400, "Invalid pdq signal: invalid PDQ hash")
    );
    // Without pdq among the types, its exact hashes are banked.
    let (status, body) = server.upload(
        "/c/bank/PHOTOS/content?types=md5",
        &[("photo", "flat.png", &flat)],
        &[],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["signals"]["md5"].is_string(), "{body}");
}

#[test]
fn metadata_is_left_out_when_empty_and_complete_when_present() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    server.send("POST", "/c/bank/KNOWN/signal", &json!({ "pdq": PDQ }));
    let (_, content) = server.get("/c/bank/KNOWN/content/1");
    assert!(content.get("metadata").is_none(), "{content}");
    let photo = vector("bridge-mods/aaa-orig.jpg");
    let (status, _) = server.upload(
        "/c/bank/KNOWN/content",
        &[("photo", "a.jpg", &photo)],
        &[(
            "metadata",
            r#"{"content_id": "post-1", "collab": {"X": ["forged"]}}"#,
        )],
    );
    assert_eq!(status, 200);
    let (_, content) = server.get("/c/bank/KNOWN/content/2");
    assert_eq!(
        content["metadata"],
        json!({ "content_id": "post-1", "content_uri": null, "json": null, "collab": null })
    );
    let (_, updated) = server.send("PUT", "/c/bank/KNOWN/content/2", &json!({}));
    assert_eq!(updated["user_metadata"], json!({ "content_id": "post-1" }));
    assert_eq!(updated["collab_metadata"], json!({}));
    let (status, body) = server.upload(
        "/c/bank/KNOWN/content",
        &[("photo", "a.jpg", &photo)],
        &[("metadata", "{not json")],
    );
    assert_eq!(
        (status, message(&body)),
        (400, "metadata form field must be valid JSON")
    );
    let (status, body) = server.upload(
        "/c/bank/KNOWN/content",
        &[("photo", "a.jpg", &photo)],
        &[("metadata", r#"{"colour": 1}"#)],
    );
    assert_eq!(status, 400);
    assert!(message(&body).starts_with("Invalid metadata: "), "{body}");
}

#[test]
fn a_pdq_is_64_lowercase_hex_digits_on_every_route() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    for bad in [PDQ.to_uppercase(), format!(" {PDQ}"), format!("{PDQ} ")] {
        let encoded = common::encode(&bad);
        let (status, body) = server.get(&format!("/m/lookup?signal_type=pdq&signal={encoded}"));
        assert_eq!(
            (status, message(&body)),
            (400, "invalid signal: invalid PDQ hash"),
            "{bad:?}"
        );
        let (status, body) = server.get(&format!("/m/raw_lookup?signal_type=pdq&signal={encoded}"));
        assert_eq!(
            (status, message(&body)),
            (400, "invalid signal: invalid PDQ hash"),
            "{bad:?}"
        );
        let (status, body) = server.send("POST", "/m/compare", &json!({ "pdq": [bad, PDQ] }));
        assert_eq!(
            (status, message(&body)),
            (400, "Invalid pdq hash: invalid PDQ hash"),
            "{bad:?}"
        );
        let (status, body) = server.send("POST", "/c/bank/KNOWN/signal", &json!({ "pdq": bad }));
        assert_eq!(
            (status, message(&body)),
            (400, "Invalid pdq signal: invalid PDQ hash"),
            "{bad:?}"
        );
    }
    assert_eq!(
        server
            .send("POST", "/c/bank/KNOWN/signal", &json!({ "pdq": PDQ }))
            .0,
        200
    );
}

#[test]
fn a_note_is_checked_alike_on_every_route() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    let (status, body) = server.send(
        "POST",
        "/c/bank/KNOWN/signal",
        &json!({ "pdq": PDQ, "note": 5 }),
    );
    assert_eq!((status, message(&body)), (400, "note should be a string"));
    let (status, _) = server.send(
        "POST",
        "/c/bank/KNOWN/signal",
        &json!({ "pdq": PDQ, "note": false }),
    );
    assert_eq!(status, 200);
    let (status, body) = server.send("PUT", "/c/bank/KNOWN/content/1", &json!({ "note": ["x"] }));
    assert_eq!((status, message(&body)), (400, "note should be a string"));
    let (status, body) = send_raw(
        &server,
        "POST",
        "/c/bank/KNOWN/content?url=http://127.0.0.1:9/a.jpg",
        "application/json",
        br#"{"note": {"a": 1}}"#,
    );
    assert_eq!((status, message(&body)), (400, "note should be a string"));
    let (status, updated) = server.send("PUT", "/c/bank/KNOWN/content/1", &json!({ "note": 0 }));
    assert_eq!((status, &updated["note"]), (200, &Value::Null));
}

#[test]
fn boolean_parameters_read_as_hma_reads_them() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    server.send("POST", "/c/bank/KNOWN/signal", &json!({ "pdq": PDQ }));
    let raw = |flag: &str| {
        server.get(&format!(
            "/m/raw_lookup?signal_type=pdq&signal={PDQ}&include_distance={flag}"
        ))
    };
    let (status, body) = raw("maybe");
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("include_distance"), "{body}");
    assert_eq!(
        raw("yes").1,
        json!({ "matches": [{ "bank_content_id": 1, "distance": "0" }] })
    );
    assert_eq!(raw("OFF").1, json!({ "matches": [1] }));
    // include_signals and include_metadata are compared with "true".
    let (_, content) = server.get("/c/bank/KNOWN/content/1?include_signals=1");
    assert!(content.get("signals").is_none(), "{content}");
    let (_, content) = server.get("/c/bank/KNOWN/content/1?include_signals=TRUE");
    assert_eq!(content["signals"]["pdq"], PDQ);
}

#[test]
fn compare_reads_only_pairs_of_strings() {
    let server = Server::start();
    let compare = |body: &str| {
        send_raw(
            &server,
            "POST",
            "/m/compare",
            "application/json",
            body.as_bytes(),
        )
    };
    let (status, body) = compare(&format!(r#"{{"pdq": ["{PDQ}", "{PDQ_NEAR}"]}}"#));
    assert_eq!(
        (status, body),
        (200, json!({ "pdq": [true, { "distance": 6 }] }))
    );
    // A long list of numbers is refused without being kept.
    let long = format!(r#"{{"pdq": [{}1]}}"#, "1,".repeat(200_000));
    assert_eq!(
        compare(&long),
        (
            400,
            json!({ "message": "Comparison hash list length must be exactly 2" })
        )
    );
    assert_eq!(
        compare(r#"{"pdq": [1, 2]}"#),
        (
            400,
            json!({ "message": "Invalid pdq hash: expected string" })
        )
    );
    assert_eq!(
        compare(r#"{"pdq": "ab"}"#),
        (
            400,
            json!({ "message": "Comparison hashes for pdq was not a list" })
        )
    );
    assert_eq!(
        compare("[1, 2]"),
        (400, json!({ "message": "Request input was not a dict" }))
    );
    assert_eq!(
        compare(&format!(r#"{{"tlsh": ["{PDQ}", "{PDQ}"]}}"#)),
        (400, json!({ "message": "No such SignalType 'tlsh'" }))
    );
    let (status, body) = compare(r#"{"pdq": ["#);
    assert_eq!(status, 400);
    assert!(
        message(&body).starts_with("Failed to decode JSON object"),
        "{body}"
    );
    let (status, body) = send_raw(&server, "POST", "/m/compare", "text/plain", b"{}");
    assert_eq!(status, 415, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[test]
fn typed_bodies_name_the_wrong_field() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    server.send("POST", "/c/bank/KNOWN/signal", &json!({ "pdq": PDQ }));
    let cases: [(&str, &str, Value, u16, &str); 9] = [
        ("POST", "/c/banks", json!({ "name": 5 }), 422, "name"),
        ("POST", "/c/banks", json!({}), 422, "name"),
        (
            "PUT",
            "/c/bank/KNOWN",
            json!({ "enabled": "maybe" }),
            422,
            "enabled",
        ),
        (
            "PUT",
            "/c/bank/KNOWN",
            json!({ "name": ["X"] }),
            422,
            "name",
        ),
        (
            "PUT",
            "/c/bank/KNOWN/content/1",
            json!({ "disable_until_ts": "1.5" }),
            400,
            "Invalid int: '1.5'",
        ),
        (
            "POST",
            "/c/bank/KNOWN/signal",
            json!({ "pdq": 5 }),
            400,
            "Invalid pdq signal",
        ),
        ("POST", "/c/bank/KNOWN/signal", json!([PDQ]), 400, "object"),
        (
            "POST",
            "/v1/bank/KNOWN/content",
            json!({ "signals": 5 }),
            400,
            "signals",
        ),
        (
            "PUT",
            "/v1/content/1/labels",
            json!({ "tier": 5 }),
            400,
            "tier",
        ),
    ];
    for (method, path, body, status, needle) in cases {
        let (got, answer) = server.send(method, path, &body);
        assert_eq!(got, status, "{method} {path} {body}: {answer}");
        assert!(
            message(&answer).contains(needle),
            "{method} {path} {body}: {answer}"
        );
    }
    let (status, body) = send_raw(
        &server,
        "PUT",
        "/c/bank/KNOWN",
        "application/json",
        b"{\"name\": ",
    );
    assert_eq!(status, 400);
    assert!(
        message(&body).starts_with("Failed to decode JSON object"),
        "{body}"
    );
}

#[test]
fn content_fields_without_an_upload_are_bounded() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    // Just over the 1 MiB bound: refused from its Content-Length, before
    // it is read (the raw client ignores the pipe the server then closes).
    let big = format!(r#"{{"note": "{}"}}"#, "x".repeat(1 << 20));
    let answer = raw::exchange(
        &server.base,
        &format!(
            "POST /c/bank/KNOWN/content?url=http://127.0.0.1:9/a.jpg HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}",
            big.len()
        ),
        big.as_bytes(),
    );
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(
        message(&answer.json()).contains("1048576 bytes"),
        "{answer:?}"
    );
}
