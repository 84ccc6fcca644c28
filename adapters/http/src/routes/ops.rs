//! Health, readiness, metrics and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`{\"status\":\"ok\"}`")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers, and Redis when configured; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "`{\"status\":\"ok\"}`"), (status = 503, description = "`unavailable`: the database (or Redis, when configured) does not answer", body = ErrorBody)))]
pub async fn readyz(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    s.health.ping().await?;
    s.bus.ready().await?;
    Ok(Json(json!({"status": "ok"})))
}

/// Prometheus text format; 404 here when the server serves it on `--metrics-listen` instead.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain"),
        (status = 404, description = "`not_found`: metrics are served on another address (`--metrics-listen`)", body = ErrorBody),
    ))]
pub async fn metrics(
    State(s): State<AppState>,
    Extension(handle): Extension<PrometheusHandle>,
) -> Response {
    if !s.config.public_metrics {
        // As the router's own 404: nothing tells a prober metrics exist elsewhere.
        return ApiError::for_status(StatusCode::NOT_FOUND).into_response();
    }
    crate::metrics::exposition(&handle)
}

/// This document: OpenAPI 3.1, generated from the routes.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi(
    Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> impl IntoResponse {
    Json(doc.as_ref().clone())
}
