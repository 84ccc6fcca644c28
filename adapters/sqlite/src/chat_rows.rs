//! Rows of groups, memberships and messages, and the shared loads the store operations need.

use confab_domain::{Group, GroupId, Message, MessageId, Role, UserId};
use confab_ports::Error;
use confab_ports::store::{GroupView, Member};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::StoreResult;
use crate::rows::{Cols, USER_COLUMNS, driver, time_at, user_from_row};
use confab_ports::store::rows;

/// The columns `message_from_row` expects, in order.
pub(crate) const MESSAGE_COLUMNS: &str = "id, group_id, seq, rev, sender_id, body, client_id, created_at, edited_at, deleted, created_rev, pinned_at";

pub(crate) fn role_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Role> {
    rows::role(&Cols(row), idx).map_err(driver)
}

/// The columns of `groups g` that `rows::group` reads (9 of them).
const GROUP_COLUMNS: &str = "g.id, g.kind, g.name, g.created_by, g.created_at, g.expires_at, \
     g.closed_at, g.last_seq, g.last_rev";

fn group_from_row(row: &Row<'_>) -> rusqlite::Result<Group> {
    rows::group(&Cols(row), 0).map_err(driver)
}

/// A group with the caller's membership: the one query behind every `GroupView`. The unread
/// mentions are counted once for all the user's groups (`?1`), from the user's mentions, not
/// once per group; `filter` narrows both to one group.
fn view_sql(filter: &str, mention_filter: &str) -> String {
    format!(
        "WITH mentioned AS (
             SELECT x.group_id, count(*) AS n
               FROM mentions n JOIN messages x ON x.id = n.message_id
               JOIN members r ON r.group_id = x.group_id AND r.user_id = n.user_id
              WHERE n.user_id = ?1 {mention_filter} AND x.seq > r.last_read_seq
                AND x.sender_id <> n.user_id AND x.deleted = 0
              GROUP BY x.group_id)
         SELECT {GROUP_COLUMNS}, m.role, m.alias, m.last_read_seq,
                (SELECT count(*) FROM members c WHERE c.group_id = g.id),
                (SELECT count(*) FROM messages x
                  WHERE x.group_id = g.id AND x.seq > m.last_read_seq
                    AND x.sender_id <> m.user_id AND x.deleted = 0),
                coalesce(k.n, 0)
           FROM members m JOIN groups g ON g.id = m.group_id
           LEFT JOIN mentioned k ON k.group_id = g.id
          WHERE m.user_id = ?1 {filter}
          ORDER BY g.last_activity_at DESC, g.id DESC"
    )
}

fn view_from_row(row: &Row<'_>) -> rusqlite::Result<GroupView> {
    rows::view(&Cols(row)).map_err(driver)
}

/// The group as `user` sees it; `NotFound("group")` when it does not exist or `user` is not
/// a member (the two are never told apart).
pub(crate) fn view(conn: &Connection, user: UserId, group: GroupId) -> StoreResult<GroupView> {
    let sql = view_sql("AND g.id = ?2", "AND x.group_id = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![user.to_string(), group.to_string()], view_from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound("group").into())
}

/// Every group of `user`, most recent activity first.
pub(crate) fn views(conn: &Connection, user: UserId) -> StoreResult<Vec<GroupView>> {
    let sql = view_sql("", "");
    let views = conn
        .prepare_cached(&sql)?
        .query_map([user.to_string()], view_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(views)
}

/// A group and the caller's role in it, for a rule to decide on.
pub(crate) struct Standing {
    pub group: Group,
    pub role: Role,
}

/// Loads the group and `user`'s role; `NotFound("group")` unless `user` is a member.
pub(crate) fn standing(conn: &Connection, user: UserId, group: GroupId) -> StoreResult<Standing> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS}, m.role FROM members m JOIN groups g ON g.id = m.group_id
          WHERE m.user_id = ?1 AND g.id = ?2"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![user.to_string(), group.to_string()], |row| {
            Ok(Standing {
                group: group_from_row(row)?,
                role: role_at(row, 9)?,
            })
        })
        .optional()?
        .ok_or_else(|| Error::NotFound("group").into())
}

// `members` and `users` share no column name, so USER_COLUMNS need no table prefix here.

/// A member row with its user; `None` when `user` is not a member.
pub(crate) fn member(
    conn: &Connection,
    group: GroupId,
    user: UserId,
) -> StoreResult<Option<Member>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, m.role, m.joined_at, m.last_read_seq FROM members m JOIN users u ON u.id = m.user_id
          WHERE m.group_id = ?1 AND m.user_id = ?2"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            params![group.to_string(), user.to_string()],
            member_from_row,
        )
        .optional()?)
}

/// Every member of a group, longest-standing first.
pub(crate) fn members(conn: &Connection, group: GroupId) -> StoreResult<Vec<Member>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, m.role, m.joined_at, m.last_read_seq FROM members m JOIN users u ON u.id = m.user_id
          WHERE m.group_id = ?1 ORDER BY m.joined_at, m.user_id"
    );
    let members = conn
        .prepare_cached(&sql)?
        .query_map([group.to_string()], member_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(members)
}

/// Where a member row's own columns start: after the user's.
const AFTER_USER: usize = rows::USER.len();

fn member_from_row(row: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        user: user_from_row(row)?,
        role: role_at(row, AFTER_USER)?,
        joined_at: time_at(row, AFTER_USER + 1)?,
        last_read_seq: rows::count(&Cols(row), AFTER_USER + 2).map_err(driver)?,
    })
}

/// A message from a row selected with [`MESSAGE_COLUMNS`], without its attachments, reply,
/// reactions and mentions (see `extras::fill`).
pub(crate) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    rows::message(&Cols(row), 0).map_err(driver)
}

/// One message by id, with its attachments, reply, reactions and mentions, if it exists.
pub(crate) fn message(conn: &Connection, id: MessageId) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let mut found = conn
        .prepare_cached(&sql)?
        .query_row([id.to_string()], message_from_row)
        .optional()?;
    if let Some(m) = found.as_mut() {
        crate::extras::fill(conn, std::slice::from_mut(m))?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use confab_ports::store::rows::{GROUP, MESSAGE, select_list};

    #[test]
    fn the_column_lists_are_the_shared_ones() {
        assert_eq!(super::GROUP_COLUMNS, select_list("g", GROUP));
        assert_eq!(super::MESSAGE_COLUMNS, select_list("", MESSAGE));
    }
}
