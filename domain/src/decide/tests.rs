//! The decisions, each against the rule it stands for; proptest where an invariant holds for
//! any input (a removal never removes the owner; a join never matches the joiner with
//! themself, someone waiting elsewhere, or an open partner).
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use time::Duration;
use time::macros::datetime;

use super::*;
use crate::{Closed, GroupId, GroupName, MessageId};

const NOW: Timestamp = datetime!(2026-12-01 12:00:00 UTC);

fn group(kind: GroupKind) -> Group {
    Group {
        id: GroupId::new(),
        kind,
        name: (kind == GroupKind::Group).then(|| GroupName::parse("team").unwrap()),
        created_by: UserId::new(),
        created_at: NOW,
        expires_at: None,
        closed_at: None,
        last_seq: 7,
        last_rev: 9,
    }
}

fn closed(kind: GroupKind) -> Group {
    Group {
        closed_at: Some(NOW),
        ..group(kind)
    }
}

fn expired() -> Group {
    Group {
        expires_at: Some(NOW - Duration::seconds(1)),
        ..group(GroupKind::Direct)
    }
}

fn message(sender: UserId, deleted: bool) -> Message {
    Message {
        id: MessageId::new(),
        group_id: GroupId::new(),
        seq: 1,
        rev: 1,
        created_rev: 1,
        sender_id: sender,
        body: if deleted { String::new() } else { "hi".into() },
        client_id: None,
        created_at: NOW,
        edited_at: None,
        deleted,
        attachments: Vec::new(),
        reply_to: None,
        reactions: Vec::new(),
        mentions: Vec::new(),
        pinned: false,
    }
}

fn member(role: Role, joined_secs: i64) -> Standing {
    Standing {
        user: UserId::new(),
        role,
        joined_at: NOW + Duration::seconds(joined_secs),
    }
}

fn is_gone<T: std::fmt::Debug>(r: Result<T, Refusal>) -> bool {
    matches!(r, Err(Refusal::Closed(Closed(_))))
}

#[test]
fn a_retry_is_answered_with_the_first_message_even_after_the_chat_closed() {
    let first = message(UserId::new(), false);
    for g in [
        group(GroupKind::Group),
        closed(GroupKind::Direct),
        expired(),
    ] {
        assert_eq!(
            append(&g, Some(first.clone()), NOW),
            Ok(Append::Repeat(Box::new(first.clone())))
        );
    }
}

#[test]
fn a_new_message_needs_a_writable_group() {
    assert_eq!(
        append(&group(GroupKind::Group), None, NOW),
        Ok(Append::Insert)
    );
    assert!(is_gone(append(&closed(GroupKind::Direct), None, NOW)));
    assert!(is_gone(append(&expired(), None, NOW)));
    // Expiry is exclusive of the instant before it.
    let g = Group {
        expires_at: Some(NOW + Duration::milliseconds(1)),
        ..group(GroupKind::Direct)
    };
    assert_eq!(append(&g, None, NOW), Ok(Append::Insert));
}

#[test]
fn only_the_sender_edits_and_not_a_deleted_message_nor_in_a_closed_chat() {
    let me = UserId::new();
    let g = group(GroupKind::Group);
    assert_eq!(edit(me, &g, &message(me, false), NOW), Ok(()));
    assert!(matches!(
        edit(UserId::new(), &g, &message(me, false), NOW),
        Err(Refusal::Forbidden(_))
    ));
    assert!(is_gone(edit(me, &g, &message(me, true), NOW)));
    assert!(is_gone(edit(
        me,
        &closed(GroupKind::Direct),
        &message(me, false),
        NOW
    )));
    // Whose message it is comes before whether the chat is open.
    assert!(matches!(
        edit(
            UserId::new(),
            &closed(GroupKind::Direct),
            &message(me, false),
            NOW
        ),
        Err(Refusal::Forbidden(_))
    ));
}

