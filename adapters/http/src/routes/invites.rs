//! `/invites`: server admins make, list and revoke invite codes (for `--registration invite`).
//! Handlers only translate; who may is the use case's (`Accounts::create_invite`, …), and a
//! non-admin must never learn more than 403.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confab_ports::service::InviteDraft;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, Caller, OptionalJson};
use crate::wire::{CreateInviteRequest, InviteBody, InvitesBody};

/// `/invites/{code}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvitePath {
    /// The invite code (anything else is 404).
    #[param(pattern = r"^[A-Za-z0-9_-]*$", min_length = 8, max_length = 64)]
    pub code: String,
}

/// Make an invite code; server admins only.
#[utoipa::path(post, path = "/api/v1/invites", tag = "auth", security(("bearer" = [])),
    request_body = Option<CreateInviteRequest>,
    responses(
        (status = 201, description = "the new invite, with its code (single-use and 7 days unless asked otherwise)", body = InviteBody),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `max_uses` outside 1–10000, `expires_in` outside 1 s – 365 days", body = ErrorBody),
    ))]
pub async fn create_invite(
    State(s): State<AppState>,
    Caller(p): Caller,
    OptionalJson(req): OptionalJson<CreateInviteRequest>,
) -> ApiResult<(StatusCode, Json<InviteBody>)> {
    let draft = InviteDraft {
        max_uses: req.max_uses,
        expires_in: req.expires_in.map(time::Duration::seconds),
    };
    let invite = s.accounts.create_invite(&p, draft).await?;
    Ok((StatusCode::CREATED, Json(InviteBody::from(&invite))))
}

/// Every invite, newest first, used up and expired ones included; server admins only.
#[utoipa::path(get, path = "/api/v1/invites", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "the invites", body = InvitesBody),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
    ))]
pub async fn invites(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<InvitesBody>> {
    let invites = s.accounts.invites(&p).await?;
    Ok(Json(InvitesBody {
        invites: invites.iter().map(InviteBody::from).collect(),
    }))
}

/// Revoke an invite code: it admits nobody from then on; server admins only.
#[utoipa::path(delete, path = "/api/v1/invites/{code}", tag = "auth", security(("bearer" = [])),
    params(InvitePath),
    responses(
        (status = 204, description = "revoked"),
        (status = 403, description = "`forbidden`: the caller is not a server admin", body = ErrorBody),
        (status = 404, description = "`not_found`: no such invite (or not a code at all)", body = ErrorBody),
    ))]
pub async fn revoke_invite(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(path): ApiPath<InvitePath>,
) -> ApiResult<StatusCode> {
    s.accounts.revoke_invite(&p, &path.code).await?;
    Ok(StatusCode::NO_CONTENT)
}
