//! `/groups`, `/groups/{id}`, `/groups/{id}/alias`, `/direct`, `/groups/{id}/read`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::GroupId;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::wire::{
    AliasRequest, CreateGroupRequest, DirectRequest, GroupBody, GroupsBody, ReadRequest,
    RenameGroupRequest,
};

/// Create a named group; the caller is its owner and `member_ids` join as members.
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", security(("bearer" = [])),
    request_body = CreateGroupRequest,
    responses(
        (status = 201, description = "the new group, the caller its owner", body = GroupBody),
        (status = 422, description = "`validation_failed`: a name that breaks its rule, too many members, or a member id that is not a user", body = ErrorBody),
    ))]
pub async fn create_group(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<CreateGroupRequest>,
) -> ApiResult<(StatusCode, Json<GroupBody>)> {
    let members = req.member_ids();
    let view = s.conversations.create_group(&p, &req.name, members).await?;
    Ok((StatusCode::CREATED, Json(GroupBody::from(&view))))
}

/// The caller's groups, most recent activity first.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", security(("bearer" = [])),
    responses((status = 200, description = "the caller's groups", body = GroupsBody)))]
pub async fn list_groups(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<GroupsBody>> {
    let groups = s.conversations.list_groups(&p).await?;
    Ok(Json(GroupsBody {
        groups: groups.iter().map(GroupBody::from).collect(),
    }))
}

/// One of the caller's groups (404 for a group the caller is not in).
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the group", body = GroupBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
    ))]
pub async fn group(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<GroupBody>> {
    let view = s.conversations.group(&p, GroupId::from_uuid(id)).await?;
    Ok(Json(GroupBody::from(&view)))
}

/// Rename a group. Owner or admin; never a direct chat.
#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = RenameGroupRequest,
    responses(
        (status = 200, description = "the renamed group", body = GroupBody),
        (status = 403, description = "`forbidden`: the caller is a plain member, or the group is a direct chat", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a name that breaks its rule", body = ErrorBody),
    ))]
pub async fn rename_group(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<RenameGroupRequest>,
) -> ApiResult<Json<GroupBody>> {
    let view = s
        .conversations
        .rename_group(&p, GroupId::from_uuid(id), &req.name)
        .await?;
    Ok(Json(GroupBody::from(&view)))
}

/// Delete a named group (owner), or close a direct chat (either member; it stays readable).
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "the group is deleted, or the direct chat closed"),
        (status = 403, description = "`forbidden`: only the owner deletes a group", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
    ))]
pub async fn delete_group(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    s.conversations
        .delete_group(&p, GroupId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the caller's own name for a group; `{"alias": null}` clears it.
#[utoipa::path(put, path = "/api/v1/groups/{id}/alias", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = AliasRequest,
    responses(
        (status = 200, description = "the group, with the caller's alias", body = GroupBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an alias that breaks its rule", body = ErrorBody),
    ))]
pub async fn set_alias(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<AliasRequest>,
) -> ApiResult<Json<GroupBody>> {
    let view = s
        .conversations
        .set_alias(&p, GroupId::from_uuid(id), req.alias.as_deref())
        .await?;
    Ok(Json(GroupBody::from(&view)))
}

/// The open direct chat with another user: 201 when created now, 200 when it already existed.
#[utoipa::path(post, path = "/api/v1/direct", tag = "groups", security(("bearer" = [])),
    request_body = DirectRequest,
    responses(
        (status = 201, description = "a new direct chat", body = GroupBody),
        (status = 200, description = "the open direct chat this pair already has", body = GroupBody),
        (status = 400, description = "`bad_request`: not JSON or not of the documented shape, or not exactly one of `user_id` and `username`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user (or one who blocked the caller)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a direct chat with oneself, or a malformed username", body = ErrorBody),
    ))]
pub async fn open_direct(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<DirectRequest>,
) -> ApiResult<(StatusCode, Json<GroupBody>)> {
    let (view, created) = s.conversations.open_direct(&p, req.try_into()?).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(GroupBody::from(&view))))
}

/// Move the caller's read marker forward (clamped to the last message, never backwards).
#[utoipa::path(post, path = "/api/v1/groups/{id}/read", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ReadRequest,
    responses(
        (status = 204, description = "the marker is where it should be"),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a negative seq", body = ErrorBody),
    ))]
pub async fn mark_read(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ReadRequest>,
) -> ApiResult<StatusCode> {
    s.conversations
        .mark_read(&p, GroupId::from_uuid(id), req.seq)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
