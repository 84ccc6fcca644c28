//! Replies, reactions, mentions and pins on PostgreSQL: what every message answered carries
//! besides its row (read for a whole page in one query each, as attachments are), the mentions
//! a body makes, and the reaction and pin changes.
//!
//! A reaction or pin change is a change of its message: one transaction that locks the group's
//! row first (`chat_rows::standing_for_write`, as edits and deletes do), then takes the group's
//! next rev, so concurrent reactors are applied once each with gapless revs. Nothing is decided
//! here: `confab_domain::policy::can(…, Action::Pin)`, `reaction::check_pin` and
//! `reaction::check_reaction` are, and `reaction::mentioned_usernames` parses a body.

use std::collections::HashMap;

use confab_domain::policy::{self, Action};
use confab_domain::reaction::{
    self, check_live, check_pin, check_reaction, excerpt, mentioned_usernames,
};
use confab_domain::{
    Emoji, GroupId, Message, MessageId, Reaction, ReplyRef, Timestamp, UserId, Username,
};
use confab_ports::Error;
use confab_ports::store::{Changed, Page};
use sqlx::{AssertSqlSafe, PgConnection, Row};
use uuid::Uuid;

use crate::attachments;
use crate::chat_rows::{MESSAGE_COLUMNS, message, message_from_row, standing, standing_for_write};
use crate::error::{StoreError, StoreResult};
use crate::messages::{for_change, next_rev};
use crate::rows::{as_i64, millis};

fn counter(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Internal("negative counter".into()))
}

