//! `vigil token` and `vigil serve` as a user runs them: tokens made on the
//! command line open a server listening beyond loopback, which stops
//! cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{json_lines as stdout_json, vigil};

fn get(url: &str, token: Option<&str>) -> Option<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    request.call().ok().map(|r| r.status().as_u16())
}

#[test]
fn tokens_from_the_cli_open_a_server_listening_beyond_loopback() {
    let data = tempfile::tempdir().unwrap();
    let created = stdout_json(&vigil(
        data.path(),
        &["token", "create", "ops", "--role", "curator,matcher"],
    ));
    let secret = created[0]["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("vigil_"));
    assert_eq!(
        created[0]["roles"],
        serde_json::json!(["matcher", "curator"])
    );
    let listed = stdout_json(&vigil(data.path(), &["token", "list"]));
    assert_eq!(listed[0]["name"], "ops");
    assert!(
        !String::from_utf8_lossy(&vigil(data.path(), &["token", "list"]).stdout).contains(&secret),
        "secrets are never listed"
    );
    assert!(
        !vigil(
            data.path(),
            &["token", "create", "ops", "--role", "matcher"]
        )
        .status
        .success()
    );
    assert_eq!(
        vigil(data.path(), &["token", "create", "x", "--role", "admin"])
            .status
            .code(),
        Some(2),
        "an unknown role is a usage error"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--listen", &format!("0.0.0.0:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&format!("{base}/status"), None) != Some(200) {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(&format!("{base}/c/banks"), None), Some(401));
    assert_eq!(get(&format!("{base}/c/banks"), Some(&secret)), Some(200));
    assert_eq!(
        get(&format!("{base}/h/hash?url=x"), Some(&secret)),
        Some(403)
    );

    assert_eq!(
        stdout_json(&vigil(data.path(), &["token", "revoke", "ops"]))[0]["revoked"],
        "ops"
    );
    assert!(
        !vigil(data.path(), &["token", "revoke", "ops"])
            .status
            .success()
    );

    // SIGTERM: a clean stop with status 0.
    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
