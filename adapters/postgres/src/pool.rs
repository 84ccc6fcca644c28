//! `MatchPool` on PostgreSQL. Every join first takes one transaction-scoped advisory lock, so
//! match decisions are made one at a time across every instance: with row locks alone
//! (`FOR UPDATE SKIP LOCKED`) two users joining at the same instant could each see the other's
//! entry as not yet there and both wait forever. Correctness over throughput: a join is a few
//! short statements.

use async_trait::async_trait;
use confab_domain::decide;
use confab_domain::pool::Waiting;
use confab_domain::{Country, GroupId, Role, Timestamp, UserId};
use confab_ports::store::{Joined, MatchPool, PoolJoin, Swept};
use confab_ports::{Error, Result};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::PgStore;
use crate::chat_rows::view;
use crate::error::StoreResult;
use crate::groups::insert_member;
use crate::rows::{Cols, driver, millis};
use confab_ports::store::rows;

/// Key of the advisory lock that serialises match decisions ("pool").
const POOL_LOCK: i64 = 0x706f_6f6c;

fn waiting_from_row(row: &PgRow) -> sqlx::Result<Waiting> {
    rows::waiting(&Cols(row)).map_err(driver)
}

async fn drop_expired(conn: &mut PgConnection, now: Timestamp) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM pool_entries WHERE expires_at <= $1")
            .bind(millis(now))
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Whom `user` has an open (not closed, not expired) pool room with.
async fn open_partners(
    conn: &mut PgConnection,
    user: UserId,
    now: Timestamp,
) -> StoreResult<Vec<UserId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT o.user_id
           FROM members me
           JOIN groups g ON g.id = me.group_id
           JOIN members o ON o.group_id = g.id AND o.user_id <> me.user_id
          WHERE me.user_id = $1 AND g.kind = 'direct' AND g.direct_key IS NULL
            AND g.closed_at IS NULL AND g.expires_at IS NOT NULL AND g.expires_at > $2",
    )
    .bind(user.as_uuid())
    .bind(millis(now))
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(UserId::from_uuid).collect())
}

/// Waits for the pool's lock, held until the transaction ends.
pub(crate) async fn lock_pool(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(POOL_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

async fn join(conn: &mut PgConnection, j: &PoolJoin) -> StoreResult<Joined> {
    lock_pool(conn).await?;
    let country: Option<String> = sqlx::query_scalar("SELECT country FROM users WHERE id = $1")
        .bind(j.user.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let country = country.map(Country::from_trusted);
    drop_expired(conn, j.now).await?;
    let already = sqlx::query("SELECT 1 FROM pool_entries WHERE user_id = $1")
        .bind(j.user.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    let waiting = sqlx::query(
        "SELECT user_id, country, same_country, joined_at, expires_at
           FROM pool_entries ORDER BY joined_at, user_id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(waiting_from_row)
    .collect::<sqlx::Result<Vec<_>>>()?;
    let partners = open_partners(conn, j.user, j.now).await?;
    let blocks = crate::blocks::either_way(conn, j.user).await?;
    let facts = j.facts(country, already, &waiting, &partners, &blocks);
    let partner = match decide::join_pool(facts).map_err(Error::from)? {
        decide::Join::Match(partner) => partner,
        decide::Join::Wait(me) => {
            sqlx::query(
                "INSERT INTO pool_entries (user_id, country, same_country, joined_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(j.user.as_uuid())
            .bind(me.country.as_ref().map(Country::as_str))
            .bind(j.same_country)
            .bind(millis(j.now))
            .bind(millis(j.wait_until))
            .execute(&mut *conn)
            .await?;
            return Ok(Joined::Waiting);
        }
    };
    // The partner's entry must still be there: a sweep on another instance (which does not
    // take the pool lock) may have dropped it as expired since it was read.
    let taken = sqlx::query("DELETE FROM pool_entries WHERE user_id = $1")
        .bind(partner.as_uuid())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if taken == 0 {
        return Err(
            Error::Unavailable("the pool changed during the match; try again".into()).into(),
        );
    }
    create_room(conn, j, partner).await?;
    Ok(Joined::Matched {
        room: view(conn, j.user, j.room).await?,
        partner,
    })
}

/// A matched room: a `direct` group without a pair key (the pair may have other chats).
async fn create_room(conn: &mut PgConnection, j: &PoolJoin, partner: UserId) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO groups (id, kind, created_by, created_at, expires_at, last_activity_at)
         VALUES ($1, 'direct', $2, $3, $4, $3)",
    )
    .bind(j.room.as_uuid())
    .bind(j.user.as_uuid())
    .bind(millis(j.now))
    .bind(millis(j.room_expires_at))
    .execute(&mut *conn)
    .await?;
    insert_member(conn, j.room, partner, Role::Member, j.now, 0).await?;
    insert_member(conn, j.room, j.user, Role::Member, j.now, 0).await?;
    Ok(())
}

async fn leave(conn: &mut PgConnection, user: UserId) -> StoreResult<bool> {
    // A leave between a join's choice of this user and its commit would make a room with
    // someone who had already left: leaves wait for the decision in progress instead.
    lock_pool(conn).await?;
    Ok(sqlx::query("DELETE FROM pool_entries WHERE user_id = $1")
        .bind(user.as_uuid())
        .execute(conn)
        .await?
        .rows_affected()
        > 0)
}

async fn sweep(conn: &mut PgConnection, now: Timestamp) -> StoreResult<Swept> {
    // Sweeps on several instances at once: the second UPDATE waits for the first's row locks,
    // re-reads `closed_at IS NULL` and skips what the first closed, so each room is returned
    // (and announced) by exactly one sweep.
    let closed: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE groups SET closed_at = $1
          WHERE closed_at IS NULL AND expires_at IS NOT NULL AND expires_at <= $1
      RETURNING id",
    )
    .bind(millis(now))
    .fetch_all(&mut *conn)
    .await?;
    let dropped_entries = drop_expired(conn, now).await?;
    Ok(Swept {
        closed: closed.into_iter().map(GroupId::from_uuid).collect(),
        dropped_entries,
    })
}

#[async_trait]
impl MatchPool for PgStore {
    async fn join_pool(&self, j: PoolJoin) -> Result<Joined> {
        in_tx!(self, |tx| join(&mut tx, &j))
    }

    async fn leave_pool(&self, user: UserId) -> Result<bool> {
        in_tx!(self, |tx| leave(&mut tx, user))
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<Swept> {
        in_tx!(self, |tx| sweep(&mut tx, now))
    }
}
