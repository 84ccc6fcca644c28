//! Who may do what in a group: pure functions over roles, called by every store alike.

use crate::{Closed, GroupKind, Invalid, Timestamp, UserId};

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Exactly one per named group.
    Owner,
    Admin,
    Member,
}

impl Role {
    /// The name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parses a role name.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            _ => Err(Invalid::new(
                "role",
                "must be \"owner\", \"admin\" or \"member\"",
            )),
        }
    }
}

/// Why a rule refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The role does not allow it (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request contradicts a rule (422).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The group is closed or expired (410).
    #[error(transparent)]
    Closed(#[from] Closed),
    /// What the request names is not there, or the caller may not know it is (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule; names the field that is taken (409).
    #[error("{0} is already taken")]
    Conflict(&'static str),
}

/// Something a member may try to do to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Rename,
    /// Delete a named group, or close a direct chat.
    DeleteOrClose,
    AddMember,
    ChangeRole,
    /// Remove another member who holds `target`.
    Remove {
        target: Role,
    },
    /// Delete a message somebody else sent.
    DeleteOthersMessage,
    /// Pin or unpin a message.
    Pin,
}

const DIRECT: &str = "direct chats have no names, roles or member changes";

/// Whether `actor` may do `action` in a group of `kind`.
pub fn can(kind: GroupKind, actor: Role, action: Action) -> Result<(), Refusal> {
    use Role::{Admin, Owner};
    let allowed = match (kind, action) {
        // In a direct chat either member may pin: there is no one above them.
        (GroupKind::Direct, Action::DeleteOrClose | Action::Pin) => true,
        (GroupKind::Direct, Action::DeleteOthersMessage) => {
            return Err(Refusal::Forbidden(
                "only the sender may delete a message in a direct chat",
            ));
        }
        (GroupKind::Direct, _) => return Err(Refusal::Forbidden(DIRECT)),
        (
            GroupKind::Group,
            Action::Rename | Action::AddMember | Action::DeleteOthersMessage | Action::Pin,
        ) => matches!(actor, Owner | Admin),
        (GroupKind::Group, Action::DeleteOrClose | Action::ChangeRole) => actor == Owner,
        (GroupKind::Group, Action::Remove { target }) => {
            if target == Owner {
                return Err(Refusal::Forbidden("the owner cannot be removed"));
            }
            matches!(actor, Owner | Admin)
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(Refusal::Forbidden(match action {
            Action::Rename => "only the owner or an admin may rename the group",
            Action::DeleteOrClose => "only the owner may delete the group",
            Action::AddMember => "only the owner or an admin may add members",
            Action::ChangeRole => "only the owner may change roles",
            Action::Remove { .. } => "only the owner or an admin may remove members",
            Action::DeleteOthersMessage => "only the sender, the owner or an admin may delete it",
            Action::Pin => "only the owner or an admin may pin or unpin messages",
        }))
    }
}

/// The role a new member may be given on joining: anything but `owner`, which only passes by
/// transfer.
pub fn joining_role(role: Role) -> Result<Role, Refusal> {
    if role == Role::Owner {
        return Err(Invalid::new(
            "role",
            "a group has one owner; transfer ownership with PATCH on the member",
        )
        .into());
    }
    Ok(role)
}

/// What a role change amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    /// `target` gets `role`.
    Set { target: UserId, role: Role },
    /// `new_owner` becomes the owner and the previous owner an admin.
    Transfer { new_owner: UserId, previous: UserId },
    /// Nothing changes.
    Unchanged,
}

/// Decides a role change asked by `actor` (holding `actor_role`) for `target` (holding
/// `target_role`).
pub fn change_role(
    kind: GroupKind,
    actor: UserId,
    actor_role: Role,
    target: UserId,
    target_role: Role,
    new_role: Role,
) -> Result<RoleChange, Refusal> {
    can(kind, actor_role, Action::ChangeRole)?;
    if target_role == new_role {
        return Ok(RoleChange::Unchanged);
    }
    if target == actor {
        return Err(Invalid::new(
            "role",
            "the owner keeps ownership until transferring it to another member",
        )
        .into());
    }
    Ok(match new_role {
        Role::Owner => RoleChange::Transfer {
            new_owner: target,
            previous: actor,
        },
        role => RoleChange::Set { target, role },
    })
}