#[test]
fn a_delete_of_a_tombstone_changes_nothing_and_others_need_a_role() {
    let (me, other) = (UserId::new(), UserId::new());
    let g = group(GroupKind::Group);
    assert_eq!(
        delete(me, Role::Member, &g, &message(me, false), NOW),
        Ok(Delete::Tombstone)
    );
    assert_eq!(
        delete(me, Role::Member, &g, &message(me, true), NOW),
        Ok(Delete::AlreadyDeleted)
    );
    assert!(matches!(
        delete(me, Role::Member, &g, &message(other, false), NOW),
        Err(Refusal::Forbidden(_))
    ));
    for role in [Role::Owner, Role::Admin] {
        assert_eq!(
            delete(me, role, &g, &message(other, false), NOW),
            Ok(Delete::Tombstone)
        );
    }
    assert!(matches!(
        delete(
            me,
            Role::Member,
            &group(GroupKind::Direct),
            &message(other, false),
            NOW
        ),
        Err(Refusal::Forbidden(_))
    ));
    assert!(is_gone(delete(
        me,
        Role::Member,
        &expired(),
        &message(me, false),
        NOW
    )));
}

#[test]
fn deleting_a_group_closing_a_chat_and_closing_it_again() {
    assert_eq!(
        delete_or_close(Role::Owner, &group(GroupKind::Group)),
        Ok(Close::DeleteGroup)
    );
    for role in [Role::Admin, Role::Member] {
        assert!(delete_or_close(role, &group(GroupKind::Group)).is_err());
    }
    assert_eq!(
        delete_or_close(Role::Member, &group(GroupKind::Direct)),
        Ok(Close::CloseChat)
    );
    assert_eq!(
        delete_or_close(Role::Member, &closed(GroupKind::Direct)),
        Ok(Close::AlreadyClosed)
    );
}

#[test]
fn adding_checks_the_role_then_the_requested_role_then_the_target() {
    let g = group(GroupKind::Group);
    assert_eq!(
        add_member(Role::Admin, &g, Role::Member, true, None),
        Ok(Role::Member)
    );
    assert!(matches!(
        add_member(Role::Member, &g, Role::Owner, false, Some(Role::Member)),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        add_member(Role::Owner, &g, Role::Owner, false, None),
        Err(Refusal::Invalid(_))
    ));
    assert_eq!(
        add_member(Role::Owner, &g, Role::Admin, false, None),
        Err(Refusal::NotFound("user"))
    );
    assert_eq!(
        add_member(Role::Owner, &g, Role::Admin, true, Some(Role::Member)),
        Err(Refusal::Conflict("user_id"))
    );
    assert!(matches!(
        add_member(
            Role::Owner,
            &group(GroupKind::Direct),
            Role::Member,
            true,
            None
        ),
        Err(Refusal::Forbidden(_))
    ));
}

#[test]
fn a_role_change_says_forbidden_before_not_a_member() {
    let g = group(GroupKind::Group);
    let (owner, target) = (UserId::new(), UserId::new());
    assert!(matches!(
        change_role(&g, owner, Role::Admin, target, None, Role::Admin),
        Err(Refusal::Forbidden(_))
    ));
    assert_eq!(
        change_role(&g, owner, Role::Owner, target, None, Role::Admin),
        Err(Refusal::NotFound("member"))
    );
    assert_eq!(
        change_role(
            &g,
            owner,
            Role::Owner,
            target,
            Some(Role::Member),
            Role::Owner
        ),
        Ok(RoleChange::Transfer {
            new_owner: target,
            previous: owner
        })
    );
}

