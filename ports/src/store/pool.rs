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

impl PoolJoin {
    /// What the join decision (`confab_domain::decide::join_pool`) needs, from this join and
    /// what the store loaded in its transaction: the joiner's country, whether they wait
    /// already, everybody waiting, whom they have an open pool room with, and whom they
    /// blocked or were blocked by.
    pub fn facts<'a>(
        &self,
        country: Option<confab_domain::Country>,
        already_waiting: bool,
        waiting: &'a [confab_domain::pool::Waiting],
        open_partners: &'a [UserId],
        blocks: &'a [UserId],
    ) -> confab_domain::decide::JoinFacts<'a> {
        confab_domain::decide::JoinFacts {
            user: self.user,
            country,
            same_country: self.same_country,
            already_waiting,
            waiting,
            open_partners,
            blocks,
            now: self.now,
            wait_until: self.wait_until,
        }
    }
}

/// What joining the pool did.
#[derive(Debug, Clone, PartialEq, Eq)]
// One per pool join, moved once: boxing the room would buy nothing.
#[allow(clippy::large_enum_variant)]
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
/// `confab_domain::pool` (`check_join`, `pick`), called inside the store's transaction.
///
/// A *live* entry is one whose `expires_at` is after the instant considered; an *open pool
/// room* is a direct group without a pair key that is not closed and whose `expires_at` is
/// after it.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait MatchPool: Send + Sync {
    /// Matches the caller with the oldest fitting waiting user, or queues the caller, in one
    /// transaction that no other join or leave can interleave with.
    ///
    /// - MUST remove the expired entries first (`expires_at <= now`, the caller's own
    ///   included): an expired entry is never matched, and its user may join again.
    /// - MUST match the caller with the oldest live entry (`joined_at`, ties to the smaller
    ///   user id) that `confab_domain::pool::compatible` accepts — never the caller, and when
    ///   either side asked for `same_country`, only someone with the same country — and that
    ///   is not someone the caller has an open pool room with, nor someone the caller blocked
    ///   or was blocked by (`confab_domain::pool::pick` decides, over the blocks either way).
    ///   Other chats of the pair (a `POST /direct` chat, a closed or expired pool room) do not
    ///   keep them apart.
    /// - On a match MUST remove the partner's entry and create the room `join.room`: a
    ///   `direct` group without a name or pair key, created by the caller at `now`, with
    ///   `expires_at = join.room_expires_at`, both users `member`s; and answer
    ///   `Joined::Matched` with that room as the caller sees it and the partner.
    /// - Otherwise MUST queue the caller (`joined_at = now`, `expires_at = join.wait_until`,
    ///   with the caller's country as it is now) and answer `Joined::Waiting`.
    /// - MUST decide one join at a time: users joining at the same instant MUST NOT both wait
    ///   when they fit each other, and nobody is matched twice (40 fitting users joining at
    ///   once make 20 rooms with 40 different members and leave nobody waiting).
    /// - MUST answer, writing nothing: `Error::NotFound("user")` when the caller does not
    ///   exist; `Error::Invalid` (field `same_country`) when the caller asks for the same
    ///   country without having one; `Error::Conflict { field: "pool" }` when the caller
    ///   already has a live entry (nobody waits twice).
    /// - PostgreSQL MAY answer `Error::Unavailable` when a sweep on another instance (which
    ///   does not wait for joins) dropped the chosen partner meanwhile; retrying works.
    async fn join_pool(&self, join: PoolJoin) -> Result<Joined>;

    /// Removes the caller's waiting entry: `true` when there was one, `false` when there was
    /// none (never an error, whoever `user` is). MUST be serialised with joins: an entry a
    /// join has matched is gone for the leave (`false`), and once the leave answers `true` no
    /// join matches the caller with that entry.
    async fn leave_pool(&self, user: UserId) -> Result<bool>;

    /// MUST close every open room whose `expires_at <= now` (setting `closed_at = now`) and
    /// answer its id in `Swept::closed`: each room exactly once, by the one sweep that closed
    /// it, even with many instances sweeping at once (`UPDATE … WHERE closed_at IS NULL …
    /// RETURNING`). A room closed before (by a member, or an earlier sweep), a room not yet
    /// expired and a group without `expires_at` are left as they are and not answered.
    /// MUST remove every waiting entry with `expires_at <= now` and count them in
    /// `Swept::dropped_entries`; live entries stay.
    async fn sweep_expired(&self, now: Timestamp) -> Result<Swept>;
}
