//! One-time codes sent by email: what they are for, what a presented code must look like, and
//! how a stored code answers a guess.

use crate::{Email, Invalid, Timestamp, UserId};

/// Digits in a code.
pub const OTP_DIGITS: usize = 6;

/// Wrong guesses a code survives; the next wrong one burns it.
pub const OTP_MAX_ATTEMPTS: u32 = 5;

/// What a code was sent for. A code only ever proves the purpose it was sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpPurpose {
    /// Registering with an email, on servers that verify emails.
    Register,
    /// The second step of logging in to an account with two-factor login.
    Login,
    /// Setting a new password without the old one.
    PasswordReset,
    /// Changing the account's email (the code goes to the new address).
    EmailChange,
}

impl OtpPurpose {
    /// The name the API uses (`purpose` of `POST /auth/otp`).
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPurpose::Register => "register",
            OtpPurpose::Login => "login",
            OtpPurpose::PasswordReset => "password_reset",
            OtpPurpose::EmailChange => "email_change",
        }
    }

    /// Parses the API's name of a purpose.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "register" => Ok(OtpPurpose::Register),
            "login" => Ok(OtpPurpose::Login),
            "password_reset" => Ok(OtpPurpose::PasswordReset),
            "email_change" => Ok(OtpPurpose::EmailChange),
            _ => Err(Invalid::new(
                "purpose",
                "must be one of register, login, password_reset, email_change",
            )),
        }
    }

    /// Words for the mail: what the code unlocks.
    pub fn describe(self) -> &'static str {
        match self {
            OtpPurpose::Register => "to confirm your email address and create your account",
            OtpPurpose::Login => "to log in",
            OtpPurpose::PasswordReset => "to set a new password",
            OtpPurpose::EmailChange => "to confirm your new email address",
        }
    }
}

/// Whom a code is for, within its purpose: a new code for the same (purpose, target) replaces
/// the old one. Accounts are named by id so that a username and an email share one code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OtpTarget {
    /// An address that has no account yet (registration).
    Address(Email),
    /// An existing account (login, password reset).
    Account(UserId),
    /// An account moving to a new address (email change).
    AccountAddress(UserId, Email),
}

impl OtpTarget {
    /// The stored key of the target.
    pub fn key(&self) -> String {
        match self {
            OtpTarget::Address(email) => format!("email:{}", email.as_str()),
            OtpTarget::Account(id) => format!("user:{id}"),
            OtpTarget::AccountAddress(id, email) => format!("user:{id}:{}", email.as_str()),
        }
    }
}

/// A code as a client presents it: exactly six ASCII digits (surrounding spaces ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    /// Checks the shape; says nothing about whether the code is right.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim();
        if code.len() != OTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("otp", "must be the 6 digits of the code"));
        }
        Ok(Self(code.to_owned()))
    }

    /// The code for `n` (taken modulo 10^6), zero-padded: how a generator makes one.
    pub fn from_number(n: u32) -> Self {
        Self(format!("{:06}", n % 1_000_000))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored code as the rule needs to see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpState {
    pub expires_at: Timestamp,
    /// Wrong guesses so far.
    pub attempts: u32,
}

/// What a guess does to a stored code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpVerdict {
    /// Right and in time: the code is used up (deleted).
    Accept,
    /// Too late: the code is deleted and the guess refused.
    Expired,
    /// Wrong: the guess is counted; `burned` when that was the last one allowed (delete it).
    Wrong { burned: bool },
}

/// Judges a guess against a stored code. Expiry is checked first, so a late right code is
/// refused like a wrong one.
pub fn judge_otp(state: OtpState, matches: bool, now: Timestamp) -> OtpVerdict {
    if now >= state.expires_at {
        OtpVerdict::Expired
    } else if matches {
        OtpVerdict::Accept
    } else {
        OtpVerdict::Wrong {
            burned: state.attempts + 1 >= OTP_MAX_ATTEMPTS,
        }
    }
}

/// Two-factor login sends its codes by email, so an account with it on must keep an email.
pub fn two_factor_needs_email(two_factor: bool, email: Option<&Email>) -> Result<(), Invalid> {
    if two_factor && email.is_none() {
        return Err(Invalid::new(
            "two_factor",
            "two-factor login needs an email on the account (codes are sent there)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2025-06-01 12:00 UTC);

    fn state(attempts: u32) -> OtpState {
        OtpState {
            expires_at: NOW + time::Duration::minutes(10),
            attempts,
        }
    }

    #[test]
    fn purposes_round_trip_and_unknown_ones_are_refused() {
        for p in [
            OtpPurpose::Register,
            OtpPurpose::Login,
            OtpPurpose::PasswordReset,
            OtpPurpose::EmailChange,
        ] {
            assert_eq!(OtpPurpose::parse(p.as_str()), Ok(p));
        }
        for bad in ["", "Login", "reset", "password-reset"] {
            assert_eq!(OtpPurpose::parse(bad).unwrap_err().field, "purpose");
        }
    }

    #[test]
    fn a_code_is_exactly_six_digits() {
        assert_eq!(OtpCode::parse(" 012345 ").unwrap().as_str(), "012345");
        assert_eq!(OtpCode::from_number(42).as_str(), "000042");
        assert_eq!(OtpCode::from_number(999_999).as_str(), "999999");
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", "12 345"] {
            assert_eq!(OtpCode::parse(bad).unwrap_err().field, "otp", "{bad:?}");
        }
    }

    #[test]
    fn a_right_code_in_time_is_accepted() {
        assert_eq!(judge_otp(state(4), true, NOW), OtpVerdict::Accept);
    }

    #[test]
    fn an_expired_code_is_refused_even_when_right() {
        let s = state(0);
        assert_eq!(judge_otp(s, true, s.expires_at), OtpVerdict::Expired);
    }

    #[test]
    fn the_fifth_wrong_guess_burns_the_code() {
        for attempts in 0..OTP_MAX_ATTEMPTS - 1 {
            assert_eq!(
                judge_otp(state(attempts), false, NOW),
                OtpVerdict::Wrong { burned: false }
            );
        }
        assert_eq!(
            judge_otp(state(OTP_MAX_ATTEMPTS - 1), false, NOW),
            OtpVerdict::Wrong { burned: true }
        );
    }

    #[test]
    fn targets_of_different_kinds_never_share_a_key() {
        let id = UserId::new();
        let email = Email::parse("a@example.com").unwrap();
        let keys = [
            OtpTarget::Address(email.clone()).key(),
            OtpTarget::Account(id).key(),
            OtpTarget::AccountAddress(id, email).key(),
        ];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
    }

    #[test]
    fn two_factor_needs_an_email() {
        let email = Email::parse("a@example.com").unwrap();
        assert!(two_factor_needs_email(true, None).is_err());
        assert!(two_factor_needs_email(true, Some(&email)).is_ok());
        assert!(two_factor_needs_email(false, None).is_ok());
    }
}
