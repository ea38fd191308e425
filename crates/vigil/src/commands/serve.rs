//! `vigil serve`: the HTTP API over the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use vigil_server::ServerSettings;

use super::store_access::StoreSettings;
use crate::ExitStatus;

/// How often the server picks up changes other processes make to the store.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// The server's address and settings, resolved from the command line.
pub(crate) struct Serve {
    pub(crate) listen: SocketAddr,
    /// Its `limits.max_connections` is the cap asked for: [`run`] lowers it
    /// to what the file descriptor limit allows.
    pub(crate) settings: ServerSettings,
}

/// File descriptors kept for everything but client connections: the
/// store, fetches, FFmpeg's pipes, temporary files.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The `requested` connection cap, lowered (with a warning) to what the
/// file descriptor limit allows once raised.
fn fit_connections(requested: usize) -> usize {
    let descriptors = raise_descriptor_limit();
    let usable = usize::try_from(descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(16))
        .unwrap_or(usize::MAX);
    if requested > usable {
        tracing::warn!(
            requested,
            usable,
            "--max-connections is above what the file descriptor limit allows: serving at most {usable}"
        );
    }
    requested.min(usable).max(1)
}

/// Raises the soft limit on open files to the hard one (as servers do, so
/// the connection cap, not the kernel, decides), and returns it.
fn raise_descriptor_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    // Linux caps open files at `fs.nr_open` (1 Mi by default) even when
    // the hard limit is "unlimited".
    const UNLIMITED: u64 = 1 << 20;
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(UNLIMITED);
    let maximum = limit.maximum.unwrap_or(UNLIMITED);
    if current < maximum {
        let mut raised = limit;
        raised.current = Some(maximum);
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return maximum;
        }
    }
    current
}

pub(crate) fn run(store: &StoreSettings, serve: Serve) -> anyhow::Result<ExitStatus> {
    let Serve {
        listen,
        mut settings,
    } = serve;
    settings.limits.max_connections = fit_connections(settings.limits.max_connections);
    let engine = Arc::new(store.engine()?);
    if settings.require_tokens && engine.tokens()?.iter().all(|t| t.revoked_at.is_some()) {
        tracing::warn!(
            "API tokens are required but none exists: every request will get 401; \
             create one with `vigil token create NAME --role matcher`"
        );
    }
    if settings.fetcher.policy().allow_private {
        tracing::warn!(
            "--fetch-allow-private: callers can make this server fetch from its own network"
        );
    }
    let _follower = engine.follow(FOLLOW_EVERY);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let roles: Vec<&str> = settings.roles.iter().map(|r| r.as_str()).collect();
        eprintln!(
            "vigil: serving on http://{listen} (roles {}; tokens {}; {} contents indexed)",
            roles.join(","),
            if settings.require_tokens {
                "required"
            } else {
                "optional"
            },
            engine.indexed()
        );
        vigil_server::serve(listener, Arc::clone(&engine), settings, shutdown_signal())
            .await
            .context("the server failed")
    })?;
    Ok(ExitStatus::Success)
}

/// Connections the kernel queues before the server accepts them (capped
/// by `net.core.somaxconn`). Tokio's default of 1024 overflows under a
/// connection flood, and a dropped SYN costs a client a 1 s retry.
const LISTEN_BACKLOG: u32 = 4096;

fn bind(listen: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match listen {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(listen)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Completes on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    eprintln!("vigil: shutting down");
}
