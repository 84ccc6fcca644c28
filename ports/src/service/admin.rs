//! Operator tasks behind the binary's subcommands, so that nobody ever needs SQL.

use confab_domain::{Password, User, Username};

use crate::service::{Accounts, Registration};
use crate::store::ProfileChange;
use crate::{Error, Result};

impl Accounts {
    /// Creates an account directly, optionally as an admin.
    pub async fn admin_create_user(&self, reg: Registration, is_admin: bool) -> Result<User> {
        let new_user = self.new_user(reg, is_admin).await?;
        self.ports.users.create_user(new_user, None).await
    }

    /// Grants or revokes `admin` by username.
    pub async fn admin_set_admin(&self, username: &str, admin: bool) -> Result<User> {
        let user = self.by_username(username).await?;
        self.ports.users.set_admin(user.id, admin).await?;
        self.user(user.id).await
    }

    /// Sets a new password and ends every login of the account.
    pub async fn admin_reset_password(&self, username: &str, password: &str) -> Result<User> {
        let password = Password::parse(password)?;
        let user = self.by_username(username).await?;
        let hash = self.ports.hasher.hash(password).await?;
        let now = self.ports.clock.now();
        self.ports
            .users
            .replace_password(user.id, hash, now)
            .await?;
        Ok(user)
    }

    /// Accounts by username, at most `limit` (only admins with `admins_only`), for
    /// `confab user list`.
    pub async fn admin_list_users(&self, limit: u32, admins_only: bool) -> Result<Vec<User>> {
        // The empty prefix matches every account, in username order, on both stores.
        let wanted = if admins_only { u32::MAX } else { limit };
        let mut users = self.ports.users.search_users("", wanted).await?;
        users.retain(|u| u.is_admin || !admins_only);
        users.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(users)
    }

    /// Turns off two-factor login (a user who lost their mailbox); answers the account and
    /// whether it was on. Logins stay: the person logged in is still the account's owner.
    pub async fn admin_disable_two_factor(&self, username: &str) -> Result<(User, bool)> {
        let user = self.by_username(username).await?;
        let change = ProfileChange {
            two_factor: Some(false),
            ..ProfileChange::default()
        };
        let after = self.ports.users.update_profile(user.id, change).await?;
        Ok((after, user.two_factor))
    }

    /// The account with this username, if any.
    pub async fn admin_find_user(&self, raw: &str) -> Result<Option<User>> {
        let username = Username::parse(raw)?;
        self.ports.users.user_by_username(&username).await
    }

    pub(crate) async fn by_username(&self, raw: &str) -> Result<User> {
        self.admin_find_user(raw)
            .await?
            .ok_or(Error::NotFound("user"))
    }
}