/// Whether `actor` may edit a message `sender` wrote, which is `deleted` or not.
pub fn edit_message(actor: UserId, sender: UserId, deleted: bool) -> Result<(), Refusal> {
    if actor != sender {
        return Err(Refusal::Forbidden("only the sender may edit a message"));
    }
    if deleted {
        return Err(Closed("the message was deleted").into());
    }
    Ok(())
}

/// Whether `actor` (holding `role` in a group of `kind`) may delete a message `sender` wrote.
pub fn delete_message(
    kind: GroupKind,
    actor: UserId,
    role: Role,
    sender: UserId,
) -> Result<(), Refusal> {
    if actor == sender {
        return Ok(());
    }
    can(kind, role, Action::DeleteOthersMessage)
}

/// What leaving a group amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    /// The leaver was the last member: the group goes.
    DeleteGroup,
    /// Others remain; `new_owner` is set when the owner left.
    Left { new_owner: Option<UserId> },
}

/// Decides what it means for a member holding `role` to leave, given who `remaining` would be.
pub fn leave(kind: GroupKind, role: Role, remaining: &[Standing]) -> Result<Leaving, Refusal> {
    if kind == GroupKind::Direct {
        return Err(Refusal::Forbidden(
            "a direct chat is not left but closed (DELETE /groups/{id})",
        ));
    }
    if remaining.is_empty() {
        return Ok(Leaving::DeleteGroup);
    }
    let new_owner = if role == Role::Owner {
        successor(remaining)
    } else {
        None
    };
    Ok(Leaving::Left { new_owner })
}

/// A member as the leave rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub user: UserId,
    pub role: Role,
    pub joined_at: Timestamp,
}

