use async_trait::async_trait;
use confab_domain::{Country, DisplayName, Email, Timestamp, User, UserId, Username};

use crate::Result;
use crate::hasher::PasswordHash;
use crate::store::NewSession;

/// A validated account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: Option<DisplayName>,
    pub email: Option<Email>,
    pub country: Option<Country>,
    pub password_hash: PasswordHash,
    pub is_admin: bool,
    pub created_at: Timestamp,
}

/// A user with the hash to check a login against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: PasswordHash,
}

/// Fields to change on a profile: `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub display_name: Option<Option<DisplayName>>,
    pub country: Option<Option<Country>>,
    pub email: Option<Option<Email>>,
    pub two_factor: Option<bool>,
}

impl ProfileChange {
    /// The account with this change applied, or why the result would break a rule.
    pub fn apply(self, mut user: User) -> Result<User, confab_domain::Invalid> {
        if let Some(v) = self.display_name {
            user.display_name = v;
        }
        if let Some(v) = self.country {
            user.country = v;
        }
        if let Some(v) = self.email {
            user.email = v;
        }
        if let Some(v) = self.two_factor {
            user.two_factor = v;
        }
        confab_domain::two_factor_needs_email(user.two_factor, user.email.as_ref())?;
        Ok(user)
    }
}

/// Accounts.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Users: Send + Sync {
    /// Creates the account and, when given, its first login, in one transaction (so that a
    /// registration is never half done: an account without the login its client was promised).
    /// MUST return `Error::Conflict { field: "username" }` if the username is taken, and
    /// `Error::Conflict { field: "email" }` if the email is taken (both compared case-folded).
    async fn create_user(&self, user: NewUser, first_login: Option<NewSession>) -> Result<User>;

    /// The account with this id, if any.
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;

    /// The account whose username or email equals `login` (case-folded), with its hash.
    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>>;

    /// The account with exactly this username.
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>>;

    /// The account with exactly this email.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>>;

    /// Accounts whose username or display name starts with `prefix` (case-insensitive; `%` and
    /// `_` are literal), ordered by username, at most `limit`.
    async fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>>;

    /// Applies a profile change and returns the updated account.
    /// MUST return `Error::NotFound("user")` if there is no such account and
    /// `Error::Conflict { field: "email" }` if the new email belongs to someone else.
    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User>;

    /// Grants or revokes the server `admin` role. MUST return `Error::NotFound("user")` if
    /// there is no such account.
    async fn set_admin(&self, id: UserId, admin: bool) -> Result<()>;

    /// Replaces the password hash and revokes every login of the account, in one transaction.
    /// MUST return `Error::NotFound("user")` if there is no such account.
    async fn replace_password(&self, id: UserId, hash: PasswordHash, now: Timestamp) -> Result<()>;
}
