//! Password hashing as a port: slow on purpose, so adapters MUST run it off the async runtime.

use async_trait::async_trait;
use confab_domain::Password;

use crate::Result;

/// A password hash in PHC string form (`$argon2id$v=19$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// Hashes and verifies passwords.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password with a fresh salt.
    async fn hash(&self, password: Password) -> Result<PasswordHash>;

    /// Checks a password against a stored hash. With `None` (no such account) it MUST still do
    /// the work of one verification and return `false`, so that timing does not tell whether
    /// an account exists.
    async fn verify(&self, password: Password, hash: Option<PasswordHash>) -> Result<bool>;
}
