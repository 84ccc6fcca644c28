//! `GET /api/docs` and `GET /api/docs/{file}`: Swagger UI over `/api/v1/openapi.json`, its
//! files (vendored in `adapters/http/api-docs/`, see the README there) compiled into the
//! binary, so the page works with no network and loads nothing from another origin.
//!
//! It must never serve a file from outside that directory, nor one of a type it does not know
//! (its README is not served; Swagger UI's licence texts are, as they ship with it).

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use rust_embed::RustEmbed;
use serde::Deserialize;
use utoipa::IntoParams;

use super::web::serve_embedded;
use crate::error::ErrorBody;

#[derive(RustEmbed)]
#[folder = "api-docs/"]
struct Files;

/// Swagger UI's own scripts and styles from this origin only (its React components set styles
/// inline, its icons are `data:` images), the document from this origin, nothing framed or
/// framing it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/api/docs/{file}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DocsFile {
    /// One of the page's files, such as `swagger-ui-bundle.js`.
    #[param(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$", max_length = 64)]
    pub file: String,
}

/// The API's interactive documentation (Swagger UI, HTML), served from the binary.
#[utoipa::path(get, path = "/api/docs", tag = "operations",
    responses(
        (status = 200, description = "Swagger UI over `/api/v1/openapi.json`", content_type = "text/html"),
        (status = 304, description = "Not modified (`If-None-Match` names the current ETag)"),
    ))]
pub async fn page(headers: HeaderMap) -> Response {
    serve_embedded(
        Files::get("index.html"),
        "index.html",
        &headers,
        Some(CONTENT_SECURITY_POLICY),
    )
}

/// A script or stylesheet of the documentation page.
#[utoipa::path(get, path = "/api/docs/{file}", tag = "operations",
    params(DocsFile),
    responses(
        (status = 200, description = "The file, with its type and an ETag"),
        (status = 304, description = "Not modified (`If-None-Match` names the current ETag)"),
        (status = 404, description = "`not_found`: no such file", body = ErrorBody),
    ))]
pub async fn file(Path(DocsFile { file }): Path<DocsFile>, headers: HeaderMap) -> Response {
    // The page has one address; and a name with a separator or dot-dot is none of ours (debug
    // builds read the directory from disk).
    let plain = !file.is_empty()
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let found = (plain && file != "index.html")
        .then(|| Files::get(&file))
        .flatten();
    serve_embedded(found, &file, &headers, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_what_it_loads_are_embedded() {
        let page = Files::get("index.html").map(|f| f.data.into_owned());
        let page = String::from_utf8(page.unwrap_or_default()).unwrap_or_default();
        for file in ["swagger-ui.css", "swagger-ui-bundle.js", "init.js"] {
            assert!(
                page.contains(&format!("\"/api/docs/{file}\"")),
                "{file} not loaded"
            );
            assert!(Files::get(file).is_some(), "{file} not embedded");
        }
    }
}
