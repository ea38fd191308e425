//! Vigil's HTTP API: the routes and JSON of Meta's Hasher-Matcher-Actioner
//! (HMA), so HMA clients work unchanged, plus a native `/v1` API for labels,
//! API tokens with roles, Prometheus metrics and an OpenAPI document.
//!
//! This crate owns HTTP: routing, request parsing, authentication, status
//! codes and error shapes (mapped from engine errors in one place,
//! [`ApiError`]). It does not know table layouts or index structures; every
//! route calls the [`Engine`](vigil_engine::Engine), and URLs are fetched
//! only through [`vigil_fetch`], which refuses to reach the host's own
//! network.
//!
//! - Route groups follow HMA's roles: `/h` hashing, `/m` matching, `/c`
//!   curation ([`ServerSettings::roles`] switches groups off; they then
//!   answer 404 as in HMA). `/v1` reads labels as a matcher and writes them
//!   as a curator.
//! - A request carrying `Authorization: Bearer <token>` must present a valid
//!   token with the route's role; without one it is served only when
//!   [`ServerSettings::require_tokens`] is off (the binary turns it on for
//!   any address but loopback). `/status`, `/status/live` and
//!   `/openapi.json` are always open.
//! - [`serve`] takes an already-bound listener and a shutdown future, so
//!   tests run the real server on port 0 without the binary.
//!
//! Deliberate differences from HMA are listed in `docs/hma-compatibility.md`.
#![deny(missing_docs)]

mod auth;
mod error;
mod hma;
mod media;
mod metrics;
mod native;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use vigil_engine::Engine;
use vigil_engine::exchange::ExchangeSettings;
use vigil_fetch::Fetcher;
use vigil_store::Role;

pub use error::ApiError;

/// How a server behaves, decided by its operator (never by API callers).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Route groups served: `/h` needs [`Role::Hasher`], `/m` and `/v1`
    /// reads [`Role::Matcher`], `/c` and `/v1` writes [`Role::Curator`].
    pub roles: Vec<Role>,
    /// Refuse requests without a valid API token (except `/status*` and
    /// `/openapi.json`).
    pub require_tokens: bool,
    /// Fetches URLs for `/h/hash?url=`, lookups and content by URL.
    pub fetcher: Fetcher,
    /// Where `local_file` exchanges may read.
    pub exchanges: ExchangeSettings,
    /// How often exchanges are fetched (curator role only); `None`: never
    /// in the background.
    pub exchange_interval: Option<Duration>,
}

impl ServerSettings {
    /// Every role, tokens optional, the default fetch policy, no exchange
    /// directory, exchanges fetched every 240 s (as HMA's shipped configs).
    pub fn new(fetcher: Fetcher) -> Self {
        Self {
            roles: Role::ALL.to_vec(),
            require_tokens: false,
            fetcher,
            exchanges: ExchangeSettings::default(),
            exchange_interval: Some(Duration::from_secs(240)),
        }
    }

    fn serves(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What every route works on.
#[derive(Clone)]
struct AppState {
    engine: Arc<Engine>,
    settings: Arc<ServerSettings>,
    metrics: Arc<metrics::Metrics>,
    tokens: Arc<auth::TokenCache>,
}

/// The routes of the groups `roles` enable, with their OpenAPI description.
fn routes_for(roles: &[Role]) -> OpenApiRouter<AppState> {
    let serves = |role| roles.contains(&role);
    let mut routes = hma::core_routes();
    if serves(Role::Hasher) {
        routes = routes.merge(hma::hashing::routes());
    }
    if serves(Role::Matcher) {
        routes = routes.merge(hma::matching::routes());
    }
    if serves(Role::Curator) {
        routes = routes
            .merge(hma::banks::routes())
            .merge(hma::exchanges::routes());
    }
    if serves(Role::Matcher) || serves(Role::Curator) {
        routes = routes.merge(native::routes());
    }
    routes
}

/// The OpenAPI document of every route (all roles), as served at
/// `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = routes_for(&Role::ALL).split_for_parts();
    api.info = utoipa::openapi::InfoBuilder::new()
        .title("Vigil API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "HMA-compatible routes (/h, /m, /c) and Vigil's native /v1 API. \
             Send `Authorization: Bearer <token>` (from `vigil token create`).",
        ))
        .build();
    api
}

/// Largest request body accepted (uploads).
const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

/// The router with the routes `settings` enables, over `engine`.
pub fn router(engine: Arc<Engine>, settings: ServerSettings) -> Router {
    let api = Arc::new(openapi());
    let state = AppState {
        engine,
        settings: Arc::new(settings),
        metrics: Arc::new(metrics::Metrics::new()),
        tokens: Arc::new(auth::TokenCache::default()),
    };
    let (routes, _) = routes_for(&state.settings.roles).split_for_parts();
    routes
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let api = Arc::clone(&api);
                async move { axum::Json(api.as_ref().clone()) }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(metrics::render).with_state(state.clone()),
        )
        // Uploads up to `vigil hash`'s default file limit; larger bodies get 413.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes
/// the requests in flight. With the curator role and an
/// [`exchange_interval`](ServerSettings::exchange_interval), exchanges are
/// fetched in the background meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let fetching = match settings.exchange_interval {
        Some(every) if settings.serves(Role::Curator) => {
            Some(tokio::spawn(hma::exchanges::fetch_periodically(
                Arc::clone(&engine),
                settings.exchanges.clone(),
                every,
            )))
        }
        _ => None,
    };
    let served = axum::serve(listener, router(engine, settings))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(task) = fetching {
        task.abort();
    }
    served
}
