//! Prometheus metrics. The recorder is process-global, so it is installed once, whoever asks
//! first (the binary, or the first of many test servers in one process). Every name starts with
//! `confab_` and has its HELP line ([`catalog`]); the process's own figures (CPU, memory, open
//! files, threads) are read at each scrape.

mod catalog;

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::access_log::RouteSlot;

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
            catalog::describe();
            process().describe();
            handle
        })
        .clone()
}

/// The process metrics' collector, named like Prometheus's own (`confab_process_…`).
fn process() -> &'static metrics_process::Collector {
    static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();
    PROCESS.get_or_init(|| metrics_process::Collector::new("confab_"))
}

/// Records which build is running: `confab_build_info{version,commit} 1`. The binary passes
/// what it was built from (the commit is known to its own build only).
pub fn record_build_info(version: &str, commit: &str) {
    install_recorder();
    metrics::gauge!(catalog::BUILD_INFO, "version" => version.to_owned(), "commit" => commit.to_owned())
        .set(1.0);
}

/// The text exposition, the process's figures read just now.
fn render(handle: &PrometheusHandle) -> String {
    process().collect();
    handle.run_upkeep();
    handle.render()
}

/// The router of `--metrics-listen`'s own address: `GET /metrics`, and 404 for anything else.
pub fn metrics_router() -> axum::Router {
    let handle = install_recorder();
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { exposition(&handle) }
        }),
    )
}

/// `/metrics`'s answer: the text exposition, typed as Prometheus expects it.
pub(crate) fn exposition(handle: &PrometheusHandle) -> Response {
    use axum::response::IntoResponse;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        render(handle),
    )
        .into_response()
}

/// Counts an upload's bytes once it is stored.
pub fn attachment_bytes_stored(bytes: u64) {
    metrics::counter!("confab_attachment_bytes_stored_total").increment(bytes);
}

/// Counts bytes of a download as they are sent.
pub fn attachment_bytes_served(bytes: usize) {
    metrics::counter!("confab_attachment_bytes_served_total").increment(bytes as u64);
}

/// Counts requests by method, route and status, and times them; tells the access log the
/// route template.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    if let Some(slot) = req.extensions().get::<RouteSlot>() {
        slot.set(&route);
    }
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("confab_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("confab_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}
