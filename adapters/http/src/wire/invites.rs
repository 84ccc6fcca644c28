//! Invite codes on the wire: what an admin asks for and gets back.

use confab_domain::{INVITE_MAX_USES, Invite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{rfc3339_ms, rules};

/// `POST /invites`; every field may be left out (`{}`: single-use, for 7 days).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// Registrations the code admits (default 1: single-use).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10_000)]
    pub max_uses: Option<i64>,
    /// Seconds until the code expires (default 604800: 7 days; at most 365 days).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub expires_in: Option<i64>,
}

/// An invite, as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteBody {
    #[schema(schema_with = rules::invite)]
    pub code: String,
    /// The admin who made it; `null` when an operator made it with `confab invite create`.
    #[schema(required = true)]
    pub created_by: Option<Uuid>,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339, UTC, milliseconds: from then on the code admits nobody.
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(minimum = 1, maximum = 10_000)]
    pub max_uses: u32,
    /// Registrations it admitted so far; at `max_uses` it admits nobody.
    pub uses: u32,
}

impl From<&Invite> for InviteBody {
    fn from(i: &Invite) -> Self {
        Self {
            code: i.code.as_str().to_owned(),
            created_by: i.created_by.map(|u| u.as_uuid()),
            created_at: rfc3339_ms(i.created_at),
            expires_at: rfc3339_ms(i.expires_at),
            max_uses: i.max_uses.min(INVITE_MAX_USES),
            uses: i.uses,
        }
    }
}

/// `{invites}`: every invite, newest first (at most 1000), used up and expired ones included.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitesBody {
    pub invites: Vec<InviteBody>,
}
