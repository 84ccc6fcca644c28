//! `Groups` on PostgreSQL: every write locks the group's row first (`standing_for_write`), so its
//! checks and its writes are not interleaved with another write to the same group.

use async_trait::async_trait;
use confab_domain::decide::{self, Close};
use confab_domain::policy::{RoleChange, Standing as MemberStanding};
use confab_domain::{Alias, GroupId, GroupName, Role, Timestamp, UserId, pair_key};
use confab_ports::store::{Closing, GroupView, Groups, Member, NewGroup, Removal, RoleChanged};
use confab_ports::{Error, Result};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::PgStore;
use crate::chat_rows::{self, standing, standing_for_write, view};
use crate::error::StoreResult;
use crate::rows::{as_i64, millis};

async fn user_exists(conn: &mut PgConnection, user: UserId) -> StoreResult<bool> {
    Ok(sqlx::query("SELECT 1 FROM users WHERE id = $1")
        .bind(user.as_uuid())
        .fetch_optional(conn)
        .await?
        .is_some())
}

pub(crate) async fn insert_member(
    conn: &mut PgConnection,
    group: GroupId,
    user: UserId,
    role: Role,
    joined_at: Timestamp,
    last_read_seq: u64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO members (group_id, user_id, role, joined_at, last_read_seq)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(group.as_uuid())
    .bind(user.as_uuid())
    .bind(role.as_str())
    .bind(millis(joined_at))
    .bind(as_i64(last_read_seq))
    .execute(conn)
    .await?;
    Ok(())
}

async fn create_group(conn: &mut PgConnection, g: &NewGroup) -> StoreResult<GroupView> {
    for member in &g.members {
        if !user_exists(conn, *member).await? {
            return Err(
                Error::invalid("member_ids", format!("no user has the id {member}")).into(),
            );
        }
    }
    sqlx::query(
        "INSERT INTO groups (id, kind, name, created_by, created_at, last_activity_at)
         VALUES ($1, 'group', $2, $3, $4, $4)",
    )
    .bind(g.id.as_uuid())
    .bind(g.name.as_str())
    .bind(g.created_by.as_uuid())
    .bind(millis(g.created_at))
    .execute(&mut *conn)
    .await?;
    insert_member(conn, g.id, g.created_by, Role::Owner, g.created_at, 0).await?;
    for member in &g.members {
        insert_member(conn, g.id, *member, Role::Member, g.created_at, 0).await?;
    }
    view(conn, g.created_by, g.id).await
}

async fn open_direct(
    conn: &mut PgConnection,
    me: UserId,
    other: UserId,
    id: GroupId,
    now: Timestamp,
) -> StoreResult<(GroupView, bool)> {
    // Share-locked against a block of the pair being made at the same moment.
    if crate::blocks::lock_pair(conn, me, other, false).await? < 2 {
        return Err(Error::NotFound("user").into());
    }
    confab_domain::block::open_direct(crate::blocks::between(conn, me, other).await?)
        .map_err(Error::from)?;
    let key = pair_key(me, other);
    // Two requests for one pair at once: the unique index makes the second insert wait for the
    // first to commit and then do nothing; it then finds the first one's chat. If that chat is
    // closed in between, there is room again: try once more.
    for _ in 0..3 {
        let inserted = sqlx::query(
            "INSERT INTO groups (id, kind, created_by, created_at, last_activity_at, direct_key)
             VALUES ($1, 'direct', $2, $3, $3, $4)
             ON CONFLICT (direct_key) WHERE direct_key IS NOT NULL AND closed_at IS NULL DO NOTHING",
        )
        .bind(id.as_uuid())
        .bind(me.as_uuid())
        .bind(millis(now))
        .bind(&key)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            insert_member(conn, id, me, Role::Member, now, 0).await?;
            insert_member(conn, id, other, Role::Member, now, 0).await?;
            return Ok((view(conn, me, id).await?, true));
        }
        let existing: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM groups WHERE direct_key = $1 AND closed_at IS NULL")
                .bind(&key)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(existing) = existing {
            return Ok((view(conn, me, GroupId::from_uuid(existing)).await?, false));
        }
    }
    Err(Error::Unavailable("the direct chat kept changing; try again".into()).into())
}

