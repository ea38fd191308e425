//! Hostile web pages over HTTP: a page of a million nested elements
//! uploaded as `text` once kept a blocking thread busy for ever (the tree
//! builder's work grows with the square of the depth).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use std::time::{Duration, Instant};

use common::Server;

#[test]
fn a_million_nested_elements_hash_within_2_s() {
    let server = Server::start();
    let page = format!(
        "<!doctype html><html><body>{}The river is calm today.{}</body></html>",
        "<div>".repeat(1_000_000),
        "</div>".repeat(1_000_000)
    );
    let started = Instant::now();
    let (status, hashes) = server.upload("/h/hash", &[("text", "deep.html", page.as_bytes())], &[]);
    let took = started.elapsed();
    assert_eq!(status, 200, "{hashes}");
    assert!(
        hashes["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("v1.")),
        "{hashes}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}
