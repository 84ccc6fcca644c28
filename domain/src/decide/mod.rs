//! Every write's decision, made once: a store opens its transaction, loads what the decision
//! needs, calls the function here, and applies what it says — nothing else. So SQLite and
//! PostgreSQL cannot decide differently, and the order of the checks (which error wins when
//! several apply) is written in one place.
//!
//! These functions must stay pure: no I/O, no clock (the caller passes `now`), no randomness.

mod report;

pub use report::{Reported, SeenMessage, StatusChange, report_message, report_status, report_user};

use crate::policy::{self, Action, Leaving, Refusal, RoleChange, Standing};
use crate::pool::{self, Waiting};
use crate::{Country, Group, GroupKind, Message, Role, Timestamp, UserId};

/// What an append does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Append {
    /// The sender sent this client id to this group before: answer that message, write nothing.
    /// Boxed: a message is large, and most appends are inserts.
    Repeat(Box<Message>),
    /// Take the group's next seq and rev and insert the message.
    Insert,
}

/// Decides an append to `group` at `now`; `earlier` is the sender's message with the same
/// client id in this group, if any. A retry is answered with the first message even if the
/// chat closed meanwhile: the send it retries was accepted.
pub fn append(group: &Group, earlier: Option<Message>, now: Timestamp) -> Result<Append, Refusal> {
    if let Some(first) = earlier {
        return Ok(Append::Repeat(Box::new(first)));
    }
    group.check_writable(now)?;
    Ok(Append::Insert)
}

/// Decides whether `actor` may edit `message` of `group` at `now` (then: the group's next rev).
pub fn edit(
    actor: UserId,
    group: &Group,
    message: &Message,
    now: Timestamp,
) -> Result<(), Refusal> {
    policy::edit_message(actor, message.sender_id, message.deleted)?;
    group.check_writable(now)?;
    Ok(())
}

/// What a delete does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delete {
    /// Already a tombstone: answer it as it is, no new rev.
    AlreadyDeleted,
    /// Take the group's next rev and make the message a tombstone.
    Tombstone,
}

/// Decides a delete of `message` by `actor`, who holds `role` in `group`, at `now`.
pub fn delete(
    actor: UserId,
    role: Role,
    group: &Group,
    message: &Message,
    now: Timestamp,
) -> Result<Delete, Refusal> {
    policy::delete_message(group.kind, actor, role, message.sender_id)?;
    group.check_writable(now)?;
    Ok(if message.deleted {
        Delete::AlreadyDeleted
    } else {
        Delete::Tombstone
    })
}

/// What `DELETE /groups/{id}` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// A named group goes, with its members and messages.
    DeleteGroup,
    /// A direct chat is closed now.
    CloseChat,
    /// The direct chat was closed already.
    AlreadyClosed,
}

/// Decides `DELETE /groups/{id}` by a member holding `role`.
pub fn delete_or_close(role: Role, group: &Group) -> Result<Close, Refusal> {
    policy::can(group.kind, role, Action::DeleteOrClose)?;
    Ok(match group.kind {
        GroupKind::Group => Close::DeleteGroup,
        GroupKind::Direct if group.closed_at.is_some() => Close::AlreadyClosed,
        GroupKind::Direct => Close::CloseChat,
    })
}

/// Decides whether a member holding `role` may rename `group`.
pub fn rename(role: Role, group: &Group) -> Result<(), Refusal> {
    policy::can(group.kind, role, Action::Rename)
}

/// Decides an addition by a member holding `role`: the role the newcomer gets. `target_exists`
/// and `target_role` (its role if it is a member already) are what the store found.
pub fn add_member(
    role: Role,
    group: &Group,
    requested: Role,
    target_exists: bool,
    target_role: Option<Role>,
) -> Result<Role, Refusal> {
    policy::can(group.kind, role, Action::AddMember)?;
    let role = policy::joining_role(requested)?;
    if !target_exists {
        return Err(Refusal::NotFound("user"));
    }
    if target_role.is_some() {
        return Err(Refusal::Conflict("user_id"));
    }
    Ok(role)
}

/// Decides a role change by `actor` (holding `actor_role`) for `target`, whose role is
/// `target_role` (`None`: not a member). Whether the actor may change roles at all is said
/// before whether the target is a member.
pub fn change_role(
    group: &Group,
    actor: UserId,
    actor_role: Role,
    target: UserId,
    target_role: Option<Role>,
    new_role: Role,
) -> Result<RoleChange, Refusal> {
    policy::can(group.kind, actor_role, Action::ChangeRole)?;
    let current = target_role.ok_or(Refusal::NotFound("member"))?;
    policy::change_role(group.kind, actor, actor_role, target, current, new_role)
}

/// What a member removal does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Another member is removed.
    Remove(UserId),
    /// The actor leaves; `new_owner` takes over when the owner left.
    Leave { new_owner: Option<UserId> },
    /// The actor was the last member: the group goes.
    DeleteGroup,
}

