use confab_ports::service::{OtpRequest, PasswordReset};
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /auth/otp`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpRequestBody {
    /// `register`, `login`, `password_reset` or `email_change`.
    pub purpose: String,
    /// Username or email: for `login` and `password_reset`.
    pub login: Option<String>,
    /// The address: for `register` and `email_change` (the new address).
    pub email: Option<String>,
}

impl From<OtpRequestBody> for OtpRequest {
    fn from(b: OtpRequestBody) -> Self {
        Self {
            purpose: b.purpose,
            login: b.login,
            email: b.email,
        }
    }
}

/// `POST /auth/password-reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// Username or email.
    pub login: String,
    /// The 6-digit code sent with purpose `password_reset`.
    pub otp: String,
    /// The new password, 8–256 characters.
    pub password: String,
}

impl From<PasswordResetRequest> for PasswordReset {
    fn from(b: PasswordResetRequest) -> Self {
        Self {
            login: b.login,
            otp: b.otp,
            password: b.password,
        }
    }
}
