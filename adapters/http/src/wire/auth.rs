use confab_domain::presence::Seen;
use confab_ports::service::{Authenticated, IssuedTokens, Registration};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{UserBody, rules};

/// `POST /auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(schema_with = rules::username)]
    pub username: String,
    #[schema(schema_with = rules::password)]
    pub password: String,
    #[schema(schema_with = rules::email_or_null)]
    pub email: Option<String>,
    #[schema(schema_with = rules::display_name_or_null)]
    pub display_name: Option<String>,
    #[schema(schema_with = rules::country_or_null)]
    pub country: Option<String>,
    // The code sent (purpose `register`) to `email`: required when the server verifies emails.
    #[schema(schema_with = rules::otp_or_null)]
    pub otp: Option<String>,
    // An invite code: required when the server takes registrations by invite (403
    // `invite_required` without one), checked for its shape whatever the policy.
    #[serde(default)]
    #[schema(schema_with = rules::invite_or_null)]
    pub invite: Option<String>,
}

impl RegisterRequest {
    pub fn into_registration(self) -> Registration {
        Registration {
            username: self.username,
            password: self.password,
            email: self.email,
            display_name: self.display_name,
            country: self.country,
            otp: self.otp,
            invite: self.invite,
        }
    }
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    pub login: String,
    /// Checked against the account's password only (no length rule at login).
    pub password: String,
    // For accounts with two-factor login (without it: 401 `otp_required`, and a code is sent).
    #[schema(schema_with = rules::otp_or_null)]
    pub otp: Option<String>,
}

/// `POST /auth/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `POST /auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    pub refresh_token: String,
}

/// A token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensBody {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl From<IssuedTokens> for TokensBody {
    fn from(t: IssuedTokens) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
        }
    }
}

/// The answer to register, login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    pub user: UserBody,
    pub tokens: TokensBody,
}

impl AuthResponse {
    /// The account (with its own presence) and its new tokens.
    pub fn new(a: Authenticated, seen: Seen) -> Self {
        Self {
            user: UserBody::new(&a.user, seen),
            tokens: a.tokens.into(),
        }
    }
}
