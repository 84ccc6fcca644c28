//! `Messages` on SQLite. An append, edit or delete takes the group's next `rev` (and an append
//! its next `seq`) with `UPDATE groups … RETURNING` in the same transaction as the message row;
//! with one writer that is gapless and never repeats. Every message returned carries its
//! attachments, reply, reactions and mentions, loaded with one query per page each
//! (`extras::fill`). Reactions, pins and replies are in `reactions.rs`.

use async_trait::async_trait;
use confab_domain::attachment::check_attachable;
use confab_domain::decide::{self, Append, Delete};
use confab_domain::{Body, Emoji, GroupId, Invalid, Message, MessageId, Timestamp, UserId};
use confab_ports::store::{Appended, Changed, Cursor, Messages, NewMessage, Page};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::attachments;
use crate::chat_rows::{MESSAGE_COLUMNS, message, message_from_row, standing};
use crate::error::{StoreError, StoreResult};
use crate::extras::{self, fill};
use crate::reactions;
use crate::rows::millis;

pub(crate) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn counter(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Internal("negative counter".into()))
}

/// The group's next seq and rev, for a new message.
fn next_seq_and_rev(conn: &Connection, group: GroupId, now: Timestamp) -> StoreResult<(u64, u64)> {
    let (seq, rev): (i64, i64) = conn
        .prepare_cached(
            "UPDATE groups SET last_seq = last_seq + 1, last_rev = last_rev + 1,
                    last_activity_at = max(last_activity_at, ?2)
              WHERE id = ?1 RETURNING last_seq, last_rev",
        )?
        .query_row(params![group.to_string(), millis(now)], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    Ok((counter(seq)?, counter(rev)?))
}

/// The group's next rev, for a change to an existing message.
pub(crate) fn next_rev(conn: &Connection, group: GroupId) -> StoreResult<u64> {
    let rev: i64 = conn
        .prepare_cached(
            "UPDATE groups SET last_rev = last_rev + 1 WHERE id = ?1 RETURNING last_rev",
        )?
        .query_row([group.to_string()], |row| row.get(0))?;
    counter(rev)
}

fn by_client_id(conn: &Connection, m: &NewMessage) -> StoreResult<Option<Message>> {
    let Some(client_id) = &m.client_id else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages
          WHERE group_id = ?1 AND sender_id = ?2 AND client_id = ?3"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            params![
                m.group_id.to_string(),
                m.sender_id.to_string(),
                client_id.as_str()
            ],
            message_from_row,
        )
        .optional()?)
}

fn append(conn: &Connection, m: &NewMessage) -> StoreResult<Appended> {
    let s = standing(conn, m.sender_id, m.group_id)?;
    let earlier = by_client_id(conn, m)?;
    if let Append::Repeat(mut first) =
        decide::append(&s.group, earlier, m.now).map_err(Error::from)?
    {
        fill(conn, std::slice::from_mut(&mut *first))?;
        return Ok(Appended {
            message: *first,
            duplicate: true,
        });
    }
    // Decided before anything is written (the append runs without a savepoint).
    let found = attachments::by_ids(conn, &m.attachment_ids)?;
    check_attachable(&m.attachment_ids, &found, m.sender_id, m.group_id).map_err(Error::from)?;
    let reply_to = match m.reply_to {
        None => None,
        Some(id) => match extras::reply_target(conn, id)? {
            Some((group, reply)) if group == m.group_id => Some(reply),
            _ => {
                return Err(Error::from(Invalid::new(
                    "reply_to",
                    "must be a message of the same group",
                ))
                .into());
            }
        },
    };
    let mentions = extras::mentioned_members(conn, m.group_id, m.sender_id, m.body.as_str())?;
    let (seq, rev) = next_seq_and_rev(conn, m.group_id, m.now)?;
    let sql = format!(
        "INSERT INTO messages (id, group_id, seq, rev, created_rev, sender_id, body, client_id,
                               created_at, reply_to_id)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING {MESSAGE_COLUMNS}"
    );
    let mut message = conn.prepare_cached(&sql)?.query_row(
        params![
            m.id.to_string(),
            m.group_id.to_string(),
            as_i64(seq),
            as_i64(rev),
            m.sender_id.to_string(),
            m.body.as_str(),
            m.client_id.as_ref().map(|c| c.as_str()),
            millis(m.now),
            m.reply_to.map(|r| r.to_string()),
        ],
        message_from_row,
    )?;
    if !m.attachment_ids.is_empty() {
        attachments::give(conn, m.id, &m.attachment_ids)?;
        attachments::fill(conn, std::slice::from_mut(&mut message))?;
    }
    if !mentions.is_empty() {
        extras::set_mentions(conn, m.id, &mentions)?;
    }
    // A new message has no reactions and no pin: what it carries is known without a read.
    message.reply_to = reply_to;
    message.mentions = mentions;
    Ok(Appended {
        message,
        duplicate: false,
    })
}