async fn delete_group(conn: &mut PgConnection, group: GroupId) -> StoreResult<()> {
    sqlx::query("DELETE FROM groups WHERE id = $1")
        .bind(group.as_uuid())
        .execute(conn)
        .await?;
    Ok(())
}

async fn delete_or_close(
    conn: &mut PgConnection,
    actor: UserId,
    group: GroupId,
    now: Timestamp,
) -> StoreResult<Closing> {
    let s = standing_for_write(conn, actor, group).await?;
    match decide::delete_or_close(s.role, &s.group).map_err(Error::from)? {
        Close::DeleteGroup => {
            let members = chat_rows::members(conn, group)
                .await?
                .into_iter()
                .map(|m| m.user.id)
                .collect();
            delete_group(conn, group).await?;
            Ok(Closing::Deleted { members })
        }
        Close::AlreadyClosed => Ok(Closing::AlreadyClosed),
        Close::CloseChat => {
            sqlx::query("UPDATE groups SET closed_at = $2 WHERE id = $1")
                .bind(group.as_uuid())
                .bind(millis(now))
                .execute(conn)
                .await?;
            Ok(Closing::Closed)
        }
    }
}

async fn add_member(
    conn: &mut PgConnection,
    actor: UserId,
    group: GroupId,
    target: UserId,
    role: Role,
    now: Timestamp,
) -> StoreResult<Member> {
    let s = standing_for_write(conn, actor, group).await?;
    let exists = user_exists(conn, target).await?;
    let current = chat_rows::member(conn, group, target)
        .await?
        .map(|m| m.role);
    let role = decide::add_member(s.role, &s.group, role, exists, current).map_err(Error::from)?;
    // A newcomer starts with the history read: unread counts what arrives after joining.
    insert_member(conn, group, target, role, now, s.group.last_seq).await?;
    chat_rows::member(conn, group, target)
        .await?
        .ok_or_else(|| Error::NotFound("member").into())
}

