//! A user account as the rest of the system sees it (no password hash: that stays in the store).

use crate::{Country, DisplayName, Email, Timestamp, UserId, Username};

/// Server-wide roles. Group roles are a different thing and live with groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobalRole {
    /// May grant and revoke roles and post announcements.
    Admin,
}

impl GlobalRole {
    /// The name used in paths and in `roles` lists.
    pub fn as_str(self) -> &'static str {
        match self {
            GlobalRole::Admin => "admin",
        }
    }

    /// Parses a role name as it appears in `/users/{id}/roles/{role}`.
    pub fn parse(raw: &str) -> Result<Self, crate::Invalid> {
        match raw {
            "admin" => Ok(GlobalRole::Admin),
            _ => Err(crate::Invalid::new(
                "role",
                "the only server role is \"admin\"",
            )),
        }
    }
}

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub display_name: Option<DisplayName>,
    pub email: Option<Email>,
    pub country: Option<Country>,
    /// Whether the account holds the server-wide `admin` role.
    pub is_admin: bool,
    /// Whether login also asks for a one-time code sent by email.
    pub two_factor: bool,
    pub created_at: Timestamp,
}

impl User {
    /// The server roles this user holds, as listed in the API's `roles`.
    pub fn roles(&self) -> Vec<GlobalRole> {
        if self.is_admin {
            vec![GlobalRole::Admin]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_is_a_role() {
        assert_eq!(GlobalRole::parse("admin"), Ok(GlobalRole::Admin));
        assert!(GlobalRole::parse("Admin").is_err());
        assert!(GlobalRole::parse("owner").is_err());
        assert!(GlobalRole::parse("").is_err());
    }
}
