//! `/groups/{id}/members` and `/groups/{id}/members/{user_id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::{GroupId, UserId};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::wire::{AddMemberRequest, ChangeRoleRequest, MemberBody, MembersBody};

/// The members of one of the caller's groups, longest-standing first.
#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the members", body = MembersBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
    ))]
pub async fn members(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<MembersBody>> {
    let members = s.conversations.members(&p, GroupId::from_uuid(id)).await?;
    Ok(Json(MembersBody {
        members: s.member_bodies(&p, &members).await,
    }))
}

/// Add a member as `member` (default) or `admin`. Owner or admin; never in a direct chat.
#[utoipa::path(post, path = "/api/v1/groups/{id}/members", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "the new member", body = MemberBody),
        (status = 403, description = "`forbidden`: the caller is a plain member, or the group is a direct chat", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group (or the caller is not a member), or no such user", body = ErrorBody),
        (status = 409, description = "`conflict`: already a member", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a role a new member cannot have", body = ErrorBody),
    ))]
pub async fn add_member(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<AddMemberRequest>,
) -> ApiResult<(StatusCode, Json<MemberBody>)> {
    let member = s
        .conversations
        .add_member(
            &p,
            GroupId::from_uuid(id),
            UserId::from_uuid(req.user_id),
            req.role.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(s.member_body(&p, &member).await)))
}

/// Change a member's role. Owner only; `owner` transfers ownership.
#[utoipa::path(patch, path = "/api/v1/groups/{id}/members/{user_id}", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "the member with the new role", body = MemberBody),
        (status = 403, description = "`forbidden`: the caller is not the owner, or the group is a direct chat", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group (or the caller is not a member), or the user is not a member", body = ErrorBody),
        (status = 422, description = "`validation_failed`: not a role, or the owner changing their own role", body = ErrorBody),
    ))]
pub async fn change_role(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(req): ApiJson<ChangeRoleRequest>,
) -> ApiResult<Json<MemberBody>> {
    let member = s
        .conversations
        .change_role(
            &p,
            GroupId::from_uuid(id),
            UserId::from_uuid(user_id),
            &req.role,
        )
        .await?;
    Ok(Json(s.member_body(&p, &member).await))
}

/// Remove a member (owner or admin; never the owner), or leave when `user_id` is the caller.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{user_id}", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "removed, or left"),
        (status = 403, description = "`forbidden`: a plain member removing someone else, anyone removing the owner, or a direct chat", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group (or the caller is not a member), or the user is not a member", body = ErrorBody),
    ))]
pub async fn remove_member(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    s.conversations
        .remove_member(&p, GroupId::from_uuid(id), UserId::from_uuid(user_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
