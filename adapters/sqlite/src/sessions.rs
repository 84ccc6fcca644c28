//! `Sessions` on SQLite: logins and their refresh-token families.

use async_trait::async_trait;
use confab_domain::decide::{self, Refresh};
use confab_domain::{SessionId, Timestamp, UserId};
use confab_ports::Result;
use confab_ports::store::{NewSession, Principal, Rotation, Sessions};
use confab_ports::tokens::TokenHash;
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{millis, uuid_at};
use crate::users::load_user;

fn insert_token(
    conn: &Connection,
    hash: &TokenHash,
    session: &str,
    expires_at: Timestamp,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
        params![hash.0, session, millis(expires_at)],
    )?;
    Ok(())
}

fn revoke(conn: &Connection, session: &str, now: Timestamp) -> StoreResult<()> {
    conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![session, millis(now)],
    )?;
    Ok(())
}

struct Presented {
    session_id: SessionId,
    user_id: UserId,
    expires_at: i64,
    used: bool,
    revoked: bool,
    banned: bool,
}

impl Presented {
    /// What the refresh decision needs; an expiry out of range is a broken row.
    fn state(&self) -> StoreResult<decide::Presented> {
        Ok(decide::Presented {
            revoked: self.revoked,
            used: self.used,
            banned: self.banned,
            expires_at: confab_domain::from_unix_millis(self.expires_at).ok_or_else(|| {
                crate::error::StoreError::Internal("token expiry out of range".into())
            })?,
        })
    }
}

fn find_token(conn: &Connection, hash: &TokenHash) -> StoreResult<Option<Presented>> {
    Ok(conn
        .query_row(
            "SELECT r.session_id, s.user_id, r.expires_at, r.used_at IS NOT NULL,
                    s.revoked_at IS NOT NULL, u.banned_at IS NOT NULL
             FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
                  JOIN users u ON u.id = s.user_id
             WHERE r.token_hash = ?1",
            [&hash.0],
            |row| {
                Ok(Presented {
                    session_id: SessionId::from_uuid(uuid_at(row, 0)?),
                    user_id: UserId::from_uuid(uuid_at(row, 1)?),
                    expires_at: row.get(2)?,
                    used: row.get(3)?,
                    revoked: row.get(4)?,
                    banned: row.get(5)?,
                })
            },
        )
        .optional()?)
}

fn rotate(
    conn: &Connection,
    presented: &TokenHash,
    next: &TokenHash,
    next_expires_at: Timestamp,
    now: Timestamp,
) -> StoreResult<Rotation> {
    let found = find_token(conn, presented)?;
    let state = found.as_ref().map(Presented::state).transpose()?;
    let p = match (decide::refresh(state, now), found) {
        (Refresh::Rotate, Some(p)) => p,
        (Refresh::Reuse, Some(p)) => {
            revoke(conn, &p.session_id.to_string(), now)?;
            return Ok(Rotation::Reused);
        }
        (Refresh::Banned, _) => return Ok(Rotation::Banned),
        _ => return Ok(Rotation::Rejected),
    };
    let session = p.session_id.to_string();
    conn.execute(
        "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1",
        params![presented.0, millis(now)],
    )?;
    let Some(user) = load_user(conn, p.user_id)? else {
        return Ok(Rotation::Rejected);
    };
    insert_token(conn, next, &session, next_expires_at)?;
    Ok(Rotation::Rotated {
        session_id: p.session_id,
        user,
    })
}

/// Records a login and its first refresh token.
pub(crate) fn insert_session(conn: &Connection, s: &NewSession) -> StoreResult<()> {
    let id = s.id.to_string();
    conn.execute(
        "INSERT INTO sessions (id, user_id, created_at) VALUES (?1, ?2, ?3)",
        params![id, s.user_id.to_string(), millis(s.now)],
    )?;
    insert_token(conn, &s.refresh_hash, &id, s.refresh_expires_at)
}

#[async_trait]
impl Sessions for SqliteStore {
    async fn start_session(&self, s: NewSession) -> Result<()> {
        Ok(self
            .writer
            .write(move |conn| insert_session(conn, &s))
            .await?)
    }

    async fn rotate_refresh(
        &self,
        presented: TokenHash,
        next: TokenHash,
        next_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Rotation> {
        Ok(self
            .writer
            .write(move |conn| rotate(conn, &presented, &next, next_expires_at, now))
            .await?)
    }

    async fn end_session(&self, presented: TokenHash, now: Timestamp) -> Result<()> {
        Ok(self
            .writer
            .write(move |conn| match find_token(conn, &presented)? {
                Some(p) => revoke(conn, &p.session_id.to_string(), now),
                None => Ok(()),
            })
            .await?)
    }

    async fn principal(&self, session_id: SessionId, user_id: UserId) -> Result<Option<Principal>> {
        Ok(self
            .readers
            .read(move |conn| {
                // Every authenticated request asks this: keep it prepared. One row for the
                // account, whether its login is live beside it (a ban answers whatever the
                // login's state).
                let found: Option<(bool, bool, bool)> = conn
                    .prepare_cached(
                        "SELECT u.is_admin, u.banned_at IS NOT NULL, EXISTS (
                                SELECT 1 FROM sessions s
                                 WHERE s.id = ?1 AND s.user_id = u.id AND s.revoked_at IS NULL)
                           FROM users u WHERE u.id = ?2",
                    )?
                    .query_row(
                        params![session_id.to_string(), user_id.to_string()],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .optional()?;
                Ok(found.filter(|&(_, banned, live)| banned || live).map(
                    |(is_admin, banned, _)| Principal {
                        user_id,
                        session_id,
                        is_admin,
                        banned,
                    },
                ))
            })
            .await?)
    }
}