/// Loads a message for a change by `actor`: 404 unless it exists and `actor` is a member of
/// its group (never telling the two apart).
pub(crate) fn for_change(
    conn: &Connection,
    actor: UserId,
    id: MessageId,
) -> StoreResult<(Message, crate::chat_rows::Standing)> {
    let m = message(conn, id)?.ok_or(Error::NotFound("message"))?;
    let s = standing(conn, actor, m.group_id).map_err(|e| match e {
        StoreError::Port(Error::NotFound(_)) => Error::NotFound("message").into(),
        other => other,
    })?;
    Ok((m, s))
}

fn edit(
    conn: &Connection,
    actor: UserId,
    id: MessageId,
    body: &Body,
    now: Timestamp,
) -> StoreResult<Changed> {
    let (m, s) = for_change(conn, actor, id)?;
    decide::edit(actor, &s.group, &m, now).map_err(Error::from)?;
    let rev = next_rev(conn, m.group_id)?;
    conn.prepare_cached("UPDATE messages SET body = ?2, rev = ?3, edited_at = ?4 WHERE id = ?1")?
        .execute(params![
            id.to_string(),
            body.as_str(),
            as_i64(rev),
            millis(now)
        ])?;
    let mentions = extras::mentioned_members(conn, m.group_id, m.sender_id, body.as_str())?;
    extras::set_mentions(conn, id, &mentions)?;
    let message = message(conn, id)?.ok_or(Error::NotFound("message"))?;
    Ok(Changed {
        message,
        changed: true,
        freed: Vec::new(),
    })
}

fn delete(conn: &Connection, actor: UserId, id: MessageId, now: Timestamp) -> StoreResult<Changed> {
    let (m, s) = for_change(conn, actor, id)?;
    if decide::delete(actor, s.role, &s.group, &m, now).map_err(Error::from)?
        == Delete::AlreadyDeleted
    {
        return Ok(Changed {
            message: m,
            changed: false,
            freed: Vec::new(),
        });
    }
    let rev = next_rev(conn, m.group_id)?;
    conn.prepare_cached(
        "UPDATE messages SET body = '', deleted = 1, edited_at = NULL, pinned_at = NULL, rev = ?2
          WHERE id = ?1",
    )?
    .execute(params![id.to_string(), as_i64(rev)])?;
    let freed = attachments::take_away(conn, id)?;
    extras::clear(conn, id)?;
    let message = message(conn, id)?.ok_or(Error::NotFound("message"))?;
    Ok(Changed {
        message,
        changed: true,
        freed,
    })
}

fn history(
    conn: &Connection,
    user: UserId,
    group: GroupId,
    cursor: Cursor,
    limit: u32,
) -> StoreResult<Page> {
    standing(conn, user, group)?;
    // The newest messages are those before +infinity.
    let (filter, order, bound) = match cursor {
        Cursor::Latest => ("seq < ?2", "DESC", i64::MAX),
        Cursor::Before(seq) => ("seq < ?2", "DESC", as_i64(seq)),
        Cursor::After(seq) => ("seq > ?2", "ASC", as_i64(seq)),
    };
    // One more than asked tells whether there is more.
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = ?1 AND {filter}
          ORDER BY seq {order} LIMIT ?3"
    );
    let mut messages = conn
        .prepare_cached(&sql)?
        .query_map(
            params![group.to_string(), bound, i64::from(limit) + 1],
            message_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    fill(conn, &mut messages)?;
    Ok(Page { messages, has_more })
}

fn changes_since(
    conn: &Connection,
    user: UserId,
    group: GroupId,
    rev: u64,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    standing(conn, user, group)?;
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = ?1 AND rev > ?2
          ORDER BY rev LIMIT ?3"
    );
    let mut changed: Vec<Message> = conn
        .prepare_cached(&sql)?
        .query_map(
            params![group.to_string(), as_i64(rev), i64::from(limit)],
            message_from_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    fill(conn, &mut changed)?;
    Ok(changed)
}

