//! Answers for connections the server will not serve (over a connection cap): the API's error
//! body, as a response for a connection whose request is read, and as the raw bytes of one for a
//! connection closed at once. The accept loop decides who is refused; this only says how.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody, ErrorDetail};

/// Why a connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// The client's address holds as many connections as it may: 429.
    TooManyFromAddress,
    /// The server holds as many connections as it may: 503.
    ServerFull,
}

impl ConnectionRefusal {
    fn error(self) -> ApiError {
        let mut err = match self {
            Self::TooManyFromAddress => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many open connections from this address; close some and retry",
            ),
            Self::ServerFull => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is at its connection limit; retry later",
            ),
        };
        err.retry_after_secs = Some(1);
        err
    }

    /// The answer to a request read on a refused connection (closed after it).
    pub fn response(self) -> Response {
        let mut res = self.error().into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        res
    }

    /// A whole HTTP/1.1 response, written before the request is read, then the connection
    /// is closed.
    pub fn raw_response(self) -> Vec<u8> {
        let err = self.error();
        let body = serde_json::to_string(&ErrorBody {
            error: ErrorDetail {
                code: err.code,
                message: err.message,
                field: None,
            },
        })
        .unwrap_or_default();
        let status = err.status;
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            status.as_str(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_raw_refusal_is_a_complete_response_with_our_error_body() {
        let raw = String::from_utf8(ConnectionRefusal::TooManyFromAddress.raw_response()).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 429 Too Many Requests\r\n"),
            "{head}"
        );
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "rate_limited");
        let raw = String::from_utf8(ConnectionRefusal::ServerFull.raw_response()).unwrap();
        assert!(raw.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(raw.contains("\"unavailable\""));
    }
}