/// Fills in what each message carries besides its row: attachments, the message it replies
/// to, reactions and mentions. One query for each, whatever the number of messages.
pub(crate) async fn fill(conn: &mut PgConnection, messages: &mut [Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    attachments::fill(conn, messages).await?;
    let ids: Vec<Uuid> = messages.iter().map(|m| m.id.as_uuid()).collect();
    let mut replies = reply_refs(conn, &ids).await?;
    let mut reactions = reactions_of(conn, &ids).await?;
    let mut mentions = mentions_of(conn, &ids).await?;
    for m in messages {
        m.reply_to = replies.remove(&m.id);
        m.reactions = reactions.remove(&m.id).unwrap_or_default();
        m.mentions = mentions.remove(&m.id).unwrap_or_default();
    }
    Ok(())
}

/// A reply's view of the message it answers, from `id, seq, sender_id, body, deleted` at `at`.
pub(crate) fn reply_ref_at(row: &sqlx::postgres::PgRow, at: usize) -> StoreResult<ReplyRef> {
    let body: String = row.try_get(at + 3)?;
    let deleted: bool = row.try_get(at + 4)?;
    Ok(ReplyRef {
        id: MessageId::from_uuid(row.try_get(at)?),
        seq: counter(row.try_get(at + 1)?)?,
        sender_id: UserId::from_uuid(row.try_get(at + 2)?),
        excerpt: excerpt(&body, deleted),
    })
}

async fn reply_refs(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> StoreResult<HashMap<MessageId, ReplyRef>> {
    let rows = sqlx::query(
        "SELECT m.id, r.id, r.seq, r.sender_id, r.body, r.deleted
           FROM messages m JOIN messages r ON r.id = m.reply_to_id
          WHERE m.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((MessageId::from_uuid(row.try_get(0)?), reply_ref_at(row, 1)?)))
        .collect()
}

/// Each message's reactions: emoji in the order of their first use, users in the order they
/// reacted.
async fn reactions_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> StoreResult<HashMap<MessageId, Vec<Reaction>>> {
    let rows = sqlx::query(
        "SELECT message_id, emoji, user_id FROM reactions WHERE message_id = ANY($1)
          ORDER BY message_id, min(position) OVER (PARTITION BY message_id, emoji), emoji,
                   position",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
    for row in &rows {
        let id = MessageId::from_uuid(row.try_get(0)?);
        let emoji: String = row.try_get(1)?;
        let user = UserId::from_uuid(row.try_get(2)?);
        let list = out.entry(id).or_default();
        match list.last_mut() {
            Some(r) if r.emoji.as_str() == emoji => r.user_ids.push(user),
            _ => list.push(Reaction {
                emoji: Emoji::from_trusted(emoji),
                user_ids: vec![user],
            }),
        }
    }
    Ok(out)
}

async fn mentions_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> StoreResult<HashMap<MessageId, Vec<UserId>>> {
    let rows = sqlx::query(
        "SELECT message_id, user_id FROM mentions WHERE message_id = ANY($1)
          ORDER BY message_id, position",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<MessageId, Vec<UserId>> = HashMap::new();
    for row in &rows {
        out.entry(MessageId::from_uuid(row.try_get(0)?))
            .or_default()
            .push(UserId::from_uuid(row.try_get(1)?));
    }
    Ok(out)
}

/// A body to find the mentions of: in `group`, sent by `sender`.
pub(crate) struct Mentioning<'a> {
    pub group: GroupId,
    pub sender: UserId,
    pub body: &'a str,
}

/// The members each body mentions (`confab_domain::reaction::mentions` over the members of
/// its group named in it). One query for all of them (none when no body names anyone). Read
/// under the group's lock, so membership is current.
pub(crate) async fn resolve_mentions(
    conn: &mut PgConnection,
    bodies: &[Mentioning<'_>],
) -> StoreResult<Vec<Vec<UserId>>> {
    let names: Vec<Vec<Username>> = bodies.iter().map(|b| mentioned_usernames(b.body)).collect();
    let mut n = Vec::new();
    let mut name = Vec::new();
    let mut group = Vec::new();
    for ((i, b), named) in (0_i64..).zip(bodies).zip(&names) {
        for username in named {
            n.push(i);
            name.push(username.as_str().to_owned());
            group.push(b.group.as_uuid());
        }
    }
    if n.is_empty() {
        return Ok(bodies.iter().map(|_| Vec::new()).collect());
    }
    let rows = sqlx::query(
        "SELECT c.n, c.name, u.id
           FROM unnest($1::int8[], $2::text[], $3::uuid[]) AS c (n, name, group_id)
           JOIN users u ON u.username = c.name
           JOIN members mb ON mb.group_id = c.group_id AND mb.user_id = u.id",
    )
    .bind(n)
    .bind(name)
    .bind(group)
    .fetch_all(conn)
    .await?;
    let mut found: HashMap<(i64, String), UserId> = HashMap::new();
    for row in &rows {
        found.insert(
            (row.try_get(0)?, row.try_get(1)?),
            UserId::from_uuid(row.try_get(2)?),
        );
    }
    Ok((0_i64..)
        .zip(bodies)
        .zip(&names)
        .map(|((i, b), named)| {
            reaction::mentions(named, b.sender, |u| {
                found.get(&(i, u.as_str().to_owned())).copied()
            })
        })
        .collect())
}

/// The rows of `mentions` for `messages`, each with its members in order: (message ids, user
/// ids, positions), as arrays to bind.
pub(crate) fn mention_rows<'a>(
    messages: impl IntoIterator<Item = (MessageId, &'a [UserId])>,
) -> (Vec<Uuid>, Vec<Uuid>, Vec<i64>) {
    let mut rows = (Vec::new(), Vec::new(), Vec::new());
    for (id, users) in messages {
        for (position, user) in (0_i64..).zip(users) {
            rows.0.push(id.as_uuid());
            rows.1.push(user.as_uuid());
            rows.2.push(position);
        }
    }
    rows
}

/// Replaces the mentions of message `id`, as its body now makes them.
pub(crate) async fn replace_mentions(
    conn: &mut PgConnection,
    id: MessageId,
    mentioning: Mentioning<'_>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM mentions WHERE message_id = $1")
        .bind(id.as_uuid())
        .execute(&mut *conn)
        .await?;
    let users = resolve_mentions(conn, std::slice::from_ref(&mentioning))
        .await?
        .pop()
        .unwrap_or_default();
    let (messages, users, positions) = mention_rows([(id, users.as_slice())]);
    if !messages.is_empty() {
        sqlx::query(
            "INSERT INTO mentions (message_id, user_id, position)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int8[])",
        )
        .bind(messages)
        .bind(users)
        .bind(positions)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Removes what a deleted message no longer carries: its reactions and mentions (its pin goes
/// with the row's update).
pub(crate) async fn remove_of_message(conn: &mut PgConnection, id: MessageId) -> StoreResult<()> {
    sqlx::query(
        "WITH r AS (DELETE FROM reactions WHERE message_id = $1)
         DELETE FROM mentions WHERE message_id = $1",
    )
    .bind(id.as_uuid())
    .execute(conn)
    .await?;
    Ok(())
}

/// A change to a message already locked: when `changed`, it takes the group's next rev. The
/// message is answered as it is now.
async fn finish(conn: &mut PgConnection, m: &Message, changed: bool) -> StoreResult<Changed> {
    if changed {
        let rev = next_rev(conn, m.group_id).await?;
        sqlx::query("UPDATE messages SET rev = $2 WHERE id = $1")
            .bind(m.id.as_uuid())
            .bind(as_i64(rev))
            .execute(&mut *conn)
            .await?;
    }
    let mut message = message(conn, m.id)
        .await?
        .ok_or(Error::NotFound("message"))?;
    fill(conn, std::slice::from_mut(&mut message)).await?;
    Ok(Changed {
        message,
        changed,
        freed: vec![],
    })
}

/// `set_reaction`, in its transaction.
pub(crate) async fn react(
    conn: &mut PgConnection,
    actor: UserId,
    id: MessageId,
    emoji: &Emoji,
    on: bool,
    now: Timestamp,
) -> StoreResult<Changed> {
    let (m, s) = for_change(conn, actor, id).await?;
    check_live(&s.group, m.deleted, now).map_err(Error::from)?;
    let changed = if on {
        let present: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT emoji FROM reactions WHERE message_id = $1")
                .bind(id.as_uuid())
                .fetch_all(&mut *conn)
                .await?;
        let present: Vec<Emoji> = present.into_iter().map(Emoji::from_trusted).collect();
        check_reaction(&present, emoji).map_err(Error::from)?;
        // One more than the message's highest: the group's lock makes it the next.
        sqlx::query(
            "INSERT INTO reactions (message_id, emoji, user_id, position, created_at)
             SELECT $1, $2, $3, coalesce(max(position), 0) + 1, $4
               FROM reactions WHERE message_id = $1
             ON CONFLICT (message_id, emoji, user_id) DO NOTHING",
        )
        .bind(id.as_uuid())
        .bind(emoji.as_str())
        .bind(actor.as_uuid())
        .bind(millis(now))
        .execute(&mut *conn)
        .await?
        .rows_affected()
            > 0
    } else {
        sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
            .bind(id.as_uuid())
            .bind(emoji.as_str())
            .bind(actor.as_uuid())
            .execute(&mut *conn)
            .await?
            .rows_affected()
            > 0
    };
    finish(conn, &m, changed).await
}

/// `set_pin`, in its transaction.
pub(crate) async fn pin(
    conn: &mut PgConnection,
    actor: UserId,
    group: GroupId,
    id: MessageId,
    on: bool,
    now: Timestamp,
) -> StoreResult<Changed> {
    let s = standing_for_write(conn, actor, group).await?;
    let m = message(conn, id)
        .await?
        .filter(|m| m.group_id == group)
        .ok_or(Error::NotFound("message"))?;
    policy::can(s.group.kind, s.role, Action::Pin).map_err(Error::from)?;
    check_live(&s.group, m.deleted, now).map_err(Error::from)?;
    let pinned_at = match (on, m.pinned) {
        (true, false) => {
            let pins: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM messages WHERE group_id = $1 AND pinned_at IS NOT NULL",
            )
            .bind(group.as_uuid())
            .fetch_one(&mut *conn)
            .await?;
            check_pin(usize::try_from(pins).unwrap_or(usize::MAX)).map_err(Error::from)?;
            Some(Some(millis(now)))
        }
        (false, true) => Some(None),
        _ => None,
    };
    if let Some(pinned_at) = pinned_at {
        sqlx::query("UPDATE messages SET pinned_at = $2 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(pinned_at)
            .execute(&mut *conn)
            .await?;
    }
    finish(conn, &m, pinned_at.is_some()).await
}

/// The messages of `rows` (selected with `MESSAGE_COLUMNS`), filled in.
pub(crate) async fn filled(
    conn: &mut PgConnection,
    rows: &[sqlx::postgres::PgRow],
) -> StoreResult<Vec<Message>> {
    let mut messages = rows
        .iter()
        .map(message_from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    fill(conn, &mut messages).await?;
    Ok(messages)
}

/// The group's pinned messages, most recently pinned first.
pub(crate) async fn pins(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
) -> StoreResult<Vec<Message>> {
    standing(conn, user, group).await?;
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m
          WHERE m.group_id = $1 AND m.pinned_at IS NOT NULL
          ORDER BY m.pinned_at DESC, m.seq DESC"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(group.as_uuid())
        .fetch_all(&mut *conn)
        .await?;
    filled(conn, &rows).await
}

/// The replies to `id` with seq > `after`, oldest first.
pub(crate) async fn replies(
    conn: &mut PgConnection,
    user: UserId,
    id: MessageId,
    after: u64,
    limit: u32,
) -> StoreResult<Page> {
    let m = message(conn, id).await?.ok_or(Error::NotFound("message"))?;
    standing(conn, user, m.group_id)
        .await
        .map_err(|e| match e {
            StoreError::Port(Error::NotFound(_)) => Error::NotFound("message").into(),
            other => other,
        })?;
    // One more than asked tells whether there is more.
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.reply_to_id = $1 AND m.seq > $2
          ORDER BY m.seq LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_uuid())
        .bind(as_i64(after))
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *conn)
        .await?;
    let has_more = rows.len() > limit as usize;
    let rows = rows.get(..rows.len().min(limit as usize)).unwrap_or(&[]);
    let messages = filled(conn, rows).await?;
    Ok(Page { messages, has_more })
}