/// Decides `DELETE /groups/{id}/members/{target}` by `actor` holding `role`; `members` are
/// all members of the group (the actor included). Whether the actor may remove anyone at all
/// is said before whether the target is a member.
pub fn remove_member(
    group: &Group,
    actor: UserId,
    role: Role,
    target: UserId,
    members: &[Standing],
) -> Result<Removal, Refusal> {
    if target != actor {
        policy::can(
            group.kind,
            role,
            Action::Remove {
                target: Role::Member,
            },
        )?;
        let other = members
            .iter()
            .find(|m| m.user == target)
            .ok_or(Refusal::NotFound("member"))?;
        policy::can(group.kind, role, Action::Remove { target: other.role })?;
        return Ok(Removal::Remove(target));
    }
    let remaining: Vec<Standing> = members
        .iter()
        .filter(|m| m.user != actor)
        .copied()
        .collect();
    Ok(match policy::leave(group.kind, role, &remaining)? {
        Leaving::DeleteGroup => Removal::DeleteGroup,
        Leaving::Left { new_owner } => Removal::Leave { new_owner },
    })
}

/// The read marker a member asks for: never past the group's newest message (the store keeps
/// the greater of this and the marker it has, so it never moves back).
pub fn read_marker(group: &Group, seq: u64) -> u64 {
    seq.min(group.last_seq)
}

/// What a pool join does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Join {
    /// Nobody fits: wait as this entry.
    Wait(Waiting),
    /// Match with this waiting user (remove their entry, make the room).
    Match(UserId),
}

/// What a pool join needs to know, as loaded by the store in its transaction.
#[derive(Debug, Clone)]
pub struct JoinFacts<'a> {
    pub user: UserId,
    /// The joiner's own country, if any.
    pub country: Option<Country>,
    pub same_country: bool,
    /// Whether the joiner is waiting already.
    pub already_waiting: bool,
    /// Everybody waiting (expired entries may be among them).
    pub waiting: &'a [Waiting],
    /// Users the joiner has an open (not closed, not expired) pool room with.
    pub open_partners: &'a [UserId],
    /// Users the joiner blocked or was blocked by: never matched with them.
    pub blocks: &'a [UserId],
    pub now: Timestamp,
    /// When the joiner's entry would expire.
    pub wait_until: Timestamp,
}

/// Decides a pool join: the newcomer meets the oldest fitting entry, or waits.
pub fn join_pool(facts: JoinFacts<'_>) -> Result<Join, Refusal> {
    pool::check_join(facts.country.as_ref(), facts.same_country)?;
    if facts.already_waiting {
        return Err(Refusal::Conflict("pool"));
    }
    let me = Waiting {
        user: facts.user,
        country: facts.country,
        same_country: facts.same_country,
        joined_at: facts.now,
        expires_at: facts.wait_until,
    };
    Ok(
        match pool::pick(
            &me,
            facts.waiting,
            facts.open_partners,
            facts.blocks,
            facts.now,
        ) {
            Some(partner) => Join::Match(partner.user),
            None => Join::Wait(me),
        },
    )
}

/// Decides a new account: `Conflict("username")` when the username is taken (checked first),
/// `Conflict("email")` when the email is.
pub fn new_account(username_taken: bool, email_taken: bool) -> Result<(), Refusal> {
    if username_taken {
        return Err(Refusal::Conflict("username"));
    }
    if email_taken {
        return Err(Refusal::Conflict("email"));
    }
    Ok(())
}

/// Decides a profile change's email: another account's address is a `Conflict("email")`.
pub fn email_change(taken_by_another: bool) -> Result<(), Refusal> {
    if taken_by_another {
        return Err(Refusal::Conflict("email"));
    }
    Ok(())
}

/// A refresh token as the store found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented {
    /// Its login was ended (logout, reuse, a password reset).
    pub revoked: bool,
    /// It was exchanged before.
    pub used: bool,
    pub expires_at: Timestamp,
    /// Its account is banned.
    pub banned: bool,
}

/// What presenting a refresh token does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Unknown, revoked or expired: refuse, change nothing.
    Reject,
    /// Used before: someone holds a copy. Revoke the whole login and refuse.
    Reuse,
    /// Live: mark it used and hand out the next one.
    Rotate,
    /// A token of a banned account, whatever its state: refuse as banned, change nothing.
    Banned,
}

/// Decides a refresh at `now` (`None`: no such token). A used token is reuse even after it
/// expired; a revoked login rejects every token of it, used ones included. A banned account's
/// tokens say so before anything else (the ban revoked its logins).
pub fn refresh(presented: Option<Presented>, now: Timestamp) -> Refresh {
    match presented {
        None => Refresh::Reject,
        Some(p) if p.banned => Refresh::Banned,
        Some(p) if p.revoked => Refresh::Reject,
        Some(p) if p.used => Refresh::Reuse,
        Some(p) if p.expires_at <= now => Refresh::Reject,
        Some(_) => Refresh::Rotate,
    }
}

#[cfg(test)]
mod tests;
