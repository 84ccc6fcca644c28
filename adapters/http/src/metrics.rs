//! Prometheus metrics. The recorder is process-global, so it is installed once, whoever asks
//! first (the binary, or the first of many test servers in one process).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the global recorder if it is not installed yet, and returns its handle.
pub fn install_recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            describe_adapters();
            handle
        })
        .clone()
}

/// The event bus's and the store's metrics, shown (at zero) from the start so dashboards and
/// alerts can rely on them: the adapters count, the hub counts re-checks.
fn describe_adapters() {
    for (name, help) in [
        (
            "bus_events_published_total",
            "Events this instance published.",
        ),
        (
            "bus_events_received_total",
            "Events this instance's hub received (from other instances, over Redis).",
        ),
        (
            "bus_events_dropped_total",
            "Events dropped: a full subscriber queue, or a failed or full publish to Redis.",
        ),
        (
            "store_commits_total",
            "Transactions the store committed for writes (SQLite: one per group commit, however many writes it holds).",
        ),
        (
            "http_connections_refused_total",
            "Connections refused over a cap (reason: address = --max-connections-per-address, full = --max-connections).",
        ),
        (
            "http_connections_idle_closed_total",
            "HTTP connections closed after --idle-timeout with no request in flight.",
        ),
        (
            "attachment_bytes_stored_total",
            "Bytes of attachments this instance accepted and stored (uploads answered 201).",
        ),
        (
            "attachment_bytes_served_total",
            "Bytes of attachments this instance sent in downloads (ranges counted as sent).",
        ),
        (
            "bus_rechecks_total",
            "Times every socket re-checked its groups against the database after a possible loss on the bus.",
        ),
    ] {
        metrics::describe_counter!(name, help);
        metrics::counter!(name).increment(0);
    }
    metrics::describe_gauge!(
        "bus_heartbeat_age_seconds",
        "Seconds since this instance last heard its own heartbeat over Redis (0 without Redis)."
    );
    metrics::gauge!("bus_heartbeat_age_seconds").set(0.0);
    metrics::describe_gauge!(
        "bus_peers_heard",
        "Other instances whose heartbeat this one hears over Redis (0 without Redis)."
    );
    metrics::gauge!("bus_peers_heard").set(0.0);
    metrics::describe_gauge!(
        "http_connections_open",
        "Client connections open now, WebSockets included (refused ones not counted)."
    );
    metrics::gauge!("http_connections_open").set(0.0);
}

/// Counts an upload's bytes once it is stored.
pub fn attachment_bytes_stored(bytes: u64) {
    metrics::counter!("attachment_bytes_stored_total").increment(bytes);
}

/// Counts bytes of a download as they are sent.
pub fn attachment_bytes_served(bytes: usize) {
    metrics::counter!("attachment_bytes_served_total").increment(bytes as u64);
}

/// Counts requests by method, route and status, and times them.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}
