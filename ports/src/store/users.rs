use async_trait::async_trait;
use confab_domain::{BanReason, Country, DisplayName, Email, Timestamp, User, UserId, Username};

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

/// What a deleted account keeps: its id (its messages point at it), a new name no one chose,
/// and the hash of a password no one knows.
#[derive(Debug, Clone)]
pub struct Erasure {
    pub username: Username,
    pub password_hash: PasswordHash,
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

/// Accounts. Usernames and emails arrive folded to lower case (`Username`, `Email`), so
/// "taken" and "equal" below ignore case.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Users: Send + Sync {
    /// Creates the account and, when given, its first login, in one transaction (so that a
    /// registration is never half done: an account without the login its client was promised).
    /// MUST return the account as stored: the given fields, with two-factor login off.
    /// MUST record `first_login` as a live login of the account (as `Sessions::start_session`).
    /// MUST return `Error::Conflict { field: "username" }` if the username is taken
    /// (case-insensitively).
    /// MUST return `Error::Conflict { field: "email" }` if the email is taken (case-insensitively).
    /// MUST name `"username"` when both the username and the email are taken.
    /// MUST write nothing when it fails: neither the account nor its first login.
    /// MUST be atomic: of concurrent creations with one username (or one email), exactly one
    /// succeeds and every other returns the `Conflict` above, never another error.
    async fn create_user(&self, user: NewUser, first_login: Option<NewSession>) -> Result<User>;

    /// The account with this id, if any.
    /// MUST return the account as stored, and `None` if there is no such account.
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;

    /// The account whose username or email equals `login` (case-folded), with its hash.
    /// MUST find the account by its username or by its email whatever the case of `login`,
    /// with its current password hash.
    /// MUST return `None`, not an error, when no account matches, also for a login no account
    /// can have (one holding a NUL character, say): logins come straight from clients.
    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>>;

    /// The account with exactly this username.
    /// MUST return the account, and `None` if no account has this username.
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>>;

    /// The account with exactly this email.
    /// MUST return the account, and `None` if no account has this email.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>>;

    /// Accounts whose username or display name starts with `prefix`, ordered by username, at
    /// most `limit`. Case is compared ASCII-only (as `Username` folds it), on both stores
    /// whatever the database's locale.
    /// MUST match a prefix of the username or of the display name, never the middle of either.
    /// MUST ignore ASCII case on both sides (`ADA` finds `ada` and `Ada Lovelace`).
    /// MUST find a display name by its exact prefix, whatever its letters (`Élo` finds `Élodie`).
    /// MUST take `%`, `_` and `\` literally, not as wildcards.
    /// MUST order the matches by username (byte order) and return at most `limit` of them.
    /// MUST answer, not fail, for any prefix (a NUL character included): it comes straight
    /// from clients.
    async fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>>;

    /// Applies a profile change (`ProfileChange::apply`) to the account as stored, stores it and
    /// returns the updated account.
    /// MUST keep a field whose change is `None`, clear it on `Some(None)`, set it on
    /// `Some(Some(_))`, and store exactly the account it returns.
    /// MUST return `Error::NotFound("user")` if there is no such account.
    /// MUST return `Error::Conflict { field: "email" }` if the new email belongs to someone else
    /// (case-insensitively), and MUST NOT when it is the account's own email.
    /// MUST return `Error::Invalid` on field `two_factor`, changing nothing, if the account as
    /// stored would end with two-factor login and no email.
    /// MUST be atomic: concurrent changes of one account are judged one after the other against
    /// what the previous left (clearing the email and turning two-factor on at once cannot both
    /// succeed), and of two accounts taking one email at once, exactly one succeeds and the
    /// other returns the `Conflict` above.
    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User>;

    /// Grants or revokes the server `admin` role.
    /// MUST store the role so that `user_by_id` and `Sessions::principal` show it at once, and
    /// MUST succeed when the account already has it (or, revoking, already lacks it).
    /// MUST return `Error::NotFound("user")` if there is no such account.
    async fn set_admin(&self, id: UserId, admin: bool) -> Result<()>;

    /// Replaces the password hash and revokes every login of the account, in one transaction.
    /// MUST make `credentials_by_login` answer the new hash.
    /// MUST end every login of the account (`Sessions::principal` answers `None`, their refresh
    /// tokens are `Rejected`), and no login of another account.
    /// MUST return `Error::NotFound("user")` if there is no such account.
    async fn replace_password(&self, id: UserId, hash: PasswordHash, now: Timestamp) -> Result<()>;

    /// Bans the account (`banned`, with an optional `reason`, at `now`) or lifts its ban;
    /// answers whether anything changed.
    /// A ban MUST, in one transaction: mark the account banned (`User::banned`, and
    /// `Sessions::principal` and `rotate_refresh` say so from then on), revoke every login of
    /// it, and take it out of the matching pool. Banning a banned account MUST change nothing
    /// and answer `false` (the first ban's time and reason stay).
    /// Lifting a ban MUST clear it (the logins it revoked stay revoked); lifting none answers
    /// `false`.
    /// MUST return `Error::NotFound("user")` if there is no such account.
    async fn set_banned(
        &self,
        id: UserId,
        banned: bool,
        reason: Option<BanReason>,
        now: Timestamp,
    ) -> Result<bool>;

    /// The accounts banned (and still banned) at or after `since`: every instance asks, so
    /// that a ban made without the bus (by `confab user ban`) still ends their sockets.
    async fn banned_since(&self, since: Timestamp) -> Result<Vec<UserId>>;

    /// Erases a deleted account, keeping its row (and id) for what points at it: messages,
    /// reactions, reports, uploads.
    /// MUST, in one transaction: set the username and password hash to `erasure`'s; clear the
    /// display name, email, country, the admin role and two-factor login; revoke every login of
    /// the account; delete the blocks it made.
    /// MUST return `Error::NotFound("user")` if there is no such account, and
    /// `Error::Conflict { field: "username" }`, changing nothing, if the new name is taken.
    async fn erase_user(&self, id: UserId, erasure: Erasure, now: Timestamp) -> Result<()>;
}