#[test]
fn removing_says_forbidden_before_not_a_member_and_never_removes_the_owner() {
    let g = group(GroupKind::Group);
    let owner = member(Role::Owner, 0);
    let admin = member(Role::Admin, 1);
    let plain = member(Role::Member, 2);
    let all = [owner, admin, plain];
    assert!(matches!(
        remove_member(&g, plain.user, Role::Member, UserId::new(), &all),
        Err(Refusal::Forbidden(_))
    ));
    assert_eq!(
        remove_member(&g, admin.user, Role::Admin, UserId::new(), &all),
        Err(Refusal::NotFound("member"))
    );
    assert!(matches!(
        remove_member(&g, admin.user, Role::Admin, owner.user, &all),
        Err(Refusal::Forbidden(_))
    ));
    assert_eq!(
        remove_member(&g, admin.user, Role::Admin, plain.user, &all),
        Ok(Removal::Remove(plain.user))
    );
}

#[test]
fn the_owner_leaving_hands_over_and_the_last_one_out_deletes() {
    let g = group(GroupKind::Group);
    let owner = member(Role::Owner, 0);
    let late_admin = member(Role::Admin, 5);
    let early_member = member(Role::Member, 1);
    assert_eq!(
        remove_member(
            &g,
            owner.user,
            Role::Owner,
            owner.user,
            &[owner, late_admin, early_member]
        ),
        Ok(Removal::Leave {
            new_owner: Some(late_admin.user)
        })
    );
    assert_eq!(
        remove_member(
            &g,
            owner.user,
            Role::Owner,
            owner.user,
            &[owner, early_member]
        ),
        Ok(Removal::Leave {
            new_owner: Some(early_member.user)
        })
    );
    assert_eq!(
        remove_member(&g, owner.user, Role::Owner, owner.user, &[owner]),
        Ok(Removal::DeleteGroup)
    );
    assert!(matches!(
        remove_member(
            &group(GroupKind::Direct),
            owner.user,
            Role::Member,
            owner.user,
            &[owner]
        ),
        Err(Refusal::Forbidden(_))
    ));
}

#[test]
fn a_read_marker_stops_at_the_newest_message() {
    let g = group(GroupKind::Group);
    assert_eq!(read_marker(&g, 3), 3);
    assert_eq!(read_marker(&g, 700), 7);
}

fn waiting(country: Option<&str>, same_country: bool, joined_secs: i64) -> Waiting {
    let joined_at = NOW + Duration::seconds(joined_secs);
    Waiting {
        user: UserId::new(),
        country: country.map(|c| Country::parse(c).unwrap()),
        same_country,
        joined_at,
        expires_at: joined_at + Duration::minutes(10),
    }
}

fn facts<'a>(waiting: &'a [Waiting], partners: &'a [UserId]) -> JoinFacts<'a> {
    JoinFacts {
        user: UserId::new(),
        country: None,
        same_country: false,
        already_waiting: false,
        waiting,
        open_partners: partners,
        blocks: &[],
        now: NOW,
        wait_until: NOW + Duration::minutes(10),
    }
}

#[test]
fn a_join_waits_conflicts_or_matches_the_oldest_fitting_entry() {
    assert!(matches!(join_pool(facts(&[], &[])), Ok(Join::Wait(w)) if w.joined_at == NOW));
    let twice = JoinFacts {
        already_waiting: true,
        ..facts(&[], &[])
    };
    assert_eq!(join_pool(twice), Err(Refusal::Conflict("pool")));
    let without_country = JoinFacts {
        same_country: true,
        ..facts(&[], &[])
    };
    assert!(matches!(
        join_pool(without_country),
        Err(Refusal::Invalid(_))
    ));
    let entries = [waiting(None, false, -30), waiting(None, false, -60)];
    assert_eq!(
        join_pool(facts(&entries, &[])),
        Ok(Join::Match(entries[1].user))
    );
    let partners = [entries[1].user];
    assert_eq!(
        join_pool(facts(&entries, &partners)),
        Ok(Join::Match(entries[0].user))
    );
}

