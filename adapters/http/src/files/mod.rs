//! The HTTP side of attachments: an upload's body as the use case's chunks (with a stall
//! timeout, since an upload may legitimately outlast the request timeout), and a download's
//! answer (ranges, `ETag`, the headers that keep a browser from running what it downloads).
//! It decides nothing about who may read what: the use case answered that before.

mod disposition;
mod range;

use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use confab_domain::Attachment;
use confab_ports::blobs::Chunks;
use confab_ports::{Error, Result};
use futures::StreamExt;

pub use disposition::content_disposition;
pub use range::{Wanted, wanted};

use crate::error::ApiError;

/// An upload's body, chunk by chunk. A client that sends nothing for `stall` is cut off, and a
/// connection lost mid-body ends it with an error: either way the use case writes nothing.
pub struct BodyChunks {
    stream: BodyDataStream,
    stall: Duration,
}

impl BodyChunks {
    pub fn new(body: Body, stall: Duration) -> Self {
        Self {
            stream: body.into_data_stream(),
            stall,
        }
    }
}

#[async_trait::async_trait]
impl Chunks for BodyChunks {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        match tokio::time::timeout(self.stall, self.stream.next()).await {
            Err(_) => Err(Error::BadRequest(format!(
                "the upload stalled: nothing arrived for {} s",
                self.stall.as_secs()
            ))),
            Ok(None) => Ok(None),
            Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
            Ok(Some(Err(e))) => Err(Error::BadRequest(format!("the upload was cut off: {e}"))),
        }
    }
}

/// Headers every answer with a file's bytes carries: the browser must not guess a type, and
/// must run nothing it shows (a stored HTML or SVG file stays inert even opened directly).
pub fn guard_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    // The bytes behind an id never change; only members may see them.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
}

/// The `ETag` of an attachment: its SHA-256.
pub fn etag(attachment: &Attachment) -> String {
    format!("\"{}\"", attachment.sha256)
}

/// Whether `If-None-Match` names this entity tag (or `*`).
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// What of the file to send: the `Range` header, unless `If-Range` names another version.
pub fn wanted_part(headers: &HeaderMap, etag: &str, size: u64) -> Wanted {
    let if_range = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok());
    if if_range.is_some_and(|tag| tag.trim() != etag) {
        return Wanted::Whole;
    }
    wanted(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        size,
    )
}

/// 416, saying how large the file is.
pub fn unsatisfiable(size: u64) -> Response {
    let mut res = ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
        format!("the range lies past the end of the file ({size} bytes)"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        res.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    res
}

/// A response body over chunks, counting what is sent; a read failing halfway ends the body
/// with an error (the client sees a cut-off download, never wrong bytes).
pub fn streamed(chunks: Box<dyn Chunks>) -> Body {
    let stream = futures::stream::unfold(Some(chunks), |state| async move {
        let mut chunks = state?;
        match chunks.next_chunk().await {
            Ok(Some(bytes)) => {
                crate::metrics::attachment_bytes_served(bytes.len());
                Some((Ok(bytes), Some(chunks)))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "an attachment's bytes could not be read");
                Some((
                    Err(std::io::Error::other("the file could not be read")),
                    None,
                ))
            }
        }
    });
    Body::from_stream(stream)
}
