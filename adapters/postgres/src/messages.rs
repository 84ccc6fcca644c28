//! `Messages` on PostgreSQL. An append, edit or delete locks the group's row, then takes the
//! group's next `rev` (and an append its next `seq`) with `UPDATE groups … RETURNING` in the
//! same transaction as the message row: gapless, and never repeated.

use async_trait::async_trait;
use confab_domain::decide::{self, Append, Delete};
use confab_domain::{Body, GroupId, Message, MessageId, Timestamp, UserId};
use confab_ports::store::{Appended, Changed, Cursor, Messages, NewMessage, Page};
use confab_ports::{Error, Result};
use sqlx::{AssertSqlSafe, PgConnection};

use crate::chat_rows::{
    MESSAGE_COLUMNS, Standing, message, message_from_row, standing, standing_for_write,
};
use crate::error::{StoreError, StoreResult};
use crate::rows::{as_i64, millis};
use crate::{PgStore, search};

fn counter(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Internal("negative counter".into()))
}

/// The group's next seq and rev, for a new message.
async fn next_seq_and_rev(
    conn: &mut PgConnection,
    group: GroupId,
    now: Timestamp,
) -> StoreResult<(u64, u64)> {
    let (seq, rev): (i64, i64) = sqlx::query_as(
        "UPDATE groups SET last_seq = last_seq + 1, last_rev = last_rev + 1,
                last_activity_at = greatest(last_activity_at, $2)
          WHERE id = $1 RETURNING last_seq, last_rev",
    )
    .bind(group.as_uuid())
    .bind(millis(now))
    .fetch_one(conn)
    .await?;
    Ok((counter(seq)?, counter(rev)?))
}

/// The group's next rev, for a change to an existing message.
async fn next_rev(conn: &mut PgConnection, group: GroupId) -> StoreResult<u64> {
    let rev: i64 = sqlx::query_scalar(
        "UPDATE groups SET last_rev = last_rev + 1 WHERE id = $1 RETURNING last_rev",
    )
    .bind(group.as_uuid())
    .fetch_one(conn)
    .await?;
    counter(rev)
}

async fn by_client_id(conn: &mut PgConnection, m: &NewMessage) -> StoreResult<Option<Message>> {
    let Some(client_id) = &m.client_id else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m
          WHERE m.group_id = $1 AND m.sender_id = $2 AND m.client_id = $3"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(m.group_id.as_uuid())
        .bind(m.sender_id.as_uuid())
        .bind(client_id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(message_from_row).transpose()?)
}

async fn append(conn: &mut PgConnection, m: &NewMessage) -> StoreResult<Appended> {
    // The lock comes first: a retry racing its original waits here, then finds it below.
    let s = standing_for_write(conn, m.sender_id, m.group_id).await?;
    let earlier = by_client_id(conn, m).await?;
    if let Append::Repeat(first) = decide::append(&s.group, earlier, m.now).map_err(Error::from)? {
        return Ok(Appended {
            message: first,
            duplicate: true,
        });
    }
    let (seq, rev) = next_seq_and_rev(conn, m.group_id, m.now).await?;
    sqlx::query(
        "INSERT INTO messages (id, group_id, seq, rev, created_rev, sender_id, body, client_id,
                               created_at, words)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9::tsvector)",
    )
    .bind(m.id.as_uuid())
    .bind(m.group_id.as_uuid())
    .bind(as_i64(seq))
    .bind(as_i64(rev))
    .bind(m.sender_id.as_uuid())
    .bind(m.body.as_str())
    .bind(m.client_id.as_ref().map(|c| c.as_str()))
    .bind(millis(m.now))
    .bind(search::document(m.body.as_str()))
    .execute(&mut *conn)
    .await?;
    let message = message(conn, m.id)
        .await?
        .ok_or(Error::NotFound("message"))?;
    Ok(Appended {
        message,
        duplicate: false,
    })
}

/// Loads a message for a change by `actor`, with its group locked: 404 unless it exists and
/// `actor` is a member of its group (never telling the two apart).
async fn for_change(
    conn: &mut PgConnection,
    actor: UserId,
    id: MessageId,
) -> StoreResult<(Message, Standing)> {
    let group = message(conn, id)
        .await?
        .ok_or(Error::NotFound("message"))?
        .group_id;
    let s = standing_for_write(conn, actor, group)
        .await
        .map_err(|e| match e {
            StoreError::Port(Error::NotFound(_)) => Error::NotFound("message").into(),
            other => other,
        })?;
    // Read again under the group's lock: a change that committed meanwhile is seen.
    let m = message(conn, id).await?.ok_or(Error::NotFound("message"))?;
    Ok((m, s))
}

