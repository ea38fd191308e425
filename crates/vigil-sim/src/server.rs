//! The servers: one handler answering for every virtual host, and the
//! timeline that rewrites channel exports and takes fragile hosts down.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as Extract;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::{ReceivedAlert, Removal, Request, Scenario, SourceSpec, lock, render};

/// The scenario, indexed by `(host, path)`, and what happened so far.
#[derive(Debug)]
pub(crate) struct State {
    scenario: Scenario,
    pub(crate) start: Instant,
    files: HashMap<(String, String), usize>,
    redirects: HashMap<(String, String), String>,
    robots: HashMap<String, String>,
    sources: HashMap<(String, String), usize>,
    pages: HashMap<(String, String), Arc<[u8]>>,
    silent: HashMap<String, Duration>,
    pub(crate) requests: Mutex<Vec<Request>>,
    pub(crate) alerts: Mutex<Vec<ReceivedAlert>>,
    webhook_calls: AtomicUsize,
}

impl State {
    pub(crate) fn new(scenario: Scenario, start: Instant) -> Self {
        let files = scenario
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| ((f.host.clone(), f.path.clone()), i))
            .collect();
        let redirects = scenario
            .redirects
            .iter()
            .map(|(host, path, target)| ((host.clone(), path.clone()), target.clone()))
            .collect();
        let robots = scenario.robots.iter().cloned().collect();
        let sources = scenario
            .sources
            .iter()
            .enumerate()
            .filter_map(|(i, source)| match source {
                SourceSpec::Feed { host, path } | SourceSpec::Page { host, path } => {
                    Some(((host.clone(), path.clone()), i))
                }
                SourceSpec::Telegram { .. } => None,
            })
            .collect();
        let pages = scenario
            .pages
            .iter()
            .map(|(host, path, body)| ((host.clone(), path.clone()), Arc::clone(body)))
            .collect();
        let silent = scenario.hosts_silent.iter().cloned().collect();
        Self {
            scenario,
            start,
            files,
            redirects,
            robots,
            sources,
            pages,
            silent,
            requests: Mutex::new(Vec::new()),
            alerts: Mutex::new(Vec::new()),
            webhook_calls: AtomicUsize::new(0),
        }
    }

    /// The posts of source `index` that have appeared, oldest first, with
    /// their ids.
    fn appeared(&self, index: usize) -> Vec<(usize, &crate::PostSpec)> {
        let now = self.start.elapsed();
        self.scenario
            .posts
            .iter()
            .enumerate()
            .filter(|(_, post)| post.source == index && post.appear_at <= now)
            .collect()
    }
}

/// Serves `state` on `listener` until `stop` fires (never, if `None`).
pub(crate) fn spawn(listener: TcpListener, state: Arc<State>, stop: Option<oneshot::Receiver<()>>) {
    let app = Router::new().fallback(handle).with_state(state);
    tokio::spawn(async move {
        let serve = axum::serve(listener, app);
        let result = match stop {
            Some(stop) => {
                serve
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await
            }
            None => serve.await,
        };
        if let Err(e) = result {
            eprintln!("simulated host failed: {e}");
        }
    });
}

