//! Invite codes, and the registration one admits: the use is counted in the same transaction
//! that creates the account, so a code is never spent without an account, nor an account made
//! on a spent code.

use async_trait::async_trait;
use confab_domain::{Invite, InviteCode, Timestamp, User};

use crate::Result;
use crate::store::{NewSession, NewUser};

/// Invites made by admins (API) or operators (CLI).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Invites: Send + Sync {
    /// Records a new invite (with `uses` 0).
    /// MUST return `Error::Conflict { field: "code" }` if an invite with this code exists.
    async fn create_invite(&self, invite: Invite) -> Result<()>;

    /// Every invite, used up and expired ones included, newest first, at most `limit`.
    async fn list_invites(&self, limit: u32) -> Result<Vec<Invite>>;

    /// Removes the invite: it admits nobody from then on. Answers whether there was one.
    async fn revoke_invite(&self, code: &InviteCode) -> Result<bool>;

    /// Creates the account (and its first login) as `Users::create_user` does, admitted by the
    /// invite `code`, in one transaction.
    /// MUST refuse with `Error::RegistrationRefused(InviteInvalid)`, writing nothing, when there
    /// is no such invite or `Invite::admits(now)` refuses it.
    /// MUST count one use of the invite with the account, and nothing when the account is
    /// refused (a taken username answers `Conflict` and leaves the use).
    /// MUST be atomic: of concurrent registrations on an invite with one use left, exactly one
    /// succeeds and every other is refused as above.
    async fn create_user_with_invite(
        &self,
        code: &InviteCode,
        now: Timestamp,
        user: NewUser,
        first_login: Option<NewSession>,
    ) -> Result<User>;
}
