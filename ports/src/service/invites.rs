//! Invite codes: server admins make, list and revoke them (over the API, or as operators with
//! `confab invite`); a registration on a server with `--registration invite` spends one
//! (`Accounts::register`). Never shows or changes an invite for anyone but an admin: a
//! non-admin learns 403 and nothing more, before anything they sent is looked at.

use confab_domain::{Invite, InviteCode, UserId, invite_uses, may_invite};

use crate::service::Accounts;
use crate::store::Principal;
use crate::{Error, Result};

/// How long an invite lives when its maker does not say.
pub const INVITE_DEFAULT_TTL: time::Duration = time::Duration::days(7);
/// The longest an invite may live.
pub const INVITE_MAX_TTL: time::Duration = time::Duration::days(365);
/// Most invites a listing shows.
pub const INVITES_MAX: u32 = 1000;
/// Characters of a made code: 22 of base64url, 132 random bits.
const CODE_LEN: usize = 22;

/// An invite as its maker asks for it, before any rule is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct InviteDraft {
    /// Registrations it admits (default 1).
    pub max_uses: Option<i64>,
    /// How long it lives from now (default [`INVITE_DEFAULT_TTL`]).
    pub expires_in: Option<time::Duration>,
}

impl Accounts {
    /// Makes an invite; server admins only.
    pub async fn create_invite(&self, caller: &Principal, draft: InviteDraft) -> Result<Invite> {
        may_invite(caller.is_admin)?;
        self.make_invite(Some(caller.user_id), draft).await
    }

    /// Every invite, newest first; server admins only.
    pub async fn invites(&self, caller: &Principal) -> Result<Vec<Invite>> {
        may_invite(caller.is_admin)?;
        self.admin_invites().await
    }

    /// Revokes an invite; server admins only. An unknown (or malformed) code is 404.
    pub async fn revoke_invite(&self, caller: &Principal, raw: &str) -> Result<()> {
        may_invite(caller.is_admin)?;
        self.admin_revoke_invite(raw).await
    }

    /// Makes an invite for an operator (`confab invite create`).
    pub async fn admin_create_invite(&self, draft: InviteDraft) -> Result<Invite> {
        self.make_invite(None, draft).await
    }

    /// Every invite, newest first, for an operator.
    pub async fn admin_invites(&self) -> Result<Vec<Invite>> {
        self.ports.invites.list_invites(INVITES_MAX).await
    }

    /// Revokes an invite for an operator.
    pub async fn admin_revoke_invite(&self, raw: &str) -> Result<()> {
        let code = InviteCode::parse(raw).map_err(|_| Error::NotFound("invite"))?;
        if self.ports.invites.revoke_invite(&code).await? {
            Ok(())
        } else {
            Err(Error::NotFound("invite"))
        }
    }

    async fn make_invite(&self, by: Option<UserId>, draft: InviteDraft) -> Result<Invite> {
        let max_uses = invite_uses(draft.max_uses.unwrap_or(1))?;
        let ttl = draft.expires_in.unwrap_or(INVITE_DEFAULT_TTL);
        if ttl <= time::Duration::ZERO || ttl > INVITE_MAX_TTL {
            return Err(Error::invalid(
                "expires_in",
                "must be between 1 second and 365 days",
            ));
        }
        // The token port's secure randomness; its tokens are base64url, the code's alphabet.
        let random = self.ports.tokens.new_refresh().token;
        let code = InviteCode::parse(&random.chars().take(CODE_LEN).collect::<String>())
            .map_err(|e| Error::Internal(format!("made an invalid invite code: {e}")))?;
        let now = self.ports.clock.now();
        let invite = Invite {
            code,
            created_by: by,
            created_at: now,
            expires_at: now + ttl,
            max_uses,
            uses: 0,
        };
        self.ports.invites.create_invite(invite.clone()).await?;
        Ok(invite)
    }
}
