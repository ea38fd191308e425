//! A small, benign imitation of the ecosystem the monitor watches, served
//! on loopback: beacon feeds and pages and a channel export that post links
//! over time, file hosts that serve images (directly or behind a landing
//! page), shorteners that redirect, hosts that take files down (404, 410,
//! a "removed" page, other content), vanish altogether or hang (accept
//! requests and never answer), fixed pages (e.g. a hostile one), and a
//! webhook receiver that records alerts.
//!
//! Every host name is virtual: one server answers for all of them by the
//! `Host` header, except "fragile" hosts, which get a listener of their own
//! so that they can go down for real (connections refused). The monitor
//! reaches them through fixed name resolution (`--resolve`), so nothing
//! leaves the machine. The content is whatever images the caller passes:
//! tests and benchmarks use the reference vectors.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use vigil_sim::{Ecosystem, Hosted, PostSpec, Scenario, SourceSpec};
//! let sim = Ecosystem::bind(&[]).await?;
//! let mut scenario = Scenario::default();
//! scenario.items.push(("beach.png".into(), std::fs::read("beach.png")?.into()));
//! scenario.files.push(Hosted::direct("mirror.test", "/i/1.png", 0));
//! scenario.sources.push(SourceSpec::Feed { host: "beacon.test".into(), path: "/feed".into() });
//! scenario.posts.push(PostSpec::new(0, Duration::ZERO, format!("new: {}/i/1.png", sim.base("mirror.test"))));
//! let sim = sim.start(scenario);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod render;
mod server;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::time::Instant;

/// How a hosted file disappears.
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    /// The URL answers 404.
    NotFound,
    /// The URL answers 410.
    Gone,
    /// The URL answers 200 with a "this file has been removed" page.
    RemovedPage,
    /// The URL serves another item (by index) instead.
    Replaced(usize),
}

/// A file on a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Hosted {
    /// Host name (no port).
    pub host: String,
    /// Path, starting with `/`.
    pub path: String,
    /// Index of the item served.
    pub item: usize,
    /// Served inside an HTML landing page (`<img src="/raw/…">`), as file
    /// lockers do, rather than directly.
    pub landing_page: bool,
    /// When (after the start) and how it is taken down.
    pub removal: Option<(Duration, Removal)>,
}

impl Hosted {
    /// A file served directly, never removed.
    pub fn direct(host: &str, path: &str, item: usize) -> Self {
        Self {
            host: host.to_owned(),
            path: path.to_owned(),
            item,
            landing_page: false,
            removal: None,
        }
    }

    /// The same file behind a landing page.
    pub fn behind_page(mut self) -> Self {
        self.landing_page = true;
        self
    }

    /// The same file, taken down at `at` by `how`.
    pub fn removed(mut self, at: Duration, how: Removal) -> Self {
        self.removal = Some((at, how));
        self
    }
}

/// A place that posts.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    /// An RSS 2.0 feed at `http://host/path`.
    Feed {
        /// Host name.
        host: String,
        /// Path of the feed.
        path: String,
    },
    /// An HTML page at `http://host/path` listing the posts.
    Page {
        /// Host name.
        host: String,
        /// Path of the page.
        path: String,
    },
    /// A Telegram Desktop export (`result.json`) rewritten on disk as
    /// posts appear; attachments are written under `photos/` beside it.
    Telegram {
        /// Where `result.json` is written.
        file: PathBuf,
        /// The channel's name.
        channel: String,
    },
}

/// A post: which source, when it appears, its text (links in it, plain or
/// defanged), and for channel exports an attached item.
#[derive(Debug, Clone, PartialEq)]
pub struct PostSpec {
    /// Index of the source.
    pub source: usize,
    /// When it appears, after the start.
    pub appear_at: Duration,
    /// The text.
    pub text: String,
    /// An attached item (channel exports only).
    pub attachment: Option<usize>,
}

impl PostSpec {
    /// A post without attachment.
    pub fn new(source: usize, appear_at: Duration, text: String) -> Self {
        Self {
            source,
            appear_at,
            text,
            attachment: None,
        }
    }
}

