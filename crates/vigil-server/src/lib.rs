//! Vigil's HTTP API: the routes and JSON of Meta's Hasher-Matcher-Actioner
//! (HMA), so HMA clients work unchanged, plus a native `/v1` API for labels,
//! API tokens with roles, Prometheus metrics and an OpenAPI document.
//!
//! This crate owns HTTP: routing, request parsing, authentication, status
//! codes and error shapes (mapped from engine errors in one place,
//! [`ApiError`]). It does not know table layouts or index structures; every
//! route calls the [`Engine`], and URLs are fetched
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
//! - Every connection and request is bounded by [`HttpLimits`]: a
//!   connection cap with idle and request-head timeouts, request-head and
//!   body sizes, a memory budget shared by all bodies in flight; requests
//!   naming a foreign `Host`, or sent by a browser from another site
//!   without a token, are refused (see `docs/security.md`).
//! - Every error answer is `{"message": …}`, whoever produced it.
//!
//! Deliberate differences from HMA are listed in `docs/hma-compatibility.md`.
#![deny(missing_docs)]

mod auth;
mod connections;
mod error;
mod guard;
mod hma;
mod limits;
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
pub use limits::HttpLimits;

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
    /// Bounds on connections, request heads and bodies.
    pub limits: HttpLimits,
    /// Names this server is reached by (e.g. behind a reverse proxy),
    /// accepted in `Host` besides IP addresses and `localhost`.
    pub public_hosts: Vec<String>,
}

impl ServerSettings {
    /// Every role, tokens optional, the default fetch policy, no exchange
    /// directory, exchanges fetched every 240 s (as HMA's shipped configs),
    /// the default [`HttpLimits`], no public host name.
    pub fn new(fetcher: Fetcher) -> Self {
        Self {
            roles: Role::ALL.to_vec(),
            require_tokens: false,
            fetcher,
            exchanges: ExchangeSettings::default(),
            exchange_interval: Some(Duration::from_secs(240)),
            limits: HttpLimits::default(),
            public_hosts: Vec::new(),
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
    guard: Arc<guard::Guard>,
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

/// The router with the routes `settings` enables, over `engine`, behind
/// the request guard and the error mapping.
pub fn router(engine: Arc<Engine>, mut settings: ServerSettings) -> Router {
    let api = Arc::new(openapi());
    let guard = Arc::new(guard::Guard::new(
        settings.limits.clone(),
        &settings.public_hosts,
    ));
    // Fetched bodies count against the same budget as uploaded ones.
    settings.fetcher = settings.fetcher.clone().with_budget(guard.budget.clone());
    let state = AppState {
        engine,
        settings: Arc::new(settings),
        metrics: Arc::new(metrics::Metrics::new()),
        tokens: Arc::new(auth::TokenCache::default()),
        guard,
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
        // The guard limits every body (JSON or upload) itself.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(axum::middleware::from_fn(error::json_errors))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes
/// the requests in flight (within [`HttpLimits::shutdown_grace`]).
/// Connections are held to [`ServerSettings::limits`]. With the curator
/// role and an
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
    let limits = settings.limits.clone();
    let served = connections::serve(listener, router(engine, settings), limits, shutdown).await;
    if let Some(task) = fetching {
        task.abort();
    }
    served
}
