//! The one place where errors become HTTP answers: `{"error": {code, message, field?}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_domain::RegistrationRefused;
use confab_ports::{AuthFailure, Error};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer. Every non-2xx response of the API has this body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
    pub retry_after_secs: Option<u64>,
}

/// The error body on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `validation_failed`.
    pub code: &'static str,
    /// Human text, safe to show.
    pub message: String,
    /// The offending field, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The generic answer for a status that reached the edge without our body (axum's own
    /// 404/405/413 rejections, a timeout, a panic).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "the request is malformed"),
            401 => ("unauthorized", "authentication required"),
            404 => ("not_found", "no such route"),
            405 => (
                "method_not_allowed",
                "this method is not allowed on this route",
            ),
            413 => ("payload_too_large", "the request body is over the limit"),
            415 => (
                "unsupported_media_type",
                "the body must be sent with Content-Type: application/json",
            ),
            429 => ("rate_limited", "too many requests"),
            503 => ("unavailable", "the service is unavailable; retry later"),
            s if s >= 500 => ("internal", "internal error"),
            _ => ("bad_request", "the request could not be handled"),
        };
        Self::new(status, code, message)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthorized(AuthFailure::InvalidCredentials) => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "unknown login or wrong password",
            ),
            Error::Unauthorized(AuthFailure::OtpRequired) => Self::new(
                StatusCode::UNAUTHORIZED,
                "otp_required",
                "this account needs a one-time code to log in; one has been sent to its email",
            ),
            Error::Unauthorized(AuthFailure::InvalidToken) => {
                Self::unauthorized("missing, invalid, expired or revoked token")
            }
            Error::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            Error::Banned => Self::new(StatusCode::FORBIDDEN, "banned", "this account is banned"),
            Error::RegistrationRefused(why) => {
                let code = match why {
                    RegistrationRefused::Closed => "registration_closed",
                    RegistrationRefused::InviteRequired => "invite_required",
                    RegistrationRefused::InviteInvalid => "invite_invalid",
                };
                let mut err = Self::new(StatusCode::FORBIDDEN, code, why.to_string());
                if why != RegistrationRefused::Closed {
                    err.field = Some("invite");
                }
                err
            }
            Error::NotFound(what) => Self::not_found(format!("{what} not found")),
            Error::Conflict { field } => {
                let message = match field {
                    "user_id" => "the user is already a member".to_owned(),
                    "pool" => "already waiting in the pool".to_owned(),
                    other => format!("{other} is already taken"),
                };
                let mut err = Self::new(StatusCode::CONFLICT, "conflict", message);
                err.field = Some(field);
                err
            }
            Error::Gone(m) => Self::new(StatusCode::GONE, "gone", m),
            Error::Invalid(invalid) => {
                let mut err = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    invalid.to_string(),
                );
                err.field = Some(invalid.field);
                err
            }
            Error::BadRequest(m) => Self::bad_request(m),
            Error::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m),
            Error::QuotaExceeded(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "quota_exceeded",
                e.to_string(),
            ),
            Error::RateLimited { retry_after } => {
                let mut err = Self::for_status(StatusCode::TOO_MANY_REQUESTS);
                // Round up: coming back a fraction of a second early would be refused again.
                err.retry_after_secs = Some(retry_after.as_secs() + 1);
                err
            }
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "backend unavailable");
                Self::for_status(StatusCode::SERVICE_UNAVAILABLE)
            }
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::for_status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn body_of(e: Error) -> (StatusCode, String, Option<String>) {
        let res = ApiError::from(e).into_response();
        let status = res.status();
        let retry = res
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap(), retry)
    }

    #[tokio::test]
    async fn internal_and_unavailable_answers_never_carry_their_cause() {
        let cause = "no such table: users (SELECT password_hash FROM users)";
        let (status, body, _) = body_of(Error::Internal(cause.into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            r#"{"error":{"code":"internal","message":"internal error"}}"#
        );
        let (status, body, _) = body_of(Error::Unavailable(cause.into())).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains(r#""code":"unavailable""#) && !body.contains("table"));
    }

    #[tokio::test]
    async fn every_variant_has_its_status_and_code() {
        let cases = [
            (
                Error::Unauthorized(AuthFailure::InvalidToken),
                401,
                "unauthorized",
            ),
            (
                Error::Unauthorized(AuthFailure::InvalidCredentials),
                401,
                "invalid_credentials",
            ),
            (Error::Forbidden("no".into()), 403, "forbidden"),
            (Error::Banned, 403, "banned"),
            (
                RegistrationRefused::Closed.into(),
                403,
                "registration_closed",
            ),
            (
                RegistrationRefused::InviteRequired.into(),
                403,
                "invite_required",
            ),
            (
                RegistrationRefused::InviteInvalid.into(),
                403,
                "invite_invalid",
            ),
            (Error::NotFound("user"), 404, "not_found"),
            (Error::Conflict { field: "email" }, 409, "conflict"),
            (Error::Gone("closed".into()), 410, "gone"),
            (
                Error::invalid("username", "too short"),
                422,
                "validation_failed",
            ),
            (Error::BadRequest("shape".into()), 400, "bad_request"),
        ];
        for (e, status, code) in cases {
            let (got, body, _) = body_of(e).await;
            assert_eq!(got.as_u16(), status, "{body}");
            assert!(body.contains(&format!(r#""code":"{code}""#)), "{body}");
        }
    }

    #[tokio::test]
    async fn rate_limited_rounds_retry_after_up() {
        let (status, _, retry) = body_of(Error::RateLimited {
            retry_after: Duration::from_millis(1500),
        })
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry.as_deref(), Some("2"));
    }
}
