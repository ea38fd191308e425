//! The fetcher against a real HTTP server on a loopback port: what it
//! refuses, where, and what it returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{Redirect, Response};
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigil_fetch::{FetchError, Fetcher, UrlPolicy};

/// Starts the test site and returns its port.
async fn site() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route(
            "/ok",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![7u8; 1000]) }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/big", get(|| async { vec![0u8; 5000] }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route("/to-ok", get(|| async { Redirect::temporary("/ok") }))
        .route(
            "/to-file",
            get(|| async { Redirect::temporary("file:///etc/passwd") }),
        )
        .route(
            "/to-ip",
            get(move || async move { Redirect::temporary(&format!("http://127.0.0.1:{port}/ok")) }),
        )
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/bad-location",
            get(|| async {
                Response::builder()
                    .status(StatusCode::FOUND)
                    .header(header::LOCATION, &b"\xff\xfe"[..])
                    .body(Body::empty())
                    .unwrap()
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// A server that answers every connection with a body of `size` bytes and
/// no `Content-Length`, so a limit can only be enforced while reading.
async fn unsized_body_server(size: usize) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 2048];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                    .await;
                let _ = socket.write_all(&vec![1u8; size]).await;
            });
        }
    });
    port
}

fn loopback_policy() -> UrlPolicy {
    UrlPolicy {
        allow_private: true,
        max_bytes: 2000,
        timeout: Duration::from_secs(1),
        ..UrlPolicy::default()
    }
}

#[tokio::test]
async fn fetches_a_body_with_its_content_type_and_follows_safe_redirects() {
    let port = site().await;
    let fetcher = Fetcher::new(loopback_policy()).unwrap();
    let fetched = fetcher
        .get(&format!("http://127.0.0.1:{port}/to-ok"))
        .await
        .unwrap();
    assert_eq!(fetched.bytes, vec![7u8; 1000]);
    assert_eq!(fetched.content_type.as_deref(), Some("image/png"));
    assert_eq!(fetched.url.path(), "/ok");
}

