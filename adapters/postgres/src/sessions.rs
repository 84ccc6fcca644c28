//! `Sessions` on PostgreSQL: logins and their refresh-token families.

use async_trait::async_trait;
use confab_domain::decide::{self, Refresh};
use confab_domain::{SessionId, Timestamp, UserId};
use confab_ports::Result;
use confab_ports::store::{NewSession, Principal, Rotation, Sessions};
use confab_ports::tokens::TokenHash;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::PgStore;
use crate::error::StoreResult;
use crate::rows::millis;
use crate::users::load_user;

async fn insert_token(
    conn: &mut PgConnection,
    hash: &TokenHash,
    session: Uuid,
    expires_at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(&hash.0)
    .bind(session)
    .bind(millis(expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

async fn revoke(conn: &mut PgConnection, session: Uuid, now: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(session)
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

struct Presented {
    session_id: Uuid,
    user_id: Uuid,
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

/// The presented token and its login, with the token's row locked: two presentations of one
/// token are decided one after the other, so the second sees the first's use (reuse).
async fn find_token(conn: &mut PgConnection, hash: &TokenHash) -> StoreResult<Option<Presented>> {
    let row = sqlx::query(
        "SELECT r.session_id, s.user_id, r.expires_at, r.used_at IS NOT NULL,
                s.revoked_at IS NOT NULL, u.banned_at IS NOT NULL
           FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
                JOIN users u ON u.id = s.user_id
          WHERE r.token_hash = $1
          FOR UPDATE OF r",
    )
    .bind(&hash.0)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Presented {
        session_id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        expires_at: row.try_get(2)?,
        used: row.try_get(3)?,
        revoked: row.try_get(4)?,
        banned: row.try_get(5)?,
    }))
}

async fn rotate(
    conn: &mut PgConnection,
    presented: &TokenHash,
    next: &TokenHash,
    next_expires_at: Timestamp,
    now: Timestamp,
) -> StoreResult<Rotation> {
    let found = find_token(conn, presented).await?;
    let state = found.as_ref().map(Presented::state).transpose()?;
    let p = match (decide::refresh(state, now), found) {
        (Refresh::Rotate, Some(p)) => p,
        (Refresh::Reuse, Some(p)) => {
            revoke(conn, p.session_id, now).await?;
            return Ok(Rotation::Reused);
        }
        (Refresh::Banned, _) => return Ok(Rotation::Banned),
        _ => return Ok(Rotation::Rejected),
    };
    sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1")
        .bind(&presented.0)
        .bind(millis(now))
        .execute(&mut *conn)
        .await?;
    let Some(user) = load_user(conn, UserId::from_uuid(p.user_id)).await? else {
        return Ok(Rotation::Rejected);
    };
    insert_token(conn, next, p.session_id, next_expires_at).await?;
    Ok(Rotation::Rotated {
        session_id: SessionId::from_uuid(p.session_id),
        user,
    })
}

/// Records a login and its first refresh token.
pub(crate) async fn insert_session(conn: &mut PgConnection, s: &NewSession) -> StoreResult<()> {
    sqlx::query("INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)")
        .bind(s.id.as_uuid())
        .bind(s.user_id.as_uuid())
        .bind(millis(s.now))
        .execute(&mut *conn)
        .await?;
    insert_token(conn, &s.refresh_hash, s.id.as_uuid(), s.refresh_expires_at).await
}

#[async_trait]
impl Sessions for PgStore {
    async fn start_session(&self, s: NewSession) -> Result<()> {
        self.run(async {
            let mut tx = self.begin().await?;
            insert_session(&mut tx, &s).await?;
            tx.commit().await?;
            crate::committed();
            Ok(())
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        presented: TokenHash,
        next: TokenHash,
        next_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Rotation> {
        self.run(async {
            let mut tx = self.begin().await?;
            let rotation = rotate(&mut tx, &presented, &next, next_expires_at, now).await?;
            tx.commit().await?;
            crate::committed();
            Ok(rotation)
        })
        .await
    }

    async fn end_session(&self, presented: TokenHash, now: Timestamp) -> Result<()> {
        self.run(async {
            let mut tx = self.begin().await?;
            if let Some(p) = find_token(&mut tx, &presented).await? {
                revoke(&mut tx, p.session_id, now).await?;
            }
            tx.commit().await?;
            crate::committed();
            Ok(())
        })
        .await
    }

    async fn principal(&self, session_id: SessionId, user_id: UserId) -> Result<Option<Principal>> {
        self.run(async {
            // One row for the account, whether its login is live beside it (a ban answers
            // whatever the login's state).
            let found: Option<(bool, bool, bool)> = sqlx::query_as(
                "SELECT u.is_admin, u.banned_at IS NOT NULL, EXISTS (
                        SELECT 1 FROM sessions s
                         WHERE s.id = $1 AND s.user_id = u.id AND s.revoked_at IS NULL)
                   FROM users u WHERE u.id = $2",
            )
            .bind(session_id.as_uuid())
            .bind(user_id.as_uuid())
            .fetch_optional(&self.pool)
            .await?;
            Ok(found
                .filter(|&(_, banned, live)| banned || live)
                .map(|(is_admin, banned, _)| Principal {
                    user_id,
                    session_id,
                    is_admin,
                    banned,
                }))
        })
        .await
    }
}
