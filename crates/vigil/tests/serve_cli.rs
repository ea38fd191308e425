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

    let mut served = Served::start_on("0.0.0.0", data.path(), &[]);
    let base = served.base.clone();
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
    let pid = served.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// A `vigil serve` child on a free port, killed on drop.
struct Served {
    child: std::process::Child,
    base: String,
}

impl Served {
    fn start_on(ip: &str, data: &std::path::Path, extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", &format!("{ip}:{port}")])
            .args(extra)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&format!("{base}/status"), None) != Some(200) {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, base }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// As many connections as this process may open, up to `wanted`, kept
/// open and silent. They go to four loopback addresses in turn: Linux
/// picks connecting ports slowly once half its ephemeral range is taken
/// towards one address.
fn idle_connections(port: &str, wanted: usize) -> Vec<std::net::TcpStream> {
    let mut open = Vec::with_capacity(wanted);
    for n in 0..wanted {
        let address = format!("127.0.0.{}:{port}", 1 + n % 4);
        match std::net::TcpStream::connect(address) {
            Ok(stream) => open.push(stream),
            // Out of file descriptors on our side: enough to make the point.
            Err(_) => break,
        }
    }
    // Leave a few descriptors for the requests below.
    open.truncate(open.len().saturating_sub(16));
    open
}

#[test]
fn twenty_thousand_idle_connections_do_not_stop_status_and_are_closed() {
    use std::io::Read;
    let data = tempfile::tempdir().unwrap();
    // Listening on every address (so on all of 127.0.0.0/8); only loopback
    // is ever connected to.
    let served = Served::start_on("0.0.0.0", data.path(), &["--idle-timeout", "3"]);
    let port = served.base.rsplit(':').next().unwrap().to_owned();
    let started = Instant::now();
    let mut idle = idle_connections(&port, 20_000);
    assert!(idle.len() > 5_000, "only {} connections opened", idle.len());
    eprintln!("{} idle connections in {:?}", idle.len(), started.elapsed());
    // Let the server take what the kernel queued for it (a debug build
    // accepts a few thousand connections a second), then ask while all of
    // them are held open.
    std::thread::sleep(Duration::from_secs(1));
    let asked = Instant::now();
    assert_eq!(get(&format!("{}/status", served.base), None), Some(200));
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "/status took {:?}",
        asked.elapsed()
    );
    // After the idle timeout every one of them has been closed.
    std::thread::sleep(Duration::from_secs(4));
    let mut still_open = 0;
    for stream in &mut idle {
        stream
            .set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let mut byte = [0u8; 1];
        if matches!(stream.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "of {} idle connections", idle.len());
}

#[cfg(unix)]
#[test]
fn the_data_folder_and_the_database_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("new").join("vigil-data");
    let output = common::vigil(&data, &["bank", "create", "PRIVATE"]);
    assert!(output.status.success(), "{output:?}");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("vigil.db")), 0o600);
    for sidecar in ["vigil.db-wal", "vigil.db-shm"] {
        let path = data.join(sidecar);
        if path.exists() {
            assert_eq!(mode(&path) & 0o077, 0, "{sidecar}");
        }
    }
}