/// Everything the ecosystem serves and when.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    /// Items (name, bytes); `.png`/`.jpg` names set the content type.
    pub items: Vec<(String, Arc<[u8]>)>,
    /// Sources.
    pub sources: Vec<SourceSpec>,
    /// Posts.
    pub posts: Vec<PostSpec>,
    /// Hosted files.
    pub files: Vec<Hosted>,
    /// Redirects: `(host, path, absolute target URL)`.
    pub redirects: Vec<(String, String, String)>,
    /// robots.txt bodies by host.
    pub robots: Vec<(String, String)>,
    /// Fragile hosts that go down (connections refused) at a time.
    pub hosts_down: Vec<(String, Duration)>,
    /// Hosts that hang from a time on: they still accept connections and
    /// read requests, but never answer (a wedged server or a tarpit).
    pub hosts_silent: Vec<(String, Duration)>,
    /// Fixed bodies by `(host, path)`, served as `text/html` whatever the
    /// time: pages the caller builds itself, e.g. a hostile one.
    pub pages: Vec<(String, String, Arc<[u8]>)>,
    /// Webhook deliveries answered 503 before the receiver starts taking
    /// them, to exercise retries.
    pub webhook_failures: usize,
}

/// A request the ecosystem answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// When, after the start.
    pub at: Duration,
    /// The `Host` header, without port.
    pub host: String,
    /// The path.
    pub path: String,
}

/// An alert the webhook receiver took.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedAlert {
    /// When, after the start.
    pub at: Duration,
    /// The body.
    pub body: serde_json::Value,
}

/// Listeners bound, scenario not yet chosen: URLs (which carry ports) can
/// be written now.
#[derive(Debug)]
pub struct Ecosystem {
    main: TcpListener,
    main_address: SocketAddr,
    fragile: Vec<(String, TcpListener, SocketAddr)>,
}

impl Ecosystem {
    /// Binds the main listener and one per fragile host on 127.0.0.1.
    pub async fn bind(fragile_hosts: &[&str]) -> std::io::Result<Self> {
        let main = TcpListener::bind("127.0.0.1:0").await?;
        let main_address = main.local_addr()?;
        let mut fragile = Vec::new();
        for host in fragile_hosts {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let address = listener.local_addr()?;
            fragile.push(((*host).to_owned(), listener, address));
        }
        Ok(Self {
            main,
            main_address,
            fragile,
        })
    }

    /// The address `host` is served on.
    pub fn address(&self, host: &str) -> SocketAddr {
        self.fragile
            .iter()
            .find(|(name, ..)| name == host)
            .map_or(self.main_address, |(.., address)| *address)
    }

    /// `http://host:port` for `host`.
    pub fn base(&self, host: &str) -> String {
        format!("http://{host}:{}", self.address(host).port())
    }

    /// The webhook receiver's URL.
    pub fn webhook_url(&self) -> String {
        format!("http://{}/alerts", self.main_address)
    }

    /// Starts serving `scenario`; its clock starts now.
    pub fn start(self, scenario: Scenario) -> Running {
        let fragile_addresses: Vec<(String, SocketAddr)> = self
            .fragile
            .iter()
            .map(|(host, _, address)| (host.clone(), *address))
            .collect();
        let state = Arc::new(server::State::new(scenario, Instant::now()));
        let mut written = HashMap::new();
        server::write_exports(&state, &mut written);
        let mut stops = HashMap::new();
        server::spawn(self.main, Arc::clone(&state), None);
        for (host, listener, _) in self.fragile {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            server::spawn(listener, Arc::clone(&state), Some(stopped));
            stops.insert(host, stop);
        }
        tokio::spawn(server::timeline(Arc::clone(&state), stops, written));
        Running {
            state,
            main_address: self.main_address,
            fragile: fragile_addresses,
        }
    }
}

/// A running ecosystem. Its servers stop when the runtime does.
#[derive(Debug, Clone)]
pub struct Running {
    state: Arc<server::State>,
    main_address: SocketAddr,
    fragile: Vec<(String, SocketAddr)>,
}

impl Running {
    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.state.start.elapsed()
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state.requests).clone()
    }

    /// Every alert received so far (retried deliveries included).
    pub fn alerts(&self) -> Vec<ReceivedAlert> {
        lock(&self.state.alerts).clone()
    }

    /// The webhook receiver's URL.
    pub fn webhook_url(&self) -> String {
        format!("http://{}/alerts", self.main_address)
    }

    /// The address `host` is served on.
    pub fn address(&self, host: &str) -> SocketAddr {
        self.fragile
            .iter()
            .find(|(name, _)| name == host)
            .map_or(self.main_address, |(_, address)| *address)
    }

    /// `http://host:port` for `host`.
    pub fn base(&self, host: &str) -> String {
        format!("http://{host}:{}", self.address(host).port())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
