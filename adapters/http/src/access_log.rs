//! One log line per request (`confab::access`, at info): method, route template, status,
//! duration in milliseconds and request id, as fields (so `--log-format json` has them as
//! such). Health checks and scrapes go to debug: they are machines asking every few seconds.
//!
//! It must never log a raw path (ids), a query string (tokens may ride there), a header other
//! than the request id, or a body.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The request id header: the client's (or proxy's) when it is a plain token, else one we make.
pub const REQUEST_ID: &str = "x-request-id";

/// The longest request id taken from a client.
const MAX_REQUEST_ID: usize = 128;

/// Where the router writes the matched route template for the log line, which is written
/// outside the router (so that a timeout's 503 is logged too).
#[derive(Clone, Default)]
pub(crate) struct RouteSlot(Arc<OnceLock<String>>);

impl RouteSlot {
    /// Records the route template (the first one wins).
    pub(crate) fn set(&self, route: &str) {
        let _ = self.0.set(route.to_owned());
    }
}

/// Logs the request once it is answered. Goes outside the layer that sets the request id (it
/// reads the id from the answer, where it is propagated).
pub async fn log(mut req: Request, next: Next) -> Response {
    // A client's id goes into our logs: only a plain token may, anything else is replaced.
    let keep = req.headers().get(REQUEST_ID).is_some_and(is_plain_token);
    if !keep {
        req.headers_mut().remove(REQUEST_ID);
    }
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let method = req.method().clone();
    let started = Instant::now();
    let res = next.run(req).await;
    let duration_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let route = slot.0.get().map_or("unmatched", String::as_str);
    let status = res.status().as_u16();
    let request_id = res
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    if matches!(route, "/healthz" | "/readyz" | "/metrics") {
        tracing::debug!(target: "confab::access", %method, route, status, duration_ms, request_id, "request");
    } else {
        tracing::info!(target: "confab::access", %method, route, status, duration_ms, request_id, "request");
    }
    res
}

/// Letters, digits and `-._:`, at most [`MAX_REQUEST_ID`] long: nothing that could pass for
/// another field in a text log line.
fn is_plain_token(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_plain_tokens_are_kept_as_request_ids() {
        for good in ["abc", "0f3c-11aa", "req_1.2:3", &"a".repeat(128)] {
            assert!(
                is_plain_token(&HeaderValue::from_str(good).unwrap()),
                "{good}"
            );
        }
        for bad in [
            "",
            "a b",
            "x\"y",
            "a=b",
            "é",
            &"a".repeat(129),
            "id status=200",
        ] {
            let Ok(value) = HeaderValue::from_str(bad) else {
                continue;
            };
            assert!(!is_plain_token(&value), "{bad:?}");
        }
    }
}
