//! The real server on a loopback port and a real HTTP client, shared by the
//! HTTP test crates.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Shared by several test crates.

use std::sync::Arc;

use serde_json::Value;
use vigil_engine::Engine;
use vigil_fetch::{Fetcher, UrlPolicy};
use vigil_server::ServerSettings;
use vigil_store::{SqliteStore, Store};

/// A server on 127.0.0.1:0 over an in-memory store, stopped on drop.
pub struct Server {
    pub base: String,
    pub engine: Arc<Engine>,
    /// The engine's store, for checking what was written (the server itself
    /// reaches it only through the engine).
    pub store: Arc<dyn Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// A server with the default settings (every role, tokens optional, no
    /// private URLs).
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A server whose settings `configure` adjusts first.
    pub fn start_with(configure: impl FnOnce(&mut ServerSettings)) -> Self {
        Self::start_with_policy(UrlPolicy::default(), configure)
    }

    /// A server fetching URLs under `policy`.
    pub fn start_with_policy(
        policy: UrlPolicy,
        configure: impl FnOnce(&mut ServerSettings),
    ) -> Self {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let engine = Arc::new(Engine::open(Arc::clone(&store)).unwrap());
        let mut settings = ServerSettings::new(Fetcher::new(policy).unwrap());
        configure(&mut settings);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&engine);
        let thread = std::thread::spawn(move || {
            runtime
                .block_on(vigil_server::serve(listener, served, settings, async {
                    let _ = stopped.await;
                }))
                .unwrap();
        });
        Self {
            base,
            engine,
            store,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// A client without a token.
    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            token: None,
        }
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.client().get(path)
    }

    pub fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        self.client().send(method, path, body)
    }

    pub fn upload(
        &self,
        path: &str,
        files: &[(&str, &str, &[u8])],
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        self.client().upload(path, files, fields)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP client for one server, optionally sending a bearer token.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
}

impl Client {
    /// The same client sending `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authorise<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(token) => request.header("Authorization", &format!("Bearer {token}")),
            None => request,
        }
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let mut response = self
            .authorise(Self::agent().get(&self.url(path)))
            .call()
            .unwrap();
        read(&mut response)
    }

    /// A GET returning the raw text and the Content-Type.
    pub fn get_text(&self, path: &str) -> (u16, String, String) {
        let mut response = self
            .authorise(Self::agent().get(&self.url(path)))
            .call()
            .unwrap();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap(),
            content_type,
        )
    }

    pub fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let url = self.url(path);
        let agent = Self::agent();
        let mut response = match method {
            "POST" => self.authorise(agent.post(&url)).send_json(body),
            "PUT" => self.authorise(agent.put(&url)).send_json(body),
            _ => self.authorise(agent.delete(&url)).call(),
        }
        .unwrap();
        read(&mut response)
    }

    /// Posts a multipart form: `files` as (field, file name, bytes), then
    /// `fields` as (name, text).
    pub fn upload(
        &self,
        path: &str,
        files: &[(&str, &str, &[u8])],
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let boundary = "vigil-test-boundary-7f3a";
        let mut body = Vec::new();
        for (field, file_name, bytes) in files {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend(*bytes);
            body.extend(b"\r\n");
        }
        for (name, value) in fields {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let mut response = self
            .authorise(Self::agent().post(&self.url(path)))
            .header(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..])
            .unwrap();
        read(&mut response)
    }
}

fn read(response: &mut ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A reference test image.
pub fn vector(path: &str) -> Vec<u8> {
    std::fs::read(vigil_testkit::pdq_vectors().join(path)).unwrap()
}

/// A small website on a loopback port serving `pages` as (path,
/// Content-Type, body), plus `/redirect?to=URL` (302) and `/big` (2 MiB of
/// image/jpeg). Stops when the guard drops.
pub struct Site {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Site {
    pub fn start(pages: Vec<(&'static str, &'static str, Vec<u8>)>) -> Self {
        use axum::extract::Query;
        use axum::response::Redirect;
        use axum::routing::get;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut app = axum::Router::new()
            .route(
                "/redirect",
                get(
                    |Query(query): Query<std::collections::HashMap<String, String>>| async move {
                        Redirect::temporary(query.get("to").map_or("/", String::as_str))
                    },
                ),
            )
            .route(
                "/big",
                get(|| async { ([("content-type", "image/jpeg")], vec![0u8; 2 << 20]) }),
            );
        for (path, content_type, body) in pages {
            app = app.route(
                path,
                get(move || {
                    let body = body.clone();
                    async move { ([("content-type", content_type)], body) }
                }),
            );
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            base,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// URL-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
