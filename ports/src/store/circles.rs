//! Who shares a group with whom, who blocks whom, and when users were last seen: what
//! presence needs of the store. Every group counts — named groups, direct chats and pool
//! rooms, open or closed — as long as both are members now; a block either way hides it
//! (`confab_domain::presence::may_see`). A store only answers these; it never decides who may
//! see whose presence, and never reads per user: each method is one statement for a whole list.

use async_trait::async_trait;
use confab_domain::{GroupId, Timestamp, UserId};

use crate::Result;

/// The store's side of presence.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Circles: Send + Sync {
    /// Of `others`, those who are a member of at least one group `user` is a member of, in
    /// no particular order, each once. MUST NOT list a user who only shared a group that
    /// either has left or that was deleted; MUST list one sharing a closed direct chat or pool
    /// room. MUST answer, not fail, for ids of no account (they share nothing).
    async fn sharing_with(&self, user: UserId, others: &[UserId]) -> Result<Vec<UserId>>;

    /// Every block standing between one of `users` and anyone else, whoever blocked whom, as
    /// `(user, other)` pairs with `user` one of `users`, in no particular order (a pair may
    /// repeat when both blocked each other). MUST answer, not fail, for ids of no account.
    async fn blocks_touching(&self, users: &[UserId]) -> Result<Vec<(UserId, UserId)>>;

    /// Every group each of `users` is a member of now (open or closed), as `(user, group)`
    /// pairs in no particular order: whom a change of their presence reaches.
    async fn memberships(&self, users: &[UserId]) -> Result<Vec<(UserId, GroupId)>>;

    /// Records when each user was last seen, never moving `last_seen_at` backwards (an older
    /// time than the stored one changes nothing). MUST ignore ids of no account.
    async fn record_last_seen(&self, seen: &[(UserId, Timestamp)]) -> Result<()>;
}
