//! Cross-cutting request handling: our error body on every error, and the request budget.

use axum::body::Body;
use axum::extract::{Request, State};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Verified, bearer, client_ip};

/// Gives every error answer our JSON body. axum and tower-http answer some errors themselves
/// (unknown route, wrong method, body too large, timeout) in plain text or with no body; this
/// rewrites those, keeping their status and headers (`Allow`, `Retry-After`).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let fresh = ApiError::for_status(status).into_response();
    let (fresh_parts, body) = fresh.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// Answers a panic with a plain 500 in our format; the panic itself goes to the log.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    let mut res = ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Whether the request is a file upload (`POST /api/v1/groups/{id}/attachments`): its body is
/// held to the upload limit and it is not bound by the request timeout.
fn is_upload(req: &Request) -> bool {
    req.method() == axum::http::Method::POST
        && req
            .uri()
            .path()
            .strip_prefix("/api/v1/groups/")
            .and_then(|rest| rest.strip_suffix("/attachments"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Answers 503 for a request that takes longer than `--request-timeout`, and abandons it.
/// Uploads are exempt: a large file on a slow link takes longer, and a stalled one is cut off
/// by the upload itself (no byte for that long).
pub async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_upload(&req) {
        return next.run(req).await;
    }
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::for_status(StatusCode::SERVICE_UNAVAILABLE).into_response(),
    }
}

/// Most of an oversized body read (and thrown away) so that the client sees the 413.
const DRAIN_CAP: u64 = 16 * 1024 * 1024;
/// Longest time spent draining an oversized body.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Refuses a body whose declared length is over the limit, without handing it to a handler.
///
/// A client that sent `Expect: 100-continue` has not sent the body yet: it gets the 413 at once.
/// Any other client is still uploading; answering now would reset the connection under it and it
/// would see a broken pipe instead of the 413. So the body is read and thrown away first (up to
/// [`DRAIN_CAP`] bytes and [`DRAIN_TIME`]), then the 413 goes out with `Connection: close`.
/// Bodies without a declared length are cut off at the same limit when they are read.
pub async fn reject_oversized(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = if is_upload(&req) {
        state.config.upload_limit
    } else {
        u64::try_from(state.config.body_limit).unwrap_or(u64::MAX)
    };
    let Some(len) = declared.filter(|len| *len > limit) else {
        return next.run(req).await;
    };
    let expects_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut res = ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE).into_response();
    if !expects_continue && len <= DRAIN_CAP {
        let mut body = req.into_body().into_data_stream();
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Some(Ok(_)) = body.next().await {}
        })
        .await;
    }
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Spends one request from the caller's budget (per user with a valid token, else per
/// address); over budget → 429 with `Retry-After`. Health and metrics are not counted.
pub async fn throttle(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let ip = client_ip(&parts, state.config.trust_forwarded_for);
    match state.accounts.admit_request(bearer(&parts), &ip).await {
        Ok(Some(claims)) => {
            parts.extensions.insert(Verified(claims));
        }
        Ok(None) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header bytes (names and values) accepted in one request.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most headers accepted in one request.
pub const MAX_HEADER_COUNT: usize = 100;

/// Refuses an over-long request target (414) or too many or too large headers (431) with our
/// error body. The HTTP parser's own limits are set above these, so a request head only hits
/// the parser's bare answer when it is larger still (over 64 KiB).
pub async fn limit_request_head(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is over {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADER_COUNT || header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request has over {MAX_HEADER_COUNT} headers or over {MAX_HEADER_BYTES} bytes of them"
            ),
        )
        .into_response();
    }
    next.run(req).await
}
