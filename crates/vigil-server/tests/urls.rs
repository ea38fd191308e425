//! Media by URL: hashing, lookup and banking fetched media, and every way
//! the fetcher refuses to be turned against the host's network.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

mod common;

use common::{Server, Site, encode, vector};
use serde_json::json;
use vigil_fetch::UrlPolicy;

/// The reference PDQ of `bridge-mods/aaa-orig.jpg`.
const ORIGINAL_PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

fn site() -> Site {
    Site::start(vec![
        (
            "/photo.jpg",
            "image/jpeg",
            vector("bridge-mods/aaa-orig.jpg"),
        ),
        (
            "/blurred.jpg",
            "image/jpeg",
            vector("bridge-mods/blur-a-lot.jpg"),
        ),
        (
            "/untyped",
            "application/octet-stream",
            vector("bridge-mods/aaa-orig.jpg"),
        ),
        ("/page.html", "text/html", b"<html>hello</html>".to_vec()),
        ("/data.bin", "application/octet-stream", vec![0, 1, 2, 3]),
        ("/clip.mp4", "video/mp4", b"not really a video".to_vec()),
    ])
}

/// A server allowed to fetch from loopback (the test site), with a 1 MiB limit.
fn server() -> Server {
    Server::start_with_policy(
        UrlPolicy {
            allow_private: true,
            max_bytes: 1 << 20,
            ..UrlPolicy::default()
        },
        |_| {},
    )
}

#[test]
fn media_by_url_is_hashed_banked_and_looked_up() {
    let site = site();
    let server = server();
    let photo = encode(&site.url("/photo.jpg"));

    let (status, hashes) = server.get(&format!("/h/hash?url={photo}"));
    assert_eq!(status, 200, "{hashes}");
    assert_eq!(hashes["pdq"], ORIGINAL_PDQ);
    assert_eq!(hashes["md5"].as_str().map(str::len), Some(32));
    let (_, only_pdq) = server.get(&format!("/h/hash?url={photo}&types=pdq"));
    assert_eq!(only_pdq, json!({ "pdq": ORIGINAL_PDQ }));
    // The content type may come from the parameter when the header says nothing useful.
    let untyped = encode(&site.url("/untyped"));
    assert_eq!(
        server
            .get(&format!("/h/hash?url={untyped}&content_type=photo"))
            .1["pdq"],
        ORIGINAL_PDQ
    );

    server.send("POST", "/c/banks", &json!({ "name": "FROM_URLS" }));
    let (status, added) = server.send(
        "POST",
        &format!("/c/bank/FROM_URLS/content?url={photo}"),
        &json!({ "metadata": { "content_id": "post-7" }, "note": "seen on a mirror" }),
    );
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["id"], 1);
    assert_eq!(added["signals"]["pdq"], ORIGINAL_PDQ);
    let (_, content) = server.get("/c/bank/FROM_URLS/content/1");
    assert_eq!(content["metadata"]["content_id"], "post-7");
    assert_eq!(content["note"], "seen on a mirror");

    // Form fields, as HMA reads `request.form`.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!(
            "{}/c/bank/FROM_URLS/content?url={photo}",
            server.base
        ))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("note=from%20a%20form&metadata=%7B%22content_id%22%3A%22post-8%22%7D")
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let added: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let (_, content) = server.get(&format!("/c/bank/FROM_URLS/content/{}", added["id"]));
    assert_eq!(content["note"], "from a form");
    assert_eq!(content["metadata"]["content_id"], "post-8");

    // Lookup by URL: found at once, by signal type then bank.
    let blurred = encode(&site.url("/blurred.jpg"));
    let (status, found) = server.get(&format!("/m/lookup?url={blurred}"));
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["pdq"]["FROM_URLS"][0]["bank_content_id"], 1);
    assert_eq!(found["pdq"]["FROM_URLS"].as_array().unwrap().len(), 2);
    assert!(found["pdq"]["FROM_URLS"][0]["distance"].is_string());
    assert_eq!(found["md5"], json!({}));
    let (_, pdq_only) = server.get(&format!("/m/lookup?url={blurred}&signal_type=pdq"));
    assert_eq!(pdq_only["FROM_URLS"][0]["bank_content_id"], 1);

    // And by upload.
    let (status, uploaded) = server.upload(
        "/m/lookup",
        &[("photo", "b.jpg", &vector("bridge-mods/blur-a-lot.jpg"))],
        &[],
    );
    assert_eq!(status, 200, "{uploaded}");
    assert_eq!(uploaded["pdq"]["FROM_URLS"].as_array().unwrap().len(), 2);
    assert_eq!(
        server
            .upload(
                "/m/lookup?banks=OTHER",
                &[("photo", "b.jpg", &vector("bridge-mods/blur-a-lot.jpg"))],
                &[]
            )
            .1["pdq"],
        json!({})
    );

    // Redirects are followed when their target is allowed too.
    let redirect = encode(&site.url(&format!("/redirect?to={}", encode("/photo.jpg"))));
    assert_eq!(
        server.get(&format!("/h/hash?url={redirect}")).1["pdq"],
        ORIGINAL_PDQ
    );
}

