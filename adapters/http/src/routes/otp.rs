//! `/auth/otp` and `/auth/password-reset`: one-time codes by email.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use confab_ports::store::Principal;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientIp, authenticate, bearer};
use crate::wire::{OtpRequestBody, PasswordResetRequest};

/// The caller when a token came with the request: a bad token is refused (401), no token is
/// an anonymous caller.
pub struct MaybeCaller(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            Some(token) => Ok(Self(Some(authenticate(parts, state, token).await?))),
            None => Ok(Self(None)),
        }
    }
}

/// Send a 6-digit one-time code by email. 202 whether or not an account exists (no mail goes
/// out when none does); `email_change` needs a token; 429 over the sending limits.
#[utoipa::path(post, path = "/api/v1/auth/otp", tag = "auth",
    // A token is optional: only `email_change` needs one.
    security((), ("bearer" = [])),
    request_body = OtpRequestBody,
    responses(
        (status = 202, description = "a code was sent if the request names someone it can go to"),
        (status = 401, description = "`unauthorized`: `email_change` without a valid token, or a token that is not valid", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an unknown purpose, a field the purpose needs is missing or one it does not use is given, or a malformed email or login (`field` says which)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many codes asked for this address or login, or from this client address", body = ErrorBody),
    ))]
pub async fn request_otp(
    State(s): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<OtpRequestBody>,
) -> ApiResult<StatusCode> {
    s.accounts
        .request_otp(caller.as_ref(), req.into(), &ip)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with a code sent for `password_reset`; every login of the account ends.
/// 401 `invalid_credentials` for an unknown login and a wrong, used or expired code alike.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 204, description = "the password is set and every login of the account is over"),
        (status = 401, description = "`invalid_credentials`: an unknown login, or a wrong, used or expired code", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a blank login, a malformed code, or a password that breaks its rule", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed tries for this account or from this address", body = ErrorBody),
    ))]
pub async fn password_reset(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    s.accounts.reset_password(req.into(), &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