async fn set_role(
    conn: &mut PgConnection,
    group: GroupId,
    user: UserId,
    role: Role,
) -> StoreResult<()> {
    sqlx::query("UPDATE members SET role = $3 WHERE group_id = $1 AND user_id = $2")
        .bind(group.as_uuid())
        .bind(user.as_uuid())
        .bind(role.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

async fn change_role(
    conn: &mut PgConnection,
    actor: UserId,
    group: GroupId,
    target: UserId,
    role: Role,
) -> StoreResult<RoleChanged> {
    let s = standing_for_write(conn, actor, group).await?;
    let current = chat_rows::member(conn, group, target)
        .await?
        .map(|m| m.role);
    let change =
        decide::change_role(&s.group, actor, s.role, target, current, role).map_err(Error::from)?;
    match change {
        RoleChange::Unchanged => {}
        RoleChange::Set { target, role } => set_role(conn, group, target, role).await?,
        RoleChange::Transfer {
            new_owner,
            previous,
        } => {
            set_role(conn, group, previous, Role::Admin).await?;
            set_role(conn, group, new_owner, Role::Owner).await?;
        }
    }
    let member = chat_rows::member(conn, group, target)
        .await?
        .ok_or(Error::NotFound("member"))?;
    Ok(RoleChanged::new(&change, member))
}

async fn delete_member(conn: &mut PgConnection, group: GroupId, user: UserId) -> StoreResult<()> {
    sqlx::query("DELETE FROM members WHERE group_id = $1 AND user_id = $2")
        .bind(group.as_uuid())
        .bind(user.as_uuid())
        .execute(conn)
        .await?;
    Ok(())
}

async fn remove_member(
    conn: &mut PgConnection,
    actor: UserId,
    group: GroupId,
    target: UserId,
) -> StoreResult<Removal> {
    let s = standing_for_write(conn, actor, group).await?;
    let members: Vec<MemberStanding> = chat_rows::members(conn, group)
        .await?
        .iter()
        .map(|m| m.standing())
        .collect();
    match decide::remove_member(&s.group, actor, s.role, target, &members).map_err(Error::from)? {
        decide::Removal::Remove(other) => {
            delete_member(conn, group, other).await?;
            Ok(Removal::Removed)
        }
        decide::Removal::DeleteGroup => {
            delete_group(conn, group).await?;
            Ok(Removal::GroupDeleted)
        }
        decide::Removal::Leave { new_owner } => {
            delete_member(conn, group, actor).await?;
            if let Some(next) = new_owner {
                set_role(conn, group, next, Role::Owner).await?;
            }
            Ok(Removal::Left { new_owner })
        }
    }
}

async fn mark_read(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
    seq: u64,
) -> StoreResult<u64> {
    let s = standing(conn, user, group).await?;
    let target = as_i64(decide::read_marker(&s.group, seq));
    let marker: i64 = sqlx::query_scalar(
        "UPDATE members SET last_read_seq = greatest(last_read_seq, $3)
          WHERE group_id = $1 AND user_id = $2 RETURNING last_read_seq",
    )
    .bind(group.as_uuid())
    .bind(user.as_uuid())
    .bind(target)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("group"))?;
    Ok(u64::try_from(marker).unwrap_or(0))
}

async fn set_alias(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
    alias: Option<Alias>,
) -> StoreResult<GroupView> {
    standing(conn, user, group).await?;
    sqlx::query("UPDATE members SET alias = $3 WHERE group_id = $1 AND user_id = $2")
        .bind(group.as_uuid())
        .bind(user.as_uuid())
        .bind(alias.as_ref().map(Alias::as_str))
        .execute(&mut *conn)
        .await?;
    view(conn, user, group).await
}

async fn rename(
    conn: &mut PgConnection,
    actor: UserId,
    group: GroupId,
    name: GroupName,
) -> StoreResult<GroupView> {
    let s = standing_for_write(conn, actor, group).await?;
    decide::rename(s.role, &s.group).map_err(Error::from)?;
    sqlx::query("UPDATE groups SET name = $2 WHERE id = $1")
        .bind(group.as_uuid())
        .bind(name.as_str())
        .execute(&mut *conn)
        .await?;
    view(conn, actor, group).await
}

#[async_trait]
impl Groups for PgStore {
    async fn create_group(&self, group: NewGroup) -> Result<GroupView> {
        in_tx!(self, |tx| create_group(&mut tx, &group))
    }

    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        id: GroupId,
        now: Timestamp,
    ) -> Result<(GroupView, bool)> {
        in_tx!(self, |tx| open_direct(&mut tx, me, other, id, now))
    }

    async fn groups_of(&self, user: UserId) -> Result<Vec<GroupView>> {
        self.run(async { chat_rows::views(&mut *self.conn().await?, user).await })
            .await
    }

    async fn group_of(&self, user: UserId, group: GroupId) -> Result<GroupView> {
        self.run(async { view(&mut *self.conn().await?, user, group).await })
            .await
    }

    async fn rename_group(
        &self,
        actor: UserId,
        group: GroupId,
        name: GroupName,
    ) -> Result<GroupView> {
        in_tx!(self, |tx| rename(&mut tx, actor, group, name))
    }

    async fn delete_or_close(
        &self,
        actor: UserId,
        group: GroupId,
        now: Timestamp,
    ) -> Result<Closing> {
        in_tx!(self, |tx| delete_or_close(&mut tx, actor, group, now))
    }

    async fn set_alias(
        &self,
        user: UserId,
        group: GroupId,
        alias: Option<Alias>,
    ) -> Result<GroupView> {
        in_tx!(self, |tx| set_alias(&mut tx, user, group, alias))
    }

    async fn members(&self, user: UserId, group: GroupId) -> Result<Vec<Member>> {
        self.run(async {
            let mut conn = self.conn().await?;
            standing(&mut conn, user, group).await?;
            chat_rows::members(&mut conn, group).await
        })
        .await
    }

    async fn add_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
        now: Timestamp,
    ) -> Result<Member> {
        in_tx!(self, |tx| add_member(
            &mut tx, actor, group, target, role, now
        ))
    }

    async fn change_role(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
    ) -> Result<RoleChanged> {
        in_tx!(self, |tx| change_role(&mut tx, actor, group, target, role))
    }

    async fn remove_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        _now: Timestamp,
    ) -> Result<Removal> {
        in_tx!(self, |tx| remove_member(&mut tx, actor, group, target))
    }

    async fn mark_read(&self, user: UserId, group: GroupId, seq: u64) -> Result<u64> {
        in_tx!(self, |tx| mark_read(&mut tx, user, group, seq))
    }
}