fn answer(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

async fn handle(
    Extract(state): Extract<Arc<State>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let now = state.start.elapsed();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .map_or(host, |(name, _)| name)
        .to_ascii_lowercase();
    let path = uri.path().to_owned();
    lock(&state.requests).push(Request {
        at: now,
        host: host.clone(),
        path: path.clone(),
    });
    if state.silent.get(&host).is_some_and(|from| now >= *from) {
        // Hung: the request was read and is never answered; only the
        // client giving up ends it.
        return std::future::pending().await;
    }
    if method == Method::POST && path == "/alerts" {
        return receive_alert(&state, now, &body);
    }
    if path == "/robots.txt" {
        return match state.robots.get(&host) {
            Some(rules) => answer(StatusCode::OK, "text/plain", rules.clone()),
            None => answer(StatusCode::NOT_FOUND, "text/plain", "no robots.txt"),
        };
    }
    let key = (host.clone(), path.clone());
    if let Some(body) = state.pages.get(&key) {
        return answer(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_owner(Arc::clone(body)),
        );
    }
    if let Some(target) = state.redirects.get(&key) {
        let mut response = answer(StatusCode::FOUND, "text/plain", "");
        if let Ok(value) = target.parse() {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return response;
    }
    if let Some(&index) = state.sources.get(&key) {
        let posts = state.appeared(index);
        return match &state.scenario.sources[index] {
            SourceSpec::Feed { .. } => answer(
                StatusCode::OK,
                "application/rss+xml",
                render::rss(&format!("http://{host}"), &posts),
            ),
            _ => answer(
                StatusCode::OK,
                "text/html; charset=utf-8",
                render::page(&posts),
            ),
        };
    }
    let (file_key, raw) = match path.strip_prefix("/raw") {
        Some(rest) => ((host, rest.to_owned()), true),
        None => (key, false),
    };
    let Some(&index) = state.files.get(&file_key) else {
        return answer(StatusCode::NOT_FOUND, "text/plain", "no such file");
    };
    let file = &state.scenario.files[index];
    let mut item = file.item;
    if let Some((at, removal)) = &file.removal
        && now >= *at
    {
        match removal {
            Removal::NotFound => return answer(StatusCode::NOT_FOUND, "text/plain", "not found"),
            Removal::Gone => return answer(StatusCode::GONE, "text/plain", "gone"),
            Removal::RemovedPage => {
                return answer(StatusCode::OK, "text/html", render::REMOVED_PAGE);
            }
            Removal::Replaced(other) => item = *other,
        }
    }
    let Some((name, bytes)) = state.scenario.items.get(item) else {
        return answer(StatusCode::NOT_FOUND, "text/plain", "no such item");
    };
    if file.landing_page && !raw {
        return answer(
            StatusCode::OK,
            "text/html",
            render::landing(&file.path, name),
        );
    }
    let content_type = if name.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    answer(
        StatusCode::OK,
        content_type,
        Bytes::from_owner(Arc::clone(bytes)),
    )
}

fn receive_alert(state: &State, now: Duration, body: &[u8]) -> Response {
    let call = state.webhook_calls.fetch_add(1, Ordering::SeqCst);
    if call < state.scenario.webhook_failures {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "try later");
    }
    match serde_json::from_slice(body) {
        Ok(body) => {
            lock(&state.alerts).push(ReceivedAlert { at: now, body });
            answer(StatusCode::OK, "text/plain", "ok")
        }
        Err(_) => answer(StatusCode::BAD_REQUEST, "text/plain", "not JSON"),
    }
}

/// Writes the channel exports whose posts changed since `written` says.
/// Called once before the servers start (so every export exists when the
/// first reader comes), then by the timeline.
pub(crate) fn write_exports(state: &State, written: &mut HashMap<usize, usize>) {
    for (index, source) in state.scenario.sources.iter().enumerate() {
        let SourceSpec::Telegram { file, channel } = source else {
            continue;
        };
        let posts = state.appeared(index);
        if written.get(&index) == Some(&posts.len()) {
            continue;
        }
        if let Err(e) = write_export(state, file, channel, &posts) {
            eprintln!("cannot write {}: {e}", file.display());
            continue;
        }
        written.insert(index, posts.len());
    }
}

/// Rewrites channel exports as their posts appear and takes fragile hosts
/// down on time.
pub(crate) async fn timeline(
    state: Arc<State>,
    mut stops: HashMap<String, oneshot::Sender<()>>,
    mut written: HashMap<usize, usize>,
) {
    loop {
        let now = state.start.elapsed();
        for (host, at) in &state.scenario.hosts_down {
            if now >= *at
                && let Some(stop) = stops.remove(host)
            {
                let _ = stop.send(());
            }
        }
        write_exports(&state, &mut written);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn write_export(
    state: &State,
    file: &std::path::Path,
    channel: &str,
    posts: &[(usize, &crate::PostSpec)],
) -> std::io::Result<()> {
    let directory = file.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(directory.join("photos"))?;
    let mut listed = Vec::new();
    for (id, post) in posts {
        let photo = match post.attachment.and_then(|i| state.scenario.items.get(i)) {
            Some((name, bytes)) => {
                let relative = format!("photos/{id}-{name}");
                let path = directory.join(&relative);
                if !path.exists() {
                    std::fs::write(path, bytes)?;
                }
                Some(relative)
            }
            None => None,
        };
        listed.push((*id, *post, photo));
    }
    let export = render::telegram(channel, &listed);
    let partial = file.with_extension("json.partial");
    std::fs::write(&partial, export.to_string())?;
    std::fs::rename(partial, file)
}
