//! What a message carries besides its row: its attachments, the message it replies to, its
//! reactions and its mentions, each loaded with one query per page (never one per message);
//! and the mention rows an append or edit writes. Which names are mentions is
//! `confab_domain::reaction::mentioned_usernames`; this module only resolves them to members.

use std::collections::HashMap;

use confab_domain::reaction::{self, excerpt, mentioned_usernames};
use confab_domain::{Emoji, GroupId, Message, MessageId, Reaction, ReplyRef, UserId};
use confab_ports::store::rows;
use rusqlite::{Connection, OptionalExtension, params};

use crate::attachments::{self, json_ids};
use crate::error::StoreResult;
use crate::rows::{Cols, driver, uuid_at};

/// Fills every message's attachments, `reply_to`, reactions and mentions: four queries for the
/// whole page.
pub(crate) fn fill(conn: &Connection, messages: &mut [Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    attachments::fill(conn, messages)?;
    let ids = json_ids(messages.iter().map(|m| m.id));
    let mut replies = reply_refs(conn, &ids)?;
    let mut reactions = reactions(conn, &ids)?;
    let mut mentions = mentions(conn, &ids)?;
    for m in messages {
        m.reply_to = replies.remove(&m.id);
        m.reactions = reactions.remove(&m.id).unwrap_or_default();
        m.mentions = mentions.remove(&m.id).unwrap_or_default();
    }
    Ok(())
}

/// A replied-to message as a reply shows it, from `id, seq, sender_id, body, deleted`
/// starting at column `at`.
fn reply_ref(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<ReplyRef> {
    let deleted: bool = row.get(at + 4)?;
    let body: String = row.get(at + 3)?;
    Ok(ReplyRef {
        id: MessageId::from_uuid(uuid_at(row, at)?),
        seq: rows::count(&Cols(row), at + 1).map_err(driver)?,
        sender_id: UserId::from_uuid(uuid_at(row, at + 2)?),
        excerpt: excerpt(&body, deleted),
    })
}

/// The message each of `ids` (a JSON array) replies to, by replying message.
fn reply_refs(conn: &Connection, ids: &str) -> StoreResult<HashMap<MessageId, ReplyRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, r.id, r.seq, r.sender_id, r.body, r.deleted
           FROM messages m JOIN messages r ON r.id = m.reply_to_id
          WHERE m.id IN (SELECT value FROM json_each(?1))",
    )?;
    let found = stmt
        .query_map([ids], |row| {
            Ok((MessageId::from_uuid(uuid_at(row, 0)?), reply_ref(row, 1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(found)
}

/// The reactions of `ids` (a JSON array): each message's emoji in the order first used, each
/// emoji's users in the order they reacted (`position` is the rev each was added at).
fn reactions(conn: &Connection, ids: &str) -> StoreResult<HashMap<MessageId, Vec<Reaction>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, emoji, user_id,
                min(position) OVER (PARTITION BY message_id, emoji) AS first
           FROM reactions
          WHERE message_id IN (SELECT value FROM json_each(?1))
          ORDER BY message_id, first, position",
    )?;
    let found = stmt.query_map([ids], |row| {
        Ok((
            MessageId::from_uuid(uuid_at(row, 0)?),
            row.get::<_, String>(1)?,
            UserId::from_uuid(uuid_at(row, 2)?),
        ))
    })?;
    let mut by_message: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
    for row in found {
        let (message, emoji, user) = row?;
        let list = by_message.entry(message).or_default();
        match list.last_mut() {
            Some(last) if last.emoji.as_str() == emoji => last.user_ids.push(user),
            _ => list.push(Reaction {
                emoji: Emoji::from_trusted(emoji),
                user_ids: vec![user],
            }),
        }
    }
    Ok(by_message)
}

/// The mentions of `ids` (a JSON array), each message's in order of first mention.
fn mentions(conn: &Connection, ids: &str) -> StoreResult<HashMap<MessageId, Vec<UserId>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, user_id FROM mentions
          WHERE message_id IN (SELECT value FROM json_each(?1))
          ORDER BY message_id, position",
    )?;
    let found = stmt.query_map([ids], |row| {
        Ok((
            MessageId::from_uuid(uuid_at(row, 0)?),
            UserId::from_uuid(uuid_at(row, 1)?),
        ))
    })?;
    let mut by_message: HashMap<MessageId, Vec<UserId>> = HashMap::new();
    for row in found {
        let (message, user) = row?;
        by_message.entry(message).or_default().push(user);
    }
    Ok(by_message)
}

/// A message `reply_to` may name: its group, and what a reply shows of it; `None` when no
/// message has that id.
pub(crate) fn reply_target(
    conn: &Connection,
    id: MessageId,
) -> StoreResult<Option<(GroupId, ReplyRef)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, seq, sender_id, body, deleted, group_id FROM messages WHERE id = ?1",
        )?
        .query_row([id.to_string()], |row| {
            Ok((GroupId::from_uuid(uuid_at(row, 5)?), reply_ref(row, 0)?))
        })
        .optional()?)
}

/// The members of `group` that `body` mentions (`confab_domain::reaction::mentions`). One
/// query, none when the body names nobody.
pub(crate) fn mentioned_members(
    conn: &Connection,
    group: GroupId,
    sender: UserId,
    body: &str,
) -> StoreResult<Vec<UserId>> {
    let names = mentioned_usernames(body);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // Usernames are `[a-z0-9_.-]`: a JSON string needs no escaping for them.
    let names_json = json_ids(names.iter().map(|n| n.as_str()));
    let mut stmt = conn.prepare_cached(
        "SELECT u.username, u.id FROM members mb JOIN users u ON u.id = mb.user_id
          WHERE mb.group_id = ?1 AND u.username IN (SELECT value FROM json_each(?2))",
    )?;
    let found: HashMap<String, UserId> = stmt
        .query_map(params![group.to_string(), names_json], |row| {
            Ok((row.get(0)?, UserId::from_uuid(uuid_at(row, 1)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(reaction::mentions(&names, sender, |n| {
        found.get(n.as_str()).copied()
    }))
}

/// Replaces the mentions of `message` with `users`, in that order.
pub(crate) fn set_mentions(
    conn: &Connection,
    message: MessageId,
    users: &[UserId],
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?
        .execute([message.to_string()])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO mentions (message_id, user_id, position) VALUES (?1, ?2, ?3)",
    )?;
    for (position, user) in (0i64..).zip(users) {
        insert.execute(params![message.to_string(), user.to_string(), position])?;
    }
    Ok(())
}

/// Removes what a deleted message no longer carries: its reactions and mentions (the caller
/// clears the pin with the row).
pub(crate) fn clear(conn: &Connection, message: MessageId) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?
        .execute([message.to_string()])?;
    conn.prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?
        .execute([message.to_string()])?;
    Ok(())
}
