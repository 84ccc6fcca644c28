use async_trait::async_trait;
use confab_domain::{SessionId, Timestamp, User, UserId};

use crate::Result;
use crate::tokens::TokenHash;

/// A login to record, with its first refresh token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub refresh_hash: TokenHash,
    pub refresh_expires_at: Timestamp,
    pub now: Timestamp,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now used, and the new one replaces it. The user is read in
    /// the same transaction, so nothing can fail between the rotation and the answer (a failure
    /// there would leave the client with a used token, and its retry would look like reuse).
    Rotated { session_id: SessionId, user: User },
    /// The token had been used before: the whole login is now revoked.
    Reused,
    /// Unknown, expired, or its login was revoked.
    Rejected,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// Read fresh on every request, so a revoked role stops working at once.
    pub is_admin: bool,
}

/// Logins (refresh-token families).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Records a new login and its first refresh token.
    async fn start_session(&self, session: NewSession) -> Result<()>;

    /// Presents a refresh token and, if it is live, replaces it with `next` and returns the
    /// login's user, atomically. A token whose user no longer exists is `Rejected`.
    /// MUST revoke the whole login and return `Rotation::Reused` when the token was already
    /// used, so that a stolen token is worthless once either party uses it twice.
    async fn rotate_refresh(
        &self,
        presented: TokenHash,
        next: TokenHash,
        next_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Rotation>;

    /// Revokes the login holding this refresh token (used or not). Unknown tokens are ignored.
    async fn end_session(&self, presented: TokenHash, now: Timestamp) -> Result<()>;

    /// The caller behind an access token, if its login is still live and the user exists.
    async fn principal(&self, session_id: SessionId, user_id: UserId) -> Result<Option<Principal>>;
}
