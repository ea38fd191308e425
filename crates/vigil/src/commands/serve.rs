//! `vigil serve`: the HTTP API over the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use vigil_engine::exchange::ExchangeSettings;
use vigil_fetch::{Fetcher, UrlPolicy};
use vigil_server::{HttpLimits, ServerSettings};
use vigil_store::Role;

use super::store_access::StoreSettings;
use crate::ExitStatus;
use crate::cli::RoleArg;
use crate::cli_serve::{ServeArgs, ServeLimitArgs};

/// How often the server picks up changes other processes make to the store.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// The server's address and settings, resolved from the command line.
pub(crate) struct Serve {
    listen: SocketAddr,
    settings: ServerSettings,
}

/// Resolves `vigil serve`'s arguments. Tokens become mandatory on any
/// address but loopback: there the API is reachable by others.
pub(crate) fn settings(args: &ServeArgs, role: fn(RoleArg) -> Role) -> anyhow::Result<Serve> {
    let policy = UrlPolicy {
        allowed_hosts: args.fetch_allowed_hosts.clone(),
        allow_private: args.fetch_allow_private,
        max_bytes: args.fetch_max_mib.saturating_mul(1024 * 1024),
        timeout: Duration::from_secs(args.fetch_timeout.max(1)),
        ..UrlPolicy::default()
    };
    let fetcher = Fetcher::new(policy).context("cannot set up URL fetching")?;
    let mut roles: Vec<Role> = args.roles.iter().copied().map(role).collect();
    roles.sort();
    roles.dedup();
    let exchange_dir = match &args.exchange_dir {
        Some(dir) => Some(
            std::fs::canonicalize(dir)
                .with_context(|| format!("exchange directory {}", dir.display()))?,
        ),
        None => None,
    };
    Ok(Serve {
        listen: args.listen,
        settings: ServerSettings {
            roles,
            require_tokens: args.require_tokens || !args.listen.ip().is_loopback(),
            fetcher,
            exchanges: ExchangeSettings {
                local_file_dir: exchange_dir,
            },
            exchange_interval: (args.exchange_interval > 0)
                .then(|| Duration::from_secs(args.exchange_interval)),
            limits: limits(&args.limits),
            public_hosts: args.public_hosts.clone(),
        },
    })
}

/// File descriptors kept for everything but client connections: the
/// store, fetches, FFmpeg's pipes, temporary files.
const RESERVED_DESCRIPTORS: u64 = 256;

fn limits(args: &ServeLimitArgs) -> HttpLimits {
    let mib = |n: u64| n.saturating_mul(1024 * 1024);
    let descriptors = raise_descriptor_limit();
    let usable = usize::try_from(descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(16))
        .unwrap_or(usize::MAX);
    if args.max_connections > usable {
        tracing::warn!(
            requested = args.max_connections,
            usable,
            "--max-connections is above what the file descriptor limit allows: serving at most {usable}"
        );
    }
    HttpLimits {
        json_body_bytes: args.max_json_kib.saturating_mul(1024),
        upload_bytes: mib(args.max_upload_mib),
        memory_budget_bytes: mib(args.memory_budget_mib),
        max_connections: args.max_connections.min(usable).max(1),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        body_timeout: Duration::from_secs(args.body_timeout.max(1)),
        ..HttpLimits::default()
    }
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
    let Serve { listen, settings } = serve;
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
