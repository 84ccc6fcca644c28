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

/// Outstanding one-time codes, at most one per (purpose, target). A wrong, used, burned,
/// expired or unknown code is never an error: `use_otp` answers `Ok(false)` for all of them,
/// which the use cases turn into one and the same refusal.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OneTimeCodes: Send + Sync {
    /// Keeps `code` as the only code for its purpose and target: MUST replace any earlier
    /// code for the same pair (the earlier one no longer works: only the newest mail works)
    /// and start its count of wrong guesses again at zero, leaving codes for other purposes
    /// or other targets as they are.
    ///
    /// MUST also forget codes that expired by `code.created_at` (`expires_at <=
    /// created_at`), so that the table does not grow with codes nobody used: SQLite forgets
    /// all of them, PostgreSQL at most 100 per call and none that a guess holds, so that a
    /// send never locks the table; a backlog drains over the next sends.
    async fn put_otp(&self, code: NewOtp) -> Result<()>;

    /// Tries `digest` against the code kept for (`purpose`, `target`), in one transaction
    /// that locks the code, so guesses at one code never interleave. Judged by
    /// `confab_domain::judge_otp`, it MUST answer:
    ///
    /// - `false` when no code is kept (never sent, replaced, used, burned or expired);
    /// - `false` when `now >= expires_at`, even for the right digest, deleting the code;
    /// - `true` for the right digest in time, deleting the code: single use, so of many
    ///   guesses with the right digest at the same instant exactly one answers `true`;
    /// - `false` for a wrong digest, counting it; the `OTP_MAX_ATTEMPTS`-th wrong guess
    ///   deletes the code (it is burned: the right digest answers `false` after it). Wrong
    ///   guesses at the same instant are each counted.
    async fn use_otp(
        &self,
        purpose: OtpPurpose,
        target: String,
        digest: CodeDigest,
        now: Timestamp,
    ) -> Result<bool>;
}
