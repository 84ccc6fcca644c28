//! `/groups/{id}/messages`, `/messages/{id}`, `/search/messages`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::{GroupId, MessageId};
use confab_ports::service::Draft;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::wire::{
    EditMessageRequest, HistoryQuery, MessageBody, MessagePageBody, MessagesBody, SearchQuery,
    SendMessageRequest, attachment_ids,
};

/// Send a message: 201 once durable; the same `client_id` again answers 200 with the first one.
#[utoipa::path(post, path = "/api/v1/groups/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = SendMessageRequest,
    responses(
        (status = 201, description = "a new message", body = MessageBody),
        (status = 200, description = "an idempotent retry: the first message with this client_id", body = MessageBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
        (status = 410, description = "`gone`: the group is closed or expired", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a body or client id that breaks its rule, or `attachment_ids` naming more than 10 files, one twice, or one that is not the caller's unused upload to this group", body = ErrorBody),
    ))]
pub async fn send_message(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageBody>)> {
    let draft = Draft {
        body: &req.body,
        client_id: req.client_id.as_deref(),
        attachment_ids: &attachment_ids(req.attachment_ids.as_deref()),
        reply_to: req.reply_to.map(MessageId::from_uuid),
    };
    let appended = s
        .conversations
        .send_draft(&p, GroupId::from_uuid(id), draft)
        .await?;
    let status = if appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(MessageBody::from(&appended.message))))
}

/// A page of history: `before` (newest first), `after` (oldest first), or the newest messages.
#[utoipa::path(get, path = "/api/v1/groups/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path), HistoryQuery),
    responses(
        (status = 200, description = "a page of messages", body = MessagePageBody),
        (status = 400, description = "`bad_request`: both `before` and `after`, or a query string that cannot be read", body = ErrorBody),
        (status = 404, description = "`not_found`: no such group, or the caller is not a member", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a negative seq, or `limit` below 1", body = ErrorBody),
    ))]
pub async fn history(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<MessagePageBody>> {
    let page = s
        .conversations
        .history(&p, GroupId::from_uuid(id), q.before, q.after, q.limit)
        .await?;
    Ok(Json(MessagePageBody {
        messages: page.messages.iter().map(MessageBody::from).collect(),
        has_more: page.has_more,
    }))
}

/// Edit the caller's own message.
#[utoipa::path(patch, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = EditMessageRequest,
    responses(
        (status = 200, description = "the edited message", body = MessageBody),
        (status = 403, description = "`forbidden`: the caller did not send it", body = ErrorBody),
        (status = 404, description = "`not_found`: no such message, or the caller is not a member of its group", body = ErrorBody),
        (status = 410, description = "`gone`: the message is deleted, or the group closed or expired", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a body that breaks its rule", body = ErrorBody),
    ))]
pub async fn edit_message(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<EditMessageRequest>,
) -> ApiResult<Json<MessageBody>> {
    let changed = s
        .conversations
        .edit_message(&p, MessageId::from_uuid(id), &req.body)
        .await?;
    Ok(Json(MessageBody::from(&changed.message)))
}

/// Delete a message: its sender, or the group's owner or an admin.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "the message is deleted (also when it already was)"),
        (status = 403, description = "`forbidden`: neither its sender nor the group's owner or an admin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such message, or the caller is not a member of its group", body = ErrorBody),
        (status = 410, description = "`gone`: the group is closed or expired", body = ErrorBody),
    ))]
pub async fn delete_message(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    s.conversations
        .delete_message(&p, MessageId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Full-text search over the caller's groups (or one of them), best match first.
#[utoipa::path(get, path = "/api/v1/search/messages", tag = "messages", security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "the messages found, best match first", body = MessagesBody),
        (status = 404, description = "`not_found`: `group_id` names no group the caller is in", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `q` too long or without a word, or `limit` below 1", body = ErrorBody),
    ))]
pub async fn search(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<MessagesBody>> {
    let messages = s
        .conversations
        .search(&p, &q.q, q.group_id.map(GroupId::from_uuid), q.limit)
        .await?;
    Ok(Json(MessagesBody {
        messages: messages.iter().map(MessageBody::from).collect(),
    }))
}
