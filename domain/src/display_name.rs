//! Display names: free text a person chooses, 1–64 characters after trimming.

use crate::{Invalid, has_control_chars};

/// A trimmed display name without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest allowed display name, in characters.
    pub const MAX: usize = 64;

    /// Trims surrounding white space and checks length and characters.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        if len == 0 {
            return Err(Invalid::new("display_name", "must not be empty"));
        }
        if len > Self::MAX {
            return Err(Invalid::new(
                "display_name",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        if has_control_chars(trimmed) {
            return Err(Invalid::new(
                "display_name",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a name read back from storage.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
    }

    #[test]
    fn unicode_names_are_welcome() {
        assert!(DisplayName::parse("Zoë 山田 🚀").is_ok());
    }

    #[test]
    fn empty_long_and_control_characters_are_rejected() {
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(65)).is_err());
        assert!(DisplayName::parse(&"x".repeat(5000)).is_err());
        assert!(DisplayName::parse("nul\0byte").is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_names_are_trimmed_bounded_and_printable(s in "\\PC{0,80}|[ \\t\\u{0}-\\u{1f}a-z]{0,80}") {
            if let Ok(d) = DisplayName::parse(&s) {
                let n = d.as_str().chars().count();
                prop_assert!((1..=DisplayName::MAX).contains(&n));
                prop_assert_eq!(d.as_str().trim(), d.as_str());
                prop_assert!(!d.as_str().chars().any(char::is_control));
            }
        }
    }
}
