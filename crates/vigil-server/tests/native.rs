//! Vigil's own routes: the `/v1` labels API, `/metrics` and `/openapi.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::Server;
use serde_json::json;
use vigil_store::Role;

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const PDQ_NEAR: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";

#[test]
fn labels_are_written_by_curators_and_read_with_matches() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    let (status, added) = server.send(
        "POST",
        "/v1/bank/KNOWN/content",
        &json!({
            "signals": { "pdq": PDQ.to_uppercase() },
            "labels": { "entity": "Example Group", "behaviour": "glorification", "tier": "designated" },
            "note": "from a partner",
            "provenance": { "exchange": "FAKE", "fetch_id": "1" },
        }),
    );
    assert_eq!(status, 200, "{added}");
    let id = added["id"].as_i64().unwrap();
    assert_eq!(added["signals"]["pdq"], PDQ, "signals are normalised");
    assert_eq!(added["labels"]["tier"], "designated");
    assert!(
        added.get("provenance").is_none(),
        "callers cannot claim provenance"
    );

    let (status, labels) = server.send(
        "PUT",
        &format!("/v1/content/{id}/labels"),
        &json!({ "entity": "Example Group", "behaviour": "attack-claim", "tier": "crisis", "tags": ["statement"] }),
    );
    assert_eq!(status, 200, "{labels}");
    assert_eq!(server.get(&format!("/v1/content/{id}/labels")).1, labels);
    assert_eq!(server.get(&format!("/v1/content/{id}")).1["labels"], labels);

    let (status, found) = server.get(&format!("/v1/lookup?signal_type=pdq&signal={PDQ_NEAR}"));
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found["matches"][0],
        json!({ "content_id": id, "bank": "KNOWN", "signal_type": "pdq", "distance": 6, "labels": labels })
    );
    let (_, strict) = server.get(&format!(
        "/v1/lookup?signal_type=pdq&signal={PDQ_NEAR}&max_distance=5"
    ));
    assert_eq!(strict["matches"], json!([]));

    for bad in [
        json!({ "tier": "apocalyptic" }),
        json!({ "colour": "red" }),
        json!({ "entity": "x".repeat(300) }),
        json!([]),
    ] {
        assert_eq!(
            server
                .send("PUT", &format!("/v1/content/{id}/labels"), &bad)
                .0,
            400,
            "{bad}"
        );
    }
    assert_eq!(server.get("/v1/content/999/labels").0, 404);
    assert_eq!(
        server
            .send(
                "PUT",
                "/v1/content/999/labels",
                &json!({ "tier": "crisis" })
            )
            .0,
        404
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/v1/bank/NOPE/content",
                &json!({ "signals": { "pdq": PDQ } })
            )
            .0,
        404
    );

    // Matchers read labels; only curators write them.
    let (_, secret) = server
        .engine
        .create_token("reader", &[Role::Matcher], "test")
        .unwrap();
    let reader = server.client().with_token(&secret);
    assert_eq!(reader.get(&format!("/v1/content/{id}/labels")).0, 200);
    assert_eq!(
        reader
            .send("PUT", &format!("/v1/content/{id}/labels"), &json!({}))
            .0,
        403
    );
}

