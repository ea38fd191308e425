//! A browser visiting a hostile page must not be able to drive a server on
//! loopback: cross-site requests without a token are refused on every
//! route, and so is a `Host` this server is not known by (DNS rebinding).
//! Every refusal, and every other error answer, is `{"message"}` JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;
mod raw;

use common::Server;
use proptest::prelude::*;
use serde_json::json;
use vigil_store::Role;

fn multipart_post(server: &Server, path: &str, extra_headers: &str) -> raw::Answer {
    let photo = common::vector("reg-test-input/dih/bridge-1-original.jpg");
    let mut body = b"--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    body.extend(&photo);
    body.extend(b"\r\n--b--\r\n");
    let host = server.base.trim_start_matches("http://");
    raw::exchange(
        &server.base,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}{extra_headers}",
            body.len()
        ),
        &body,
    )
}

fn contents(server: &Server) -> usize {
    server.engine.indexed()
}

#[test]
fn a_cross_site_form_cannot_bank_an_upload() {
    let server = Server::start();
    assert_eq!(
        server.send("POST", "/c/banks", &json!({"name": "B"})).0,
        201
    );
    let before = contents(&server);
    for headers in [
        "\r\nOrigin: http://evil.example\r\nSec-Fetch-Site: cross-site",
        "\r\nOrigin: null",
        "\r\nSec-Fetch-Site: cross-site",
        "\r\nOrigin: http://127.0.0.1:1",
    ] {
        let answer = multipart_post(&server, "/c/bank/B/content", headers);
        assert_eq!(answer.status, 403, "{headers:?}: {answer:?}");
        assert!(
            answer.json()["message"]
                .as_str()
                .unwrap()
                .contains("API token"),
            "{answer:?}"
        );
    }
    assert_eq!(contents(&server), before);

    // The same request from the server's own origin, or with a token, works.
    let own = format!("\r\nOrigin: {}\r\nSec-Fetch-Site: same-origin", server.base);
    let answer = multipart_post(&server, "/c/bank/B/content", &own);
    assert_eq!(answer.status, 200, "{answer:?}");
    let (_, secret) = server
        .engine
        .create_token("script", &[Role::Curator], "test")
        .unwrap();
    let with_token = format!(
        "\r\nOrigin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\nAuthorization: Bearer {secret}"
    );
    let answer = multipart_post(&server, "/c/bank/B/content", &with_token);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(contents(&server), before + 2);
}

#[test]
fn a_rebinding_host_can_neither_list_nor_delete_banks() {
    let server = Server::start();
    assert_eq!(
        server.send("POST", "/c/banks", &json!({"name": "B"})).0,
        201
    );
    let port = server.base.rsplit(':').next().unwrap();
    for (method, path) in [("GET", "/c/banks"), ("DELETE", "/c/bank/B")] {
        let answer = raw::exchange(
            &server.base,
            &format!("{method} {path} HTTP/1.1\r\nHost: rebind.evil.example:{port}"),
            b"",
        );
        assert_eq!(answer.status, 421, "{method} {path}: {answer:?}");
        assert!(
            answer.json()["message"]
                .as_str()
                .unwrap()
                .contains("--public-host")
        );
    }
    assert_eq!(server.get("/c/bank/B").0, 200);
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let answer = raw::exchange(
            &server.base,
            &format!("GET /c/banks HTTP/1.1\r\nHost: {host}"),
            b"",
        );
        assert_eq!(answer.status, 200, "{host}: {answer:?}");
    }
}

#[test]
fn public_host_names_are_accepted() {
    let server = Server::start_with(|settings| {
        settings.public_hosts = vec!["vigil.example.org".to_owned()];
    });
    let answer = raw::exchange(
        &server.base,
        "GET /c/banks HTTP/1.1\r\nHost: vigil.example.org",
        b"",
    );
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// Routes of every group, with a placeholder for a path segment.
const ROUTES: &[&str] = &[
    "/h/hash",
    "/m/lookup",
    "/m/raw_lookup",
    "/m/compare",
    "/m/index/status",
    "/c/banks",
    "/c/bank/{}",
    "/c/bank/{}/content",
    "/c/bank/{}/content/{}",
    "/c/bank/{}/signal",
    "/c/signal_type/index",
    "/c/exchanges",
    "/c/exchange/{}",
    "/c/exchange/{}/status",
    "/c/exchange/{}/fetch",
    "/c/exchanges/api/{}",
    "/v1/content/{}",
    "/v1/content/{}/labels",
    "/v1/bank/{}/content",
    "/v1/lookup",
    "/v1/sightings",
    "/nowhere/{}",
];

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("B".to_owned()),
        Just("1".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999999".to_owned()),
        "[a-z%0-9]{0,12}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("?signal_type=pdq&signal=zz".to_owned()),
        Just("?limit=-3&after=x".to_owned()),
        Just("?include_distance=1&banks=%ff".to_owned()),
        "\\?[a-z_]{1,8}=[a-z0-9%]{0,8}",
    ]
}

fn body() -> impl Strategy<Value = (Option<&'static str>, Vec<u8>)> {
    prop_oneof![
        Just((None, Vec::new())),
        Just((Some("application/json"), b"{".to_vec())),
        Just((Some("application/json"), b"[1,2]".to_vec())),
        Just((
            Some("application/json"),
            b"{\"name\": 7, \"pdq\": [1]}".to_vec()
        )),
        Just((Some("text/plain"), b"hello".to_vec())),
        Just((Some("multipart/form-data"), b"--x--".to_vec())),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| (Some("application/json"), b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_rejection_is_a_message_in_json(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("PATCH")],
        route in proptest::sample::select(ROUTES),
        first in segment(),
        second in segment(),
        query in query(),
        (content_type, body) in body(),
    ) {
        let server = shared_server();
        let path = route.replacen("{}", &first, 1).replacen("{}", &second, 1);
        let content_type = content_type
            .map(|t| format!("\r\nContent-Type: {t}"))
            .unwrap_or_default();
        let answer = raw::exchange(
            &server.base,
            &format!(
                "{method} {path}{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close{content_type}\r\nContent-Length: {}",
                body.len()
            ),
            &body,
        );
        if answer.status >= 400 {
            let json: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| {
                TestCaseError::fail(format!("{method} {path}{query}: {} not JSON ({e}): {:?}", answer.status, String::from_utf8_lossy(&answer.body)))
            })?;
            prop_assert!(json["message"].is_string(), "{method} {path}{query}: {json}");
            let content_type = answer.header("content-type");
            prop_assert_eq!(content_type.as_deref(), Some("application/json"));
        }
    }
}

fn shared_server() -> &'static Server {
    static SERVER: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let server = Server::start();
        assert_eq!(
            server.send("POST", "/c/banks", &json!({"name": "B"})).0,
            201
        );
        server
    })
}
