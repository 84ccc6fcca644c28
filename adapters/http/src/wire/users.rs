use confab_domain::User;
use confab_domain::presence::Seen;
use confab_ports::service::{ProfilePatch, UserLookup};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{double_option, rfc3339_ms, rules};
use crate::error::ApiError;

/// A user as others see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub country: Option<String>,
    /// `[]` or `["admin"]`.
    pub roles: Vec<&'static str>,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Whether the user has a socket open (or closed their last one less than 5 s ago).
    /// Always `false` to anyone who shares no group with them.
    pub online: bool,
    /// When their last socket closed, RFC 3339, UTC, milliseconds: `null` while online, when
    /// never seen, and to anyone who shares no group with them.
    #[schema(required = true, format = DateTime)]
    pub last_seen_at: Option<String>,
    /// Whether the account is banned: shown to server admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banned: Option<bool>,
}

impl UserBody {
    /// The user with the presence the viewer may see (`Seen::HIDDEN` for a stranger).
    pub fn new(u: &User, seen: Seen) -> Self {
        Self {
            id: u.id.as_uuid(),
            username: u.username.as_str().to_owned(),
            display_name: u.display_name.as_ref().map(|d| d.as_str().to_owned()),
            country: u.country.as_ref().map(|c| c.as_str().to_owned()),
            roles: u.roles().into_iter().map(|r| r.as_str()).collect(),
            created_at: rfc3339_ms(u.created_at),
            online: seen.online,
            last_seen_at: seen.last_seen_at.map(rfc3339_ms),
            banned: None,
        }
    }

    /// The user as `viewer_is_admin` may see them: `banned` for admins only.
    pub fn seen_by(u: &User, seen: Seen, viewer_is_admin: bool) -> Self {
        Self {
            banned: viewer_is_admin.then_some(u.banned),
            ..Self::new(u, seen)
        }
    }
}

/// `PUT /users/{id}/ban`; no body at all is the same as `{}` (no reason).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    #[serde(default)]
    #[schema(schema_with = rules::ban_reason_or_null)]
    pub reason: Option<String>,
}

/// The caller's own account: a user plus what only its owner sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    #[serde(flatten)]
    pub user: UserBody,
    pub email: Option<String>,
    /// Whether login asks for a one-time code.
    pub two_factor: bool,
}

impl MeBody {
    /// The caller's account, with their own presence.
    pub fn new(u: &User, seen: Seen) -> Self {
        Self {
            user: UserBody::new(u, seen),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            two_factor: u.two_factor,
        }
    }
}

/// `{users: [...]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsersBody {
    pub users: Vec<UserBody>,
}

/// `PATCH /users/me`: absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMeRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = rules::display_name_or_null)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = rules::country_or_null)]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = rules::email_or_null)]
    pub email: Option<Option<String>>,
    // The code sent (purpose `email_change`) to the new `email`.
    #[schema(schema_with = rules::otp_or_null)]
    pub otp: Option<String>,
    pub two_factor: Option<bool>,
}

impl From<PatchMeRequest> for ProfilePatch {
    fn from(p: PatchMeRequest) -> Self {
        Self {
            display_name: p.display_name,
            country: p.country,
            email: p.email,
            two_factor: p.two_factor,
            otp: p.otp,
        }
    }
}

/// `/users/{id}/roles/{role}`: the user and the server role.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RolePath {
    /// The user.
    pub id: Uuid,
    /// The server role.
    #[param(inline, value_type = rules::ServerRole)]
    pub role: String,
}

/// `GET /users` query: `q` (prefix) or `email` (exact), and `limit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Username or display-name prefix.
    #[param(schema_with = rules::user_prefix)]
    pub q: Option<String>,
    /// Exact email; not combined with `q`.
    #[param(schema_with = rules::email)]
    pub email: Option<String>,
    #[param(schema_with = rules::users_limit)]
    pub limit: Option<i64>,
}

impl TryFrom<UserQuery> for UserLookup {
    type Error = ApiError;

    fn try_from(query: UserQuery) -> Result<Self, ApiError> {
        let UserQuery { q, email, limit } = query;
        match (q, email) {
            (Some(_), Some(_)) => Err(ApiError::bad_request("use either q or email, not both")),
            (None, Some(email)) => Ok(UserLookup::Email(email)),
            (q, None) => Ok(UserLookup::Prefix {
                q: q.unwrap_or_default(),
                limit,
            }),
        }
    }
}
