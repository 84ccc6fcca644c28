//! One-time codes: six uniform random digits, stored as HMAC-SHA256 under a server key.

use confab_domain::{OtpCode, OtpPurpose};
use confab_ports::otp::{CodeDigest, CodeMaker};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Makes codes and their keyed digests.
pub struct HmacCodeMaker {
    key: Vec<u8>,
}

impl std::fmt::Debug for HmacCodeMaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacCodeMaker { key: <redacted> }")
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length; this cannot fail.
    let mut m = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    for part in parts {
        // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    m.finalize().into_bytes().to_vec()
}

impl HmacCodeMaker {
    /// Derives the code key from the server secret (the token signing secret), so that the
    /// same bytes never key two different things.
    pub fn new(server_secret: &[u8]) -> Self {
        Self {
            key: mac(server_secret, &[b"confab one-time codes v1"]),
        }
    }
}

impl CodeMaker for HmacCodeMaker {
    fn new_code(&self) -> OtpCode {
        // Uniform over 000000–999999 (rand rejects the biased tail).
        OtpCode::from_number(rand::random_range(0..1_000_000))
    }

    fn digest(&self, purpose: OtpPurpose, target: &str, code: &OtpCode) -> CodeDigest {
        CodeDigest(mac(
            &self.key,
            &[
                purpose.as_str().as_bytes(),
                target.as_bytes(),
                code.as_str().as_bytes(),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let m = HmacCodeMaker::new(b"a server secret of some length....");
        let codes: std::collections::HashSet<String> =
            (0..50).map(|_| m.new_code().as_str().to_owned()).collect();
        assert!(codes.iter().all(|c| c.len() == 6));
        assert!(codes.len() > 40, "50 draws from 10^6 should hardly repeat");
    }

    #[test]
    fn a_digest_depends_on_key_purpose_target_and_code() {
        let m = HmacCodeMaker::new(b"one secret");
        let other = HmacCodeMaker::new(b"another secret");
        let code = OtpCode::parse("123456").unwrap();
        let d = m.digest(OtpPurpose::Login, "user:1", &code);
        assert_eq!(d, m.digest(OtpPurpose::Login, "user:1", &code));
        assert_ne!(d, other.digest(OtpPurpose::Login, "user:1", &code));
        assert_ne!(d, m.digest(OtpPurpose::PasswordReset, "user:1", &code));
        assert_ne!(d, m.digest(OtpPurpose::Login, "user:2", &code));
        let wrong = OtpCode::parse("123457").unwrap();
        assert_ne!(d, m.digest(OtpPurpose::Login, "user:1", &wrong));
        assert_eq!(d.0.len(), 32);
    }
}
