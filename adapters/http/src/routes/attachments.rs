//! `/groups/{id}/attachments` (upload), `/attachments/{id}` (download) and
//! `/attachments/{id}/thumbnail`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_domain::{AttachmentId, GroupId};
use confab_ports::service::UploadHeader;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::files::{
    BodyChunks, Wanted, content_disposition, etag, guard_headers, not_modified, streamed,
    unsatisfiable, wanted_part,
};
use crate::metrics;
use crate::wire::{AttachmentBody, UploadQuery};

/// Upload a file for a message to this group: the raw bytes as the body, with their
/// `Content-Type`. It is in no message yet: send one with its id in `attachment_ids`; unused
/// uploads are removed after 24 hours.
#[utoipa::path(post, path = "/api/v1/groups/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = Uuid, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "*/*",
        description = "The file's bytes, as they are; `Content-Type` says what they are and must match them"),
    responses(
        (status = 201, description = "the upload, for `attachment_ids`", body = AttachmentBody),
        (status = 400, description = "`bad_request`: the upload was cut off or stalled", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
        (status = 410, description = "`gone`: the group is closed or expired", body = ErrorBody),
        (status = 414, description = "`uri_too_long`: the request target (with the name) is over 8 KiB", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the file is over the size limit (refused before it is read when `Content-Length` says so)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: no `Content-Type`", body = ErrorBody),
        (status = 422, description = "`quota_exceeded`: the caller's uploads would pass their quota; `validation_failed`: a `Content-Type` that is not a media type or does not match the bytes, or an image that cannot be read or is too large to decode", body = ErrorBody),
    ))]
pub async fn upload(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AttachmentBody>), Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            refused(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file's Content-Type (application/octet-stream when unknown)",
            ))
        })?;
    let declared_len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut chunks = BodyChunks::new(body, s.config.request_timeout);
    let upload = UploadHeader {
        name: q.name.as_deref(),
        content_type,
        declared_len,
    };
    let attachment = s
        .files
        .upload(&p, GroupId::from_uuid(id), upload, &mut chunks)
        .await
        .map_err(|e| refused(e.into()))?;
    metrics::attachment_bytes_stored(attachment.size);
    Ok((StatusCode::CREATED, Json(AttachmentBody::from(&attachment))))
}

/// Download a file: its bytes, `Range` answered with 206; `If-None-Match` with its `ETag`
/// (the SHA-256) answered with 304.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = Uuid, Path),
        ("Range" = Option<String>, Header, max_length = 200, description = "One byte range (`bytes=0-99`, `bytes=100-`, `bytes=-100`); several, or a malformed one, are answered with the whole file"),
        ("If-None-Match" = Option<String>, Header, max_length = 8192, description = "The `ETag` a client has: 304 when it is this file's"),
        ("If-Range" = Option<String>, Header, max_length = 200, description = "Honour `Range` only if this is the file's `ETag`")),
    responses(
        (status = 200, description = "the whole file, with `Content-Disposition` (`inline` for raster images only), `X-Content-Type-Options: nosniff`, `Content-Security-Policy: sandbox`", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "the requested range, with `Content-Range`", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "the client's copy (`If-None-Match`) is current"),
        (status = 404, description = "`not_found`: no such file, or the caller may not see it (not a member of its group; someone else's upload not yet in a message)", body = ErrorBody),
        (status = 416, description = "`range_not_satisfiable`: the range lies past the end; `Content-Range: bytes */<size>`", body = ErrorBody),
    ))]
pub async fn download(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let attachment = s.files.attachment(&p, AttachmentId::from_uuid(id)).await?;
    let tag = etag(&attachment);
    let mut res = if not_modified(&headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let size = attachment.size;
        let (status, start, end) = match wanted_part(&headers, &tag, size) {
            Wanted::Whole => (StatusCode::OK, 0, size),
            Wanted::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
            Wanted::Unsatisfiable => return Ok(unsatisfiable(size)),
        };
        let chunks = s.files.bytes(&attachment, start, end).await?;
        let mut res = (status, streamed(chunks)).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
        if status == StatusCode::PARTIAL_CONTENT {
            let range = format!("bytes {start}-{}/{size}", end - 1);
            h.insert(header::CONTENT_RANGE, header_value(&range)?);
        }
        h.insert(
            header::CONTENT_TYPE,
            header_value(attachment.content_type.as_str())?,
        );
        let disposition = content_disposition(&attachment.name, &attachment.content_type);
        h.insert(header::CONTENT_DISPOSITION, header_value(&disposition)?);
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, header_value(&tag)?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    guard_headers(h);
    Ok(res)
}

/// A raster image's thumbnail: PNG or WebP, at most 512 pixels on the long side.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/thumbnail", tag = "attachments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the thumbnail (`image/png` or `image/webp`)", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "`not_found`: no such file, the caller may not see it, or it is not a raster image", body = ErrorBody),
    ))]
pub async fn thumbnail(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let thumbnail = s.files.thumbnail(&p, AttachmentId::from_uuid(id)).await?;
    metrics::attachment_bytes_served(thumbnail.bytes.len());
    let mut res = thumbnail.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, header_value(&thumbnail.content_type)?);
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    guard_headers(h);
    Ok(res)
}

/// A refused upload's answer. Its body may be unread (refused from its length, or midway),
/// so the connection is closed after the answer rather than reused with bytes in flight.
fn refused(error: ApiError) -> Response {
    let mut res = error.into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// A header value from text the store keeps (validated on its way in, so this never fails in
/// practice; if it did, that is a bug, not the client's fault).
fn header_value(s: &str) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(s).map_err(|_| {
        ApiError::from(confab_ports::Error::Internal(format!(
            "not a header value: {s:?}"
        )))
    })
}
