//! `/users*`: profiles, search, server roles.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::UserId;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::wire::{MeBody, PatchMeRequest, RolePath, UserBody, UserQuery, UsersBody};

/// The caller's own account, with `email` and `two_factor`.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "the caller's account", body = MeBody)))]
pub async fn me(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<MeBody>> {
    let user = s.accounts.me(&p).await?;
    let seen = s.own_presence(&user).await?;
    Ok(Json(MeBody::new(&user, seen)))
}

/// Change the caller's profile: absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = PatchMeRequest,
    responses(
        (status = 200, description = "the changed account", body = MeBody),
        (status = 409, description = "`conflict`: the email is taken", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field breaks its rule, a new email without its code (or a wrong one), or two-factor login without an email", body = ErrorBody),
    ))]
pub async fn update_me(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<PatchMeRequest>,
) -> ApiResult<Json<MeBody>> {
    let user = s.accounts.update_me(&p, req.into()).await?;
    let seen = s.own_presence(&user).await?;
    Ok(Json(MeBody::new(&user, seen)))
}

/// Any user by id.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the user", body = UserBody),
        (status = 404, description = "`not_found`: no such user", body = ErrorBody),
    ))]
pub async fn user(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UserBody>> {
    let user = s.accounts.user(UserId::from_uuid(id)).await?;
    Ok(Json(s.user_body(&p, &user).await?))
}

/// Find people by username or display-name prefix (`q`), or by exact `email`.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "the users found (none: an empty list)", body = UsersBody),
        (status = 400, description = "`bad_request`: both `q` and `email`, or a query string that cannot be read", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `limit` below 1, `q` too long, or a malformed `email`", body = ErrorBody),
    ))]
pub async fn find_users(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<Json<UsersBody>> {
    let users = s.accounts.find_users(q.try_into()?).await?;
    Ok(Json(UsersBody {
        users: s.user_bodies(&p, &users).await?,
    }))
}

/// Grant a server role (`admin`). Admins only.
#[utoipa::path(put, path = "/api/v1/users/{id}/roles/{role}", tag = "users", security(("bearer" = [])),
    params(RolePath),
    responses(
        (status = 204, description = "done (also when nothing changed)"),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user", body = ErrorBody),
        (status = 422, description = "`validation_failed`: not a server role", body = ErrorBody),
    ))]
pub async fn grant_role(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(RolePath { id, role }): ApiPath<RolePath>,
) -> ApiResult<StatusCode> {
    s.accounts
        .set_role(&p, UserId::from_uuid(id), &role, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a server role. Admins only.
#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{role}", tag = "users", security(("bearer" = [])),
    params(RolePath),
    responses(
        (status = 204, description = "done (also when nothing changed)"),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user", body = ErrorBody),
        (status = 422, description = "`validation_failed`: not a server role", body = ErrorBody),
    ))]
pub async fn revoke_role(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(RolePath { id, role }): ApiPath<RolePath>,
) -> ApiResult<StatusCode> {
    s.accounts
        .set_role(&p, UserId::from_uuid(id), &role, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
