//! `Blocks` on PostgreSQL, and the blocks the pool and direct chats ask about. What a block
//! refuses is decided in `confab_domain::block` and `confab_domain::pool::pick`; this module
//! only reads and writes the rows.
//!
//! A block must not race a chat being opened: it takes the pool's lock (joins are decided
//! under it) and locks both users' rows, which `open_direct` share-locks, so a chat opened at
//! the same moment is either closed by the block or refused because of it.

use async_trait::async_trait;
use confab_domain::block::{Between, check_block};
use confab_domain::{GroupId, Timestamp, User, UserId};
use confab_ports::store::{Blocked, Blocks};
use confab_ports::{Error, Result};
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use crate::PgStore;
use crate::error::StoreResult;
use crate::rows::{USER_COLUMNS, millis, user_from_row};

/// Locks the rows of `a` and `b` (in id order, so two lockers never wait on each other);
/// answers how many of them exist.
pub(crate) async fn lock_pair(
    conn: &mut PgConnection,
    a: UserId,
    b: UserId,
    exclusive: bool,
) -> StoreResult<usize> {
    let mode = if exclusive { "UPDATE" } else { "SHARE" };
    let sql = format!("SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR {mode}");
    let found: Vec<Uuid> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(vec![a.as_uuid(), b.as_uuid()])
        .fetch_all(conn)
        .await?;
    Ok(found.len())
}

/// The blocks between `me` and `other`, both ways.
pub(crate) async fn between(
    conn: &mut PgConnection,
    me: UserId,
    other: UserId,
) -> StoreResult<Between> {
    let (blocked_other, blocked_by_other): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2),
                EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $2 AND blocked_id = $1)",
    )
    .bind(me.as_uuid())
    .bind(other.as_uuid())
    .fetch_one(conn)
    .await?;
    Ok(Between {
        blocked_by_other,
        blocked_other,
    })
}

/// Everyone `user` blocked or was blocked by.
pub(crate) async fn either_way(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<UserId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT blocked_id FROM blocks WHERE blocker_id = $1
         UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1",
    )
    .bind(user.as_uuid())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(UserId::from_uuid).collect())
}

async fn block(
    conn: &mut PgConnection,
    blocker: UserId,
    blocked: UserId,
    now: Timestamp,
) -> StoreResult<Blocked> {
    check_block(blocker, blocked).map_err(Error::from)?;
    crate::pool::lock_pool(conn).await?;
    if lock_pair(conn, blocker, blocked, true).await? < 2 {
        return Err(Error::NotFound("user").into());
    }
    let added = sqlx::query(
        "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(blocker.as_uuid())
    .bind(blocked.as_uuid())
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    if added.rows_affected() == 0 {
        return Ok(Blocked {
            changed: false,
            closed: Vec::new(),
        });
    }
    let closed: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE groups SET closed_at = $3
          WHERE kind = 'direct' AND closed_at IS NULL
            AND id IN (SELECT a.group_id FROM members a
                         JOIN members b ON b.group_id = a.group_id
                        WHERE a.user_id = $1 AND b.user_id = $2)
         RETURNING id",
    )
    .bind(blocker.as_uuid())
    .bind(blocked.as_uuid())
    .bind(millis(now))
    .fetch_all(&mut *conn)
    .await?;
    Ok(Blocked {
        changed: true,
        closed: closed.into_iter().map(GroupId::from_uuid).collect(),
    })
}

#[async_trait]
impl Blocks for PgStore {
    async fn block(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<Blocked> {
        in_tx!(self, |tx| block(&mut tx, blocker, blocked, now))
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        self.run(async {
            let removed =
                sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
                    .bind(blocker.as_uuid())
                    .bind(blocked.as_uuid())
                    .execute(&self.pool)
                    .await?;
            crate::committed();
            Ok(removed.rows_affected() > 0)
        })
        .await
    }

    async fn blocked_by(&self, blocker: UserId) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM blocks b JOIN users u ON u.id = b.blocked_id
              WHERE b.blocker_id = $1 ORDER BY b.created_at DESC, u.id"
        );
        self.run(async {
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(blocker.as_uuid())
                .fetch_all(&self.pool)
                .await?;
            Ok(rows
                .iter()
                .map(user_from_row)
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
