//! Rows of groups, memberships and messages, and the shared loads the store operations need.

use confab_domain::{Group, GroupId, Message, MessageId, Role, UserId};
use confab_ports::Error;
use confab_ports::store::{GroupView, Member};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::error::StoreResult;
use crate::rows::{Cols, USER_COLUMNS, driver, time_at, user_at};
use confab_ports::store::rows;

/// The columns `message_from_row` expects, in order.
pub(crate) const MESSAGE_COLUMNS: &str = "m.id, m.group_id, m.seq, m.rev, m.sender_id, m.body, \
     m.client_id, m.created_at, m.edited_at, m.deleted, m.created_rev, m.pinned_at";

fn role_at(row: &PgRow, idx: usize) -> sqlx::Result<Role> {
    rows::role(&Cols(row), idx).map_err(driver)
}

/// The columns of `groups g` that `rows::group` reads (9 of them).
const GROUP_COLUMNS: &str = "g.id, g.kind, g.name, g.created_by, g.created_at, g.expires_at, \
     g.closed_at, g.last_seq, g.last_rev";

fn group_from_row(row: &PgRow) -> sqlx::Result<Group> {
    rows::group(&Cols(row), 0).map_err(driver)
}

/// A group with the caller's membership: the one query behind every `GroupView`. The unread
/// mentions are counted for all of the caller's groups at once (one pass over the caller's
/// mentions, by `mentions_user`), not group by group.
fn view_sql(filter: &str) -> String {
    format!(
        "SELECT {GROUP_COLUMNS}, m.role, m.alias, m.last_read_seq,
                (SELECT count(*) FROM members c WHERE c.group_id = g.id),
                (SELECT count(*) FROM messages x
                  WHERE x.group_id = g.id AND x.seq > m.last_read_seq
                    AND x.sender_id <> m.user_id AND NOT x.deleted),
                coalesce(mc.n, 0)
           FROM members m JOIN groups g ON g.id = m.group_id
           LEFT JOIN (SELECT x.group_id, count(*) AS n
                        FROM mentions mn
                        JOIN messages x ON x.id = mn.message_id
                        JOIN members me ON me.group_id = x.group_id AND me.user_id = mn.user_id
                       WHERE mn.user_id = $1 AND x.seq > me.last_read_seq
                         AND x.sender_id <> $1 AND NOT x.deleted
                       GROUP BY x.group_id) mc ON mc.group_id = g.id
          WHERE m.user_id = $1 {filter}
          ORDER BY g.last_activity_at DESC, g.id DESC"
    )
}

fn view_from_row(row: &PgRow) -> sqlx::Result<GroupView> {
    rows::view(&Cols(row)).map_err(driver)
}

/// The group as `user` sees it; `NotFound("group")` when it does not exist or `user` is not
/// a member (the two are never told apart).
pub(crate) async fn view(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
) -> StoreResult<GroupView> {
    let row = sqlx::query(AssertSqlSafe(view_sql("AND g.id = $2")))
        .bind(user.as_uuid())
        .bind(group.as_uuid())
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("group"))?;
    Ok(view_from_row(&row)?)
}

/// Every group of `user`, most recent activity first.
pub(crate) async fn views(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<GroupView>> {
    let rows = sqlx::query(AssertSqlSafe(view_sql("")))
        .bind(user.as_uuid())
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(view_from_row)
        .collect::<sqlx::Result<_>>()?)
}

/// A group and the caller's role in it, for a rule to decide on.
pub(crate) struct Standing {
    pub group: Group,
    pub role: Role,
}

/// Loads the group and `user`'s role; `NotFound("group")` unless `user` is a member.
pub(crate) async fn standing(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
) -> StoreResult<Standing> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS}, m.role FROM members m JOIN groups g ON g.id = m.group_id
          WHERE m.user_id = $1 AND g.id = $2"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(user.as_uuid())
        .bind(group.as_uuid())
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("group"))?;
    Ok(Standing {
        group: group_from_row(&row)?,
        role: role_at(&row, 9)?,
    })
}

/// Locks the group's row until the transaction ends, then loads `user`'s standing in it: every
/// write to a group goes through here, so writes to one group are serialised (gapless seq and
/// rev; a removal and an append never interleave) and the standing read after the lock is
/// current (READ COMMITTED reads each statement afresh).
pub(crate) async fn standing_for_write(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
) -> StoreResult<Standing> {
    sqlx::query("SELECT 1 FROM groups WHERE id = $1 FOR NO KEY UPDATE")
        .bind(group.as_uuid())
        .execute(&mut *conn)
        .await?;
    standing(conn, user, group).await
}

const MEMBER_SQL: &str = "FROM members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1";

/// A member row with its user; `None` when `user` is not a member.
pub(crate) async fn member(
    conn: &mut PgConnection,
    group: GroupId,
    user: UserId,
) -> StoreResult<Option<Member>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, m.role, m.joined_at, m.last_read_seq {MEMBER_SQL} AND m.user_id = $2"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(group.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(member_from_row).transpose()?)
}

/// Every member of a group, longest-standing first.
pub(crate) async fn members(conn: &mut PgConnection, group: GroupId) -> StoreResult<Vec<Member>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, m.role, m.joined_at, m.last_read_seq {MEMBER_SQL} ORDER BY m.joined_at, m.user_id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(group.as_uuid())
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(member_from_row)
        .collect::<sqlx::Result<_>>()?)
}

/// Where a member row's own columns start: after the user's.
const AFTER_USER: usize = rows::USER.len();

fn member_from_row(row: &PgRow) -> sqlx::Result<Member> {
    Ok(Member {
        user: user_at(row, 0)?,
        role: role_at(row, AFTER_USER)?,
        joined_at: time_at(row, AFTER_USER + 1)?,
        last_read_seq: rows::count(&Cols(row), AFTER_USER + 2).map_err(driver)?,
    })
}

/// A message from a row selected with [`MESSAGE_COLUMNS`].
pub(crate) fn message_from_row(row: &PgRow) -> sqlx::Result<Message> {
    rows::message(&Cols(row), 0).map_err(driver)
}

/// One message by id, if it exists.
pub(crate) async fn message(
    conn: &mut PgConnection,
    id: MessageId,
) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(message_from_row).transpose()?)
}

#[cfg(test)]
mod tests {
    use confab_ports::store::rows::{GROUP, MESSAGE, select_list};

    #[test]
    fn the_column_lists_are_the_shared_ones() {
        assert_eq!(super::GROUP_COLUMNS, select_list("g", GROUP));
        assert_eq!(super::MESSAGE_COLUMNS, select_list("m", MESSAGE));
    }
}
