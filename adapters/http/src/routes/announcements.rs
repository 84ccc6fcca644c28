//! `/announcements`: server-wide broadcasts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::AnnouncementId;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::wire::{AnnounceRequest, AnnouncementBody, AnnouncementPageBody, AnnouncementsQuery};

/// Make an announcement (server admins only); every connected socket gets
/// `announcement.created`.
#[utoipa::path(post, path = "/api/v1/announcements", tag = "announcements", security(("bearer" = [])),
    request_body = AnnounceRequest,
    responses(
        (status = 201, description = "recorded, and sent to every connected socket", body = AnnouncementBody),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a body that breaks its rule", body = ErrorBody),
    ))]
pub async fn announce(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<AnnounceRequest>,
) -> ApiResult<(StatusCode, Json<AnnouncementBody>)> {
    let announcement = s.conversations.announce(&p, &req.body).await?;
    Ok((
        StatusCode::CREATED,
        Json(AnnouncementBody::from(&announcement)),
    ))
}

/// A page of announcements, newest first; any user.
#[utoipa::path(get, path = "/api/v1/announcements", tag = "announcements", security(("bearer" = [])),
    params(AnnouncementsQuery),
    responses(
        (status = 200, description = "a page of announcements", body = AnnouncementPageBody),
        (status = 422, description = "`validation_failed`: `limit` below 1", body = ErrorBody),
    ))]
pub async fn announcements(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<AnnouncementsQuery>,
) -> ApiResult<Json<AnnouncementPageBody>> {
    let page = s
        .conversations
        .announcements(&p, q.before.map(AnnouncementId::from_uuid), q.limit)
        .await?;
    Ok(Json(AnnouncementPageBody {
        announcements: page
            .announcements
            .iter()
            .map(AnnouncementBody::from)
            .collect(),
        has_more: page.has_more,
    }))
}
