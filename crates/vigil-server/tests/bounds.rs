//! Every request is bounded before a route sees it: body sizes, the memory
//! all bodies take together, head sizes, and connections that stay idle or
//! trickle their heads. Each bound answers HMA's `{"message"}` shape.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;
mod raw;

use std::io::Write;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::json;

/// Every route that takes a JSON body, with a bank `B`, content 1 and an
/// exchange `E` in place.
const JSON_ROUTES: &[(&str, &str)] = &[
    ("POST", "/m/compare"),
    ("POST", "/c/banks"),
    ("PUT", "/c/bank/B"),
    ("POST", "/c/bank/B/signal"),
    ("POST", "/c/bank/B/content"),
    ("PUT", "/c/bank/B/content/1"),
    ("POST", "/c/exchanges"),
    ("PUT", "/c/exchange/E"),
    ("POST", "/c/exchanges/api/fb_threatexchange"),
    ("PUT", "/v1/content/1/labels"),
    ("POST", "/v1/bank/B/content"),
];

const MIB: u64 = 1024 * 1024;

fn server_with_bank() -> Server {
    let server = Server::start();
    assert_eq!(
        server.send("POST", "/c/banks", &json!({"name": "B"})).0,
        201
    );
    let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let (status, body) = server.send("POST", "/c/bank/B/signal", &json!({ "pdq": pdq }));
    assert_eq!(status, 200, "{body}");
    server
}

#[test]
fn a_150_mib_json_body_is_refused_with_413_before_it_is_read() {
    let server = server_with_bank();
    for (method, path) in JSON_ROUTES {
        let started = Instant::now();
        let answer = raw::exchange(
            &server.base,
            &format!(
                "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}",
                150 * MIB
            ),
            b"{\"pdq\":[1,1,1",
        );
        assert_eq!(answer.status, 413, "{method} {path}: {answer:?}");
        assert!(
            answer.json()["message"]
                .as_str()
                .unwrap()
                .contains("larger"),
            "{method} {path}: {answer:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{method} {path} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_150_mib_streamed_json_body_is_cut_at_the_limit_with_flat_memory() {
    let server = server_with_bank();
    let before = raw::rss_kib();
    for (method, path) in [("POST", "/m/compare"), ("PUT", "/v1/content/1/labels")] {
        let started = Instant::now();
        let mut stream = raw::connect(&server.base);
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .unwrap();
        let writer = {
            let mut stream = stream.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut chunk = b"{\"pdq\":[".to_vec();
                chunk.extend(b"1,".repeat(512 * 1024));
                let framed = [
                    format!("{:x}\r\n", chunk.len()).into_bytes(),
                    chunk,
                    b"\r\n".to_vec(),
                ]
                .concat();
                // 150 MiB unless the server stops reading first.
                for _ in 0..150 {
                    if stream.write_all(&framed).is_err() {
                        break;
                    }
                }
            })
        };
        let answer = raw::read_answer(&mut stream);
        drop(stream);
        let _ = writer.join();
        assert_eq!(answer.status, 413, "{method} {path}: {answer:?}");
        assert!(answer.json()["message"].is_string());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    let grown = raw::rss_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "memory grew by {grown} KiB");
}

#[test]
fn bodies_within_the_limit_still_work_and_the_limit_is_configurable() {
    let server = Server::start_with(|settings| settings.limits.json_body_bytes = 256);
    let small = json!({"name": "SMALL"});
    assert_eq!(server.send("POST", "/c/banks", &small).0, 201);
    let note = "n".repeat(400);
    let (status, body) = server.send("POST", "/c/banks", &json!({"name": "BIG", "note": note}));
    assert_eq!(status, 413, "{body}");
    assert!(body["message"].as_str().unwrap().contains("256 bytes"));
}

#[test]
fn uploads_share_one_memory_budget() {
    let server = Server::start_with(|settings| {
        settings.limits.memory_budget_bytes = 4 * MIB;
        settings.limits.budget_wait = Duration::from_millis(200);
    });
    // An upload that declares 3 MiB and sends them slowly holds 3 MiB of
    // the budget while it lasts.
    let mut slow = raw::connect(&server.base);
    write!(
        slow,
        "POST /h/hash HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n--x\r\n",
        3 * MIB
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let second = raw::exchange(
        &server.base,
        &format!(
            "POST /h/hash HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}",
            2 * MIB
        ),
        b"--x\r\n",
    );
    assert_eq!(second.status, 503, "{second:?}");
    assert_eq!(second.header("retry-after").as_deref(), Some("5"));
    assert!(
        second.json()["message"]
            .as_str()
            .unwrap()
            .contains("in flight")
    );
    // Small requests still pass, and the budget returns when the slow
    // upload goes away.
    assert_eq!(server.get("/c/banks").0, 200);
    drop(slow);
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = server.upload("/h/hash", &[("photo", "a.png", b"not a picture")], &[]);
    assert_eq!(status, 400, "{body}");
}

#[test]
fn oversized_heads_answer_414_and_431_in_json() {
    let server = Server::start();
    let long_path = format!("/c/bank/{}", "A".repeat(9 * 1024));
    let answer = raw::exchange(
        &server.base,
        &format!("GET {long_path} HTTP/1.1\r\nHost: 127.0.0.1"),
        b"",
    );
    assert_eq!(answer.status, 414, "{answer:?}");
    assert!(answer.json()["message"].is_string());
    let answer = raw::exchange(
        &server.base,
        &format!(
            "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {}",
            "p".repeat(40 * 1024)
        ),
        b"",
    );
    assert_eq!(answer.status, 431, "{answer:?}");
    assert!(answer.json()["message"].is_string());
}

#[test]
fn idle_and_trickling_connections_are_closed_and_never_starve_status() {
    let server = Server::start_with(|settings| {
        settings.limits.idle_timeout = Duration::from_secs(2);
        settings.limits.header_timeout = Duration::from_secs(1);
        settings.limits.max_connections = 64;
    });
    // Four times the cap of connections that never send a byte.
    let mut idle: Vec<_> = (0..256).map(|_| raw::connect(&server.base)).collect();
    let started = Instant::now();
    let answer = raw::exchange(&server.base, "GET /status HTTP/1.1\r\nHost: 127.0.0.1", b"");
    assert_eq!(answer.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // A head begun and never finished is closed after the head timeout,
    // before the idle timeout.
    let mut trickling = raw::connect(&server.base);
    trickling
        .write_all(b"GET /status HTTP/1.1\r\nHost: 127.")
        .unwrap();
    let started = Instant::now();
    assert!(raw::closed_within(&mut trickling, Duration::from_secs(3)));
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    // Every idle connection is closed once the idle timeout has passed.
    std::thread::sleep(Duration::from_millis(2200));
    for connection in &mut idle {
        assert!(raw::closed_within(connection, Duration::from_secs(2)));
    }
    // A keep-alive connection serves several requests while it is used.
    let mut kept = raw::connect(&server.base);
    for _ in 0..3 {
        kept.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        assert_eq!(raw::read_answer(&mut kept).status, 200);
        std::thread::sleep(Duration::from_millis(500));
    }
}
