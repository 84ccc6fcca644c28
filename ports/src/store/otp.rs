use async_trait::async_trait;
use confab_domain::{OtpPurpose, Timestamp};

use crate::Result;
use crate::otp::CodeDigest;

/// A code to keep until it is used, burned or expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOtp {
    pub purpose: OtpPurpose,
    /// `OtpTarget::key` of whom it was sent to.
    pub target: String,
    pub digest: CodeDigest,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

/// Outstanding one-time codes, at most one per (purpose, target).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OneTimeCodes: Send + Sync {
    /// Keeps `code`, replacing any earlier code for the same purpose and target (only the
    /// newest mail works). Also forgets codes that expired before `code.created_at`.
    async fn put_otp(&self, code: NewOtp) -> Result<()>;

    /// Tries `digest` against the code kept for (`purpose`, `target`), in one transaction
    /// that locks the code, judged by `confab_domain::judge_otp`: `true` when it matched in
    /// time (the code is then deleted: single use). A wrong guess is counted and the last
    /// allowed one deletes the code; an expired code is deleted. `false` when there is none.
    async fn use_otp(
        &self,
        purpose: OtpPurpose,
        target: String,
        digest: CodeDigest,
        now: Timestamp,
    ) -> Result<bool>;
}
