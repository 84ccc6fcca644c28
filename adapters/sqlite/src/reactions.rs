//! Reactions, pins and replies on SQLite (the `Messages` methods `set_reaction`, `set_pin`,
//! `pins` and `replies`). A reaction or pin that changes something takes the group's next
//! `rev`, which becomes the message's, in the writer's transaction; one that changes nothing
//! takes none. Whether it is allowed is asked of `confab_domain` (`policy::can`,
//! `reaction::check_live`, `reaction::check_reaction`, `reaction::check_pin`).

use confab_domain::policy::{Action, can};
use confab_domain::reaction::{check_live, check_pin, check_reaction};
use confab_domain::{Emoji, GroupId, Message, MessageId, Timestamp, UserId};
use confab_ports::Error;
use confab_ports::store::{Changed, Page};
use rusqlite::{Connection, params};

use crate::chat_rows::{MESSAGE_COLUMNS, message, message_from_row, standing};
use crate::error::{StoreError, StoreResult};
use crate::extras::fill;
use crate::messages::{as_i64, for_change, next_rev};
use crate::rows::millis;

/// The message as it is now, and whether the operation changed it.
fn answer(conn: &Connection, id: MessageId, changed: bool) -> StoreResult<Changed> {
    let message = message(conn, id)?.ok_or(Error::NotFound("message"))?;
    Ok(Changed {
        message,
        changed,
        freed: Vec::new(),
    })
}

/// Takes the group's next rev for a change to message `id`, and makes it the message's.
fn bump(conn: &Connection, group: GroupId, id: MessageId) -> StoreResult<u64> {
    let rev = next_rev(conn, group)?;
    conn.prepare_cached("UPDATE messages SET rev = ?2 WHERE id = ?1")?
        .execute(params![id.to_string(), as_i64(rev)])?;
    Ok(rev)
}

pub(crate) fn set_reaction(
    conn: &Connection,
    actor: UserId,
    id: MessageId,
    emoji: &Emoji,
    on: bool,
    now: Timestamp,
) -> StoreResult<Changed> {
    let (m, s) = for_change(conn, actor, id)?;
    check_live(&s.group, m.deleted, now).map_err(Error::from)?;
    if !on {
        let removed = conn
            .prepare_cached(
                "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
            )?
            .execute(params![id.to_string(), emoji.as_str(), actor.to_string()])?;
        if removed > 0 {
            bump(conn, m.group_id, id)?;
        }
        return answer(conn, id, removed > 0);
    }
    let present: Vec<Emoji> = conn
        .prepare_cached("SELECT DISTINCT emoji FROM reactions WHERE message_id = ?1")?
        .query_map([id.to_string()], |r| r.get::<_, String>(0))?
        .map(|e| e.map(Emoji::from_trusted))
        .collect::<rusqlite::Result<_>>()?;
    let mine: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM reactions
                             WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3)",
        )?
        .query_row(
            params![id.to_string(), emoji.as_str(), actor.to_string()],
            |r| r.get(0),
        )?;
    if mine {
        return Ok(Changed {
            message: m,
            changed: false,
            freed: Vec::new(),
        });
    }
    check_reaction(&present, emoji).map_err(Error::from)?;
    // The change's rev orders the reactions: unique and increasing within the group.
    let rev = bump(conn, m.group_id, id)?;
    conn.prepare_cached(
        "INSERT INTO reactions (message_id, emoji, user_id, position, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        id.to_string(),
        emoji.as_str(),
        actor.to_string(),
        as_i64(rev),
        millis(now)
    ])?;
    answer(conn, id, true)
}

fn pinned_count(conn: &Connection, group: GroupId) -> StoreResult<usize> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM messages INDEXED BY messages_pins
              WHERE group_id = ?1 AND pinned_at IS NOT NULL",
        )?
        .query_row([group.to_string()], |r| r.get(0))?;
    usize::try_from(n).map_err(|_| StoreError::Internal("negative count".into()))
}

pub(crate) fn set_pin(
    conn: &Connection,
    actor: UserId,
    group: GroupId,
    id: MessageId,
    on: bool,
    now: Timestamp,
) -> StoreResult<Changed> {
    let s = standing(conn, actor, group)?;
    let m = message(conn, id)?
        .filter(|m| m.group_id == group)
        .ok_or(Error::NotFound("message"))?;
    can(s.group.kind, s.role, Action::Pin).map_err(Error::from)?;
    check_live(&s.group, m.deleted, now).map_err(Error::from)?;
    if m.pinned == on {
        return Ok(Changed {
            message: m,
            changed: false,
            freed: Vec::new(),
        });
    }
    if on {
        check_pin(pinned_count(conn, group)?).map_err(Error::from)?;
    }
    let rev = next_rev(conn, group)?;
    conn.prepare_cached("UPDATE messages SET pinned_at = ?2, rev = ?3 WHERE id = ?1")?
        .execute(params![
            id.to_string(),
            on.then(|| millis(now)),
            as_i64(rev)
        ])?;
    answer(conn, id, true)
}

pub(crate) fn pins(conn: &Connection, user: UserId, group: GroupId) -> StoreResult<Vec<Message>> {
    standing(conn, user, group)?;
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages INDEXED BY messages_pins
          WHERE group_id = ?1 AND pinned_at IS NOT NULL
          ORDER BY pinned_at DESC, seq DESC"
    );
    let mut pinned: Vec<Message> = conn
        .prepare_cached(&sql)?
        .query_map([group.to_string()], message_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    fill(conn, &mut pinned)?;
    Ok(pinned)
}

pub(crate) fn replies(
    conn: &Connection,
    user: UserId,
    id: MessageId,
    after: u64,
    limit: u32,
) -> StoreResult<Page> {
    // 404 unless the message exists and `user` is a member of its group.
    for_change(conn, user, id)?;
    // One more than asked tells whether there is more.
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages INDEXED BY messages_replies
          WHERE reply_to_id = ?1 AND seq > ?2
          ORDER BY seq LIMIT ?3"
    );
    let mut messages: Vec<Message> = conn
        .prepare_cached(&sql)?
        .query_map(
            params![id.to_string(), as_i64(after), i64::from(limit) + 1],
            message_from_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    fill(conn, &mut messages)?;
    Ok(Page { messages, has_more })
}

#[cfg(test)]
mod tests;