#[test]
fn metrics_count_requests_matches_and_index_sizes() {
    let server = Server::start();
    server.send("POST", "/c/banks", &json!({ "name": "KNOWN" }));
    server.send("POST", "/c/bank/KNOWN/signal", &json!({ "pdq": PDQ }));
    for _ in 0..3 {
        server.get(&format!("/m/raw_lookup?signal_type=pdq&signal={PDQ_NEAR}"));
    }
    server.get(&format!("/m/lookup?signal_type=pdq&signal={PDQ}"));
    let (status, text, content_type) = server.client().get_text("/metrics");
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    for expected in [
        r#"vigil_http_requests_total{method="GET",route="/m/raw_lookup",status="200"} 3"#,
        r#"vigil_matches_total{bank="KNOWN",signal_type="pdq"} 4"#,
        r#"vigil_index_entries{signal_type="pdq"} 1"#,
        r#"vigil_http_request_duration_seconds_count{method="GET",route="/m/raw_lookup"} 3"#,
        "# EOF",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // Routes are labelled by pattern, not by raw path.
    server.get("/c/bank/KNOWN/content/1");
    let (_, text, _) = server.client().get_text("/metrics");
    assert!(
        text.contains(r#"route="/c/bank/{name}/content/{id}""#),
        "{text}"
    );
}

#[test]
fn the_openapi_document_describes_every_route() {
    let server = Server::start();
    let (status, api) = server.get("/openapi.json");
    assert_eq!(status, 200);
    assert!(api["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(api["info"]["title"], "Vigil API");
    let paths = api["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/status", &["get"][..]),
        ("/status/live", &["get"]),
        ("/h/hash", &["get", "post"]),
        ("/m/raw_lookup", &["get"]),
        ("/m/lookup", &["get", "post"]),
        ("/m/compare", &["post"]),
        ("/m/index/status", &["get"]),
        ("/c/banks", &["get", "post"]),
        ("/c/bank/{name}", &["get", "put", "delete"]),
        ("/c/bank/{name}/content", &["post"]),
        ("/c/bank/{name}/signal", &["post"]),
        ("/c/bank/{name}/content/{id}", &["get", "put", "delete"]),
        ("/c/signal_type", &["get"]),
        ("/c/signal_type/index", &["get"]),
        ("/c/content_type", &["get"]),
        ("/c/exchanges/apis", &["get"]),
        ("/c/exchanges/api/{api}", &["get", "post"]),
        ("/c/exchanges/api/{api}/schema", &["get"]),
        ("/c/exchanges", &["get", "post"]),
        ("/c/exchange/{name}", &["get", "put", "delete"]),
        ("/c/exchange/{name}/status", &["get"]),
        ("/c/exchange/{name}/fetch", &["post"]),
        ("/v1/content/{id}", &["get"]),
        ("/v1/content/{id}/labels", &["get", "put"]),
        ("/v1/bank/{name}/content", &["post"]),
        ("/v1/lookup", &["get"]),
    ] {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for method in methods {
            assert!(
                item[*method].is_object(),
                "{method} {path} is not documented"
            );
            assert!(
                item[*method]["responses"]["200"].is_object()
                    || item[*method]["responses"]["201"].is_object(),
                "{method} {path} has no success response"
            );
        }
    }
    // Every documented route is served: no 405, and a 404 only as the
    // route's own JSON answer (an unrouted path has an empty body).
    for (path, item) in paths {
        let concrete = path
            .replace("{name}", "NOPE")
            .replace("{id}", "1")
            .replace("{api}", "sample");
        for method in item.as_object().unwrap().keys() {
            let (status, body) = match method.as_str() {
                "get" => server.get(&concrete),
                other => server.send(&other.to_uppercase(), &concrete, &json!({})),
            };
            assert_ne!(status, 405, "{method} {concrete}");
            assert!(
                status != 404 || body["message"].is_string(),
                "{method} {concrete} is not routed"
            );
        }
    }
    let raw = api["paths"]["/m/raw_lookup"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(raw, ["signal_type", "signal", "banks", "include_distance"]);
}

#[test]
fn the_monitors_sightings_and_takedown_report_are_served() {
    use vigil_store::{
        FetchRecord, FetchState, Liveness, NewSighting, NewSource, SightingMatch, SourceKind,
    };
    let server = Server::start();
    let store = &server.store;
    let source = store
        .add_source(
            &NewSource {
                name: "beacon".into(),
                kind: SourceKind::Feed,
                location: "https://beacon.example/feed".into(),
                interval_ms: 30_000,
                ignore_robots: false,
            },
            "test",
        )
        .unwrap();
    let seen = |url: &str| NewSighting {
        url: url.into(),
        host: "files.example".into(),
        host_class: "file_locker".into(),
        source_id: source.id,
        post_key: "p1".into(),
        first_seen_at: 1_000_000,
        ..NewSighting::default()
    };
    let added = store
        .add_sightings(&[
            seen("https://files.example/a"),
            seen("https://files.example/b"),
        ])
        .unwrap();
    store
        .record_fetch(
            added[0].id,
            &FetchRecord {
                state: FetchState::Fetched,
                reason: None,
                final_url: None,
                host: None,
                media_kind: Some("photo".into()),
                signals: Some(format!(r#"{{"pdq":"{PDQ}"}}"#)),
                matches: vec![SightingMatch {
                    content_id: 1,
                    bank: "KNOWN".into(),
                    signal_type: "pdq".into(),
                    distance: 4,
                }],
                liveness: Liveness::Gone {
                    removed_at: 1_000_000 + 1_800_000,
                    reason: "not_found".into(),
                },
                resurfaced_from: None,
            },
        )
        .unwrap();

    let (status, all) = server.get("/v1/sightings");
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["sightings"].as_array().unwrap().len(), 2);
    let (_, matched) = server.get("/v1/sightings?matched=true");
    let first = &matched["sightings"][0];
    assert_eq!(matched["sightings"].as_array().unwrap().len(), 1);
    assert_eq!(first["source"], "beacon");
    assert_eq!(first["removal_reason"], "not_found");
    assert_eq!(first["matches"][0]["content_id"], 1);
    let (_, paged) = server.get(&format!("/v1/sightings?after={}&limit=1", added[0].id));
    assert_eq!(paged["sightings"][0]["url"], "https://files.example/b");

    let (status, report) = server.get("/v1/reports/takedowns");
    assert_eq!(status, 200, "{report}");
    let hosts = report["hosts"].as_array().unwrap();
    assert_eq!(hosts[0]["host"], "files.example");
    assert_eq!(hosts[0]["median_removal_seconds"], 1_800.0);
    assert_eq!(hosts[0]["removed_within_1h_pct"], 100.0);
    assert_eq!(hosts.last().unwrap()["host"], "*");
}
