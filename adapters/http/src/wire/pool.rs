use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::GroupBody;

/// `POST /pool`; no body at all is the same as `{}` (any country).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinPoolRequest {
    /// Only match with a user of the caller's own country (`null` or absent: no such wish;
    /// the other side's wish is honoured either way).
    pub same_country: Option<bool>,
}

/// The answer to `POST /pool`: `{status: "matched", group}` (200) or `{status: "waiting"}`
/// (202).
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolBody {
    /// `matched` or `waiting`.
    pub status: &'static str,
    /// The new room as the caller sees it; only when matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupBody>,
}
