use async_trait::async_trait;

use crate::Result;

/// Liveness of the database and the server-wide settings kept in it.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Health: Send + Sync {
    /// A cheap round trip to the database. MUST return `Error::Unavailable` when it is down.
    async fn ping(&self) -> Result<()>;

    /// Returns the server's signing secret, storing `candidate` first if none is stored yet.
    /// MUST be atomic, so that instances starting at once all end up with the same secret.
    async fn signing_secret_or_init(&self, candidate: Vec<u8>) -> Result<Vec<u8>>;
}
