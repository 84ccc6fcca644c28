//! `Blocks` on SQLite, and the blocks the pool and direct chats ask about. What a block
//! refuses is decided in `confab_domain::block` and `confab_domain::pool::pick`; this module
//! only reads and writes the rows.

use async_trait::async_trait;
use confab_domain::block::{Between, check_block};
use confab_domain::{GroupId, Timestamp, User, UserId};
use confab_ports::store::{Blocked, Blocks};
use confab_ports::{Error, Result};
use rusqlite::{Connection, params};

use crate::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{USER_COLUMNS, millis, user_from_row, uuid_at};
use crate::users::load_user;

/// The blocks between `me` and `other`, both ways.
pub(crate) fn between(conn: &Connection, me: UserId, other: UserId) -> StoreResult<Between> {
    let blocked = |blocker: UserId, blocked: UserId| -> StoreResult<bool> {
        Ok(conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2)",
            )?
            .query_row(params![blocker.to_string(), blocked.to_string()], |r| {
                r.get(0)
            })?)
    };
    Ok(Between {
        blocked_by_other: blocked(other, me)?,
        blocked_other: blocked(me, other)?,
    })
}

/// Everyone `user` blocked or was blocked by.
pub(crate) fn either_way(conn: &Connection, user: UserId) -> StoreResult<Vec<UserId>> {
    conn.prepare_cached(
        "SELECT blocked_id FROM blocks WHERE blocker_id = ?1
         UNION SELECT blocker_id FROM blocks WHERE blocked_id = ?1",
    )?
    .query_map([user.to_string()], |row| {
        uuid_at(row, 0).map(UserId::from_uuid)
    })?
    .collect::<rusqlite::Result<_>>()
    .map_err(Into::into)
}

fn block(
    conn: &Connection,
    blocker: UserId,
    blocked: UserId,
    now: Timestamp,
) -> StoreResult<Blocked> {
    check_block(blocker, blocked).map_err(Error::from)?;
    if load_user(conn, blocked)?.is_none() {
        return Err(Error::NotFound("user").into());
    }
    let added = conn.execute(
        "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![blocker.to_string(), blocked.to_string(), millis(now)],
    )?;
    if added == 0 {
        return Ok(Blocked {
            changed: false,
            closed: Vec::new(),
        });
    }
    let closed = conn
        .prepare_cached(
            "UPDATE groups SET closed_at = ?3
              WHERE kind = 'direct' AND closed_at IS NULL
                AND id IN (SELECT a.group_id FROM members a
                             JOIN members b ON b.group_id = a.group_id
                            WHERE a.user_id = ?1 AND b.user_id = ?2)
             RETURNING id",
        )?
        .query_map(
            params![blocker.to_string(), blocked.to_string(), millis(now)],
            |row| uuid_at(row, 0).map(GroupId::from_uuid),
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Blocked {
        changed: true,
        closed,
    })
}

#[async_trait]
impl Blocks for SqliteStore {
    async fn block(&self, blocker: UserId, blocked: UserId, now: Timestamp) -> Result<Blocked> {
        Ok(self
            .writer
            .write(move |conn| block(conn, blocker, blocked, now))
            .await?)
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        Ok(self
            .writer
            .write(move |conn| {
                let removed = conn.execute(
                    "DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2",
                    params![blocker.to_string(), blocked.to_string()],
                )?;
                Ok(removed > 0)
            })
            .await?)
    }

    async fn blocked_by(&self, blocker: UserId) -> Result<Vec<User>> {
        Ok(self
            .readers
            .read(move |conn| {
                // The blocks' own `created_at` is renamed so the user columns stay unambiguous.
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users
                       JOIN (SELECT blocked_id, created_at AS blocked_at FROM blocks
                              WHERE blocker_id = ?1) b ON b.blocked_id = users.id
                      ORDER BY b.blocked_at DESC, users.id"
                );
                conn.prepare_cached(&sql)?
                    .query_map([blocker.to_string()], user_from_row)?
                    .collect::<rusqlite::Result<_>>()
                    .map_err(Into::into)
            })
            .await?)
    }
}
