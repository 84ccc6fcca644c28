//! `Groups` on SQLite: every write runs on the writer thread, so its checks and its writes are
//! one serial transaction (no two creates of one direct chat, no write after a removal).

use async_trait::async_trait;
use confab_domain::decide::{self, Close};
use confab_domain::policy::{RoleChange, Standing as MemberStanding};
use confab_domain::{Alias, GroupId, GroupKind, GroupName, Role, Timestamp, UserId, pair_key};
use confab_ports::store::{Closing, GroupView, Groups, Member, NewGroup, Removal, RoleChanged};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::chat_rows::{self, standing, view};
use crate::error::StoreResult;
use crate::rows::millis;

fn user_exists(conn: &Connection, user: UserId) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .query_row([user.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(crate) fn insert_member(
    conn: &Connection,
    group: GroupId,
    user: UserId,
    role: Role,
    joined_at: Timestamp,
    last_read_seq: u64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO members (group_id, user_id, role, joined_at, last_read_seq)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        group.to_string(),
        user.to_string(),
        role.as_str(),
        millis(joined_at),
        i64::try_from(last_read_seq).unwrap_or(i64::MAX),
    ])?;
    Ok(())
}

fn insert_group(
    conn: &Connection,
    id: GroupId,
    kind: GroupKind,
    name: Option<&GroupName>,
    created_by: UserId,
    now: Timestamp,
    direct_key: Option<&str>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO groups (id, kind, name, created_by, created_at, last_activity_at, direct_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
    )?
    .execute(params![
        id.to_string(),
        kind.as_str(),
        name.map(GroupName::as_str),
        created_by.to_string(),
        millis(now),
        direct_key,
    ])?;
    Ok(())
}

fn create_group(conn: &Connection, g: &NewGroup) -> StoreResult<GroupView> {
    for member in &g.members {
        if !user_exists(conn, *member)? {
            return Err(
                Error::invalid("member_ids", format!("no user has the id {member}")).into(),
            );
        }
    }
    insert_group(
        conn,
        g.id,
        GroupKind::Group,
        Some(&g.name),
        g.created_by,
        g.created_at,
        None,
    )?;
    insert_member(conn, g.id, g.created_by, Role::Owner, g.created_at, 0)?;
    for member in &g.members {
        insert_member(conn, g.id, *member, Role::Member, g.created_at, 0)?;
    }
    view(conn, g.created_by, g.id)
}

fn open_direct(
    conn: &Connection,
    me: UserId,
    other: UserId,
    id: GroupId,
    now: Timestamp,
) -> StoreResult<(GroupView, bool)> {
    if !user_exists(conn, other)? {
        return Err(Error::NotFound("user").into());
    }
    confab_domain::block::open_direct(crate::blocks::between(conn, me, other)?)
        .map_err(Error::from)?;
    let key = pair_key(me, other);
    let open: Option<String> = conn
        .prepare_cached("SELECT id FROM groups WHERE direct_key = ?1 AND closed_at IS NULL")?
        .query_row([&key], |row| row.get(0))
        .optional()?;
    if let Some(existing) = open {
        let existing = uuid::Uuid::parse_str(&existing)
            .map_err(|e| crate::error::StoreError::Internal(e.to_string()))?;
        return Ok((view(conn, me, GroupId::from_uuid(existing))?, false));
    }
    insert_group(conn, id, GroupKind::Direct, None, me, now, Some(&key))?;
    insert_member(conn, id, me, Role::Member, now, 0)?;
    insert_member(conn, id, other, Role::Member, now, 0)?;
    Ok((view(conn, me, id)?, true))
}

