//! Blocks: who blocked whom. What a block refuses is decided in `confab_domain::block` (and,
//! for the pool, `confab_domain::pool::pick`); this trait stores the blocks and applies them.

use async_trait::async_trait;
use confab_domain::{GroupId, Timestamp, User, UserId};

use crate::Result;

/// What a block did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// `false` when the block was there already.
    pub changed: bool,
    /// The direct chats and pool rooms of the two that the block closed.
    pub closed: Vec<GroupId>,
}

/// Blocks between users.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Blocks: Send + Sync {
    /// `blocker` blocks `blocked` at `now`, in one transaction that also closes
    /// (`closed_at = now`) every open direct chat and pool room the two share, answering
    /// their ids. Blocking again MUST change nothing (`changed: false`, nothing closed).
    /// MUST answer `Error::NotFound("user")` when `blocked` does not exist, and
    /// `Error::Invalid` (field `user_id`) when `confab_domain::block::check_block` refuses.
    async fn block(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<Blocked>;

    /// Lifts `blocker`'s block of `blocked`; answers whether there was one. Chats it closed
    /// stay closed.
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool>;

    /// The users `blocker` blocks, most recently blocked first.
    async fn blocked_by(&self, blocker: UserId) -> Result<Vec<User>>;
}
