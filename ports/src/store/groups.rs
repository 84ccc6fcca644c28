use async_trait::async_trait;
use confab_domain::policy;
use confab_domain::{Alias, Group, GroupId, GroupName, Role, Timestamp, User, UserId};

use crate::Result;

/// The caller's own standing in a group, as `my` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyMembership {
    pub role: Role,
    pub alias: Option<Alias>,
    pub last_read_seq: u64,
    /// Messages of others with seq > `last_read_seq` that are not deleted.
    pub unread_count: u64,
}

/// A group as one of its members sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub group: Group,
    pub member_count: u64,
    pub my: MyMembership,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: User,
    pub role: Role,
    pub joined_at: Timestamp,
}

impl Member {
    /// What the leaving rule needs to know of this member.
    pub fn standing(&self) -> policy::Standing {
        policy::Standing {
            user: self.user.id,
            role: self.role,
            joined_at: self.joined_at,
        }
    }
}

/// A named group to create; the creator is its owner.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub id: GroupId,
    pub name: GroupName,
    pub created_by: UserId,
    pub created_at: Timestamp,
    /// Other initial members (without the creator, without duplicates), all as `member`.
    pub members: Vec<UserId>,
}

/// What `DELETE /groups/{id}` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closing {
    /// A named group is gone, with its members and messages; `members` were its members.
    Deleted { members: Vec<UserId> },
    /// A direct chat is closed: readable, no longer writable.
    Closed,
    /// The direct chat was already closed; nothing changed.
    AlreadyClosed,
}

/// What a role change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChanged {
    /// Nothing: the member already held the role.
    Unchanged(Member),
    /// The member now holds a new role.
    Set(Member),
    /// The member is the new owner; `previous_owner` is now an admin.
    Transferred {
        member: Member,
        previous_owner: UserId,
    },
}

impl RoleChanged {
    /// What `change` did, with the member as they are after it.
    pub fn new(change: &policy::RoleChange, member: Member) -> Self {
        match change {
            policy::RoleChange::Unchanged => RoleChanged::Unchanged(member),
            policy::RoleChange::Set { .. } => RoleChanged::Set(member),
            policy::RoleChange::Transfer { previous, .. } => RoleChanged::Transferred {
                member,
                previous_owner: *previous,
            },
        }
    }

    /// The member as they are now.
    pub fn member(&self) -> &Member {
        match self {
            RoleChanged::Unchanged(m) | RoleChanged::Set(m) => m,
            RoleChanged::Transferred { member, .. } => member,
        }
    }
}

/// What removing a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Another member was removed.
    Removed,
    /// The caller left; `new_owner` is set when the owner left and ownership passed on.
    Left { new_owner: Option<UserId> },
    /// The caller was the last member: the group is deleted.
    GroupDeleted,
}

/// Groups, direct chats, members and read markers. Every method that takes a `user` or
/// `actor` MUST answer `Error::NotFound("group")` when the group does not exist *or* that user
/// is not a member, so existence never leaks. Rules come from `confab_domain::policy`.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Groups: Send + Sync {
    /// Creates a named group with the creator as owner.
    /// MUST return `Error::Invalid` on field `member_ids` when an initial member does not exist.
    async fn create_group(&self, group: NewGroup) -> Result<GroupView>;

    /// The open direct chat of `me` and `other` made by `POST /direct`, creating it (with
    /// `id`) if there is none; `true` when it was created. MUST create at most one open direct
    /// chat per pair even when both ask at the same instant, and MUST return
    /// `Error::NotFound("user")` when `other` does not exist.
    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        id: GroupId,
        now: Timestamp,
    ) -> Result<(GroupView, bool)>;

    /// The user's groups, most recent activity (newest message, else creation) first.
    async fn groups_of(&self, user: UserId) -> Result<Vec<GroupView>>;

    /// One group as `user` sees it.
    async fn group_of(&self, user: UserId, group: GroupId) -> Result<GroupView>;

    /// Renames a named group (owner or admin).
    async fn rename_group(
        &self,
        actor: UserId,
        group: GroupId,
        name: GroupName,
    ) -> Result<GroupView>;

    /// Deletes a named group (owner) or closes a direct chat (either member).
    async fn delete_or_close(
        &self,
        actor: UserId,
        group: GroupId,
        now: Timestamp,
    ) -> Result<Closing>;

    /// Sets or clears the caller's own alias for a group (allowed in closed chats too).
    async fn set_alias(
        &self,
        user: UserId,
        group: GroupId,
        alias: Option<Alias>,
    ) -> Result<GroupView>;

    /// The members, longest-standing first.
    async fn members(&self, user: UserId, group: GroupId) -> Result<Vec<Member>>;

    /// Adds `target` with `role` (owner or admin acting).
    /// MUST return `Error::NotFound("user")` when `target` does not exist and
    /// `Error::Conflict { field: "user_id" }` when `target` is already a member.
    async fn add_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
        now: Timestamp,
    ) -> Result<Member>;

    /// Changes `target`'s role (owner acting); `owner` transfers ownership.
    /// MUST return `Error::NotFound("member")` when `target` is not a member.
    async fn change_role(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
    ) -> Result<RoleChanged>;

    /// Removes `target` (owner or admin acting, never the owner), or lets `actor` leave when
    /// `target == actor`. MUST return `Error::NotFound("member")` when `target` is not a member.
    async fn remove_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        now: Timestamp,
    ) -> Result<Removal>;

    /// Moves the caller's read marker to `seq`, clamped to the group's `last_seq`, never
    /// backwards; returns the marker now in force.
    async fn mark_read(&self, user: UserId, group: GroupId, seq: u64) -> Result<u64>;
}
