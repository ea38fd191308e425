//! `vigil serve`: the HTTP API over the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use super::store_access::StoreSettings;
use crate::ExitStatus;

/// How often the server picks up changes other processes make to the store.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

pub(crate) fn run(store: &StoreSettings, listen: SocketAddr) -> anyhow::Result<ExitStatus> {
    if !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen}: the API has no authentication yet, so only loopback addresses \
             (127.0.0.1, ::1) are served; put an authenticating proxy in front for remote clients"
        );
    }
    let engine = Arc::new(store.engine()?);
    let _follower = engine.follow(FOLLOW_EVERY);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        eprintln!(
            "vigil: serving HMA's API on http://{listen} ({} contents indexed)",
            engine.indexed()
        );
        vigil_server::serve(listener, Arc::clone(&engine), shutdown_signal())
            .await
            .context("the server failed")
    })?;
    Ok(ExitStatus::Success)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
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