fn delete_or_close(
    conn: &Connection,
    actor: UserId,
    group: GroupId,
    now: Timestamp,
) -> StoreResult<Closing> {
    let s = standing(conn, actor, group)?;
    match decide::delete_or_close(s.role, &s.group).map_err(Error::from)? {
        Close::DeleteGroup => {
            let members = chat_rows::members(conn, group)?
                .into_iter()
                .map(|m| m.user.id)
                .collect();
            conn.execute("DELETE FROM groups WHERE id = ?1", [group.to_string()])?;
            Ok(Closing::Deleted { members })
        }
        Close::AlreadyClosed => Ok(Closing::AlreadyClosed),
        Close::CloseChat => {
            conn.execute(
                "UPDATE groups SET closed_at = ?2 WHERE id = ?1",
                params![group.to_string(), millis(now)],
            )?;
            Ok(Closing::Closed)
        }
    }
}

fn add_member(
    conn: &Connection,
    actor: UserId,
    group: GroupId,
    target: UserId,
    role: Role,
    now: Timestamp,
) -> StoreResult<Member> {
    let s = standing(conn, actor, group)?;
    let exists = user_exists(conn, target)?;
    let current = chat_rows::member(conn, group, target)?.map(|m| m.role);
    let role = decide::add_member(s.role, &s.group, role, exists, current).map_err(Error::from)?;
    // A newcomer starts with the history read: unread counts what arrives after joining.
    insert_member(conn, group, target, role, now, s.group.last_seq)?;
    chat_rows::member(conn, group, target)?.ok_or_else(|| Error::NotFound("member").into())
}

fn set_role(conn: &Connection, group: GroupId, user: UserId, role: Role) -> StoreResult<()> {
    conn.prepare_cached("UPDATE members SET role = ?3 WHERE group_id = ?1 AND user_id = ?2")?
        .execute(params![group.to_string(), user.to_string(), role.as_str()])?;
    Ok(())
}

fn change_role(
    conn: &Connection,
    actor: UserId,
    group: GroupId,
    target: UserId,
    role: Role,
) -> StoreResult<RoleChanged> {
    let s = standing(conn, actor, group)?;
    let current = chat_rows::member(conn, group, target)?.map(|m| m.role);
    let change =
        decide::change_role(&s.group, actor, s.role, target, current, role).map_err(Error::from)?;
    match change {
        RoleChange::Unchanged => {}
        RoleChange::Set { target, role } => set_role(conn, group, target, role)?,
        RoleChange::Transfer {
            new_owner,
            previous,
        } => {
            set_role(conn, group, previous, Role::Admin)?;
            set_role(conn, group, new_owner, Role::Owner)?;
        }
    }
    let member = chat_rows::member(conn, group, target)?.ok_or(Error::NotFound("member"))?;
    Ok(RoleChanged::new(&change, member))
}

fn delete_member(conn: &Connection, group: GroupId, user: UserId) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM members WHERE group_id = ?1 AND user_id = ?2")?
        .execute(params![group.to_string(), user.to_string()])?;
    Ok(())
}

fn remove_member(
    conn: &Connection,
    actor: UserId,
    group: GroupId,
    target: UserId,
) -> StoreResult<Removal> {
    let s = standing(conn, actor, group)?;
    let members: Vec<MemberStanding> = chat_rows::members(conn, group)?
        .iter()
        .map(|m| m.standing())
        .collect();
    match decide::remove_member(&s.group, actor, s.role, target, &members).map_err(Error::from)? {
        decide::Removal::Remove(other) => {
            delete_member(conn, group, other)?;
            Ok(Removal::Removed)
        }
        decide::Removal::DeleteGroup => {
            conn.execute("DELETE FROM groups WHERE id = ?1", [group.to_string()])?;
            Ok(Removal::GroupDeleted)
        }
        decide::Removal::Leave { new_owner } => {
            delete_member(conn, group, actor)?;
            if let Some(next) = new_owner {
                set_role(conn, group, next, Role::Owner)?;
            }
            Ok(Removal::Left { new_owner })
        }
    }
}