#[test]
fn a_taken_username_is_said_before_a_taken_email() {
    assert_eq!(new_account(true, true), Err(Refusal::Conflict("username")));
    assert_eq!(new_account(false, true), Err(Refusal::Conflict("email")));
    assert_eq!(new_account(false, false), Ok(()));
    assert_eq!(email_change(true), Err(Refusal::Conflict("email")));
    assert_eq!(email_change(false), Ok(()));
}

#[test]
fn a_refresh_rotates_a_live_token_and_a_used_one_is_reuse_even_expired() {
    let token = |revoked, used, secs| Presented {
        revoked,
        used,
        expires_at: NOW + Duration::seconds(secs),
        banned: false,
    };
    assert_eq!(refresh(None, NOW), Refresh::Reject);
    assert_eq!(refresh(Some(token(false, false, 60)), NOW), Refresh::Rotate);
    assert_eq!(refresh(Some(token(false, false, 0)), NOW), Refresh::Reject);
    assert_eq!(refresh(Some(token(false, true, 60)), NOW), Refresh::Reuse);
    assert_eq!(refresh(Some(token(false, true, -60)), NOW), Refresh::Reuse);
    assert_eq!(refresh(Some(token(true, true, 60)), NOW), Refresh::Reject);
    assert_eq!(refresh(Some(token(true, false, 60)), NOW), Refresh::Reject);
    // A banned account's tokens say so, whatever their state.
    for (revoked, used, secs) in [(false, false, 60), (true, false, 60), (false, true, -60)] {
        let banned = Presented {
            banned: true,
            ..token(revoked, used, secs)
        };
        assert_eq!(refresh(Some(banned), NOW), Refresh::Banned);
    }
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Owner), Just(Role::Admin), Just(Role::Member)]
}

proptest! {
    #[test]
    fn a_removal_never_removes_the_owner_and_a_leave_never_crowns_the_leaver(
        roles in proptest::collection::vec((role(), 0i64..100), 1..8),
        actor_at in 0usize..8,
        target_at in 0usize..9,
    ) {
        let members: Vec<Standing> = roles.iter().map(|(r, t)| member(*r, *t)).collect();
        let actor = members[actor_at % members.len()];
        let target = members.get(target_at).map_or_else(UserId::new, |m| m.user);
        let g = group(GroupKind::Group);
        match remove_member(&g, actor.user, actor.role, target, &members) {
            Ok(Removal::Remove(gone)) => {
                let removed = members.iter().find(|m| m.user == gone).unwrap();
                prop_assert_ne!(removed.role, Role::Owner);
                prop_assert!(actor.role != Role::Member);
            }
            Ok(Removal::Leave { new_owner }) => {
                prop_assert_eq!(target, actor.user);
                if let Some(next) = new_owner {
                    prop_assert_ne!(next, actor.user);
                    prop_assert_eq!(actor.role, Role::Owner);
                }
            }
            Ok(Removal::DeleteGroup) => prop_assert_eq!(members.len(), 1),
            Err(_) => {}
        }
    }

    #[test]
    fn a_join_never_matches_oneself_an_open_partner_or_an_expired_entry(
        entries in proptest::collection::vec((any::<bool>(), -700i64..0), 0..8),
        partner_at in 0usize..8,
    ) {
        let waiting: Vec<Waiting> = entries
            .iter()
            .map(|(same, t)| waiting(Some("DE"), *same, *t))
            .collect();
        let partners: Vec<UserId> = waiting.get(partner_at).map(|w| w.user).into_iter().collect();
        let f = JoinFacts { country: Some(Country::parse("DE").unwrap()), ..facts(&waiting, &partners) };
        let me = f.user;
        if let Ok(Join::Match(partner)) = join_pool(f) {
            prop_assert_ne!(partner, me);
            prop_assert!(!partners.contains(&partner));
            let entry = waiting.iter().find(|w| w.user == partner).unwrap();
            prop_assert!(entry.is_live(NOW));
        }
    }
}
