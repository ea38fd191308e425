//! Vigil's HTTP API: the routes and JSON of Meta's Hasher-Matcher-Actioner
//! (HMA), so HMA clients work unchanged, served from Vigil's engine.
//!
//! This crate owns HTTP: routing, request parsing, status codes and error
//! shapes (mapped from engine errors in one place, [`ApiError`]). It does not
//! know table layouts or index structures; every route calls the
//! [`Engine`](vigil_engine::Engine).
//!
//! [`serve`] takes an already-bound listener and a shutdown future, so tests
//! run the real server on port 0 without the binary.
//!
//! Served so far (HMA's shapes; deliberate differences are listed in
//! `docs/hma-compatibility.md`): `/status`, `POST /h/hash`,
//! `POST /c/bank/{name}/content` (uploads), `/status/live`, `/m/raw_lookup`, `/m/lookup` (signal
//! form), `/m/compare`, `/m/index/status`, `/c/banks`, `/c/bank/{name}`,
//! `/c/bank/{name}/signal`, `/c/bank/{name}/content/{id}`,
//! `/c/signal_type`, `/c/content_type`.
#![deny(missing_docs)]

mod error;
mod hasher;
mod hma;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use vigil_engine::Engine;

pub use error::ApiError;

/// The application: the engine every route works on.
#[derive(Clone)]
struct AppState {
    engine: Arc<Engine>,
}

/// The router with every route, over `engine`.
pub fn router(engine: Arc<Engine>) -> Router {
    hma::routes().with_state(AppState { engine })
}

/// Serves the API on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(shutdown)
        .await
}