fn mark_read(conn: &Connection, user: UserId, group: GroupId, seq: u64) -> StoreResult<u64> {
    let s = standing(conn, user, group)?;
    let target = i64::try_from(decide::read_marker(&s.group, seq)).unwrap_or(i64::MAX);
    let marker: i64 = conn
        .prepare_cached(
            "UPDATE members SET last_read_seq = max(last_read_seq, ?3)
              WHERE group_id = ?1 AND user_id = ?2 RETURNING last_read_seq",
        )?
        .query_row(
            params![group.to_string(), user.to_string(), target],
            |row| row.get(0),
        )?;
    Ok(u64::try_from(marker).unwrap_or(0))
}

#[async_trait]
impl Groups for SqliteStore {
    async fn create_group(&self, group: NewGroup) -> Result<GroupView> {
        Ok(self
            .writer
            .write(move |conn| create_group(conn, &group))
            .await?)
    }

    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        id: GroupId,
        now: Timestamp,
    ) -> Result<(GroupView, bool)> {
        Ok(self
            .writer
            .write(move |conn| open_direct(conn, me, other, id, now))
            .await?)
    }

    async fn groups_of(&self, user: UserId) -> Result<Vec<GroupView>> {
        Ok(self
            .readers
            .read(move |conn| chat_rows::views(conn, user))
            .await?)
    }

    async fn group_of(&self, user: UserId, group: GroupId) -> Result<GroupView> {
        Ok(self
            .readers
            .read(move |conn| view(conn, user, group))
            .await?)
    }

    async fn rename_group(
        &self,
        actor: UserId,
        group: GroupId,
        name: GroupName,
    ) -> Result<GroupView> {
        Ok(self
            .writer
            .write(move |conn| {
                let s = standing(conn, actor, group)?;
                decide::rename(s.role, &s.group).map_err(Error::from)?;
                conn.execute(
                    "UPDATE groups SET name = ?2 WHERE id = ?1",
                    params![group.to_string(), name.as_str()],
                )?;
                view(conn, actor, group)
            })
            .await?)
    }

    async fn delete_or_close(
        &self,
        actor: UserId,
        group: GroupId,
        now: Timestamp,
    ) -> Result<Closing> {
        Ok(self
            .writer
            .write(move |conn| delete_or_close(conn, actor, group, now))
            .await?)
    }

    async fn set_alias(
        &self,
        user: UserId,
        group: GroupId,
        alias: Option<Alias>,
    ) -> Result<GroupView> {
        Ok(self
            .writer
            .write(move |conn| {
                standing(conn, user, group)?;
                conn.execute(
                    "UPDATE members SET alias = ?3 WHERE group_id = ?1 AND user_id = ?2",
                    params![
                        group.to_string(),
                        user.to_string(),
                        alias.as_ref().map(Alias::as_str)
                    ],
                )?;
                view(conn, user, group)
            })
            .await?)
    }

    async fn members(&self, user: UserId, group: GroupId) -> Result<Vec<Member>> {
        Ok(self
            .readers
            .read(move |conn| {
                standing(conn, user, group)?;
                chat_rows::members(conn, group)
            })
            .await?)
    }

    async fn add_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
        now: Timestamp,
    ) -> Result<Member> {
        Ok(self
            .writer
            .write(move |conn| add_member(conn, actor, group, target, role, now))
            .await?)
    }

    async fn change_role(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
    ) -> Result<RoleChanged> {
        Ok(self
            .writer
            .write(move |conn| change_role(conn, actor, group, target, role))
            .await?)
    }

    async fn remove_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        _now: Timestamp,
    ) -> Result<Removal> {
        Ok(self
            .writer
            .write(move |conn| remove_member(conn, actor, group, target))
            .await?)
    }

    async fn mark_read(&self, user: UserId, group: GroupId, seq: u64) -> Result<u64> {
        Ok(self
            .writer
            .write(move |conn| mark_read(conn, user, group, seq))
            .await?)
    }
}
