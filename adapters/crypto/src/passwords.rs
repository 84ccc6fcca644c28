//! Argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1), always on a blocking thread.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{Output, ParamsString, PasswordHash as Phc, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    /// One Argon2 memory area per slot, reused. Allocating 19 MiB per hash on whichever
    /// blocking thread ran it left the allocator holding over 1 GB after a burst of 150
    /// registrations (measured): freed blocks stay in per-thread arenas.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// How long a hash may wait for a slot before the request is answered 503.
const SLOT_WAIT: Duration = Duration::from_secs(10);

fn params() -> Result<Params> {
    Params::new(19_456, 2, 1, None).map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))
}

fn internal(what: &'static str) -> impl Fn(argon2::password_hash::Error) -> Error {
    move |e| Error::Internal(format!("{what}: {e}"))
}

/// Hashes with a fresh salt, in caller-provided memory.
fn hash_in(memory: &mut Vec<Block>, password: &str) -> Result<PasswordHash> {
    let params = params()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt_bytes = random_bytes::<16>();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(internal("salt"))?;
    let blocks = sized(memory, params.block_count());
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        Ok(argon.hash_password_into_with_memory(password.as_bytes(), &salt_bytes, out, blocks)?)
    })
    .map_err(internal("argon2 hash"))?;
    let phc = Phc {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(internal("argon2 parameters"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// Checks a password against a stored PHC hash (whatever parameters it was made with), in
/// caller-provided memory. The comparison is constant-time (`Output`'s equality).
fn verify_in(memory: &mut Vec<Block>, password: &str, stored: &PasswordHash) -> Result<bool> {
    let phc = Phc::new(&stored.0).map_err(internal("stored hash"))?;
    if phc.algorithm != argon2::ARGON2ID_IDENT {
        return Err(Error::Internal(format!(
            "unsupported hash algorithm {}",
            phc.algorithm
        )));
    }
    let params = Params::try_from(&phc).map_err(internal("stored hash parameters"))?;
    let version = Version::try_from(phc.version.unwrap_or(0x13))
        .map_err(|e| Error::Internal(format!("stored hash version: {e}")))?;
    let mut salt_buf = [0u8; 64];
    let salt = phc
        .salt
        .ok_or_else(|| Error::Internal("stored hash has no salt".into()))?
        .decode_b64(&mut salt_buf)
        .map_err(internal("stored hash salt"))?;
    let expected = phc
        .hash
        .ok_or_else(|| Error::Internal("stored hash has no output".into()))?;
    let argon = Argon2::new(Algorithm::Argon2id, version, params.clone());
    let blocks = sized(memory, params.block_count());
    let computed = Output::init_with(expected.len(), |out| {
        Ok(argon.hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)?)
    })
    .map_err(internal("argon2 verify"))?;
    Ok(computed == expected)
}

/// The memory as exactly `blocks` blocks, grown once if it is too small.
fn sized(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
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
        let mut memory = Vec::new();
        Ok(Self {
            dummy: hash_in(&mut memory, &random_token::<16>())?,
            slots: Arc::new(Semaphore::new(slots.max(1))),
            memory: Arc::new(Mutex::new(vec![memory])),
        })
    }

    /// Runs `f` on a blocking thread with a slot and its memory.
    async fn off_runtime<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _slot = tokio::time::timeout(SLOT_WAIT, self.slots.acquire())
            .await
            .map_err(|_| Error::Unavailable("password hashing is saturated".into()))?
            .map_err(|_| Error::Internal("hashing slots closed".into()))?;
        let pool = Arc::clone(&self.memory);
        let mut memory = pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        let (memory, result) = tokio::task::spawn_blocking(move || {
            let result = f(&mut memory);
            (memory, result)
        })
        .await
        .map_err(|e| Error::Internal(format!("hashing task: {e}")))?;
        pool.lock().unwrap_or_else(|p| p.into_inner()).push(memory);
        result
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: Password) -> Result<PasswordHash> {
        self.off_runtime(move |memory| hash_in(memory, password.expose()))
            .await
    }

    async fn verify(&self, password: Password, hash: Option<PasswordHash>) -> Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.clone());
        let ok = self
            .off_runtime(move |memory| verify_in(memory, password.expose(), &hash))
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
                    h.off_runtime(move |_| {
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

#[cfg(test)]
mod compatibility {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier};

    /// Our hashes are standard PHC strings that the argon2 crate's own API accepts, and we
    /// accept its hashes: nothing stored depends on this module's way of computing them.
    #[test]
    fn hashes_interoperate_with_the_standard_api() {
        let mut memory = Vec::new();
        let ours = hash_in(&mut memory, "correct horse").unwrap();
        let standard = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap());
        let parsed = Phc::new(&ours.0).unwrap();
        assert!(standard.verify_password(b"correct horse", &parsed).is_ok());
        assert!(standard.verify_password(b"wrong horse", &parsed).is_err());

        let salt = SaltString::encode_b64(&[9; 16]).unwrap();
        let theirs = standard
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        let theirs = PasswordHash(theirs);
        assert!(verify_in(&mut memory, "battery staple", &theirs).unwrap());
        assert!(!verify_in(&mut memory, "battery stapler", &theirs).unwrap());
    }

    #[test]
    fn hashes_made_with_other_parameters_still_verify() {
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[3; 16]).unwrap();
        let old = PasswordHash(
            cheap
                .hash_password(b"old password", &salt)
                .unwrap()
                .to_string(),
        );
        let mut memory = Vec::new();
        assert!(verify_in(&mut memory, "old password", &old).unwrap());
        // And the same memory still serves the current, larger parameters afterwards.
        let new = hash_in(&mut memory, "new password").unwrap();
        assert!(verify_in(&mut memory, "new password", &new).unwrap());
    }
}
