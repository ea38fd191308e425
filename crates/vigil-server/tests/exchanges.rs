//! HMA's exchange flows: create, status, fetch, update and delete, for the
//! `sample` and `local_file` types.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use std::time::{Duration, Instant};

use common::Server;
use serde_json::{Value, json};
use vigil_engine::exchange::ExchangeSettings;

const SAMPLE_FIRST_PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

/// Waits until the exchange's first fetch has completed.
fn fetched(server: &Server, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = server.get(&format!("/c/exchange/{name}/status"));
        assert_eq!(status, 200, "{body}");
        if body["last_fetch_complete_ts"].is_number() {
            return body;
        }
        assert!(Instant::now() < deadline, "no fetch completed: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_sample_exchange_is_created_fetched_and_deleted() {
    let server = Server::start_with(|s| s.exchange_interval = None);
    assert_eq!(
        server.get("/c/exchanges/apis").1,
        json!(["sample", "local_file"])
    );
    assert_eq!(
        server.get("/c/exchanges/api/sample").1,
        json!({ "supports_authentification": false, "has_set_authentification": false })
    );
    assert_eq!(
        server.send("POST", "/c/exchanges/api/sample", &json!({})).0,
        200
    );
    assert_eq!(server.get("/c/exchanges/api/nope").0, 400);
    let (_, schema) = server.get("/c/exchanges/api/local_file/schema");
    assert_eq!(schema["config_schema"]["fields"][0]["name"], "filename");
    assert_eq!(schema["credentials_schema"], Value::Null);
    assert_eq!(server.get("/c/exchanges/api/nope/schema").0, 404);

    let (status, body) = server.send(
        "POST",
        "/c/exchanges",
        &json!({ "bank": "SEED_SAMPLE", "api": "sample", "api_json": {} }),
    );
    assert_eq!(
        (status, body),
        (201, json!({ "message": "Created successfully" }))
    );
    let status = fetched(&server, "SEED_SAMPLE");
    assert_eq!(status["fetched_items"], 18);
    assert_eq!(status["last_fetch_succeeded"], true);
    assert_eq!(status["up_to_date"], true);
    assert_eq!(server.get("/c/exchanges").1, json!(["SEED_SAMPLE"]));
    assert_eq!(
        server.get("/c/exchange/SEED_SAMPLE").1,
        json!({ "name": "SEED_SAMPLE", "api": "sample", "enabled": true })
    );
    // The exchange's bank exists and its content is matched, with provenance.
    assert_eq!(server.get("/c/bank/SEED_SAMPLE").0, 200);
    let (_, found) = server.get(&format!(
        "/m/lookup?signal_type=pdq&signal={SAMPLE_FIRST_PDQ}"
    ));
    let id = found["SEED_SAMPLE"][0]["bank_content_id"].as_i64().unwrap();
    let (_, content) = server.get(&format!("/c/bank/SEED_SAMPLE/content/{id}"));
    // HMA's fetch id is Python's text of the record key, a tuple.
    assert_eq!(
        content["metadata"],
        json!({
            "content_id": null,
            "content_uri": null,
            "json": null,
            "collab": { "SEED_SAMPLE": [format!("('pdq', '{SAMPLE_FIRST_PDQ}')")] },
        })
    );
    let (_, updated) = server.send(
        "PUT",
        &format!("/c/bank/SEED_SAMPLE/content/{id}"),
        &json!({}),
    );
    assert_eq!(
        updated["collab_metadata"],
        json!({ "SEED_SAMPLE": [format!("('pdq', '{SAMPLE_FIRST_PDQ}')")] })
    );
    // The sample's checkpoints carry no time, so HMA shows none.
    assert_eq!(status["checkpoint_ts"], Value::Null);
    // Fetching again changes nothing.
    let (status, again) = server.send("POST", "/c/exchange/SEED_SAMPLE/fetch", &json!({}));
    assert_eq!(status, 200, "{again}");
    assert_eq!(server.engine.indexed(), 18);

    let (status, updated) = server.send(
        "PUT",
        "/c/exchange/SEED_SAMPLE",
        &json!({ "enabled": false }),
    );
    assert_eq!(status, 200);
    assert_eq!(updated["enabled"], false);
    // `enabled` is a pydantic bool: "yes" and "no" are booleans.
    let (status, updated) = server.send(
        "PUT",
        "/c/exchange/SEED_SAMPLE",
        &json!({ "enabled": "yes" }),
    );
    assert_eq!((status, &updated["enabled"]), (200, &json!(true)));
    let (status, body) = server.send(
        "PUT",
        "/c/exchange/SEED_SAMPLE",
        &json!({ "enabled": "maybe" }),
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("enabled"),
        "{body}"
    );

    assert_eq!(
        server.send("DELETE", "/c/exchange/SEED_SAMPLE", &json!(null)),
        (200, json!({ "message": "Exchange deleted" }))
    );
    assert_eq!(
        server
            .send("DELETE", "/c/exchange/SEED_SAMPLE", &json!(null))
            .0,
        200
    );
    assert_eq!(server.get("/c/bank/SEED_SAMPLE").0, 404);
    let (status, body) = server.get("/c/exchange/SEED_SAMPLE/status");
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("Exchange 'SEED_SAMPLE' not found"))
    );
    assert_eq!(server.engine.indexed(), 0);
}

