//! Email addresses: a pragmatic check (one `@`, a dotted domain, no spaces), stored lower case.

use crate::{Invalid, has_control_chars};

/// An email address, lower-cased so that uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

crate::string_newtype!(Email);

impl Email {
    /// Longest address SMTP can carry (RFC 5321 path limit minus the angle brackets).
    pub const MAX: usize = 254;

    /// Parses an address. Full RFC 5322 syntax is not the goal: the address is proven by a
    /// one-time code sent to it, so this only refuses what can never be delivered.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::new("email", "must be an email address such as ada@example.com");
        // Checked as stored: lower-casing can lengthen a string ('İ' becomes two chars), so
        // an address valid before it could be one that, read back, no longer parses.
        let raw = raw.to_lowercase();
        let raw = raw.as_str();
        if raw.is_empty() || raw.chars().count() > Self::MAX {
            return Err(invalid());
        }
        if raw.chars().any(char::is_whitespace) || has_control_chars(raw) {
            return Err(invalid());
        }
        let (local, domain) = raw.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(invalid());
        }
        let labels_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !labels_ok {
            return Err(invalid());
        }
        Ok(Self(raw.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_lower_cased() {
        assert_eq!(
            Email::parse("Ada@Example.COM").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn the_lengths_are_those_of_the_address_as_stored() {
        // 30 'İ' are 60 bytes; lower-cased, 90: over the 64 a local part may have.
        assert!(Email::parse(&format!("{}@example.com", "İ".repeat(30))).is_err());
        let kept = Email::parse("İda@example.com").unwrap();
        assert_eq!(Email::parse(kept.as_str()).unwrap(), kept);
    }

    #[test]
    fn plus_and_dots_in_the_local_part_are_fine() {
        assert!(Email::parse("ada.l+chat@mail.example.org").is_ok());
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada @example.com",
            "ada@exa mple.com",
            "ada@example..com",
            "ada@-example.com",
            "ada\0@example.com",
            "'; drop table users;--@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_addresses_are_lower_case_bounded_and_have_one_at(s in "\\PC{0,300}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(e.as_str().chars().count() <= Email::MAX);
                prop_assert_eq!(e.as_str().matches('@').count(), 1);
                prop_assert_eq!(e.as_str().to_lowercase(), e.as_str());
                prop_assert!(!e.as_str().chars().any(char::is_whitespace));
            }
        }

        #[test]
        fn simple_addresses_are_accepted(local in "[a-z0-9.+_-]{1,20}", domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}") {
            let address = format!("{}@{}", local, domain);
            prop_assert!(Email::parse(&address).is_ok());
        }
    }
}
