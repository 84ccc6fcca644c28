//! `GET /api/v1/ws`: one socket per client session, carrying everything for all of the user's
//! groups. The token is checked before the upgrade (401 otherwise); then a [`session`] runs the
//! socket, fed by the instance's [`hub`].

/// Public only for the fuzz targets (through `crate::fuzzing`); not an API.
#[doc(hidden)]
pub mod frames;
pub mod hub;
mod outbox;
mod session;
mod writer;

use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// Largest frame a client may send (API: 64 KiB); larger closes the socket with 1009.
const MAX_FRAME: usize = 64 * 1024;
/// Socket buffers: a few KiB, not tungstenite's 128 KiB default, so idle sockets stay cheap.
const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 4 * 1024;

/// `?token=` for browsers, which cannot set headers on a WebSocket.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// The access token, when it is not in `Authorization: Bearer`.
    token: Option<String>,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Opens the real-time socket. Frames and events are described in API.md and docs/api.md.
#[utoipa::path(get, path = "/api/v1/ws", tag = "realtime",
    params(WsQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
pub async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some(token) = bearer(&headers).map(str::to_owned).or(query.token) else {
        return ApiError::unauthorized("a token is required: Authorization: Bearer, or ?token=")
            .into_response();
    };
    let (principal, expires_at) = match state.accounts.authenticate_until(&token).await {
        Ok(found) => found,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(_) => {
            return ApiError::bad_request(
                "this route opens a WebSocket: send Connection: Upgrade and Upgrade: websocket",
            )
            .into_response();
        }
    };
    upgrade
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| session::run(socket, state, principal, expires_at))
}
