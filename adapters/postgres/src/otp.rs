//! `OneTimeCodes` on PostgreSQL: a guess locks its code row (`FOR UPDATE`), so parallel
//! guesses are counted one after the other and a code is accepted at most once.

use async_trait::async_trait;
use confab_domain::{
    OtpPurpose, OtpState, OtpVerdict, Timestamp, from_unix_millis as from_millis, judge_otp,
};
use confab_ports::Result;
use confab_ports::otp::CodeDigest;
use confab_ports::store::{NewOtp, OneTimeCodes};
use sqlx::Row;

use crate::PgStore;
use crate::error::StoreError;
use crate::rows::millis;

#[async_trait]
impl OneTimeCodes for PgStore {
    async fn put_otp(&self, code: NewOtp) -> Result<()> {
        in_tx!(self, |tx| async {
            sqlx::query(
                // A few expired codes per send, skipping rows others hold: never a table-wide
                // lock in a request.
                "DELETE FROM otp_codes WHERE ctid IN (
                     SELECT ctid FROM otp_codes WHERE expires_at <= $1
                      LIMIT 100 FOR UPDATE SKIP LOCKED)",
            )
            .bind(millis(code.created_at))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO otp_codes (purpose, target, digest, expires_at, attempts, created_at)
                 VALUES ($1, $2, $3, $4, 0, $5)
                 ON CONFLICT (purpose, target) DO UPDATE SET
                     digest = excluded.digest, expires_at = excluded.expires_at,
                     attempts = 0, created_at = excluded.created_at",
            )
            .bind(code.purpose.as_str())
            .bind(&code.target)
            .bind(&code.digest.0)
            .bind(millis(code.expires_at))
            .bind(millis(code.created_at))
            .execute(&mut *tx)
            .await?;
            Ok::<_, StoreError>(())
        })
    }

    async fn use_otp(
        &self,
        purpose: OtpPurpose,
        target: String,
        digest: CodeDigest,
        now: Timestamp,
    ) -> Result<bool> {
        in_tx!(self, |tx| async {
            let row = sqlx::query(
                "SELECT digest, expires_at, attempts FROM otp_codes
                 WHERE purpose = $1 AND target = $2 FOR UPDATE",
            )
            .bind(purpose.as_str())
            .bind(&target)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Ok::<_, StoreError>(false);
            };
            let stored: Vec<u8> = row.try_get(0)?;
            let expires_at: i64 = row.try_get(1)?;
            let attempts: i32 = row.try_get(2)?;
            let state = OtpState {
                expires_at: from_millis(expires_at)
                    .ok_or_else(|| StoreError::Internal("otp expiry out of range".into()))?,
                // A count that cannot be read burns the code (as on SQLite), never the reverse.
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            };
            let verdict = judge_otp(state, CodeDigest(stored).same_as(&digest), now);
            let (sql, accepted) = match verdict {
                OtpVerdict::Accept => (
                    "DELETE FROM otp_codes WHERE purpose = $1 AND target = $2",
                    true,
                ),
                OtpVerdict::Expired | OtpVerdict::Wrong { burned: true } => (
                    "DELETE FROM otp_codes WHERE purpose = $1 AND target = $2",
                    false,
                ),
                OtpVerdict::Wrong { burned: false } => (
                    "UPDATE otp_codes SET attempts = attempts + 1 WHERE purpose = $1 AND target = $2",
                    false,
                ),
            };
            sqlx::query(sql)
                .bind(purpose.as_str())
                .bind(&target)
                .execute(&mut *tx)
                .await?;
            Ok(accepted)
        })
    }
}
