//! `GET /` and `GET /assets/…`: the built-in web client, the files of `adapters/http/web/`
//! compiled into the binary (read from that directory in debug builds, so an edit shows on
//! reload). Every answer carries an ETag (from the file's SHA-256) and `Cache-Control:
//! no-cache`: browsers keep the files and ask again with `If-None-Match`, getting a 304 until a
//! new binary changes them. The page's Content-Security-Policy allows scripts and styles from
//! this origin only (no inline script): user text can never become code.
//!
//! It must never serve anything outside that directory, nor guess a type it does not know.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorBody};

#[derive(RustEmbed)]
#[folder = "web/"]
struct Files;

/// What the page may load: its own scripts, styles, images and fonts, its own API and socket
/// (`'self'` covers `ws:`/`wss:` to the same host), and nothing framed or framing it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/assets/{path}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssetPath {
    /// The file's path under the client's directory, such as `js/main.js`.
    #[param(
        pattern = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$",
        max_length = 255
    )]
    pub path: String,
}

/// The built-in web client (HTML).
#[utoipa::path(get, path = "/", tag = "operations",
    responses(
        (status = 200, description = "The built-in web client", content_type = "text/html"),
        (status = 304, description = "Not modified (`If-None-Match` names the current ETag)"),
    ))]
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// One of the web client's files (scripts, styles, icons).
#[utoipa::path(get, path = "/assets/{*path}", tag = "operations",
    params(AssetPath),
    responses(
        (status = 200, description = "The file, with its type and an ETag"),
        (status = 304, description = "Not modified (`If-None-Match` names the current ETag)"),
        (status = 404, description = "`not_found`: no such file", body = ErrorBody),
    ))]
pub async fn asset(Path(AssetPath { path }): Path<AssetPath>, headers: HeaderMap) -> Response {
    // One address for the page (one ETag, one policy); and no way out of the directory, which
    // debug builds read from disk.
    let outside = path
        .split(['/', '\\'])
        .any(|segment| segment.is_empty() || segment == "." || segment == "..");
    if path == "index.html" || outside {
        return ApiError::not_found("no such file").into_response();
    }
    serve(&path, &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let policy = (path == "index.html").then_some(CONTENT_SECURITY_POLICY);
    serve_embedded(Files::get(path), path, request, policy)
}

/// Answers with an embedded file (or 404 when there is none, or its type is not one we serve):
/// its type, ETag, `no-cache`; with `policy`, the page's Content-Security-Policy and no framing.
pub(super) fn serve_embedded(
    file: Option<rust_embed::EmbeddedFile>,
    path: &str,
    request: &HeaderMap,
    policy: Option<&'static str>,
) -> Response {
    let (Some(file), Some(content_type)) = (file, content_type(path)) else {
        return ApiError::not_found("no such file").into_response();
    };
    let etag = etag(&file.metadata.sha256_hash());
    let mut response = if matches(request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(file.data.into_owned()));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Some(policy) = policy {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// A strong ETag: the first 16 bytes of the SHA-256, in hex.
fn etag(sha256: &[u8; 32]) -> String {
    let hex: String = sha256[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// The type of a file the client ships; `None` for a kind it has no business serving.
fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.')?.1;
    Some(match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_client_has_a_type() {
        let untyped: Vec<_> = Files::iter()
            .filter(|path| content_type(path).is_none())
            .collect();
        assert!(
            untyped.is_empty(),
            "files the server would not serve: {untyped:?}"
        );
        assert!(Files::get("index.html").is_some());
    }

    #[test]
    fn if_none_match_is_read_as_a_list_of_tags() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(matches(&h, "\"abc\""));
        assert!(!matches(&h, "\"abd\""));
        assert!(!matches(&HeaderMap::new(), "\"abc\""));
    }
}
