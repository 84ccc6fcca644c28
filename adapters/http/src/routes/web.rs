//! `GET /`: the built-in web client, one static page compiled into the binary.

use axum::http::header;
use axum::response::IntoResponse;

const PAGE: &str = include_str!("../web/index.html");

/// The built-in web client (HTML).
#[utoipa::path(get, path = "/", tag = "operations",
    responses((status = 200, description = "The built-in web client", content_type = "text/html")))]
pub async fn index() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        PAGE,
    )
}
