//! Usernames: 3–32 of `[a-z0-9_.-]`, unique without regard to case.

use crate::Invalid;

/// A valid username, folded to lower case so that uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

crate::string_newtype!(Username);

impl Username {
    /// Shortest allowed username, in characters.
    pub const MIN: usize = 3;
    /// Longest allowed username, in characters.
    pub const MAX: usize = 32;

    /// Parses a username. ASCII upper case is folded; anything outside `[a-z0-9_.-]` (look-alike
    /// Unicode letters included) is rejected rather than mapped, so two different-looking
    /// names can never collide and one name can never impersonate another.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let folded = raw.to_ascii_lowercase();
        let len = folded.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(Invalid::new(
                "username",
                format!("must be {}–{} characters", Self::MIN, Self::MAX),
            ));
        }
        if !folded
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
        {
            return Err(Invalid::new(
                "username",
                "may contain only a-z, 0-9, '_', '.' and '-'",
            ));
        }
        Ok(Self(folded))
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_plain_username_is_accepted() {
        assert_eq!(
            Username::parse("alice_1.x-y").unwrap().as_str(),
            "alice_1.x-y"
        );
    }

    #[test]
    fn a_username_with_uppercase_is_folded() {
        assert_eq!(Username::parse("Alice").unwrap().as_str(), "alice");
    }

    #[test]
    fn lengths_outside_3_to_32_are_rejected() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse(&"a".repeat(5000)).is_err());
    }

    #[test]
    fn look_alike_unicode_is_rejected() {
        // Cyrillic 'а' (U+0430) looks like Latin 'a'.
        assert!(Username::parse("\u{0430}lice").is_err());
        // Fullwidth letters, and the Kelvin sign that lower-cases to 'k' in Unicode.
        assert!(Username::parse("ａｌｉｃｅ").is_err());
        assert!(Username::parse("\u{212A}elvin").is_err());
    }

    #[test]
    fn spaces_nul_and_sql_are_rejected() {
        for bad in ["al ice", "ali\0ce", "a'; drop table users;--", "al@ice", ""] {
            let err = Username::parse(bad).unwrap_err();
            assert_eq!(err.field, "username");
        }
    }

    proptest! {
        #[test]
        fn any_accepted_username_is_lowercase_ascii_of_valid_length(s in "\\PC{0,40}") {
            if let Ok(u) = Username::parse(&s) {
                prop_assert!((3..=32).contains(&u.as_str().len()));
                prop_assert!(u.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b)));
            }
        }

        #[test]
        fn parsing_is_idempotent(s in "[A-Za-z0-9_.-]{3,32}") {
            let once = Username::parse(&s).unwrap();
            prop_assert_eq!(Username::parse(once.as_str()).unwrap(), once);
        }
    }
}
