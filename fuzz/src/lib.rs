//! The harness behind the fuzz targets in `fuzz_targets/`: one module per target, each feeding
//! a client's (or an operator's) bytes to the real entry point the server uses, then checking
//! what must hold whatever the bytes were. A panic here is a finding: either the server code
//! panicked, or one of these properties broke.
//!
//! Where the server's own path is async and tied to a live session or a store (a WebSocket
//! command, a use case), the harness runs the same pure steps that path runs, in the same
//! order: the decoder, then the domain constructors the use case calls, then the encoder of
//! the answer. Each such mirror names the code it follows.
#![forbid(unsafe_code)]

pub mod bodies;
pub mod config;
pub mod domain;
pub mod jwt;
pub mod ws;

use axum::response::IntoResponse;
use confab_http::fuzzing::ApiError;

/// What an error caused by a client's input must be: a 4xx (never a 500, never `internal`)
/// whose body is `{"error": {"code", "message"}}` with a non-empty message.
pub fn check_client_error(e: ApiError) {
    let (status, code) = (e.status, e.code);
    assert!(
        status.is_client_error(),
        "client input was answered {status} ({code}): {}",
        e.message
    );
    assert!(
        !code.is_empty() && code != "internal",
        "client input got code {code:?}"
    );
    let response = e.into_response();
    assert_eq!(response.status(), status);
    let bytes = futures::executor::block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
        .unwrap_or_else(|e| panic!("an error body in memory could not be read: {e}"));
    let body: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("an error body is not JSON ({e}): {bytes:?}"));
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// A domain refusal as the route answers it (422 `validation_failed` with the field).
pub fn check_invalid(e: confab_domain::Invalid) {
    let field = e.field;
    assert!(!field.is_empty(), "an Invalid without a field: {e:?}");
    let api = ApiError::from(confab_ports::Error::from(e));
    assert_eq!(api.status.as_u16(), 422, "{api:?}");
    assert_eq!(api.field, Some(field));
    check_client_error(api);
}
