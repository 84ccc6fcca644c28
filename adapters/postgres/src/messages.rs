//! `Messages` on PostgreSQL. An edit, delete, reaction or pin locks the group's row, then takes
//! the group's next `rev` with `UPDATE groups … RETURNING` in the same transaction as the
//! message row: gapless, and never repeated. Appends are committed in batches by `appender`
//! (statements in `batch`), under the same lock. Every message answered carries its
//! attachments, replied-to message, reactions and mentions, read for a whole page in one query
//! each (`social::fill`).

use async_trait::async_trait;
use confab_domain::decide::{self, Delete};
use confab_domain::{Body, Emoji, GroupId, Message, MessageId, Timestamp, UserId};
use confab_ports::store::{Appended, Changed, Cursor, Messages, NewMessage, Page};
use confab_ports::{Error, Result};
use sqlx::{AssertSqlSafe, PgConnection};

use crate::chat_rows::{MESSAGE_COLUMNS, Standing, message, standing, standing_for_write};
use crate::error::{StoreError, StoreResult};
use crate::rows::{as_i64, millis};
use crate::social::{self, Mentioning, filled};
use crate::{PgStore, attachments, search};

fn counter(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Internal("negative counter".into()))
}

/// The group's next rev, for a change to an existing message.
pub(crate) async fn next_rev(conn: &mut PgConnection, group: GroupId) -> StoreResult<u64> {
    let rev: i64 = sqlx::query_scalar(
        "UPDATE groups SET last_rev = last_rev + 1 WHERE id = $1 RETURNING last_rev",
    )
    .bind(group.as_uuid())
    .fetch_one(conn)
    .await?;
    counter(rev)
}

/// Loads a message for a change by `actor`, with its group locked: 404 unless it exists and
/// `actor` is a member of its group (never telling the two apart).
pub(crate) async fn for_change(
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
    let mentioning = Mentioning {
        group: m.group_id,
        sender: m.sender_id,
        body: body.as_str(),
    };
    social::replace_mentions(conn, id, mentioning).await?;
    let mut message = message(conn, id).await?.ok_or(Error::NotFound("message"))?;
    social::fill(conn, std::slice::from_mut(&mut message)).await?;
    Ok(Changed {
        message,
        changed: true,
        freed: vec![],
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
        // Its attachments, reactions, mentions and pin went with the delete that made it a
        // tombstone; it keeps the message it replied to.
        let mut message = m;
        social::fill(conn, std::slice::from_mut(&mut message)).await?;
        return Ok(Changed {
            message,
            changed: false,
            freed: vec![],
        });
    }
    let rev = next_rev(conn, m.group_id).await?;
    let freed = attachments::remove_of_message(conn, id).await?;
    social::remove_of_message(conn, id).await?;
    sqlx::query(
        "UPDATE messages SET body = '', deleted = true, edited_at = NULL, rev = $2,
                words = ''::tsvector, pinned_at = NULL
          WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(as_i64(rev))
    .execute(&mut *conn)
    .await?;
    let mut message = message(conn, id).await?.ok_or(Error::NotFound("message"))?;
    social::fill(conn, std::slice::from_mut(&mut message)).await?;
    Ok(Changed {
        message,
        changed: true,
        freed,
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
        .fetch_all(&mut *conn)
        .await?;
    let has_more = rows.len() > limit as usize;
    let rows = rows.get(..rows.len().min(limit as usize)).unwrap_or(&[]);
    let messages = filled(conn, rows).await?;
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
        .fetch_all(&mut *conn)
        .await?;
    filled(conn, &rows).await
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
        .fetch_all(&mut *conn)
        .await?;
    filled(conn, &rows).await
}

#[async_trait]
impl Messages for PgStore {
    async fn append_message(&self, message: NewMessage) -> Result<Appended> {
        // Queued and committed in a batch with whatever else is being sent (see `appender`).
        self.run(async { Ok(self.appender.append(message).await?) })
            .await
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

    async fn set_reaction(
        &self,
        actor: UserId,
        message: MessageId,
        emoji: Emoji,
        on: bool,
        now: Timestamp,
    ) -> Result<Changed> {
        in_tx!(self, |tx| social::react(
            &mut tx, actor, message, &emoji, on, now
        ))
    }

    async fn set_pin(
        &self,
        actor: UserId,
        group: GroupId,
        message: MessageId,
        on: bool,
        now: Timestamp,
    ) -> Result<Changed> {
        in_tx!(self, |tx| social::pin(
            &mut tx, actor, group, message, on, now
        ))
    }

    async fn pins(&self, user: UserId, group: GroupId) -> Result<Vec<Message>> {
        self.run(async { social::pins(&mut *self.conn().await?, user, group).await })
            .await
    }

    async fn replies(
        &self,
        user: UserId,
        message: MessageId,
        after: u64,
        limit: u32,
    ) -> Result<Page> {
        self.run(async {
            social::replies(&mut *self.conn().await?, user, message, after, limit).await
        })
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
