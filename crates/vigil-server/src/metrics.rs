//! Request accounting: a debug log line per request (structured fields:
//! method, route, status, micros) and `/metrics` in the Prometheus
//! (OpenMetrics) text format: requests and their latencies by route,
//! matches by bank, index sizes and exchange progress. Each server owns its registry (no process-global state), so
//! several servers in one process — as in the tests — count separately.

use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MatchLabels {
    bank: String,
    signal_type: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignalLabels {
    signal_type: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExchangeLabels {
    exchange: String,
}

/// Latency buckets from 100 µs to about 3 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    matches: Family<MatchLabels, Counter>,
    index_entries: Family<SignalLabels, Gauge>,
    exchange_items: Family<ExchangeLabels, Gauge>,
    exchange_ok: Family<ExchangeLabels, Gauge>,
    /// Serialises scrapes: gauges are refreshed then encoded as one step.
    scrape: Mutex<()>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let matches = Family::<MatchLabels, Counter>::default();
        let index_entries = Family::<SignalLabels, Gauge>::default();
        let exchange_items = Family::<ExchangeLabels, Gauge>::default();
        let exchange_ok = Family::<ExchangeLabels, Gauge>::default();
        registry.register(
            "vigil_http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "vigil_http_request_duration_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        registry.register(
            "vigil_matches",
            "Matches returned by lookups, by bank and signal type",
            matches.clone(),
        );
        registry.register(
            "vigil_index_entries",
            "Signals in the in-memory index, by signal type",
            index_entries.clone(),
        );
        registry.register(
            "vigil_exchange_fetched_items",
            "Records in the last fetch of each exchange",
            exchange_items.clone(),
        );
        registry.register(
            "vigil_exchange_last_fetch_succeeded",
            "1 if the last fetch of the exchange succeeded, else 0",
            exchange_ok.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            matches,
            index_entries,
            exchange_items,
            exchange_ok,
            scrape: Mutex::new(()),
        }
    }

    /// Counts one match returned to a caller.
    pub(crate) fn count_match(&self, bank: &str, signal_type: &str) {
        self.matches
            .get_or_create(&MatchLabels {
                bank: bank.to_owned(),
                signal_type: signal_type.to_string(),
            })
            .inc();
    }
}

/// Middleware: counts every answer and times it, labelled by the route
/// pattern (not the raw path, which would make a label per content id).
pub(crate) async fn record(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    tracing::debug!(
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        micros = elapsed.as_micros() as u64,
        "request"
    );
    let metrics = &state.metrics;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let engine = std::sync::Arc::clone(&state.engine);
    let exchanges = tokio::task::spawn_blocking(move || engine.exchanges())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let metrics = &state.metrics;
    let _scrape = metrics
        .scrape
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (signal_type, size) in state.engine.index_sizes() {
        metrics
            .index_entries
            .get_or_create(&SignalLabels {
                signal_type: signal_type.to_string(),
            })
            .set(size as i64);
    }
    metrics.exchange_items.clear();
    metrics.exchange_ok.clear();
    for exchange in exchanges {
        let labels = ExchangeLabels {
            exchange: exchange.name.to_string(),
        };
        metrics
            .exchange_items
            .get_or_create(&labels)
            .set(exchange.status.fetched_items);
        metrics.exchange_ok.get_or_create(&labels).set(i64::from(
            exchange.status.last_fetch_succeeded == Some(true),
        ));
    }
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
