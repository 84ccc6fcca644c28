//! Argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1), always on a blocking thread.

use argon2::password_hash::{
    PasswordHash as Phc, PasswordHasher as _, PasswordVerifier, SaltString,
};
use std::sync::Arc;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use confab_domain::Password;
use confab_ports::hasher::{PasswordHash, PasswordHasher};
use confab_ports::{Error, Result};
use tokio::sync::Semaphore;

use crate::random::{random_bytes, random_token};

/// Hashes passwords with Argon2id.
#[derive(Clone)]
pub struct Argon2Hasher {
    /// Verified against when an account does not exist, so that both cases cost the same.
    dummy: PasswordHash,
    /// Each hash holds 19 MiB for its duration: at most this many run at once, so a burst of
    /// registrations or logins queues instead of exhausting memory and threads.
    slots: Arc<Semaphore>,
}

/// How long a hash may wait for a slot before the request is answered 503.
const SLOT_WAIT: Duration = Duration::from_secs(10);

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

impl Argon2Hasher {
    /// Builds the hasher; computes the dummy hash once (one hash of work at start-up). At most
    /// twice as many hashes as there are cores run at once.
    pub fn new() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self::with_slots(2 * cores)
    }

    /// A hasher running at most `slots` hashes at once.
    pub fn with_slots(slots: usize) -> Result<Self> {
        Ok(Self {
            dummy: hash_blocking(&random_token::<16>())?,
            slots: Arc::new(Semaphore::new(slots.max(1))),
        })
    }

    async fn off_runtime<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _slot = tokio::time::timeout(SLOT_WAIT, self.slots.acquire())
            .await
            .map_err(|_| Error::Unavailable("password hashing is saturated".into()))?
            .map_err(|_| Error::Internal("hashing slots closed".into()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: Password) -> Result<PasswordHash> {
        self.off_runtime(move || hash_blocking(password.expose()))
            .await
    }

    async fn verify(&self, password: Password, hash: Option<PasswordHash>) -> Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.clone());
        let ok = self
            .off_runtime(move || verify_blocking(password.expose(), &hash))
            .await?;
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_beyond_the_slots_wait_their_turn() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let h = Argon2Hasher::with_slots(1).unwrap();
        let peak = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (h, peak, running) = (h.clone(), peak.clone(), running.clone());
                tokio::spawn(async move {
                    h.off_runtime(move || {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        peak.fetch_max(now, SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(SeqCst), 1);
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
