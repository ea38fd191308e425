//! Text and PDFs over HTTP: `content_type` `text` and `pdf` are hashed to
//! `md5`, `sha256` and `text`, banked, and matched when a banked statement
//! reappears pasted into a longer post.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{Server, encode};
use serde_json::json;

const STATEMENT: &str = "The regional office confirmed on Tuesday that the new water plant \
    will open in the spring after two years of building work and a long dispute over the \
    cost of the pipes that carry water from the river to the town.";

#[test]
fn a_banked_statement_is_found_inside_a_longer_post() {
    let server = Server::start();
    let (status, hashes) =
        server.upload("/h/hash", &[("text", "s.txt", STATEMENT.as_bytes())], &[]);
    assert_eq!(status, 200, "{hashes}");
    let text = hashes["text"].as_str().unwrap();
    assert!(text.starts_with("v1."), "{hashes}");
    assert!(hashes["md5"].is_string() && hashes["sha256"].is_string());
    assert!(hashes.get("pdq").is_none());

    server.send("POST", "/c/banks", &json!({ "name": "STATEMENTS" }));
    let (status, added) = server.upload(
        "/c/bank/STATEMENTS/content",
        &[("text", "s.txt", STATEMENT.as_bytes())],
        &[("note", "a statement")],
    );
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["signals"]["text"], text);

    // The statement pasted into a page between unrelated paragraphs.
    let post = format!(
        "<!doctype html><html><body><p>Weather today: sunny with light winds along the coast.</p>\
         <div>{STATEMENT}</div><p>Share this with your friends and family.</p></body></html>"
    );
    let (status, found) =
        server.upload("/m/lookup", &[("text", "post.html", post.as_bytes())], &[]);
    assert_eq!(status, 200, "{found}");
    let matches = found["text"]["STATEMENTS"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{found}");

    // The compact signal looks up too, and the native API reports the share.
    let (status, native) = server.get(&format!(
        "/v1/lookup?signal_type=text&signal={}",
        encode(text)
    ));
    assert_eq!(status, 200, "{native}");
    assert_eq!(native["matches"][0]["containment"], 1.0, "{native}");

    // Unrelated text matches nothing.
    let other =
        "Bread needs flour, water, salt and yeast, kneaded for ten minutes and left to rise.";
    let (status, none) = server.upload("/m/lookup", &[("text", "o.txt", other.as_bytes())], &[]);
    assert_eq!(status, 200, "{none}");
    assert!(
        none.get("text")
            .is_none_or(|t| t.as_object().unwrap().is_empty()),
        "{none}"
    );
}

#[test]
fn documents_of_the_wrong_kind_are_refused() {
    let server = Server::start();
    let (status, body) = server.upload("/h/hash", &[("pdf", "s.pdf", STATEMENT.as_bytes())], &[]);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["message"], "the content is text, not pdf");
    let (status, body) = server.upload("/h/hash", &[("pdf", "x.pdf", b"%PDF-1.7\ngarbage")], &[]);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot hash the pdf"),
        "{body}"
    );
}
