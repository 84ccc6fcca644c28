//! `/auth/*`: register, login, refresh, logout.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientIp};
use crate::wire::{AuthResponse, LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest};

/// Create an account; answers with the account and a token pair.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "the new account, logged in", body = AuthResponse),
        (status = 403, description = "refused by the server's registration policy (`--registration`), before anything else is looked at: `registration_closed` (admins create accounts), `invite_required` (this server takes registrations with an invite code only; `field: invite`), `invite_invalid` (no such code, or it expired, was used up or revoked; `field: invite`)", body = ErrorBody),
        (status = 409, description = "`conflict`: the username or the email is taken (`field` says which)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field breaks its rule (`field` says which; `invite` when a code is not of the shape of one); on a server that verifies emails also a missing email, a missing or wrong code", body = ErrorBody),
    ))]
pub async fn register(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, NoStore, Json<AuthResponse>)> {
    let done = s.accounts.register(req.into_registration()).await?;
    let seen = s.own_presence(&done.user).await?;
    Ok((
        StatusCode::CREATED,
        NO_STORE,
        Json(AuthResponse::new(done, seen)),
    ))
}

/// Answers that carry tokens must never sit in a cache.
type NoStore = [(HeaderName, &'static str); 1];
const NO_STORE: NoStore = [(header::CACHE_CONTROL, "no-store")];

/// Log in with username or email; 401 `invalid_credentials` for an unknown login and a wrong
/// password alike; 429 after too many failures.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "logged in", body = AuthResponse),
        (status = 401, description = "`invalid_credentials` (unknown login and wrong password alike, or a wrong code), or `otp_required` (the account has two-factor login: a code was sent)", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `otp` is not a code", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed logins for this account or from this address", body = ErrorBody),
    ))]
pub async fn login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<(NoStore, Json<AuthResponse>)> {
    let done = s
        .accounts
        .login_with_otp(&req.login, &req.password, req.otp.as_deref(), &ip)
        .await
        .inspect_err(|e| log_failure(e, &ip, &req.login))?;
    let seen = s.own_presence(&done.user).await?;
    Ok((NO_STORE, Json(AuthResponse::new(done, seen))))
}

/// The longest part of an attempted login that goes into the log.
const LOGGED_LOGIN_CHARS: usize = 64;

/// Logs a refused login for the operator (and fail2ban, see docs/operations.md): the client
/// address first, then the login as a quoted, escaped string (a login cannot forge a field or a
/// line), cut to [`LOGGED_LOGIN_CHARS`]. Never the password.
fn log_failure(e: &confab_ports::Error, client: &str, login: &str) {
    use confab_ports::{AuthFailure, Error};
    let reason = match e {
        Error::Unauthorized(AuthFailure::InvalidCredentials) => "invalid_credentials",
        Error::RateLimited { .. } => "rate_limited",
        Error::Banned => "banned",
        _ => return,
    };
    let login: String = login.chars().take(LOGGED_LOGIN_CHARS).collect();
    tracing::warn!(%client, login = login.as_str(), reason, "login failed");
}

/// Trade a refresh token for a new pair. Presenting a used token revokes its whole login.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "a new token pair; the presented refresh token is used up", body = AuthResponse),
        (status = 401, description = "`unauthorized`: the refresh token is unknown, expired or already used (a reuse also ends its login)", body = ErrorBody),
    ))]
pub async fn refresh(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<(NoStore, Json<AuthResponse>)> {
    let done = s.accounts.refresh(&req.refresh_token).await?;
    let seen = s.own_presence(&done.user).await?;
    Ok((NO_STORE, Json(AuthResponse::new(done, seen))))
}

/// End the login a refresh token belongs to (its access tokens stop working too).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = LogoutRequest,
    responses((status = 204, description = "the login is over (also when the token was unknown)")))]
pub async fn logout(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<LogoutRequest>,
) -> ApiResult<StatusCode> {
    s.accounts.logout(&req.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
