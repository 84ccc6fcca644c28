//! `/users/me/blocks*` and `/users/{id}/ban`: blocks between users, bans by admins. Only
//! translates: the use cases decide who may do what.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::UserId;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, Caller, OptionalJson};
use crate::wire::{BanRequest, UsersBody};

/// The users the caller blocks, most recently blocked first.
#[utoipa::path(get, path = "/api/v1/users/me/blocks", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "the blocked users", body = UsersBody)))]
pub async fn blocks(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<UsersBody>> {
    let users = s.conversations.blocked_users(&p).await?;
    Ok(Json(UsersBody {
        users: s.user_bodies(&p, &users).await?,
    }))
}

/// Block a user: no new direct chat from them, never matched with them in the pool, and the
/// direct chats and pool rooms with them close. Idempotent.
#[utoipa::path(put, path = "/api/v1/users/me/blocks/{user_id}", tag = "users", security(("bearer" = [])),
    params(("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "blocked (also when already blocked)"),
        (status = 404, description = "`not_found`: no such user", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the caller themself", body = ErrorBody),
    ))]
pub async fn block(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    s.conversations
        .block(&p, UserId::from_uuid(user_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a block. Idempotent: 204 also when there was none (or no such user).
#[utoipa::path(delete, path = "/api/v1/users/me/blocks/{user_id}", tag = "users", security(("bearer" = [])),
    params(("user_id" = Uuid, Path)),
    responses((status = 204, description = "not blocked (any more)")))]
pub async fn unblock(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    s.conversations
        .unblock(&p, UserId::from_uuid(user_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ban a user (admins only): login and refresh answer 403 `banned`, every token and socket of
/// theirs ends at once, on every instance, and they leave the pool. Idempotent.
#[utoipa::path(put, path = "/api/v1/users/{id}/ban", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = Option<BanRequest>,
    responses(
        (status = 204, description = "banned (also when already banned)"),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the caller themself, or a bad `reason`", body = ErrorBody),
    ))]
pub async fn ban(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    OptionalJson(req): OptionalJson<BanRequest>,
) -> ApiResult<StatusCode> {
    s.accounts
        .ban(&p, UserId::from_uuid(id), req.reason.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a ban (admins only): the user may log in again. Idempotent.
#[utoipa::path(delete, path = "/api/v1/users/{id}/ban", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "not banned (any more)"),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the caller themself", body = ErrorBody),
    ))]
pub async fn unban(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    s.accounts.unban(&p, UserId::from_uuid(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
