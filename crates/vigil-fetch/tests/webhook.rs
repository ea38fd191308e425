//! Webhook delivery against a receiver on loopback: the body and headers
//! arrive, only 2xx counts, and every failure is typed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use vigil_fetch::{FetchError, WebhookClient};

/// What the receiver took: content type, idempotency key, body.
type Taken = Arc<Mutex<Vec<(String, String, String)>>>;

/// Starts a receiver and returns its port and what it took.
#[allow(clippy::unwrap_used)]
async fn receiver() -> (u16, Taken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let taken = Taken::default();
    let kept = Arc::clone(&taken);
    let app = Router::new()
        .route(
            "/hook",
            post(move |headers: HeaderMap, body: String| async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                kept.lock().unwrap().push((
                    header("content-type"),
                    header("idempotency-key"),
                    body,
                ));
                StatusCode::ACCEPTED
            }),
        )
        .route(
            "/broken",
            post(|| async { StatusCode::SERVICE_UNAVAILABLE }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                StatusCode::OK
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, taken)
}

#[tokio::test]
async fn delivers_json_with_its_headers_to_a_loopback_receiver() {
    let (port, taken) = receiver().await;
    // No `allow_private` anywhere: webhook URLs are the operator's own.
    let client = WebhookClient::new("vigil-test", Duration::from_secs(5)).unwrap();
    let status = client
        .post_json(
            &format!("http://127.0.0.1:{port}/hook"),
            r#"{"alert":1}"#.to_owned(),
            &[("Idempotency-Key", "alert-1")],
        )
        .await
        .unwrap();
    assert_eq!(status, 202);
    assert_eq!(
        *taken.lock().unwrap(),
        [(
            "application/json".to_owned(),
            "alert-1".to_owned(),
            r#"{"alert":1}"#.to_owned()
        )]
    );
}

#[tokio::test]
async fn failures_are_typed() {
    let (port, _) = receiver().await;
    let client = WebhookClient::new("vigil-test", Duration::from_secs(1)).unwrap();
    let post = |path: String| {
        let client = client.clone();
        async move { client.post_json(&path, "{}".to_owned(), &[]).await }
    };
    let broken = post(format!("http://127.0.0.1:{port}/broken")).await;
    assert!(
        matches!(broken, Err(FetchError::Status { status: 503, .. })),
        "{broken:?}"
    );
    let slow = post(format!("http://127.0.0.1:{port}/slow")).await;
    assert!(
        matches!(slow, Err(FetchError::Timeout { seconds: 1 })),
        "{slow:?}"
    );
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = post(format!("http://127.0.0.1:{closed}/hook")).await;
    assert!(
        matches!(refused, Err(FetchError::Unreachable { .. })),
        "{refused:?}"
    );
    let bad = post("not a url".to_owned()).await;
    assert!(matches!(bad, Err(FetchError::Transport { .. })), "{bad:?}");
}
