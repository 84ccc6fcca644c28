//! A user account as the rest of the system sees it (no password hash: that stays in the store).

use crate::{Country, DisplayName, Email, Invalid, Refusal, Timestamp, UserId, Username};

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
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
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
    /// Whether an admin banned the account: it can neither log in nor use any token.
    pub banned: bool,
    /// When the user's last socket closed, as of their latest offline announcement (`None`:
    /// never seen). Shown only to those who may see their presence.
    pub last_seen_at: Option<Timestamp>,
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

/// Whether `actor` may ban (or unban) `target`: server admins only, and never themselves
/// (an admin who locked themself out would need the CLI to get back in).
pub fn check_ban(actor_is_admin: bool, actor: UserId, target: UserId) -> Result<(), Refusal> {
    if !actor_is_admin {
        return Err(Refusal::Forbidden("only admins may ban or unban users"));
    }
    if actor == target {
        return Err(Invalid::new("user_id", "you cannot ban yourself").into());
    }
    Ok(())
}

/// Why an admin banned an account, for the admins: trimmed, 1–500 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanReason(String);

crate::string_newtype!(BanReason);

impl BanReason {
    /// Longest reason, in characters.
    pub const MAX: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        crate::parse_label(raw, "reason", Self::MAX).map(Self)
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

    #[test]
    fn a_ban_reason_is_one_line_of_at_most_500_characters() {
        assert_eq!(BanReason::parse("  spam  ").unwrap().as_str(), "spam");
        for bad in ["", "   ", "two\nlines", &"x".repeat(501)] {
            assert_eq!(
                BanReason::parse(bad).unwrap_err().field,
                "reason",
                "{bad:?}"
            );
        }
        assert!(BanReason::parse(&"é".repeat(500)).is_ok());
    }

    #[test]
    fn only_admins_ban_and_never_themselves() {
        let (me, other) = (UserId::new(), UserId::new());
        assert!(matches!(
            check_ban(false, me, other),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            check_ban(false, me, me),
            Err(Refusal::Forbidden(_))
        ));
        assert!(
            matches!(check_ban(true, me, me), Err(Refusal::Invalid(i)) if i.field == "user_id")
        );
        assert_eq!(check_ban(true, me, other), Ok(()));
    }
}
