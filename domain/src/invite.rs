//! Who may open an account (the server's registration policy), and invite codes: whether a code
//! admits a registration now. Pure rules: the caller passes `now` and the invite as stored; this
//! never reads a clock or a store.

use crate::{Invalid, Timestamp, UserId};

/// Who may register over the API (admins create accounts with `confab user create` whatever it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrationPolicy {
    /// Anyone (the zero-configuration start).
    #[default]
    Open,
    /// Only with a live invite code an admin made.
    Invite,
    /// Nobody.
    Closed,
}

impl RegistrationPolicy {
    /// Parses `open`, `invite` or `closed`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            _ => Err("expected open, invite or closed".into()),
        }
    }

    /// The name a client sees.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }
}

/// Why a registration is refused by the policy (HTTP 403; the code names the case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationRefused {
    /// `registration_closed`: the server takes no registrations.
    #[error("registration is closed on this server; ask an admin for an account")]
    Closed,
    /// `invite_required`: the server takes registrations with an invite code only.
    #[error("registration on this server needs an invite code")]
    InviteRequired,
    /// `invite_invalid`: no such code, or it expired, was used up or revoked (alike).
    #[error("this invite code is unknown, expired or used up")]
    InviteInvalid,
}

/// What admits a registration: decided before anything else about it is looked at.
pub fn may_register(
    policy: RegistrationPolicy,
    invite_given: bool,
) -> Result<(), RegistrationRefused> {
    match policy {
        RegistrationPolicy::Open => Ok(()),
        RegistrationPolicy::Closed => Err(RegistrationRefused::Closed),
        RegistrationPolicy::Invite if invite_given => Ok(()),
        RegistrationPolicy::Invite => Err(RegistrationRefused::InviteRequired),
    }
}

/// Only server admins make, see and revoke invites.
pub fn may_invite(is_admin: bool) -> Result<(), crate::Refusal> {
    if is_admin {
        Ok(())
    } else {
        Err(crate::Refusal::Forbidden("only admins may manage invites"))
    }
}

/// An invite code: 8–64 characters of `A-Z a-z 0-9 - _` (what the server makes is 22 of them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InviteCode(String);

impl InviteCode {
    pub const MIN: usize = 8;
    pub const MAX: usize = 64;

    /// Checks a code as a client or an operator typed it (surrounding spaces dropped).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim();
        let len = code.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(Invalid::new(
                "invite",
                format!("must be {}-{} characters", Self::MIN, Self::MAX),
            ));
        }
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Invalid::new(
                "invite",
                "may hold only letters, digits, - and _",
            ));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Most uses one invite may allow.
pub const INVITE_MAX_USES: u32 = 10_000;

/// An invite as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub code: InviteCode,
    /// The admin who made it; `None` when made by an operator with `confab invite create`.
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Registrations it admits in all (1: single-use).
    pub max_uses: u32,
    /// Registrations it admitted so far.
    pub uses: u32,
}

impl Invite {
    /// Whether the invite admits one more registration at `now`.
    pub fn admits(&self, now: Timestamp) -> Result<(), RegistrationRefused> {
        if now < self.expires_at && self.uses < self.max_uses {
            Ok(())
        } else {
            Err(RegistrationRefused::InviteInvalid)
        }
    }
}

/// Checks the uses an admin asks an invite to allow.
pub fn invite_uses(uses: i64) -> Result<u32, Invalid> {
    u32::try_from(uses)
        .ok()
        .filter(|n| (1..=INVITE_MAX_USES).contains(n))
        .ok_or_else(|| {
            Invalid::new(
                "max_uses",
                format!("must be between 1 and {INVITE_MAX_USES}"),
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn invite(uses: u32, max: u32, expires_in_secs: i64) -> (Invite, Timestamp) {
        let now = Timestamp::UNIX_EPOCH + time::Duration::days(20_000);
        let inv = Invite {
            code: InviteCode::parse("abcdefgh").unwrap(),
            created_by: None,
            created_at: now,
            expires_at: now + time::Duration::seconds(expires_in_secs),
            max_uses: max,
            uses,
        };
        (inv, now)
    }

    #[test]
    fn an_invite_admits_while_live_and_not_used_up() {
        let (i, now) = invite(0, 1, 60);
        assert!(i.admits(now).is_ok());
        let (i, now) = invite(1, 1, 60);
        assert_eq!(i.admits(now), Err(RegistrationRefused::InviteInvalid));
        let (i, now) = invite(0, 1, 0);
        assert_eq!(i.admits(now), Err(RegistrationRefused::InviteInvalid));
        let (i, now) = invite(4, 5, 1);
        assert!(i.admits(now).is_ok());
    }

    #[test]
    fn the_policy_decides_before_the_code() {
        use RegistrationPolicy::*;
        assert!(may_register(Open, false).is_ok());
        assert!(may_register(Open, true).is_ok());
        assert_eq!(may_register(Closed, true), Err(RegistrationRefused::Closed));
        assert_eq!(
            may_register(Invite, false),
            Err(RegistrationRefused::InviteRequired)
        );
        assert!(may_register(Invite, true).is_ok());
        assert_eq!(RegistrationPolicy::parse("invite"), Ok(Invite));
        assert!(RegistrationPolicy::parse("Open ").is_err());
    }

    #[test]
    fn codes_and_uses_are_bounded() {
        for bad in [
            "",
            "short",
            &"a".repeat(65),
            "abcdefgh\0",
            "abcd efgh",
            "ábcdefgh",
            "abc/defgh",
        ] {
            assert!(InviteCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            InviteCode::parse(" abcd-EF_12 ").unwrap().as_str(),
            "abcd-EF_12"
        );
        for bad in [0, -1, i64::MIN, i64::MAX, 10_001] {
            assert!(invite_uses(bad).is_err(), "{bad}");
        }
        assert_eq!(invite_uses(1).unwrap(), 1);
        assert_eq!(invite_uses(10_000).unwrap(), 10_000);
    }
}
