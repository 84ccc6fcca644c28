//! `confab user delete`: an account removed the way chat servers people know do it (Discord's
//! "Deleted User", GitHub's ghost): the person can no longer log in, leaves every conversation,
//! and their name, email and profile are gone (the name is free again), while what they wrote
//! stays where it was, shown from a nameless `deleted-…` account, so nobody else's history
//! gets holes. It never deletes a message, a reaction, a report or an upload.

use confab_domain::{BanReason, GroupKind, Password, SessionId, UserId, Username};

use crate::service::{Accounts, Conversations};
use crate::store::{Erasure, Principal};
use crate::{Error, Result};

/// What `confab user delete` did.
#[derive(Debug, Clone)]
pub struct DeletedUser {
    pub id: UserId,
    /// The name the account had, now free.
    pub former_username: Username,
    /// The name its messages now show.
    pub username: Username,
    /// Groups left and direct chats closed.
    pub conversations: u64,
}

/// Names of deleted accounts start with this; the rest is random, so nobody can take a
/// deleted account's name before it is given (ids are public, so the name is not the id).
pub const DELETED_PREFIX: &str = "deleted-";

/// Random characters after [`DELETED_PREFIX`] (about 100 bits).
const DELETED_SUFFIX_LEN: usize = 20;

impl Accounts {
    /// Deletes the account named `username`. Safe to run again when it fails half-way: each
    /// step is done by name until the last one renames the account.
    pub async fn admin_delete_user(&self, username: &str) -> Result<DeletedUser> {
        let user = self.by_username(username).await?;
        // First stop them everywhere, as a ban does: every login ends, they leave the matching
        // pool, and their sockets close (at once through the bus this process reaches, else
        // within seconds through the running servers' ban watch).
        let reason = BanReason::parse("account deleted")?;
        self.apply_ban(user.id, Some(reason)).await?;
        let conversations = self.leave_everything(user.id).await?;
        let erasure = Erasure {
            username: self.deleted_name()?,
            // A password nobody ever saw: the account can never log in again.
            password_hash: self
                .ports
                .hasher
                .hash(Password::parse(&self.ports.tokens.new_refresh().token)?)
                .await?,
        };
        let username = erasure.username.clone();
        let now = self.ports.clock.now();
        self.ports.users.erase_user(user.id, erasure, now).await?;
        Ok(DeletedUser {
            id: user.id,
            former_username: user.username,
            username,
            conversations,
        })
    }

    /// Leaves every group (ownership passes on as when they leave themselves; the last one out
    /// deletes it) and closes every direct chat (it stays readable), as the user would, so the
    /// other members are told. Answers how many.
    async fn leave_everything(&self, id: UserId) -> Result<u64> {
        let conversations = Conversations {
            ports: self.ports.clone(),
        };
        // The user, acting for themself; banned already, which these use cases do not ask.
        let me = Principal {
            user_id: id,
            session_id: SessionId::new(),
            is_admin: false,
            banned: true,
        };
        let mut count = 0;
        for view in self.ports.groups.groups_of(id).await? {
            let group = view.group.id;
            let done = match view.group.kind {
                GroupKind::Group => conversations.remove_member(&me, group, id).await.map(drop),
                GroupKind::Direct => conversations.delete_group(&me, group).await.map(drop),
            };
            match done {
                Ok(()) => count += 1,
                // Expired, or gone since the list was read: nothing left to leave.
                Err(Error::Gone(_) | Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(count)
    }

    fn deleted_name(&self) -> Result<Username> {
        let suffix: String = self
            .ports
            .tokens
            .new_refresh()
            .token
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(DELETED_SUFFIX_LEN)
            .collect();
        Ok(Username::parse(&format!("{DELETED_PREFIX}{suffix}"))?)
    }
}