/// An FTS5 query matching every term, each folded into search words as the index is
/// (`confab_domain::search_words`) and quoted, so nothing can ever be read as query syntax.
/// No word at all matches nothing (an empty MATCH would be a syntax error).
fn match_all(terms: &[String]) -> Option<String> {
    let words: Vec<String> = terms
        .iter()
        .flat_map(|t| confab_domain::search_words(t))
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn search(
    conn: &Connection,
    user: UserId,
    terms: &[String],
    group: Option<GroupId>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    if let Some(group) = group {
        standing(conn, user, group)?;
    }
    let Some(query) = match_all(terms) else {
        return Ok(Vec::new());
    };
    let columns = MESSAGE_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM messages_fts f
           JOIN messages m ON m.pk = f.rowid
           JOIN members mb ON mb.group_id = m.group_id AND mb.user_id = ?1
          WHERE messages_fts MATCH ?2 AND m.deleted = 0 AND (?3 IS NULL OR m.group_id = ?3)
          ORDER BY bm25(messages_fts), m.seq DESC
          LIMIT ?4"
    );
    let mut found: Vec<Message> = conn
        .prepare_cached(&sql)?
        .query_map(
            params![
                user.to_string(),
                query,
                group.map(|g| g.to_string()),
                i64::from(limit)
            ],
            message_from_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    fill(conn, &mut found)?;
    Ok(found)
}

#[async_trait]
impl Messages for SqliteStore {
    async fn append_message(&self, message: NewMessage) -> Result<Appended> {
        Ok(self
            .writer
            // An append refuses (not a member, closed group) before it writes anything.
            .write_decided(move |conn| append(conn, &message))
            .await?)
    }

    async fn history(
        &self,
        user: UserId,
        group: GroupId,
        cursor: Cursor,
        limit: u32,
    ) -> Result<Page> {
        Ok(self
            .readers
            .read(move |conn| history(conn, user, group, cursor, limit))
            .await?)
    }

    async fn edit_message(
        &self,
        actor: UserId,
        message: MessageId,
        body: Body,
        now: Timestamp,
    ) -> Result<Changed> {
        Ok(self
            .writer
            .write(move |conn| edit(conn, actor, message, &body, now))
            .await?)
    }

    async fn delete_message(
        &self,
        actor: UserId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<Changed> {
        Ok(self
            .writer
            .write(move |conn| delete(conn, actor, message, now))
            .await?)
    }

    async fn changes_since(
        &self,
        user: UserId,
        group: GroupId,
        rev: u64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        Ok(self
            .readers
            .read(move |conn| changes_since(conn, user, group, rev, limit))
            .await?)
    }

    async fn set_reaction(
        &self,
        actor: UserId,
        message: MessageId,
        emoji: Emoji,
        on: bool,
        now: Timestamp,
    ) -> Result<Changed> {
        Ok(self
            .writer
            .write(move |conn| reactions::set_reaction(conn, actor, message, &emoji, on, now))
            .await?)
    }

    async fn set_pin(
        &self,
        actor: UserId,
        group: GroupId,
        message: MessageId,
        on: bool,
        now: Timestamp,
    ) -> Result<Changed> {
        Ok(self
            .writer
            .write(move |conn| reactions::set_pin(conn, actor, group, message, on, now))
            .await?)
    }

    async fn pins(&self, user: UserId, group: GroupId) -> Result<Vec<Message>> {
        Ok(self
            .readers
            .read(move |conn| reactions::pins(conn, user, group))
            .await?)
    }

    async fn replies(
        &self,
        user: UserId,
        message: MessageId,
        after: u64,
        limit: u32,
    ) -> Result<Page> {
        Ok(self
            .readers
            .read(move |conn| reactions::replies(conn, user, message, after, limit))
            .await?)
    }

    async fn search_messages(
        &self,
        user: UserId,
        terms: Vec<String>,
        group: Option<GroupId>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        Ok(self
            .readers
            .read(move |conn| search(conn, user, &terms, group, limit))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::match_all;

    #[test]
    fn every_term_is_folded_into_quoted_words() {
        assert_eq!(
            match_all(&["rust".into(), "OR".into()]).as_deref(),
            Some("\"rust\" \"or\"")
        );
        assert_eq!(
            match_all(&["a\"b".into(), "Café".into()]).as_deref(),
            Some("\"a\" \"b\" \"cafe\"")
        );
        assert_eq!(match_all(&["!!!".into()]), None);
        assert_eq!(match_all(&[]), None);
    }
}
