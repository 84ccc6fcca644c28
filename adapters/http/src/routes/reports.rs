//! `/reports`: any user reports a message or a user; server admins list and decide reports.
//! Handlers only translate; who may do what is the use case's (`Conversations::report`,
//! `reports`, `decide_report`), and a non-admin must never learn more than 403.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_domain::{MessageId, ReportId, UserId};
use confab_ports::service::ReportDraft;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::wire::{DecideReportRequest, ReportBody, ReportPageBody, ReportRequest, ReportsQuery};

/// Report a message of one of the caller's groups, or another user, to the server's admins.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", security(("bearer" = [])),
    request_body = ReportRequest,
    responses(
        (status = 201, description = "recorded, `open`; a message report names its sender as `user_id` and keeps a copy of its body as `message_body`", body = ReportBody),
        (status = 404, description = "`not_found`: no such message, or the caller is not a member of its group (the same answer); no such user", body = ErrorBody),
        (status = 410, description = "`gone`: the message is deleted", body = ErrorBody),
        (status = 422, description = "`validation_failed`: both ids or neither (`field: message_id`), the caller's own message (`message_id`) or the caller (`user_id`), a reason that breaks its rule (`reason`)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the caller's reports in the last hour reached `--reports-per-hour` (or the request budget is spent); `Retry-After` says when to come back", body = ErrorBody),
        (status = 503, description = "`unavailable`: the database is down, or the shared rate-limit counters are (reports are then refused, not let through); retry later", body = ErrorBody),
    ))]
pub async fn report(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<ReportRequest>,
) -> ApiResult<(StatusCode, Json<ReportBody>)> {
    let draft = ReportDraft {
        message_id: req.message_id.map(MessageId::from_uuid),
        user_id: req.user_id.map(UserId::from_uuid),
        reason: req.reason,
    };
    let report = s.conversations.report(&p, draft).await?;
    Ok((StatusCode::CREATED, Json(ReportBody::from(&report))))
}

/// A page of reports, newest first, of one status or all; server admins only.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", security(("bearer" = [])),
    params(ReportsQuery),
    responses(
        (status = 200, description = "a page of reports", body = ReportPageBody),
        (status = 403, description = "`forbidden`: the caller is not a server admin (said before the query's values are looked at)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `status` not one of the statuses, `limit` below 1", body = ErrorBody),
    ))]
pub async fn reports(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ReportsQuery>,
) -> ApiResult<Json<ReportPageBody>> {
    let page = s
        .conversations
        .reports(
            &p,
            q.status.as_deref(),
            q.before.map(ReportId::from_uuid),
            q.limit,
        )
        .await?;
    Ok(Json(ReportPageBody {
        reports: page.reports.iter().map(ReportBody::from).collect(),
        has_more: page.has_more,
    }))
}

/// Decide a report: `resolved` or `dismissed` (a decided report may change to the other
/// decision); server admins only.
#[utoipa::path(patch, path = "/api/v1/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = DecideReportRequest,
    responses(
        (status = 200, description = "the report as it is now (the same decision again changes nothing)", body = ReportBody),
        (status = 403, description = "`forbidden`: the caller is not a server admin (said before the body's values are looked at)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such report", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `status` other than `resolved` or `dismissed` (`open` included)", body = ErrorBody),
    ))]
pub async fn decide_report(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<DecideReportRequest>,
) -> ApiResult<Json<ReportBody>> {
    let report = s
        .conversations
        .decide_report(&p, ReportId::from_uuid(id), &req.status)
        .await?;
    Ok(Json(ReportBody::from(&report)))
}
