use confab_ports::service::{OtpRequest, PasswordReset};
use serde::Deserialize;
use utoipa::ToSchema;

use super::rules;

/// `POST /auth/otp`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpRequestBody {
    #[schema(schema_with = rules::otp_purpose)]
    pub purpose: String,
    // Username or email: for `login` and `password_reset` (refused with the other purposes).
    #[schema(schema_with = rules::login_or_null)]
    pub login: Option<String>,
    // The address: for `register` and `email_change` (the new address; refused with the others).
    #[schema(schema_with = rules::email_or_null)]
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
    #[schema(schema_with = rules::login)]
    pub login: String,
    // The code sent with purpose `password_reset`.
    #[schema(schema_with = rules::otp)]
    pub otp: String,
    // The new password.
    #[schema(schema_with = rules::password)]
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
