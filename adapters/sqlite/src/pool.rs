//! `MatchPool` on SQLite: a join runs on the writer thread, so the whole match decision is one
//! serial transaction and two joins can never both miss each other.

use async_trait::async_trait;
use confab_domain::decide;
use confab_domain::pool::Waiting;
use confab_domain::{Country, GroupId, Role, Timestamp, UserId};
use confab_ports::store::{Joined, MatchPool, PoolJoin, Swept};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::chat_rows::view;
use crate::error::StoreResult;
use crate::groups::insert_member;
use crate::rows::{Cols, driver, millis, uuid_at};
use confab_ports::store::rows;

fn waiting_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Waiting> {
    rows::waiting(&Cols(row)).map_err(driver)
}

fn drop_expired(conn: &Connection, now: Timestamp) -> StoreResult<u64> {
    let n = conn
        .prepare_cached("DELETE FROM pool_entries WHERE expires_at <= ?1")?
        .execute([millis(now)])?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

/// Whom `user` has an open (not closed, not expired) pool room with.
fn open_partners(conn: &Connection, user: UserId, now: Timestamp) -> StoreResult<Vec<UserId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.user_id
           FROM members me
           JOIN groups g ON g.id = me.group_id
           JOIN members o ON o.group_id = g.id AND o.user_id <> me.user_id
          WHERE me.user_id = ?1 AND g.kind = 'direct' AND g.direct_key IS NULL
            AND g.closed_at IS NULL AND g.expires_at IS NOT NULL AND g.expires_at > ?2",
    )?;
    let rows = stmt.query_map(params![user.to_string(), millis(now)], |row| {
        uuid_at(row, 0).map(UserId::from_uuid)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn join(conn: &Connection, j: &PoolJoin) -> StoreResult<Joined> {
    let country: Option<String> = conn
        .prepare_cached("SELECT country FROM users WHERE id = ?1")?
        .query_row([j.user.to_string()], |row| row.get(0))
        .optional()?
        .ok_or(Error::NotFound("user"))?;
    let country = country.map(Country::from_trusted);
    drop_expired(conn, j.now)?;
    let already: bool = conn
        .prepare_cached("SELECT 1 FROM pool_entries WHERE user_id = ?1")?
        .query_row([j.user.to_string()], |_| Ok(()))
        .optional()?
        .is_some();
    let waiting = conn
        .prepare_cached(
            "SELECT user_id, country, same_country, joined_at, expires_at
               FROM pool_entries ORDER BY joined_at, user_id",
        )?
        .query_map([], waiting_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let partners = open_partners(conn, j.user, j.now)?;
    let blocks = crate::blocks::either_way(conn, j.user)?;
    let facts = j.facts(country, already, &waiting, &partners, &blocks);
    let partner = match decide::join_pool(facts).map_err(Error::from)? {
        decide::Join::Match(partner) => partner,
        decide::Join::Wait(me) => {
            conn.prepare_cached(
                "INSERT INTO pool_entries (user_id, country, same_country, joined_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                j.user.to_string(),
                me.country.as_ref().map(Country::as_str),
                j.same_country,
                millis(j.now),
                millis(j.wait_until),
            ])?;
            return Ok(Joined::Waiting);
        }
    };
    conn.prepare_cached("DELETE FROM pool_entries WHERE user_id = ?1")?
        .execute([partner.to_string()])?;
    create_room(conn, j.room, j.user, partner, j.now, j.room_expires_at)?;
    Ok(Joined::Matched {
        room: view(conn, j.user, j.room)?,
        partner,
    })
}

/// A matched room: a `direct` group without a pair key (the pair may have other chats).
fn create_room(
    conn: &Connection,
    room: GroupId,
    joiner: UserId,
    partner: UserId,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO groups (id, kind, created_by, created_at, expires_at, last_activity_at)
         VALUES (?1, 'direct', ?2, ?3, ?4, ?3)",
    )?
    .execute(params![
        room.to_string(),
        joiner.to_string(),
        millis(now),
        millis(expires_at)
    ])?;
    insert_member(conn, room, partner, Role::Member, now, 0)?;
    insert_member(conn, room, joiner, Role::Member, now, 0)?;
    Ok(())
}

fn sweep(conn: &Connection, now: Timestamp) -> StoreResult<Swept> {
    // Only rows still open are closed, and each by exactly one sweep: the one that changed it.
    let closed = conn
        .prepare_cached(
            "UPDATE groups SET closed_at = ?1
              WHERE closed_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?1
          RETURNING id",
        )?
        .query_map([millis(now)], |row| uuid_at(row, 0).map(GroupId::from_uuid))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let dropped_entries = drop_expired(conn, now)?;
    Ok(Swept {
        closed,
        dropped_entries,
    })
}

#[async_trait]
impl MatchPool for SqliteStore {
    async fn join_pool(&self, join_: PoolJoin) -> Result<Joined> {
        Ok(self.writer.write(move |conn| join(conn, &join_)).await?)
    }

    async fn leave_pool(&self, user: UserId) -> Result<bool> {
        Ok(self
            .writer
            .write(move |conn| {
                let n = conn
                    .prepare_cached("DELETE FROM pool_entries WHERE user_id = ?1")?
                    .execute([user.to_string()])?;
                Ok(n > 0)
            })
            .await?)
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<Swept> {
        Ok(self.writer.write(move |conn| sweep(conn, now)).await?)
    }
}
