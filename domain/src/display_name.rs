//! Display names: free text a person chooses, 1–64 characters after trimming.

use crate::Invalid;

/// A trimmed display name without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

crate::string_newtype!(DisplayName);

impl DisplayName {
    /// Longest allowed display name, in characters.
    pub const MAX: usize = 64;

    /// Trims surrounding white space and checks length and characters.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        crate::parse_label(raw, "display_name", Self::MAX).map(Self)
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