async fn edit(
    conn: &mut PgConnection,
    actor: UserId,
    id: MessageId,
    body: &Body,
    now: Timestamp,
) -> StoreResult<Changed> {
    let (m, s) = for_change(conn, actor, id).await?;
    decide::edit(actor, &s.group, &m, now).map_err(Error::from)?;
    let rev = next_rev(conn, m.group_id).await?;
    sqlx::query(
        "UPDATE messages SET body = $2, rev = $3, edited_at = $4, words = $5::tsvector
          WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(body.as_str())
    .bind(as_i64(rev))
    .bind(millis(now))
    .bind(search::document(body.as_str()))
    .execute(&mut *conn)
    .await?;
    let message = message(conn, id).await?.ok_or(Error::NotFound("message"))?;
    Ok(Changed {
        message,
        changed: true,
    })
}

async fn delete(
    conn: &mut PgConnection,
    actor: UserId,
    id: MessageId,
    now: Timestamp,
) -> StoreResult<Changed> {
    let (m, s) = for_change(conn, actor, id).await?;
    if decide::delete(actor, s.role, &s.group, &m, now).map_err(Error::from)?
        == Delete::AlreadyDeleted
    {
        return Ok(Changed {
            message: m,
            changed: false,
        });
    }
    let rev = next_rev(conn, m.group_id).await?;
    sqlx::query(
        "UPDATE messages SET body = '', deleted = true, edited_at = NULL, rev = $2,
                words = ''::tsvector
          WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(as_i64(rev))
    .execute(&mut *conn)
    .await?;
    let message = message(conn, id).await?.ok_or(Error::NotFound("message"))?;
    Ok(Changed {
        message,
        changed: true,
    })
}

async fn history(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
    cursor: Cursor,
    limit: u32,
) -> StoreResult<Page> {
    standing(conn, user, group).await?;
    // The newest messages are those before +infinity.
    let (filter, order, bound) = match cursor {
        Cursor::Latest => ("m.seq < $2", "DESC", i64::MAX),
        Cursor::Before(seq) => ("m.seq < $2", "DESC", as_i64(seq)),
        Cursor::After(seq) => ("m.seq > $2", "ASC", as_i64(seq)),
    };
    // One more than asked tells whether there is more.
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.group_id = $1 AND {filter}
          ORDER BY m.seq {order} LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(group.as_uuid())
        .bind(bound)
        .bind(i64::from(limit) + 1)
        .fetch_all(conn)
        .await?;
    let mut messages = rows
        .iter()
        .map(message_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    Ok(Page { messages, has_more })
}

async fn changes_since(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
    rev: u64,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    standing(conn, user, group).await?;
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.group_id = $1 AND m.rev > $2
          ORDER BY m.rev LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(group.as_uuid())
        .bind(as_i64(rev))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(message_from_row)
        .collect::<sqlx::Result<_>>()?)
}

async fn search(
    conn: &mut PgConnection,
    user: UserId,
    terms: &[String],
    group: Option<GroupId>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    if let Some(group) = group {
        standing(conn, user, group).await?;
    }
    let query = search::query(terms);
    if query.is_empty() {
        return Ok(Vec::new());
    }
    // The caller's groups first (few), then the GIN index within them.
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m
           JOIN members mb ON mb.group_id = m.group_id AND mb.user_id = $1
          WHERE m.words @@ $2::tsquery AND NOT m.deleted
            AND ($3::uuid IS NULL OR m.group_id = $3)
          ORDER BY ts_rank(m.words, $2::tsquery, 2) DESC, m.seq DESC
          LIMIT $4"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(user.as_uuid())
        .bind(query)
        .bind(group.map(|g| g.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(message_from_row)
        .collect::<sqlx::Result<_>>()?)
}

#[async_trait]
impl Messages for PgStore {
    async fn append_message(&self, message: NewMessage) -> Result<Appended> {
        in_tx!(self, |tx| append(&mut tx, &message))
    }

    async fn history(
        &self,
        user: UserId,
        group: GroupId,
        cursor: Cursor,
        limit: u32,
    ) -> Result<Page> {
        self.run(async { history(&mut *self.conn().await?, user, group, cursor, limit).await })
            .await
    }

    async fn edit_message(
        &self,
        actor: UserId,
        message: MessageId,
        body: Body,
        now: Timestamp,
    ) -> Result<Changed> {
        in_tx!(self, |tx| edit(&mut tx, actor, message, &body, now))
    }

    async fn delete_message(
        &self,
        actor: UserId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<Changed> {
        in_tx!(self, |tx| delete(&mut tx, actor, message, now))
    }

    async fn changes_since(
        &self,
        user: UserId,
        group: GroupId,
        rev: u64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.run(async { changes_since(&mut *self.conn().await?, user, group, rev, limit).await })
            .await
    }

    async fn search_messages(
        &self,
        user: UserId,
        terms: Vec<String>,
        group: Option<GroupId>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.run(async { search(&mut *self.conn().await?, user, &terms, group, limit).await })
            .await
    }
}
