//! `/messages/{id}/reactions/{emoji}`, `/groups/{id}/pins[/{message_id}]` and
//! `/messages/{id}/replies`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::{GroupId, MessageId};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::wire::{MessageBody, MessagePageBody, MessagesBody, RepliesQuery};

/// React to a message with one emoji (URL-encoded); idempotent.
#[utoipa::path(put, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("emoji" = String, Path, max_length = 64, description = "One emoji (a single grapheme cluster Unicode lists as an emoji), URL-encoded")),
    responses(
        (status = 204, description = "the caller's reaction is on the message (also when it already was)"),
        (status = 404, description = "`not_found`: no such message, or the caller is not a member of its group", body = ErrorBody),
        (status = 410, description = "`gone`: the message is deleted, or the group closed or expired", body = ErrorBody),
        (status = 422, description = "`validation_failed`: not exactly one emoji, or a 21st different emoji on the message", body = ErrorBody),
    ))]
pub async fn add_reaction(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, emoji)): ApiPath<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    s.conversations
        .react(&p, MessageId::from_uuid(id), &emoji, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take back one's reaction; idempotent.
#[utoipa::path(delete, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("emoji" = String, Path, max_length = 64, description = "One emoji, URL-encoded")),
    responses(
        (status = 204, description = "the caller's reaction is not on the message (also when it was not)"),
        (status = 404, description = "`not_found`: no such message, or the caller is not a member of its group", body = ErrorBody),
        (status = 410, description = "`gone`: the message is deleted, or the group closed or expired", body = ErrorBody),
        (status = 422, description = "`validation_failed`: not exactly one emoji", body = ErrorBody),
    ))]
pub async fn remove_reaction(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, emoji)): ApiPath<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    s.conversations
        .react(&p, MessageId::from_uuid(id), &emoji, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pin a message of the group: owner or admin (either member of a direct chat); idempotent.
#[utoipa::path(put, path = "/api/v1/groups/{id}/pins/{message_id}", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)),
    responses(
        (status = 204, description = "the message is pinned (also when it already was)"),
        (status = 403, description = "`forbidden`: a plain member of a named group", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group or message of it, or the caller is not a member", body = ErrorBody),
        (status = 410, description = "`gone`: the message is deleted, or the group closed or expired", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the group has 50 pins already", body = ErrorBody),
    ))]
pub async fn pin(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, message)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    s.conversations
        .pin(
            &p,
            GroupId::from_uuid(id),
            MessageId::from_uuid(message),
            true,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unpin a message: owner or admin (either member of a direct chat); idempotent.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/pins/{message_id}", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("message_id" = Uuid, Path)),
    responses(
        (status = 204, description = "the message is not pinned (also when it was not)"),
        (status = 403, description = "`forbidden`: a plain member of a named group", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group or message of it, or the caller is not a member", body = ErrorBody),
        (status = 410, description = "`gone`: the group is closed or expired", body = ErrorBody),
    ))]
pub async fn unpin(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, message)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    s.conversations
        .pin(
            &p,
            GroupId::from_uuid(id),
            MessageId::from_uuid(message),
            false,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The group's pinned messages, most recently pinned first.
#[utoipa::path(get, path = "/api/v1/groups/{id}/pins", tag = "groups", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the pinned messages", body = MessagesBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
    ))]
pub async fn pins(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<MessagesBody>> {
    let messages = s.conversations.pins(&p, GroupId::from_uuid(id)).await?;
    Ok(Json(MessagesBody {
        messages: messages.iter().map(MessageBody::from).collect(),
    }))
}

/// A message's replies (its thread), oldest first.
#[utoipa::path(get, path = "/api/v1/messages/{id}/replies", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), RepliesQuery),
    responses(
        (status = 200, description = "a page of replies, oldest first", body = MessagePageBody),
        (status = 404, description = "`not_found`: no such message, or the caller is not a member of its group", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a negative seq, or `limit` below 1", body = ErrorBody),
    ))]
pub async fn replies(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<RepliesQuery>,
) -> ApiResult<Json<MessagePageBody>> {
    let page = s
        .conversations
        .replies(&p, MessageId::from_uuid(id), q.after, q.limit)
        .await?;
    Ok(Json(MessagePageBody {
        messages: page.messages.iter().map(MessageBody::from).collect(),
        has_more: page.has_more,
    }))
}