#[test]
fn bad_urls_and_bad_answers_get_hma_errors() {
    let site = site();
    let server = server();
    let message = |path: String| {
        let (status, body) = server.get(&path);
        (
            status,
            body["message"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (status, text) = message(format!("/h/hash?url={}", encode("file:///etc/passwd")));
    assert_eq!(status, 400);
    assert!(text.starts_with("Invalid or unsafe URL provided"), "{text}");
    let (status, text) = message(format!("/h/hash?url={}", encode(&site.url("/big"))));
    assert_eq!(status, 413, "{text}");
    assert!(text.starts_with("Content too large"), "{text}");
    let (status, text) = message(format!("/h/hash?url={}", encode(&site.url("/missing"))));
    assert_eq!(status, 400);
    assert!(text.starts_with("Failed to fetch URL"), "{text}");
    let (status, text) = message(format!("/h/hash?url={}", encode(&site.url("/data.bin"))));
    assert_eq!(status, 400);
    assert!(text.starts_with("unsupported url ContentType"), "{text}");
    // Web pages are text: hashed to their visible text's sketch.
    let (status, page) = server.get(&format!("/h/hash?url={}", encode(&site.url("/page.html"))));
    assert_eq!(status, 200, "{page}");
    assert!(
        page["text"].as_str().is_some_and(|t| t.starts_with("v1.")),
        "{page}"
    );
    let (status, text) = message(format!("/h/hash?url={}", encode(&site.url("/clip.mp4"))));
    assert_eq!(status, 400);
    assert!(text.contains("video"), "{text}");
    let photo = encode(&site.url("/photo.jpg"));
    assert_eq!(
        message(format!("/h/hash?url={photo}&types=nope")),
        (
            400,
            "signal type 'nope' doesn't exist or is disabled".to_owned()
        )
    );
    assert_eq!(
        message(format!("/h/hash?url={photo}&content_type=audio")),
        (400, "no such content_type: 'audio'".to_owned())
    );
    assert_eq!(message("/h/hash".to_owned()).0, 400);
    assert_eq!(
        message("/m/lookup?banks=A".to_owned()),
        (
            400,
            "Either url or both signal and signal_type are required".to_owned()
        )
    );
    server.send("POST", "/c/banks", &json!({ "name": "B" }));
    assert_eq!(
        server
            .send("POST", "/c/bank/B/content", &json!({ "note": "no media" }))
            .1["message"],
        "Neither `url` nor multipart file upload was received"
    );
    assert_eq!(
        server
            .send(
                "POST",
                &format!("/c/bank/B/content?url={photo}"),
                &json!({ "note": "x".repeat(256) })
            )
            .0,
        400
    );
}

#[test]
fn the_default_policy_never_fetches_from_the_hosts_network() {
    let site = site();
    let server = Server::start();
    let photo = site.url("/photo.jpg");
    let by_name = photo.replace("127.0.0.1", "localhost");
    let metadata = "http://169.254.169.254/latest/meta-data/".to_owned();
    let redirect_to_loopback = format!("https://example.invalid/redirect?to={}", encode(&photo));
    for url in [photo, by_name, metadata] {
        let (status, body) = server.get(&format!("/h/hash?url={}", encode(&url)));
        assert_eq!(status, 400, "{url}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("Invalid or unsafe URL provided"),
            "{url}: {message}"
        );
    }
    // Unresolvable hosts fail to fetch; nothing is reached.
    assert_eq!(
        server
            .get(&format!("/h/hash?url={}", encode(&redirect_to_loopback)))
            .0,
        400
    );
    server.send("POST", "/c/banks", &json!({ "name": "B" }));
    let (status, _) = server.send(
        "POST",
        &format!("/c/bank/B/content?url={}", encode(&site.url("/photo.jpg"))),
        &json!({}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        server.engine.indexed(),
        0,
        "nothing was banked from a refused URL"
    );
}

#[test]
fn redirects_leaving_the_allowlist_are_refused() {
    let site = site();
    let server = Server::start_with_policy(
        UrlPolicy {
            allow_private: true,
            allowed_hosts: vec!["localhost".into()],
            ..UrlPolicy::default()
        },
        |_| {},
    );
    let on_localhost = site.url("/photo.jpg").replace("127.0.0.1", "localhost");
    assert_eq!(
        server
            .get(&format!("/h/hash?url={}", encode(&on_localhost)))
            .1["pdq"],
        ORIGINAL_PDQ
    );
    // localhost → 127.0.0.1: the second hop is not on the allowlist.
    let hop = format!(
        "{}/redirect?to={}",
        site.base.replace("127.0.0.1", "localhost"),
        encode(&site.url("/photo.jpg"))
    );
    let (status, body) = server.get(&format!("/h/hash?url={}", encode(&hop)));
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("allowlist"),
        "{body}"
    );
}
