//! Accepting and holding connections under [`HttpLimits`]: a connection
//! cap, an idle timeout, a request-head timeout, and a graceful shutdown.
//!
//! `axum::serve` keeps every connection for as long as the client likes:
//! twenty thousand idle sockets exhaust the file descriptors and the server
//! stops answering. Here each connection has a watchdog that knows whether
//! a request is in flight (the service wrapper counts them) and when the
//! first byte of the next request head arrived (the I/O wrapper notes it),
//! so it can close a connection that is idle too long, or that trickles a
//! request head, without ever cutting a request being served. At the cap,
//! the connection idle the longest makes room for the new one, as nginx
//! drains its reusable keep-alive connections.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::HttpLimits;

/// Serves `app` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (up to [`HttpLimits::shutdown_grace`]).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let registry = Arc::new(Registry::new(limits));
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let Some(conn) = registry.admit() else {
                        registry.warn_throttled("connection cap reached and no connection is idle: closing a new one");
                        continue;
                    };
                    tasks.spawn(serve_connection(
                        stream,
                        app.clone(),
                        Arc::clone(&registry),
                        conn,
                        stopping.clone(),
                    ));
                }
                Err(error) => {
                    // Out of file descriptors (or a connection reset before
                    // it was accepted): wait a little instead of spinning.
                    registry.warn_throttled(&format!("cannot accept a connection: {error}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let grace = registry.limits.shutdown_grace;
    if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        tracing::warn!(
            connections = tasks.len(),
            "requests still in flight after the shutdown grace period: closing them"
        );
        tasks.abort_all();
    }
    Ok(())
}

/// The connections being served, for the cap and its evictions.
struct Registry {
    limits: HttpLimits,
    epoch: Instant,
    next_id: AtomicU64,
    connections: Mutex<Connections>,
    last_warning: AtomicU64,
}

/// Every connection, and the idle ones in the order they became idle, so
/// that making room at the cap takes the longest-idle one at once instead
/// of scanning thousands.
#[derive(Default)]
struct Connections {
    all: HashMap<u64, Arc<Connection>>,
    /// `(idle_since, id)` of the connections with no request in flight.
    idle: BTreeSet<(u64, u64)>,
}

impl Registry {
    fn new(limits: HttpLimits) -> Self {
        Self {
            limits,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            connections: Mutex::new(Connections::default()),
            last_warning: AtomicU64::new(0),
        }
    }

    /// Milliseconds since the registry started, never 0 (0 means "unset").
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    /// Registers a new connection, first asking the longest-idle one to
    /// close when at the cap; `None` when at the cap with none idle.
    fn admit(&self) -> Option<Arc<Connection>> {
        let mut connections = self.lock();
        // Connections already asked to close still count until they have:
        // under a flood, each new one makes room by one more eviction.
        if connections.all.len() >= self.limits.max_connections.max(1) {
            let (_, id) = connections.idle.pop_first()?;
            if let Some(idlest) = connections.all.get(&id) {
                idlest.evicted.store(true, Ordering::Release);
                idlest.changed.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let now = self.now();
        let connection = Arc::new(Connection {
            id,
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            head_started: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            changed: Notify::new(),
        });
        connections.all.insert(id, Arc::clone(&connection));
        connections.idle.insert((now, id));
        Some(connection)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn remove(&self, connection: &Connection) {
        let mut connections = self.lock();
        connections.all.remove(&connection.id);
        let since = connection.idle_since.load(Ordering::Acquire);
        connections.idle.remove(&(since, connection.id));
    }

    /// Logs at most one warning a second: under attack the log must not
    /// become the next thing to fill up.
    fn warn_throttled(&self, message: &str) {
        let now = self.now();
        let last = self.last_warning.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1000
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!("{message}");
        }
    }

    /// When the connection must close if nothing changes, or `None` while
    /// a request is in flight.
    fn deadline(&self, connection: &Connection) -> Option<u64> {
        if connection.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let idle = connection.idle_since.load(Ordering::Acquire) + millis(self.limits.idle_timeout);
        match connection.head_started.load(Ordering::Acquire) {
            0 => Some(idle),
            started => Some(idle.min(started + millis(self.limits.header_timeout))),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 2)
}

/// One connection's state, shared by its watchdog, its service and its I/O.
struct Connection {
    id: u64,
    /// Requests whose response is not yet produced.
    in_flight: AtomicUsize,
    /// When the connection last had no request in flight (registry ms).
    idle_since: AtomicU64,
    /// When the first byte of the next request head arrived, 0 if none yet.
    head_started: AtomicU64,
    /// Asked to close to make room under the cap.
    evicted: AtomicBool,
    /// Wakes the watchdog when any of the above changes.
    changed: Notify,
}

/// Marks a request in flight until dropped.
struct InFlight {
    registry: Arc<Registry>,
    connection: Arc<Connection>,
}

impl InFlight {
    fn start(registry: &Arc<Registry>, connection: &Arc<Connection>) -> Self {
        {
            let mut connections = registry.lock();
            let since = connection.idle_since.load(Ordering::Acquire);
            connections.idle.remove(&(since, connection.id));
            connection.in_flight.fetch_add(1, Ordering::AcqRel);
        }
        connection.head_started.store(0, Ordering::Release);
        connection.changed.notify_one();
        Self {
            registry: Arc::clone(registry),
            connection: Arc::clone(connection),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.registry.now();
        {
            let mut connections = self.registry.lock();
            self.connection.idle_since.store(now, Ordering::Release);
            if self.connection.in_flight.fetch_sub(1, Ordering::AcqRel) == 1
                && !self.connection.evicted.load(Ordering::Acquire)
            {
                connections.idle.insert((now, self.connection.id));
            }
        }
        self.connection.changed.notify_one();
    }
}

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    registry: Arc<Registry>,
    connection: Arc<Connection>,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(Watched {
        inner: stream,
        registry: Arc::clone(&registry),
        connection: Arc::clone(&connection),
    });
    let service = {
        let registry = Arc::clone(&registry);
        let connection = Arc::clone(&connection);
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = InFlight::start(&registry, &connection);
            let app = app.clone();
            async move {
                let response = app.oneshot(request.map(axum::body::Body::new)).await;
                drop(in_flight);
                response
            }
        })
    };
    let limits = &registry.limits;
    let head_buffer = (limits.max_uri_bytes + limits.max_header_bytes)
        .saturating_mul(2)
        .max(8192);
    let served = hyper::server::conn::http1::Builder::new()
        // Heads up to twice our limits reach the guard, which answers them
        // in JSON; beyond that hyper itself answers a bare 431.
        .max_buf_size(head_buffer)
        .serve_connection(io, service);
    let mut served = std::pin::pin!(served);
    loop {
        let deadline = registry.deadline(&connection);
        let sleep = async {
            match deadline {
                Some(at) => {
                    let wait = at.saturating_sub(registry.now());
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            () = connection.changed.notified() => {
                let idle = connection.in_flight.load(Ordering::Acquire) == 0;
                if idle && connection.evicted.load(Ordering::Acquire) {
                    break;
                }
            }
            () = sleep => {
                if registry.deadline(&connection).is_some_and(|at| at <= registry.now()) {
                    break;
                }
            }
            changed = stopping.changed() => {
                if changed.is_err() || *stopping.borrow() {
                    served.as_mut().graceful_shutdown();
                    if let Err(error) = served.as_mut().await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    break;
                }
            }
        }
    }
    registry.remove(&connection);
}

/// The connection's socket, noting when a request head starts arriving.
struct Watched {
    inner: TcpStream,
    registry: Arc<Registry>,
    connection: Arc<Connection>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before
            && self.connection.in_flight.load(Ordering::Acquire) == 0
            && self.connection.head_started.load(Ordering::Acquire) == 0
        {
            let now = self.registry.now();
            self.connection.head_started.store(now, Ordering::Release);
            self.connection.changed.notify_one();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
