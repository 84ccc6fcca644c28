//! Reading and changing profiles, finding people, and server roles.

use confab_domain::{Country, DisplayName, Email, GlobalRole, User, UserId};

use crate::service::Accounts;
use crate::store::{Principal, ProfileChange};
use crate::{AuthFailure, Error, Result};

/// A profile change as a client sends it: absent keeps, `Some(None)` (JSON `null`) clears.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub display_name: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub two_factor: Option<bool>,
    /// One-time code sent (purpose `email_change`) to the new `email`.
    pub otp: Option<String>,
}

/// How to look people up: by name prefix, or by exact email.
#[derive(Debug, Clone)]
pub enum UserLookup {
    Prefix { q: String, limit: Option<i64> },
    Email(String),
}

/// Default and largest page of a user search.
pub const USER_SEARCH_DEFAULT: u32 = 20;
pub const USER_SEARCH_MAX: u32 = 50;
/// Longest user-search prefix, in characters.
pub const USER_SEARCH_QUERY_MAX: usize = 256;

fn parse_opt<T>(
    v: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, confab_domain::Invalid>,
) -> Result<Option<Option<T>>> {
    Ok(match v {
        None => None,
        Some(None) => Some(None),
        Some(Some(s)) => Some(Some(parse(&s)?)),
    })
}

/// Clamps a page size: below 1 is an error, above the maximum is the maximum.
pub fn page_limit(raw: Option<i64>, default: u32, max: u32) -> Result<u32> {
    match raw {
        None => Ok(default),
        Some(n) if n < 1 => Err(Error::invalid("limit", "must be at least 1")),
        Some(n) => Ok(u32::try_from(n).unwrap_or(max).min(max)),
    }
}

impl Accounts {
    /// The caller's own account.
    pub async fn me(&self, caller: &Principal) -> Result<User> {
        self.ports
            .users
            .user_by_id(caller.user_id)
            .await?
            .ok_or(Error::Unauthorized(AuthFailure::InvalidToken))
    }

    /// Changes the caller's profile. A new email needs the code sent to it (purpose
    /// `email_change`); clearing the email or setting the same one again does not. Two-factor
    /// login needs an email on the account (checked by the store against the stored account).
    pub async fn update_me(&self, caller: &Principal, patch: ProfilePatch) -> Result<User> {
        let change = ProfileChange {
            display_name: parse_opt(patch.display_name, DisplayName::parse)?,
            country: parse_opt(patch.country, Country::parse)?,
            email: parse_opt(patch.email, Email::parse)?,
            two_factor: patch.two_factor,
        };
        if let Some(Some(email)) = &change.email {
            let current = self.me(caller).await?;
            if current.email.as_ref() != Some(email) {
                self.check_email_change(caller, email, patch.otp.as_deref())
                    .await?;
            }
        }
        self.ports
            .users
            .update_profile(caller.user_id, change)
            .await
    }

    /// Any account by id.
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.ports
            .users
            .user_by_id(id)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    /// People by username or display-name prefix, or the one with an exact email.
    pub async fn find_users(&self, lookup: UserLookup) -> Result<Vec<User>> {
        match lookup {
            UserLookup::Prefix { q, limit } => {
                let limit = page_limit(limit, USER_SEARCH_DEFAULT, USER_SEARCH_MAX)?;
                if q.chars().count() > USER_SEARCH_QUERY_MAX {
                    return Err(Error::invalid(
                        "q",
                        format!("must be at most {USER_SEARCH_QUERY_MAX} characters"),
                    ));
                }
                self.ports.users.search_users(q.trim(), limit).await
            }
            UserLookup::Email(raw) => {
                let email = Email::parse(&raw)?;
                Ok(self
                    .ports
                    .users
                    .user_by_email(&email)
                    .await?
                    .into_iter()
                    .collect())
            }
        }
    }

    /// Grants (`grant = true`) or revokes a server role. Admins only.
    pub async fn set_role(
        &self,
        caller: &Principal,
        target: UserId,
        role: &str,
        grant: bool,
    ) -> Result<()> {
        if !caller.is_admin {
            return Err(Error::Forbidden("only admins may change roles".into()));
        }
        match GlobalRole::parse(role)? {
            GlobalRole::Admin => self.ports.users.set_admin(target, grant).await,
        }
    }
}
