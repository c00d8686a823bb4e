//! The proxy's metrics (Prometheus text format, `prometheus-client`) and its small HTTP
//! server: `/metrics`, `/healthz` (the process is up) and `/readyz` (the change feed is
//! connected, so cached decisions are kept current).

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabel {
    call: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabel {
    result: String,
}

struct Inner {
    registry: Registry,
    accepted: Counter,
    refused: Family<ReasonLabel, Counter>,
    active_relays: Gauge,
    cache: Family<CacheLabel, Counter>,
    latency: Family<CallLabel, Histogram>,
    cp_errors: Family<CallLabel, Counter>,
    revocations: Counter,
    feed_version: Gauge,
    feed_connected: AtomicBool,
}

/// Shared handle to every metric.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("enclave_proxy");
        let accepted = Counter::default();
        registry.register(
            "connections_accepted",
            "Connections allowed and relayed to their project's Postgres",
            accepted.clone(),
        );
        let refused = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections refused, by reason",
            refused.clone(),
        );
        let active_relays = Gauge::default();
        registry.register(
            "active_relays",
            "Connections being relayed now",
            active_relays.clone(),
        );
        let cache = Family::<CacheLabel, Counter>::default();
        registry.register(
            "route_cache_lookups",
            "Route lookups, by cache hit or miss",
            cache.clone(),
        );
        let latency = Family::<CallLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.0005, 2.0, 14,
            ))
        });
        registry.register(
            "control_plane_seconds",
            "Latency of calls to the control plane's data-plane API",
            latency.clone(),
        );
        let cp_errors = Family::<CallLabel, Counter>::default();
        registry.register(
            "control_plane_errors",
            "Calls to the control plane that failed",
            cp_errors.clone(),
        );
        let revocations = Counter::default();
        registry.register(
            "revocations",
            "Open connections ended because a change forbade them",
            revocations.clone(),
        );
        let feed_version = Gauge::default();
        registry.register(
            "feed_version",
            "The last change-feed version applied",
            feed_version.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            accepted,
            refused,
            active_relays,
            cache,
            latency,
            cp_errors,
            revocations,
            feed_version,
            feed_connected: AtomicBool::new(false),
        }))
    }

    pub fn accepted(&self) {
        self.0.accepted.inc();
    }

    pub fn refused(&self, reason: &str) {
        self.0
            .refused
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn relay_started(&self) {
        self.0.active_relays.inc();
    }

    pub fn relay_ended(&self) {
        self.0.active_relays.dec();
    }

    pub fn cache(&self, hit: bool) {
        self.0
            .cache
            .get_or_create(&CacheLabel {
                result: if hit { "hit" } else { "miss" }.into(),
            })
            .inc();
    }

    pub fn control_plane_latency(&self, call: &str, seconds: f64) {
        self.0
            .latency
            .get_or_create(&CallLabel { call: call.into() })
            .observe(seconds);
    }

    pub fn control_plane_error(&self, call: &str) {
        self.0
            .cp_errors
            .get_or_create(&CallLabel { call: call.into() })
            .inc();
    }

    pub fn revoked(&self) {
        self.0.revocations.inc();
    }

    pub fn feed_applied(&self, version: i64) {
        self.0.feed_version.set(version);
    }

    pub fn set_feed_connected(&self, connected: bool) {
        self.0.feed_connected.store(connected, Ordering::Relaxed);
    }

    pub fn feed_connected(&self) -> bool {
        self.0.feed_connected.load(Ordering::Relaxed)
    }

    pub fn accepted_total(&self) -> u64 {
        self.0.accepted.get()
    }

    pub fn active_relays(&self) -> u64 {
        self.0.active_relays.get().max(0) as u64
    }

    pub fn revoked_total(&self) -> u64 {
        self.0.revocations.get()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.0.registry);
        out
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Metrics) {
    use axum::{http::StatusCode, routing::get, Router};
    let app = Router::new()
        .route(
            "/metrics",
            get({
                let m = metrics.clone();
                move || {
                    let m = m.clone();
                    async move {
                        (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            )],
                            m.render(),
                        )
                    }
                }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = metrics.feed_connected();
                async move {
                    if ready {
                        (StatusCode::OK, "ready")
                    } else {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "not connected to the control plane's change feed",
                        )
                    }
                }
            }),
        );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!(error = %e, "metrics server stopped");
    }
}

/// Binds the metrics listener (errors name the flag).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("could not listen on {addr} for metrics: {e} (set --metrics-listen)")
    })
}