#[tokio::test]
async fn loopback_is_refused_by_default_by_literal_and_by_name() {
    let port = site().await;
    let fetcher = Fetcher::new(UrlPolicy::default()).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/ok"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok"),
        // A name that resolves to loopback: refused in the resolver.
        format!("http://localhost:{port}/ok"),
    ] {
        match fetcher.get(&url).await {
            Err(FetchError::Unsafe { reason, .. }) => {
                assert!(reason.contains("not a public address"), "{url}: {reason}");
            }
            other => panic!("{url} must be refused, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn every_redirect_hop_is_checked_again() {
    let port = site().await;
    // Only `localhost` is allowed: the redirect to the IP literal leaves the allowlist.
    let fetcher = Fetcher::new(UrlPolicy {
        allowed_hosts: vec!["localhost".into()],
        ..loopback_policy()
    })
    .unwrap();
    assert!(
        fetcher
            .get(&format!("http://localhost:{port}/ok"))
            .await
            .is_ok()
    );
    let refused = fetcher.get(&format!("http://localhost:{port}/to-ip")).await;
    assert!(
        matches!(&refused, Err(FetchError::Unsafe { url, reason }) if url.contains("127.0.0.1") && reason.contains("allowlist")),
        "{refused:?}"
    );
    let to_file = Fetcher::new(loopback_policy())
        .unwrap()
        .get(&format!("http://127.0.0.1:{port}/to-file"))
        .await;
    assert!(
        matches!(&to_file, Err(FetchError::Unsafe { reason, .. }) if reason.contains("http")),
        "{to_file:?}"
    );
}

#[tokio::test]
async fn limits_size_time_redirects_and_status() {
    let port = site().await;
    let fetcher = Fetcher::new(loopback_policy()).unwrap();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    assert!(matches!(
        fetcher.get(&url("/big")).await,
        Err(FetchError::TooLarge { limit: 2000 })
    ));
    assert!(matches!(
        fetcher.get(&url("/slow")).await,
        Err(FetchError::Timeout { .. })
    ));
    assert!(matches!(
        fetcher.get(&url("/loop")).await,
        Err(FetchError::TooManyRedirects { limit: 5 })
    ));
    assert!(matches!(
        fetcher.get(&url("/missing")).await,
        Err(FetchError::Status { status: 404, .. })
    ));
    assert!(matches!(
        fetcher.get(&url("/bad-location")).await,
        Err(FetchError::Transport { .. })
    ));
    let unsized_port = unsized_body_server(50_000).await;
    assert!(matches!(
        fetcher
            .get(&format!("http://127.0.0.1:{unsized_port}/"))
            .await,
        Err(FetchError::TooLarge { limit: 2000 })
    ));
}

#[tokio::test]
async fn refused_connections_mean_the_host_is_unreachable() {
    // Bind then drop: nothing listens on this port any more.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let result = Fetcher::new(loopback_policy())
        .unwrap()
        .get(&format!("http://127.0.0.1:{port}/"))
        .await;
    assert!(
        matches!(result, Err(FetchError::Unreachable { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn fixed_resolution_reaches_virtual_hosts_and_is_still_checked() {
    let port = site().await;
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let fetcher = Fetcher::new(UrlPolicy {
        resolve: vec![("Files.Example.".into(), loopback)],
        ..loopback_policy()
    })
    .unwrap();
    let fetched = fetcher
        .get(&format!("http://files.example:{port}/ok"))
        .await
        .unwrap();
    assert_eq!(fetched.bytes, vec![7u8; 1000]);
    // The fixed address is checked like a resolved one.
    let strict = Fetcher::new(UrlPolicy {
        resolve: vec![("files.example".into(), loopback)],
        ..UrlPolicy::default()
    })
    .unwrap();
    assert!(matches!(
        strict.get(&format!("http://files.example:{port}/ok")).await,
        Err(FetchError::Unsafe { .. })
    ));
}

/// A host that accepts connections and then never answers (`trickle`:
/// answers headers, then a byte every 200 ms, forever).
async fn hung_server(trickle: bool) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 2048];
                let _ = socket.read(&mut request).await;
                if trickle {
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                        .await;
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if trickle && socket.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_host_that_never_answers_costs_at_most_the_deadline() {
    let fetcher = Fetcher::new(loopback_policy()).unwrap();
    for trickle in [false, true] {
        let port = hung_server(trickle).await;
        let started = std::time::Instant::now();
        let result = fetcher.get(&format!("http://127.0.0.1:{port}/")).await;
        assert!(
            matches!(result, Err(FetchError::Timeout { seconds: 1 })),
            "trickle {trickle}: {result:?}"
        );
        // The policy's deadline is 1 s; the timer's own slack is all that
        // may come on top.
        assert!(
            started.elapsed() < Duration::from_millis(1_500),
            "trickle {trickle}: {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn a_named_host_passes_the_allowlist_and_nothing_else_does() {
    let port = site().await;
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let fetcher = Fetcher::new(UrlPolicy {
        allowed_hosts: vec!["files.example".into()],
        resolve: vec![
            ("beacon.example".into(), loopback),
            ("other.example".into(), loopback),
        ],
        ..loopback_policy()
    })
    .unwrap();
    let beacon = format!("http://beacon.example:{port}/to-ok");
    assert!(matches!(
        fetcher.get(&beacon).await,
        Err(FetchError::Unsafe { .. })
    ));
    let fetched = fetcher
        .get_also_allowing(&beacon, Some("beacon.example"))
        .await
        .unwrap();
    assert_eq!(fetched.bytes, vec![7u8; 1000]);
    // Only the named host: another one stays outside the allowlist, and
    // the other rules (here: no file URLs) still hold for the named one.
    let other = format!("http://other.example:{port}/ok");
    assert!(matches!(
        fetcher
            .get_also_allowing(&other, Some("beacon.example"))
            .await,
        Err(FetchError::Unsafe { .. })
    ));
    assert!(matches!(
        fetcher
            .get_also_allowing(
                &format!("http://beacon.example:{port}/to-file"),
                Some("beacon.example")
            )
            .await,
        Err(FetchError::Unsafe { .. })
    ));
}
