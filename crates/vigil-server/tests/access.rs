//! Tokens and roles: who may call what, and which route groups a server
//! serves.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::Server;
use serde_json::json;
use vigil_store::Role;

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

fn token(server: &Server, name: &str, roles: &[Role]) -> String {
    server.engine.create_token(name, roles, "test").unwrap().1
}

#[test]
fn with_tokens_required_only_status_and_the_api_description_are_open() {
    let server = Server::start_with(|settings| settings.require_tokens = true);
    let anonymous = server.client();
    assert_eq!(anonymous.get("/status").0, 200);
    assert_eq!(anonymous.get("/status/live").0, 200);
    assert_eq!(anonymous.get("/openapi.json").0, 200);
    for path in [
        "/c/banks",
        "/m/index/status",
        "/metrics",
        "/v1/content/1",
        &format!("/m/raw_lookup?signal_type=pdq&signal={PDQ}"),
    ] {
        let (status, body) = anonymous.get(path);
        assert_eq!(status, 401, "{path}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("token"),
            "{body}"
        );
    }
    let (status, _) = anonymous.upload("/h/hash", &[("photo", "a.jpg", b"x")], &[]);
    assert_eq!(status, 401);

    let matcher = server
        .client()
        .with_token(&token(&server, "matcher", &[Role::Matcher]));
    let curator = server
        .client()
        .with_token(&token(&server, "curator", &[Role::Curator]));
    assert_eq!(
        matcher
            .get(&format!("/m/raw_lookup?signal_type=pdq&signal={PDQ}"))
            .0,
        200
    );
    assert_eq!(matcher.get("/metrics").0, 200);
    // A matcher cannot curate or hash; a curator cannot match.
    let (status, body) = matcher.send("POST", "/c/banks", &json!({ "name": "B" }));
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap().contains("curator"));
    // Refused before the body is read: a small body, so the refusal is not
    // raced by a client still writing (which would see a broken pipe).
    let photo = b"refused before it is read".to_vec();
    assert_eq!(
        matcher
            .upload("/h/hash", &[("photo", "a.jpg", &photo)], &[])
            .0,
        403
    );
    assert_eq!(
        matcher
            .upload("/m/lookup", &[("photo", "a.jpg", &photo)], &[])
            .1["message"],
        "the token 'matcher' lacks the hasher role"
    );
    assert_eq!(
        curator.send("POST", "/c/banks", &json!({ "name": "B" })).0,
        201
    );
    assert_eq!(curator.get("/m/index/status").0, 403);

    // Writes are attributed to the token in the audit log.
    let audit = server.store.audit_after(0, 100).unwrap();
    assert!(
        audit
            .iter()
            .any(|entry| entry.action == "bank.create" && entry.actor == "token:curator"),
        "{audit:?}"
    );

    // Wrong, malformed or revoked tokens are refused with 401.
    assert_eq!(
        server.client().with_token("vigil_nope").get("/c/banks").0,
        401
    );
    let revoked = token(&server, "old", &[Role::Curator]);
    server.store.revoke_token("old", "test").unwrap();
    assert_eq!(server.client().with_token(&revoked).get("/c/banks").0, 401);
}

#[test]
fn on_loopback_tokens_are_optional_but_checked_when_sent() {
    let server = Server::start();
    assert_eq!(server.get("/c/banks").0, 200);
    assert_eq!(
        server.client().with_token("vigil_wrong").get("/c/banks").0,
        401
    );
    let matcher = server
        .client()
        .with_token(&token(&server, "m", &[Role::Matcher]));
    assert_eq!(matcher.get("/c/banks").0, 403);
}

#[test]
fn route_groups_can_be_switched_off() {
    let server = Server::start_with(|settings| settings.roles = vec![Role::Matcher]);
    assert_eq!(server.get("/status").0, 200);
    assert_eq!(
        server
            .get(&format!("/m/raw_lookup?signal_type=pdq&signal={PDQ}"))
            .0,
        200
    );
    assert_eq!(server.get("/c/banks").0, 404);
    assert_eq!(
        server.upload("/h/hash", &[("photo", "a", b"x")], &[]).0,
        404
    );
    let (status, body) = server.get("/m/lookup?url=https%3A%2F%2Fexample.org%2Fa.jpg");
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Hashing is disabled, missing role"))
    );
    // The document still describes every route, so clients see the whole API.
    let (_, api) = server.get("/openapi.json");
    assert!(api["paths"]["/c/banks"].is_object());
}