/// Who becomes owner when the owner leaves: the longest-standing admin, else the
/// longest-standing member; `None` when nobody else is left (the group is then deleted).
pub fn successor(remaining: &[Standing]) -> Option<UserId> {
    let longest = |role: Role| {
        remaining
            .iter()
            .filter(|m| m.role == role)
            .min_by_key(|m| (m.joined_at, m.user))
            .map(|m| m.user)
    };
    longest(Role::Admin).or_else(|| longest(Role::Member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Admin, Member, Owner};

    const ALL: [Role; 3] = [Owner, Admin, Member];

    #[test]
    fn roles_round_trip_and_unknown_roles_are_invalid() {
        for r in ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(Role::parse("Owner").unwrap_err().field, "role");
        assert!(Role::parse("").is_err());
    }

    #[test]
    fn in_a_group_owner_and_admin_manage_members_may_not() {
        for action in [
            Action::Rename,
            Action::AddMember,
            Action::DeleteOthersMessage,
            Action::Pin,
        ] {
            assert!(can(GroupKind::Group, Owner, action).is_ok());
            assert!(can(GroupKind::Group, Admin, action).is_ok());
            assert!(matches!(
                can(GroupKind::Group, Member, action),
                Err(Refusal::Forbidden(_))
            ));
        }
    }

    #[test]
    fn only_the_owner_deletes_and_changes_roles() {
        for action in [Action::DeleteOrClose, Action::ChangeRole] {
            assert!(can(GroupKind::Group, Owner, action).is_ok());
            assert!(can(GroupKind::Group, Admin, action).is_err());
            assert!(can(GroupKind::Group, Member, action).is_err());
        }
    }

    #[test]
    fn nobody_removes_the_owner_and_members_remove_nobody() {
        for actor in ALL {
            assert!(can(GroupKind::Group, actor, Action::Remove { target: Owner }).is_err());
            assert!(can(GroupKind::Group, Member, Action::Remove { target: actor }).is_err());
        }
        for target in [Admin, Member] {
            assert!(can(GroupKind::Group, Owner, Action::Remove { target }).is_ok());
            assert!(can(GroupKind::Group, Admin, Action::Remove { target }).is_ok());
        }
    }

    #[test]
    fn in_a_direct_chat_either_member_closes_or_pins_and_nothing_else_is_managed() {
        assert!(can(GroupKind::Direct, Member, Action::DeleteOrClose).is_ok());
        assert!(can(GroupKind::Direct, Member, Action::Pin).is_ok());
        for action in [
            Action::Rename,
            Action::AddMember,
            Action::ChangeRole,
            Action::Remove { target: Member },
            Action::DeleteOthersMessage,
        ] {
            assert!(
                can(GroupKind::Direct, Member, action).is_err(),
                "{action:?}"
            );
        }
    }

    #[test]
    fn nobody_joins_as_owner() {
        assert!(matches!(joining_role(Owner), Err(Refusal::Invalid(_))));
        assert_eq!(joining_role(Admin), Ok(Admin));
        assert_eq!(joining_role(Member), Ok(Member));
    }

    #[test]
    fn role_changes_set_transfer_or_do_nothing() {
        let (owner, alice) = (UserId::new(), UserId::new());
        let g = GroupKind::Group;
        assert_eq!(
            change_role(g, owner, Owner, alice, Member, Admin),
            Ok(RoleChange::Set {
                target: alice,
                role: Admin
            })
        );
        assert_eq!(
            change_role(g, owner, Owner, alice, Admin, Owner),
            Ok(RoleChange::Transfer {
                new_owner: alice,
                previous: owner
            })
        );
        assert_eq!(
            change_role(g, owner, Owner, alice, Admin, Admin),
            Ok(RoleChange::Unchanged)
        );
        assert_eq!(
            change_role(g, owner, Owner, owner, Owner, Owner),
            Ok(RoleChange::Unchanged)
        );
        assert!(matches!(
            change_role(g, owner, Owner, owner, Owner, Member),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            change_role(g, alice, Admin, owner, Member, Admin),
            Err(Refusal::Forbidden(_))
        ));
    }

    fn standing(role: Role, minute: i64) -> Standing {
        Standing {
            user: UserId::new(),
            role,
            joined_at: Timestamp::UNIX_EPOCH + time::Duration::minutes(minute),
        }
    }

    #[test]
    fn only_the_sender_edits_and_not_after_a_delete() {
        let (a, b) = (UserId::new(), UserId::new());
        assert!(edit_message(a, a, false).is_ok());
        assert!(matches!(
            edit_message(b, a, false),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(edit_message(a, a, true), Err(Refusal::Closed(_))));
    }

    #[test]
    fn the_sender_or_a_group_manager_deletes() {
        let (a, b) = (UserId::new(), UserId::new());
        assert!(delete_message(GroupKind::Group, a, Member, a).is_ok());
        assert!(delete_message(GroupKind::Direct, a, Member, a).is_ok());
        assert!(delete_message(GroupKind::Group, b, Admin, a).is_ok());
        assert!(delete_message(GroupKind::Group, b, Owner, a).is_ok());
        assert!(delete_message(GroupKind::Group, b, Member, a).is_err());
        assert!(delete_message(GroupKind::Direct, b, Member, a).is_err());
    }

    #[test]
    fn leaving_hands_over_ownership_or_deletes_the_group() {
        let admin = standing(Admin, 1);
        assert_eq!(
            leave(GroupKind::Group, Owner, &[admin]),
            Ok(Leaving::Left {
                new_owner: Some(admin.user)
            })
        );
        assert_eq!(
            leave(GroupKind::Group, Member, &[admin]),
            Ok(Leaving::Left { new_owner: None })
        );
        assert_eq!(
            leave(GroupKind::Group, Owner, &[]),
            Ok(Leaving::DeleteGroup)
        );
        assert!(matches!(
            leave(GroupKind::Direct, Member, &[admin]),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn the_longest_standing_admin_succeeds_the_owner() {
        let early_member = standing(Member, 1);
        let late_admin = standing(Admin, 5);
        let early_admin = standing(Admin, 3);
        assert_eq!(
            successor(&[early_member, late_admin, early_admin]),
            Some(early_admin.user)
        );
    }

    #[test]
    fn without_admins_the_longest_standing_member_succeeds() {
        let a = standing(Member, 4);
        let b = standing(Member, 2);
        assert_eq!(successor(&[a, b]), Some(b.user));
        assert_eq!(successor(&[]), None);
    }
}
