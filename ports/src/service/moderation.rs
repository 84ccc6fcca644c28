//! Moderation: blocks between users, and bans by admins. What is allowed is decided in
//! `confab_domain` (`block`, `user::check_ban`) and applied by the stores; this module
//! publishes what follows from a commit — `GroupClosed` for the chats a block closed,
//! `UserBanned` to end a banned user's sockets on every instance. It never decides a rule
//! itself and never publishes before the store has answered.

use std::collections::HashSet;

use confab_domain::{BanReason, Event, User, UserId, check_ban};

use crate::Result;
use crate::service::{Accounts, Conversations};
use crate::store::Principal;

impl Conversations {
    /// The caller blocks `target`: no new direct chat from them, never matched with them in
    /// the pool, and the chats the two share one to one are closed (members hear
    /// `group.closed`). Blocking again changes nothing.
    pub async fn block(&self, p: &Principal, target: UserId) -> Result<()> {
        let now = self.ports.clock.now();
        let blocked = self.ports.blocks.block(p.user_id, target, now).await?;
        for group_id in blocked.closed {
            self.ports
                .bus
                .publish(Event::GroupClosed { group_id })
                .await;
        }
        Ok(())
    }

    /// Lifts the caller's block of `target` (none: nothing happens).
    pub async fn unblock(&self, p: &Principal, target: UserId) -> Result<()> {
        self.ports.blocks.unblock(p.user_id, target).await?;
        Ok(())
    }

    /// The users the caller blocks, most recently blocked first.
    pub async fn blocked_users(&self, p: &Principal) -> Result<Vec<User>> {
        self.ports.blocks.blocked_by(p.user_id).await
    }
}

impl Accounts {
    /// An admin bans `target`: they can no longer log in or refresh, every token and socket
    /// of theirs ends at once, and they leave the pool. Banning again changes nothing.
    pub async fn ban(&self, p: &Principal, target: UserId, reason: Option<&str>) -> Result<()> {
        check_ban(p.is_admin, p.user_id, target)?;
        let reason = reason.map(BanReason::parse).transpose()?;
        self.apply_ban(target, reason).await
    }

    /// An admin lifts `target`'s ban: they may log in again (their old logins stay ended).
    pub async fn unban(&self, p: &Principal, target: UserId) -> Result<()> {
        check_ban(p.is_admin, p.user_id, target)?;
        let now = self.ports.clock.now();
        self.ports
            .users
            .set_banned(target, false, None, now)
            .await?;
        Ok(())
    }

    /// `confab user ban NAME`: the ban of [`Accounts::ban`], by username, for operators.
    pub async fn admin_ban(&self, username: &str, reason: Option<&str>) -> Result<User> {
        let reason = reason.map(BanReason::parse).transpose()?;
        let user = self.by_username(username).await?;
        self.apply_ban(user.id, reason).await?;
        self.user(user.id).await
    }

    /// `confab user unban NAME`.
    pub async fn admin_unban(&self, username: &str) -> Result<User> {
        let user = self.by_username(username).await?;
        let now = self.ports.clock.now();
        self.ports
            .users
            .set_banned(user.id, false, None, now)
            .await?;
        self.user(user.id).await
    }

    /// Announces on the bus, once each, the accounts banned within the last `window` that are
    /// not in `announced`, so that their sockets end on every instance: what a ban by the CLI
    /// (which reaches no bus of a running server) or a ban event the bus lost still needs.
    /// `announced` is left holding exactly the bans found, so it never outgrows the window.
    pub async fn announce_recent_bans(
        &self,
        window: time::Duration,
        announced: &mut HashSet<UserId>,
    ) -> Result<usize> {
        let since = self.ports.clock.now() - window;
        let banned: HashSet<UserId> = self
            .ports
            .users
            .banned_since(since)
            .await?
            .into_iter()
            .collect();
        let mut new = 0;
        for &user_id in banned.difference(announced) {
            self.ports.bus.publish(Event::UserBanned { user_id }).await;
            new += 1;
        }
        *announced = banned;
        Ok(new)
    }

    pub(crate) async fn apply_ban(&self, target: UserId, reason: Option<BanReason>) -> Result<()> {
        let now = self.ports.clock.now();
        self.ports
            .users
            .set_banned(target, true, reason, now)
            .await?;
        // Also when the account was banned already: a socket that outlived the first ban's
        // event (a bus outage) ends now.
        self.ports
            .bus
            .publish(Event::UserBanned { user_id: target })
            .await;
        Ok(())
    }
}
