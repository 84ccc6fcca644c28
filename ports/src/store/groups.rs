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
    /// Of those, the ones that mention this member.
    pub mention_count: u64,
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
    /// The highest seq this member has read (their read marker; 0 when none).
    pub last_read_seq: u64,
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

/// Groups, direct chats, members and read markers.
///
/// Each write is one transaction: the store loads the caller's standing, asks
/// `confab_domain::policy` and applies its answer, and no other write to the same group can run
/// between that check and that write (SQLite: the one writer thread; PostgreSQL: the group's row
/// is locked first).
///
/// Every method that takes a `user` or `actor` MUST answer `Error::NotFound("group")` when the
/// group does not exist *or* that user is not (or no longer) a member, before any other check,
/// so existence never leaks.
///
/// Role checks come before looking at the target: a refusal by role MUST be
/// `Error::Forbidden` whether or not the target exists or is a member.
///
/// No method here answers `Error::Gone`: a closed direct chat or an expired room refuses
/// message writes (see `Messages`), but its view, members, alias and read marker stay
/// available, and closing it again changes nothing.
///
/// A named group MUST have exactly one owner after every commit, whatever runs at the same
/// time (transfers, the owner leaving, removals). A direct chat (made by `open_direct`, or a
/// room made by the match pool) has its two users as `member` and no owner.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Groups: Send + Sync {
    /// Creates a named group: the creator as `owner` and every entry of `members` as `member`,
    /// all joined at `created_at` with a read marker of 0; returns it as the creator sees it.
    /// MUST return `Error::Invalid` on field `member_ids` when an initial member does not exist,
    /// and then create nothing.
    async fn create_group(&self, group: NewGroup) -> Result<GroupView>;

    /// The open direct chat of `me` and `other` made by `POST /direct`, creating it (with
    /// `id`, created by `me`, no name, both users as `member`) if there is none; `true` when it
    /// was created. Either user asking MUST find the same chat. A closed chat is not open:
    /// asking after a close MUST create a new chat. A room made by the match pool is not the
    /// pair's direct chat and MUST be neither returned nor in the way. MUST create at most one
    /// open direct chat per pair even when both ask at the same instant (every caller gets that
    /// chat, exactly one of them with `true`), and MUST return `Error::NotFound("user")` when
    /// `other` does not exist. The use case refuses `me == other` before calling.
    /// MUST refuse as `confab_domain::block::open_direct` says over the blocks between the two,
    /// checked before an open chat is looked for: `Error::NotFound("user")` when `other`
    /// blocked `me` (the answer an unknown user gets), `Error::Forbidden` when `me` blocked
    /// `other`.
    async fn open_direct(
        &self,
        me: UserId,
        other: UserId,
        id: GroupId,
        now: Timestamp,
    ) -> Result<(GroupView, bool)>;

    /// The user's groups (named groups, direct chats open or closed, pool rooms), each as the
    /// user sees it, most recent activity first: the newest message's time, else the creation
    /// time. Groups the user left or was removed from, and deleted groups, MUST NOT appear.
    async fn groups_of(&self, user: UserId) -> Result<Vec<GroupView>>;

    /// One group as `user` sees it: `member_count` counts every member, `my` is the user's own
    /// role, alias, read marker and unread count (messages of others above the marker that are
    /// not deleted).
    async fn group_of(&self, user: UserId, group: GroupId) -> Result<GroupView>;

    /// Renames a named group (owner or admin) and returns it as `actor` sees it.
    /// MUST return `Error::Forbidden` when `actor` is a plain `member`, and in a direct chat
    /// (which has no name).
    async fn rename_group(
        &self,
        actor: UserId,
        group: GroupId,
        name: GroupName,
    ) -> Result<GroupView>;

    /// Deletes a named group (owner), or closes a direct chat (either member).
    /// Deleting MUST remove the group with its members and messages and answer
    /// `Closing::Deleted` listing every member it had, the actor included; the group then
    /// answers `Error::NotFound("group")` to all of them. MUST return `Error::Forbidden` when an
    /// admin or member tries to delete a named group.
    /// Closing MUST set `closed_at` to `now` and answer `Closing::Closed` (a pool room past its
    /// `expires_at` but not yet swept included); on an already closed chat it MUST answer
    /// `Closing::AlreadyClosed` and change nothing (not `Error::Gone`).
    async fn delete_or_close(
        &self,
        actor: UserId,
        group: GroupId,
        now: Timestamp,
    ) -> Result<Closing>;

    /// Sets or clears (`None`) the caller's own alias for a group and returns the group as the
    /// caller sees it. Other members' aliases MUST NOT change. MUST be allowed in closed chats
    /// and expired rooms too.
    async fn set_alias(
        &self,
        user: UserId,
        group: GroupId,
        alias: Option<Alias>,
    ) -> Result<GroupView>;

    /// The members with their user, role and `joined_at`, longest-standing first, ties by user
    /// id: the order in which a successor to a leaving owner is chosen. MUST be allowed in
    /// closed chats and expired rooms.
    async fn members(&self, user: UserId, group: GroupId) -> Result<Vec<Member>>;

    /// Adds `target` with `role` (owner or admin acting), joined at `now`, with the read marker
    /// at the group's `last_seq`: the history is there to read, but only what arrives later
    /// counts as unread. Checks in this order:
    /// MUST return `Error::Forbidden` when `actor` is a plain `member`, and in a direct chat;
    /// MUST return `Error::Invalid` on field `role` when `role` is `owner` (ownership is only
    /// transferred);
    /// MUST return `Error::NotFound("user")` when `target` does not exist and
    /// `Error::Conflict { field: "user_id" }` when `target` is already a member (of two adds
    /// of one user at the same instant, exactly one succeeds).
    async fn add_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
        now: Timestamp,
    ) -> Result<Member>;

    /// Changes `target`'s role (owner acting). `owner` transfers ownership: in one transaction
    /// the target becomes owner and the actor an admin (`RoleChanged::Transferred`). The role
    /// the target already holds MUST answer `RoleChanged::Unchanged` and change nothing.
    /// MUST return `Error::Forbidden` when `actor` is not the owner (whether or not `target`
    /// is a member), and in a direct chat.
    /// MUST return `Error::NotFound("member")` when `target` is not a member.
    /// MUST return `Error::Invalid` on field `role` when the owner gives themself another role
    /// (ownership is kept until transferred).
    /// Of transfers racing from one owner, MUST apply exactly one (the others find the actor
    /// no longer owner: `Error::Forbidden`), leaving exactly one owner.
    async fn change_role(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        role: Role,
    ) -> Result<RoleChanged>;

    /// Removes `target` (owner or admin acting, never the owner): `Removal::Removed`; an admin
    /// may remove an admin. Or, when `target == actor`, lets `actor` leave: `Removal::Left`.
    /// MUST return `Error::Forbidden` when a plain `member` removes someone else (whether or
    /// not the target is a member), when the target is the owner, and in a direct chat, which
    /// is closed, not left.
    /// MUST return `Error::NotFound("member")` when `target` is not a member.
    /// When the owner leaves, ownership MUST pass in the same transaction to the
    /// longest-standing admin, else the longest-standing member (the first in `members`
    /// order), named in `new_owner`.
    /// When the last member leaves, the group MUST be deleted: `Removal::GroupDeleted`.
    /// Leaves, removals and transfers at the same instant MUST leave exactly one owner, and
    /// members all leaving at once MUST delete the group.
    async fn remove_member(
        &self,
        actor: UserId,
        group: GroupId,
        target: UserId,
        now: Timestamp,
    ) -> Result<Removal>;

    /// Moves the caller's read marker to `seq`, clamped to the group's `last_seq`, never
    /// backwards: the marker becomes `max(current, min(seq, last_seq))`, which is returned.
    /// MUST be allowed in closed chats and expired rooms.
    async fn mark_read(&self, user: UserId, group: GroupId, seq: u64) -> Result<u64>;
}
