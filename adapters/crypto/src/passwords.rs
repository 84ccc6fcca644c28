//! Argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1), always on a blocking thread.

use argon2::password_hash::{
    PasswordHash as Phc, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use confab_domain::Password;
use confab_ports::hasher::{PasswordHash, PasswordHasher};
use confab_ports::{Error, Result};

use crate::random::{random_bytes, random_token};

/// Hashes passwords with Argon2id.
#[derive(Clone)]
pub struct Argon2Hasher {
    /// Verified against when an account does not exist, so that both cases cost the same.
    dummy: PasswordHash,
}

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(19_456, 2, 1, None)
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<PasswordHash> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| Error::Internal(format!("salt: {e}")))?;
    let phc = argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Internal(format!("argon2 hash: {e}")))?;
    Ok(PasswordHash(phc.to_string()))
}

fn verify_blocking(password: &str, hash: &PasswordHash) -> Result<bool> {
    let phc = Phc::new(&hash.0).map_err(|e| Error::Internal(format!("stored hash: {e}")))?;
    Ok(argon2()?.verify_password(password.as_bytes(), &phc).is_ok())
}

async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

impl Argon2Hasher {
    /// Builds the hasher; computes the dummy hash once (one hash of work at start-up).
    pub fn new() -> Result<Self> {
        Ok(Self {
            dummy: hash_blocking(&random_token::<16>())?,
        })
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: Password) -> Result<PasswordHash> {
        off_runtime(move || hash_blocking(password.expose())).await
    }

    async fn verify(&self, password: Password, hash: Option<PasswordHash>) -> Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.clone());
        let ok = off_runtime(move || verify_blocking(password.expose(), &hash)).await?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let h = Argon2Hasher::new().unwrap();
        let hash = h
            .hash(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify(Password::presented("correct horse"), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !h.verify(Password::presented("wrong horse"), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let h = Argon2Hasher::new().unwrap();
        assert!(
            !h.verify(Password::presented("anything"), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ() {
        let h = Argon2Hasher::new().unwrap();
        let a = h
            .hash(Password::parse("same password").unwrap())
            .await
            .unwrap();
        let b = h
            .hash(Password::parse("same password").unwrap())
            .await
            .unwrap();
        assert_ne!(a, b);
    }
}
