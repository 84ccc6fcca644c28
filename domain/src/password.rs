//! Passwords: 8–256 characters, any characters. Never logged, never stored: only its hash is.

use crate::Invalid;

/// A password that meets the length rule. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Shortest allowed password, in characters.
    pub const MIN: usize = 8;
    /// Longest allowed password, in characters (bounds the hashing work an attacker can ask for).
    pub const MAX: usize = 256;

    /// Checks the length rule; every character counts, none is trimmed.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if len < Self::MIN {
            return Err(Invalid::new(
                "password",
                format!("must be at least {} characters", Self::MIN),
            ));
        }
        if len > Self::MAX {
            return Err(Invalid::new(
                "password",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a password presented at login, which is checked against a hash, not against rules
    /// (so that tightening the rules never locks anyone out).
    pub fn presented(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    /// The secret itself, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_outside_8_to_256_are_rejected() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(256)).is_ok());
        assert!(Password::parse(&"x".repeat(257)).is_err());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 8 two-byte characters: 16 bytes, 8 characters.
        assert!(Password::parse("éééééééé").is_ok());
        assert!(Password::parse(&"é".repeat(256)).is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::parse("hunter22hunter").unwrap();
        assert!(!format!("{p:?}").contains("hunter"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_rule_is_exactly_the_character_count(s in "\\PC{0,300}") {
            let n = s.chars().count();
            prop_assert_eq!(Password::parse(&s).is_ok(), (8..=256).contains(&n));
        }

        #[test]
        fn an_accepted_password_is_kept_verbatim(s in "\\PC{8,64}") {
            let p = Password::parse(&s).unwrap();
            prop_assert_eq!(p.expose(), s.as_str());
        }
    }
}
