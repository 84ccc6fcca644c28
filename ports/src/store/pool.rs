//! The matching pool's queue and the expiry of the rooms it makes, kept in the store so that
//! every instance shares them.

use async_trait::async_trait;
use confab_domain::{GroupId, Timestamp, UserId};

use super::GroupView;
use crate::Result;

/// A user asking to be matched.
#[derive(Debug, Clone)]
pub struct PoolJoin {
    pub user: UserId,
    pub same_country: bool,
    pub now: Timestamp,
    /// When the entry stops waiting if nobody is matched with it.
    pub wait_until: Timestamp,
    /// The id the room gets if this join makes a match.
    pub room: GroupId,
    /// When that room expires.
    pub room_expires_at: Timestamp,
}

/// What joining the pool did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// Nobody fitting waits: the caller waits now.
    Waiting,
    /// The caller was matched with `partner`, who waited; `room` is the new room as the
    /// caller sees it.
    Matched { room: GroupView, partner: UserId },
}

/// What one expiry sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Rooms this sweep closed (a room closed by another instance's sweep is not here).
    pub closed: Vec<GroupId>,
    /// Waiting entries that had expired and were removed.
    pub dropped_entries: u64,
}

/// The queue of waiting users and the expiry of pool rooms. Rules come from
/// `confab_domain::pool`.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait MatchPool: Send + Sync {
    /// Matches the caller with the oldest fitting waiting user, or queues the caller, in one
    /// transaction that no other join can interleave with (two users joining at the same
    /// instant MUST NOT both wait, and no one is matched twice). Expired entries are removed
    /// first and never matched. MUST answer `Error::Conflict { field: "pool" }` when the
    /// caller already waits, and `Error::Invalid` (field `same_country`) when the caller asks
    /// for the same country without having one.
    async fn join_pool(&self, join: PoolJoin) -> Result<Joined>;

    /// Removes the caller's waiting entry; `false` when there was none.
    async fn leave_pool(&self, user: UserId) -> Result<bool>;

    /// Closes every open room whose `expires_at` has come (each exactly once, even with many
    /// instances sweeping at once) and removes expired waiting entries.
    async fn sweep_expired(&self, now: Timestamp) -> Result<Swept>;
}
