//! `Messages` on PostgreSQL. An edit or delete locks the group's row, then takes the group's
//! next `rev` with `UPDATE groups … RETURNING` in the same transaction as the message row:
//! gapless, and never repeated. Appends are committed in batches by `appender`, under the same
//! lock. Every message answered carries its attachments, read for a whole page in one query
//! (`attachments::fill`).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use confab_domain::decide::{self, Delete};
use confab_domain::{Attachment, Body, Group, GroupId, Message, MessageId, Timestamp, UserId};
use confab_ports::store::rows::{self, GROUP, select_list};
use confab_ports::store::{Appended, Changed, Cursor, Messages, NewMessage, Page};
use confab_ports::{Error, Result};
use sqlx::{AssertSqlSafe, PgConnection, Row};
use uuid::Uuid;

use crate::chat_rows::{
    MESSAGE_COLUMNS, Standing, message, message_from_row, standing, standing_for_write,
};
use crate::error::{StoreError, StoreResult};
use crate::rows::{Cols, as_i64, driver, millis};
use crate::{PgStore, attachments, search};

fn counter(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Internal("negative counter".into()))
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
    let mut message = message(conn, id).await?.ok_or(Error::NotFound("message"))?;
    attachments::fill(conn, std::slice::from_mut(&mut message)).await?;
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
        // Its attachments went with the delete that made it a tombstone.
        return Ok(Changed {
            message: m,
            changed: false,
            freed: vec![],
        });
    }
    let rev = next_rev(conn, m.group_id).await?;
    let freed = attachments::remove_of_message(conn, id).await?;
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
    let mut messages = rows
        .iter()
        .map(message_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    attachments::fill(conn, &mut messages).await?;
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
    with_attachments(conn, &rows).await
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
    with_attachments(conn, &rows).await
}