#[test]
fn bad_exchange_requests_get_hma_errors() {
    let server = Server::start_with(|s| s.exchange_interval = None);
    let message = |body: Value| {
        let (status, answer) = server.send("POST", "/c/exchanges", &body);
        (
            status,
            answer["message"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(
        message(json!({ "api": "sample" })),
        (400, "bank is required".into())
    );
    assert_eq!(
        message(json!({ "bank": "lower", "api": "sample" })),
        (400, "Field `bank` must match /^[A-Z0-9_]+$/".into())
    );
    assert_eq!(
        message(json!({ "bank": "X", "api": "sample", "api_json": [] })),
        (400, "Field `api_json` must be object".into())
    );
    assert_eq!(
        message(json!({ "bank": "X" })),
        (400, "Field `api_type` is required".into())
    );
    assert_eq!(
        message(json!({ "bank": "X", "api": "nope" })),
        (400, "No such exchange type 'nope'".into())
    );
    assert_eq!(
        message(json!({ "bank": "X", "api": "local_file", "api_json": { "filename": "../x" } })).0,
        400
    );
    server.send("POST", "/c/banks", &json!({ "name": "TAKEN" }));
    assert_eq!(
        message(json!({ "bank": "TAKEN", "api": "sample" })).0,
        403,
        "a bank of that name exists"
    );
    assert_eq!(server.get("/c/exchange/NOPE").0, 404);
    assert_eq!(
        message(json!({ "bank": "X", "api": "sample", "api_json": null })),
        (400, "Field `api_json` must be object".into())
    );
    assert_eq!(
        message(json!({ "bank": 5, "api": "sample" })),
        (400, "Field `bank` must match /^[A-Z0-9_]+$/".into())
    );
    // Unknown settings are refused (HMA ignores them; declared).
    let (status, text) =
        message(json!({ "bank": "X", "api": "sample", "api_json": { "colour": 1 } }));
    assert_eq!(status, 400);
    assert!(text.contains("colour"), "{text}");
}

#[test]
fn an_exchange_created_disabled_is_not_fetched() {
    let server = Server::start_with(|s| s.exchange_interval = None);
    let (status, body) = server.send(
        "POST",
        "/c/exchanges",
        &json!({ "bank": "QUIET", "api": "sample", "api_json": { "enabled": false, "name": "IGNORED" } }),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        server.get("/c/exchange/QUIET").1,
        json!({ "name": "QUIET", "api": "sample", "enabled": false })
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.get("/c/exchange/QUIET/status").1["last_fetch_complete_ts"],
        Value::Null
    );
    assert_eq!(server.engine.indexed(), 0);
    let (status, body) = server.send(
        "POST",
        "/c/exchanges",
        &json!({ "bank": "LOUD", "api": "sample", "api_json": { "enabled": "no" } }),
    );
    assert_eq!(status, 400, "{body}");
    // Deleting the exchange's bank deletes the exchange (declared: HMA
    // leaves an exchange with no bank).
    assert_eq!(server.send("DELETE", "/c/bank/QUIET", &json!(null)).0, 200);
    assert_eq!(server.get("/c/exchange/QUIET").0, 404);
    assert_eq!(server.get("/c/exchanges").1, json!([]));
}

#[test]
fn a_local_file_exchange_reads_only_the_operators_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("partner.txt"),
        format!("pdq {SAMPLE_FIRST_PDQ}\nvideo_md5 d41d8cd98f00b204e9800998ecf8427e\n"),
    )
    .unwrap();
    let exchange_dir = dir.path().to_owned();
    let server = Server::start_with(move |s| {
        s.exchange_interval = None;
        s.exchanges = ExchangeSettings {
            local_file_dir: Some(exchange_dir),
        };
    });
    let (status, _) = server.send(
        "POST",
        "/c/exchanges",
        &json!({ "bank": "PARTNER", "api": "local_file", "api_json": { "filename": "partner.txt" } }),
    );
    assert_eq!(status, 201);
    assert_eq!(fetched(&server, "PARTNER")["fetched_items"], 2);
    assert_eq!(
        server.get("/c/exchange/PARTNER").1["filename"],
        "partner.txt"
    );
    let (_, found) = server.get(&format!(
        "/m/raw_lookup?signal_type=pdq&signal={SAMPLE_FIRST_PDQ}"
    ));
    assert_eq!(found["matches"].as_array().unwrap().len(), 1);

    // A missing file is a failed fetch, reported in the status.
    server.send(
        "POST",
        "/c/exchanges",
        &json!({ "bank": "GONE", "api": "local_file", "api_json": { "filename": "missing.txt" } }),
    );
    let status = fetched(&server, "GONE");
    assert_eq!(status["last_fetch_succeeded"], false);
    assert!(
        status["last_error"]
            .as_str()
            .unwrap()
            .contains("missing.txt")
    );
}
