//! `OneTimeCodes` on SQLite: each operation is one write on the writer thread, so a guess
//! and its count can never interleave with another guess.

use async_trait::async_trait;
use confab_domain::{OtpPurpose, OtpState, OtpVerdict, Timestamp, judge_otp};
use confab_ports::Result;
use confab_ports::otp::CodeDigest;
use confab_ports::store::{NewOtp, OneTimeCodes};
use rusqlite::{OptionalExtension, params};

use crate::SqliteStore;
use crate::error::StoreError;
use crate::rows::{from_millis, millis};

#[async_trait]
impl OneTimeCodes for SqliteStore {
    async fn put_otp(&self, code: NewOtp) -> Result<()> {
        Ok(self
            .writer
            .write(move |conn| {
                conn.execute(
                    "DELETE FROM otp_codes WHERE expires_at <= ?1",
                    [millis(code.created_at)],
                )?;
                conn.execute(
                    "INSERT INTO otp_codes (purpose, target, digest, expires_at, attempts, created_at)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5)
                     ON CONFLICT (purpose, target) DO UPDATE SET
                         digest = excluded.digest, expires_at = excluded.expires_at,
                         attempts = 0, created_at = excluded.created_at",
                    params![
                        code.purpose.as_str(),
                        code.target,
                        code.digest.0,
                        millis(code.expires_at),
                        millis(code.created_at),
                    ],
                )?;
                Ok(())
            })
            .await?)
    }

    async fn use_otp(
        &self,
        purpose: OtpPurpose,
        target: String,
        digest: CodeDigest,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(self
            .writer
            .write(move |conn| {
                let stored = conn
                    .query_row(
                        "SELECT digest, expires_at, attempts FROM otp_codes
                         WHERE purpose = ?1 AND target = ?2",
                        params![purpose.as_str(), target],
                        |r| {
                            Ok((
                                r.get::<_, Vec<u8>>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, i64>(2)?,
                            ))
                        },
                    )
                    .optional()?;
                let Some((stored, expires_at, attempts)) = stored else {
                    return Ok(false);
                };
                let state = OtpState {
                    expires_at: from_millis(expires_at)
                        .ok_or_else(|| StoreError::Internal("otp expiry out of range".into()))?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                };
                let verdict = judge_otp(state, CodeDigest(stored).same_as(&digest), now);
                let delete = || {
                    conn.execute(
                        "DELETE FROM otp_codes WHERE purpose = ?1 AND target = ?2",
                        params![purpose.as_str(), target],
                    )
                };
                match verdict {
                    OtpVerdict::Accept => {
                        delete()?;
                        Ok(true)
                    }
                    OtpVerdict::Expired | OtpVerdict::Wrong { burned: true } => {
                        delete()?;
                        Ok(false)
                    }
                    OtpVerdict::Wrong { burned: false } => {
                        conn.execute(
                            "UPDATE otp_codes SET attempts = attempts + 1
                             WHERE purpose = ?1 AND target = ?2",
                            params![purpose.as_str(), target],
                        )?;
                        Ok(false)
                    }
                }
            })
            .await?)
    }
}