/// The messages of `rows` (selected with `MESSAGE_COLUMNS`), with their attachments.
async fn with_attachments(
    conn: &mut PgConnection,
    rows: &[sqlx::postgres::PgRow],
) -> StoreResult<Vec<Message>> {
    let mut messages = rows
        .iter()
        .map(message_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    attachments::fill(conn, &mut messages).await?;
    Ok(messages)
}

// ---- appends, a batch at a time (the queue and the decisions are in `appender`) ----

/// Locks the rows of the batch's groups until the transaction ends, in id order (so two
/// batches, here or on another instance, never wait for each other in a cycle). Every write
/// to a group takes this lock first; see `chat_rows::standing_for_write`.
pub(crate) async fn lock_groups(conn: &mut PgConnection, batch: &[NewMessage]) -> StoreResult<()> {
    let mut ids = each(batch, |m| m.group_id.as_uuid());
    ids.sort_unstable();
    ids.dedup();
    sqlx::query("SELECT 1 FROM groups WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// What the rule needs about one message to append: its group and, when its sender already
/// sent its client id to that group, the message that did.
pub(crate) struct Facts {
    pub group: Group,
    pub earlier: Option<Message>,
}

/// Each message's facts, in batch order: `None` when the group does not exist or the sender
/// is not a member. Called after `lock_groups` (READ COMMITTED reads each statement afresh), so
/// a membership change or a retry's original that committed meanwhile is seen.
pub(crate) async fn load_facts(
    conn: &mut PgConnection,
    batch: &[NewMessage],
) -> StoreResult<Vec<Option<Facts>>> {
    let sql = format!(
        "SELECT i.n, {}, {MESSAGE_COLUMNS}
           FROM unnest($1::uuid[], $2::uuid[], $3::text[])
                WITH ORDINALITY AS i (group_id, sender_id, client_id, n)
           JOIN members mb ON mb.group_id = i.group_id AND mb.user_id = i.sender_id
           JOIN groups g ON g.id = i.group_id
           LEFT JOIN messages m ON m.group_id = i.group_id AND m.sender_id = i.sender_id
                AND m.client_id = i.client_id AND m.client_id IS NOT NULL",
        select_list("g", GROUP)
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(each(batch, |m| m.group_id.as_uuid()))
        .bind(each(batch, |m| m.sender_id.as_uuid()))
        .bind(each(batch, |m| m.client_id.as_ref().map(|c| c.as_str())))
        .fetch_all(conn)
        .await?;
    let mut facts: Vec<Option<Facts>> = batch.iter().map(|_| None).collect();
    for row in &rows {
        let n: i64 = row.try_get(0)?;
        let slot = usize::try_from(n - 1)
            .ok()
            .and_then(|i| facts.get_mut(i))
            .ok_or_else(|| StoreError::Internal(format!("no message {n} in the batch")))?;
        let earlier: Option<Uuid> = row.try_get(1 + GROUP.len())?;
        *slot = Some(Facts {
            group: rows::group(&Cols(row), 1).map_err(driver)?,
            earlier: earlier
                .map(|_| rows::message(&Cols(row), 1 + GROUP.len()).map_err(driver))
                .transpose()?,
        });
    }
    Ok(facts)
}

/// A message to insert, with the seq and rev it takes and the uploads it carries (in order,
/// their `message_id` already its id).
pub(crate) struct NewRow<'a> {
    pub message: &'a NewMessage,
    pub seq: u64,
    pub rev: u64,
    pub attachments: Vec<Attachment>,
}

impl NewRow<'_> {
    /// The message this row will be once stored.
    pub(crate) fn as_message(&self) -> Message {
        let m = self.message;
        Message {
            id: m.id,
            group_id: m.group_id,
            seq: self.seq,
            rev: self.rev,
            created_rev: self.rev,
            sender_id: m.sender_id,
            body: m.body.as_str().to_owned(),
            client_id: m.client_id.clone(),
            created_at: m.now,
            edited_at: None,
            deleted: false,
            attachments: self.attachments.clone(),
        }
    }
}

/// A group's counters and last activity after a batch.
pub(crate) struct Advance {
    pub last_seq: u64,
    pub last_rev: u64,
    pub at: Timestamp,
}

/// One column of a batch, as an array to bind.
fn each<'a, T, U>(items: &'a [T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// Inserts `new`, gives each its uploads (locked by `attachments::lock_requested`) and advances
/// `groups` (locked), in one statement; returns the messages as stored, with their attachments.
/// Each row is what an append has always written: `created_rev` = `rev`, `words` =
/// `search::document(body)`; the counters are set to what the batch took, and the last activity
/// only ever moves forward.
pub(crate) async fn insert_rows(
    conn: &mut PgConnection,
    new: &[NewRow<'_>],
    groups: &BTreeMap<GroupId, Advance>,
) -> StoreResult<HashMap<MessageId, Message>> {
    if new.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "WITH inserted AS (
            INSERT INTO messages AS m (id, group_id, seq, rev, created_rev, sender_id, body,
                                       client_id, created_at, words)
            SELECT id, group_id, seq, rev, rev, sender_id, body, client_id, created_at,
                   words::tsvector
              FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::int8[], $5::uuid[],
                          $6::text[], $7::text[], $8::int8[], $9::text[])
                AS r (id, group_id, seq, rev, sender_id, body, client_id, created_at, words)
            RETURNING {MESSAGE_COLUMNS}
         ), advanced AS (
            UPDATE groups g SET last_seq = a.last_seq, last_rev = a.last_rev,
                   last_activity_at = greatest(g.last_activity_at, a.at)
              FROM unnest($10::uuid[], $11::int8[], $12::int8[], $13::int8[])
                AS a (id, last_seq, last_rev, at)
             WHERE g.id = a.id
         ), attached AS (
            UPDATE attachments t SET message_id = x.message_id, position = x.position
              FROM unnest($14::uuid[], $15::uuid[], $16::int8[]) AS x (id, message_id, position)
             WHERE t.id = x.id
         )
         SELECT * FROM inserted"
    );
    let advances: Vec<(&GroupId, &Advance)> = groups.iter().collect();
    // Each upload with its message and its place in it.
    let uploads: Vec<(Uuid, Uuid, i64)> = new
        .iter()
        .flat_map(|r| {
            let message = r.message.id.as_uuid();
            r.attachments
                .iter()
                .zip(0..)
                .map(move |(a, position)| (a.id.as_uuid(), message, position))
        })
        .collect();
    let stored = sqlx::query(AssertSqlSafe(sql))
        .bind(each(new, |r| r.message.id.as_uuid()))
        .bind(each(new, |r| r.message.group_id.as_uuid()))
        .bind(each(new, |r| as_i64(r.seq)))
        .bind(each(new, |r| as_i64(r.rev)))
        .bind(each(new, |r| r.message.sender_id.as_uuid()))
        .bind(each(new, |r| r.message.body.as_str()))
        .bind(each(new, |r| {
            r.message.client_id.as_ref().map(|c| c.as_str())
        }))
        .bind(each(new, |r| millis(r.message.now)))
        .bind(each(new, |r| search::document(r.message.body.as_str())))
        .bind(each(&advances, |(g, _)| g.as_uuid()))
        .bind(each(&advances, |(_, a)| as_i64(a.last_seq)))
        .bind(each(&advances, |(_, a)| as_i64(a.last_rev)))
        .bind(each(&advances, |(_, a)| millis(a.at)))
        .bind(each(&uploads, |u| u.0))
        .bind(each(&uploads, |u| u.1))
        .bind(each(&uploads, |u| u.2))
        .fetch_all(conn)
        .await?;
    let mut carried: HashMap<MessageId, &[Attachment]> = new
        .iter()
        .map(|r| (r.message.id, r.attachments.as_slice()))
        .collect();
    stored
        .iter()
        .map(|row| {
            let mut m = message_from_row(row)?;
            m.attachments = carried.remove(&m.id).unwrap_or_default().to_vec();
            Ok((m.id, m))
        })
        .collect()
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
