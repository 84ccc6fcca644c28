//! Operator tasks behind the binary's subcommands, so that nobody ever needs SQL.

use confab_domain::{Password, User, Username};

use crate::service::{Accounts, Registration};
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
