//! One-time codes: making them and the keyed digest under which they are stored.

use confab_domain::{OtpCode, OtpPurpose};

/// The digest under which a code is stored. Keyed with a server secret, so that a copy of the
/// database alone does not give codes away by trying all 10^6 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDigest(pub Vec<u8>);

impl CodeDigest {
    /// Compares without stopping at the first difference.
    pub fn same_as(&self, other: &CodeDigest) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Makes codes and their digests.
#[cfg_attr(test, mockall::automock)]
pub trait CodeMaker: Send + Sync {
    /// A new code from a cryptographically secure source.
    fn new_code(&self) -> OtpCode;

    /// The keyed digest of `code` sent for `purpose` to `target` (an `OtpTarget::key`): a code
    /// proves nothing for another purpose or target.
    fn digest(&self, purpose: OtpPurpose, target: &str, code: &OtpCode) -> CodeDigest;
}

/// How one-time codes are used on this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpSettings {
    /// How long a code stays valid.
    pub ttl: time::Duration,
    /// Whether registering needs an email proven by a code.
    pub verify_emails: bool,
}

impl Default for OtpSettings {
    /// 10 minutes; emails not verified (so that a server without mail works out of the box).
    fn default() -> Self {
        Self {
            ttl: time::Duration::minutes(10),
            verify_emails: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_compare_by_content() {
        let a = CodeDigest(vec![1, 2, 3]);
        assert!(a.same_as(&CodeDigest(vec![1, 2, 3])));
        assert!(!a.same_as(&CodeDigest(vec![1, 2, 4])));
        assert!(!a.same_as(&CodeDigest(vec![1, 2])));
    }
}
