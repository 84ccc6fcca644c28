//! Throttling as a port: in-process now, shared (Redis) when several instances run.

use async_trait::async_trait;
use std::time::Duration;

/// The budgets the server keeps. Each adapter is configured with a quota per bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Failed logins against one account.
    LoginFailuresPerAccount,
    /// Failed logins from one client address.
    LoginFailuresPerIp,
    /// Requests of one authenticated user.
    RequestsPerUser,
    /// Requests of one anonymous client address.
    RequestsPerIp,
    /// Typing notices of one user in one group.
    Typing,
    /// One-time codes asked for one address (or login, as typed).
    OtpSendsPerAddress,
    /// One-time codes asked for from one client address.
    OtpSendsPerIp,
}

/// The budget is spent; come back after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub retry_after: Duration,
}

/// Counts spending against per-key budgets.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Spends one unit of `key`'s budget in `bucket`, or says when one will be available.
    async fn hit(&self, bucket: Bucket, key: &str) -> Result<(), Exhausted>;

    /// Whether one unit is available, without spending it.
    async fn peek(&self, bucket: Bucket, key: &str) -> Result<(), Exhausted>;

    /// Gives back one unit spent by `hit` (never above the budget): an attempt that turned out
    /// not to count.
    async fn refund(&self, bucket: Bucket, key: &str);
}

impl From<Exhausted> for crate::Error {
    fn from(e: Exhausted) -> Self {
        crate::Error::RateLimited {
            retry_after: e.retry_after,
        }
    }
}
