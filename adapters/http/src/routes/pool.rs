//! `/pool`: the matching pool for anonymous 1:1 rooms.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_ports::service::PoolOutcome;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, OptionalJson};
use crate::wire::{GroupBody, JoinPoolRequest, PoolBody};

/// Join the matching pool: 200 with the new room when someone fitting was waiting, else 202
/// and the caller waits (a match arrives as `pool.matched` on the socket).
#[utoipa::path(post, path = "/api/v1/pool", tag = "pool", security(("bearer" = [])),
    request_body = Option<JoinPoolRequest>,
    responses(
        (status = 200, description = "matched: the new room", body = PoolBody),
        (status = 202, description = "waiting for a match", body = PoolBody),
        (status = 409, description = "`conflict`: already waiting in the pool", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `same_country` without a country of one's own", body = ErrorBody),
    ))]
pub async fn join_pool(
    State(s): State<AppState>,
    Caller(p): Caller,
    OptionalJson(req): OptionalJson<JoinPoolRequest>,
) -> ApiResult<(StatusCode, Json<PoolBody>)> {
    let outcome = s.pool.join(&p, req.same_country.unwrap_or(false)).await?;
    Ok(match outcome {
        PoolOutcome::Matched(view) => (
            StatusCode::OK,
            Json(PoolBody {
                status: "matched",
                group: Some(GroupBody::from(&view)),
            }),
        ),
        PoolOutcome::Waiting => (
            StatusCode::ACCEPTED,
            Json(PoolBody {
                status: "waiting",
                group: None,
            }),
        ),
    })
}

/// Leave the matching pool; 204 also when the caller was not waiting.
#[utoipa::path(delete, path = "/api/v1/pool", tag = "pool", security(("bearer" = [])),
    responses((status = 204, description = "not waiting (any more)")))]
pub async fn leave_pool(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<StatusCode> {
    s.pool.leave(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}
