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
    /// A token (live, used or of a revoked login) of a banned account.
    Banned,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// Read fresh on every request, so a revoked role stops working at once.
    pub is_admin: bool,
    /// Read fresh on every request too, so a ban stops every token at once.
    pub banned: bool,
}

/// Logins (refresh-token families). A login is live until it is revoked (logout, reuse of one
/// of its refresh tokens, a password replaced); a revoked login stays revoked.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Records a new login and its first refresh token.
    /// MUST make the login live: `principal` finds it and its refresh token rotates.
    async fn start_session(&self, session: NewSession) -> Result<()>;

    /// Presents a refresh token and, if it is live, replaces it with `next` and returns the
    /// login's user, atomically. A token whose user no longer exists is `Rejected`.
    /// MUST return `Rotation::Rotated` with the login's id and its user as stored now when the
    /// token is live (unused, expiring after `now`, of a live login); the presented token is
    /// then used, and `next` is the login's live token until `next_expires_at`.
    /// MUST return `Rotation::Rejected` for a token it never stored.
    /// MUST return `Rotation::Rejected` for a token whose expiry is not after `now`.
    /// MUST return `Rotation::Rejected` for every token of a revoked login, used ones included.
    /// MUST return `Rotation::Banned` for every token of a banned account (checked first,
    /// whatever the token's state), and change nothing.
    /// MUST revoke the whole login and return `Rotation::Reused` when the token was already
    /// used (even if it has expired since), so that a stolen token is worthless once either
    /// party uses it twice.
    /// MUST be atomic: of concurrent presentations of one live token, exactly one is `Rotated`
    /// and the next is `Reused` (revoking the login); any later one is `Reused` or, the login
    /// being revoked by then, `Rejected`.
    async fn rotate_refresh(
        &self,
        presented: TokenHash,
        next: TokenHash,
        next_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Rotation>;

    /// Revokes the login holding this refresh token (used or not). Unknown tokens are ignored.
    /// MUST revoke that login, whether `presented` is its live token or a used one, and no
    /// other login (of the same account included).
    /// MUST return `Ok(())` for a token it never stored, and for a login already revoked.
    async fn end_session(&self, presented: TokenHash, now: Timestamp) -> Result<()>;

    /// The caller behind an access token, if its login is still live and the user exists.
    /// MUST return the principal, with the account's `is_admin` as stored now, while the login
    /// is live.
    /// MUST return `None` for a revoked login, for a login it never stored, and for a login of
    /// another account than `user_id` — except that for a banned account it MUST return the
    /// principal with `banned: true` whatever the login's state (a ban revokes every login,
    /// and its tokens must say "banned", not "unauthorized").
    async fn principal(&self, session_id: SessionId, user_id: UserId) -> Result<Option<Principal>>;
}
