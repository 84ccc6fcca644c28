//! `/users*`: profiles, search, server roles.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::UserId;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::wire::{MeBody, PatchMeRequest, UserBody, UserQuery, UsersBody};

/// The caller's own account, with `email` and `two_factor`.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = MeBody), (status = 401, body = ErrorBody)))]
pub async fn me(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<MeBody>> {
    Ok(Json(MeBody::from(&s.accounts.me(&p).await?)))
}

/// Change the caller's profile: absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = PatchMeRequest,
    responses((status = 200, body = MeBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_me(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<PatchMeRequest>,
) -> ApiResult<Json<MeBody>> {
    Ok(Json(MeBody::from(
        &s.accounts.update_me(&p, req.into()).await?,
    )))
}

/// Any user by id.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = UserBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn user(
    State(s): State<AppState>,
    Caller(_): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UserBody>> {
    Ok(Json(UserBody::from(
        &s.accounts.user(UserId::from_uuid(id)).await?,
    )))
}

/// Find people by username or display-name prefix (`q`), or by exact `email`.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    params(UserQuery),
    responses((status = 200, body = UsersBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn find_users(
    State(s): State<AppState>,
    Caller(_): Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<Json<UsersBody>> {
    let users = s.accounts.find_users(q.try_into()?).await?;
    Ok(Json(UsersBody {
        users: users.iter().map(UserBody::from).collect(),
    }))
}

/// Grant a server role (`admin`). Admins only.
#[utoipa::path(put, path = "/api/v1/users/{id}/roles/{role}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("role" = String, Path, description = "`admin`")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn grant_role(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, role)): ApiPath<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    s.accounts
        .set_role(&p, UserId::from_uuid(id), &role, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a server role. Admins only.
#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{role}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("role" = String, Path, description = "`admin`")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revoke_role(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, role)): ApiPath<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    s.accounts
        .set_role(&p, UserId::from_uuid(id), &role, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
