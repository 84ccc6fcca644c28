//! `Groups`: adding and removing members, roles, leaving, and the one owner of a named group.

use std::fmt::Debug;

use confab_domain::{GroupId, Role, UserId};
use confab_ports::store::{Removal, RoleChanged};
use confab_ports::{Error, Result};
use futures::future::join_all;

use crate::fixtures::{Fresh, T0, at, group, user};
use crate::groups::{direct, forbidden, invalid, named, no_group, not_found, roles, send, users};

crate::store_cases!(
    add_member_joins_with_the_history_read,
    a_plain_member_may_not_add_anyone_even_an_unknown_user,
    nobody_is_added_to_a_direct_chat,
    nobody_joins_as_owner,
    adding_an_unknown_user_is_not_found_user,
    adding_a_member_again_is_a_conflict,
    racing_adds_of_one_user_admit_exactly_one,
    change_role_sets_admin_and_member,
    the_role_already_held_changes_nothing,
    transferring_ownership_makes_the_previous_owner_an_admin,
    only_the_owner_changes_roles_whether_or_not_the_target_is_a_member,
    roles_do_not_change_in_a_direct_chat,
    changing_the_role_of_a_non_member_is_not_found_member,
    the_owner_may_not_give_themself_another_role,
    racing_transfers_leave_exactly_one_owner,
    the_owner_and_an_admin_remove_members_and_admins,
    a_plain_member_may_not_remove_anyone_even_a_non_member,
    nobody_removes_the_owner,
    nobody_is_removed_from_or_leaves_a_direct_chat,
    removing_a_non_member_is_not_found_member,
    a_member_leaves_and_the_owner_stays,
    the_leaving_owner_hands_over_to_the_longest_standing_admin,
    without_admins_the_longest_standing_member_becomes_owner,
    the_last_member_leaving_deletes_the_group,
    the_owner_and_the_successor_leaving_at_once_leave_exactly_one_owner,
    a_transfer_racing_the_owner_leaving_leaves_exactly_one_owner,
    everyone_leaving_at_once_deletes_the_group,
);

/// How many groups a race runs in at once: one race may miss the window, several seldom do.
const RACES: usize = 6;

/// `RACES` groups, each with an owner, an admin (joined at `at(1)`) and `extra` members.
async fn raced_groups(s: &Fresh, extra: usize) -> Vec<(GroupId, Vec<UserId>)> {
    let mut groups = Vec::new();
    for r in 0..RACES {
        let [o, a] = users(s, [&*format!("owner{r}"), &*format!("admin{r}")]).await;
        let mut everyone = vec![o, a];
        for i in 0..extra {
            everyone.push(user(s, &format!("member{r}x{i}")).await);
        }
        let g = group(s, o, &everyone[2..]).await;
        s.groups
            .add_member(o, g, a, Role::Admin, at(1))
            .await
            .unwrap();
        groups.push((g, everyone));
    }
    groups
}

/// Asserts `Error::Conflict { field: "user_id" }`.
#[track_caller]
fn conflict<T: Debug>(r: Result<T>) {
    assert!(
        matches!(r, Err(Error::Conflict { field: "user_id" })),
        "{r:?}"
    );
}

/// The owners of `g` (a named group MUST have exactly one).
async fn owners(s: &Fresh, viewer: UserId, g: GroupId) -> Vec<UserId> {
    let roles = roles(s, viewer, g).await.into_iter();
    roles
        .filter(|(_, r)| *r == Role::Owner)
        .map(|(u, _)| u)
        .collect()
}

/// Every member of `g` with their role, sorted: members who joined at one instant are listed
/// by user id, which a case does not choose.
async fn role_set(s: &Fresh, viewer: UserId, g: GroupId) -> Vec<(UserId, Role)> {
    let mut pairs = roles(s, viewer, g).await;
    pairs.sort();
    pairs
}

/// `pairs`, sorted to compare with [`role_set`].
fn sorted(pairs: &[(UserId, Role)]) -> Vec<(UserId, Role)> {
    let mut pairs = pairs.to_vec();
    pairs.sort();
    pairs
}

/// A newcomer's read marker MUST start at the group's `last_seq`.
async fn add_member_joins_with_the_history_read(s: &Fresh) {
    let [o, a, x, y] = users(s, ["owner", "admin", "xavier", "yvonne"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[]).await);
    send(s, g, o, 1).await;
    send(s, g, o, 2).await;
    let admin = gs.add_member(o, g, a, Role::Admin, at(3)).await.unwrap();
    assert_eq!(
        (admin.user.id, admin.role, admin.joined_at),
        (a, Role::Admin, at(3))
    );
    let member = gs.add_member(a, g, x, Role::Member, at(4)).await.unwrap();
    assert_eq!(
        (member.user.id, member.role, member.joined_at),
        (x, Role::Member, at(4))
    );
    let my = gs.group_of(x, g).await.unwrap().my;
    assert_eq!(
        (my.role, my.last_read_seq, my.unread_count),
        (Role::Member, 2, 0)
    );
    assert_eq!(gs.group_of(x, g).await.unwrap().member_count, 3);
    send(s, g, o, 5).await;
    assert_eq!(gs.group_of(x, g).await.unwrap().my.unread_count, 1);
    gs.add_member(a, g, y, Role::Admin, at(6)).await.unwrap();
    assert_eq!(gs.group_of(y, g).await.unwrap().my.last_read_seq, 3);
}

/// MUST return `Error::Forbidden` when `actor` is a plain member, before looking at `target`.
async fn a_plain_member_may_not_add_anyone_even_an_unknown_user(s: &Fresh) {
    let [o, m, x] = users(s, ["owner", "member", "xavier"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    forbidden(gs.add_member(m, g, x, Role::Member, T0).await);
    forbidden(gs.add_member(m, g, UserId::new(), Role::Member, T0).await);
    forbidden(gs.add_member(m, g, o, Role::Member, T0).await);
    forbidden(gs.add_member(m, g, x, Role::Owner, T0).await);
    no_group(gs.group_of(x, g).await);
}

/// MUST return `Error::Forbidden` in a direct chat.
async fn nobody_is_added_to_a_direct_chat(s: &Fresh) {
    let [a, b, x] = users(s, ["alice", "bob", "xavier"]).await;
    let d = direct(s, a, b).await;
    forbidden(s.groups.add_member(a, d, x, Role::Member, T0).await);
    assert_eq!(s.groups.members(a, d).await.unwrap().len(), 2);
}

/// MUST return `Error::Invalid` on field `role` when `role` is `owner`.
async fn nobody_joins_as_owner(s: &Fresh) {
    let [o, x] = users(s, ["owner", "xavier"]).await;
    let g = group(s, o, &[]).await;
    invalid(s.groups.add_member(o, g, x, Role::Owner, T0).await, "role");
    // Before whether the target exists or is already a member.
    invalid(
        s.groups
            .add_member(o, g, UserId::new(), Role::Owner, T0)
            .await,
        "role",
    );
    invalid(s.groups.add_member(o, g, o, Role::Owner, T0).await, "role");
    assert_eq!(owners(s, o, g).await, [o]);
    no_group(s.groups.group_of(x, g).await);
}

/// MUST return `Error::NotFound("user")` when `target` does not exist.
async fn adding_an_unknown_user_is_not_found_user(s: &Fresh) {
    let o = user(s, "owner").await;
    let g = group(s, o, &[]).await;
    let answer = s
        .groups
        .add_member(o, g, UserId::new(), Role::Member, T0)
        .await;
    not_found(answer, "user");
    assert_eq!(s.groups.members(o, g).await.unwrap().len(), 1);
}

/// MUST return `Error::Conflict { field: "user_id" }` when `target` is already a member.
async fn adding_a_member_again_is_a_conflict(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    for (target, role) in [(m, Role::Admin), (o, Role::Member)] {
        let answer = gs.add_member(o, g, target, role, at(1)).await;
        conflict(answer);
    }
    let unchanged = gs.members(o, g).await.unwrap();
    assert_eq!(unchanged.len(), 2);
    assert!(
        unchanged.iter().all(|m| m.joined_at == T0),
        "nobody rejoined"
    );
    assert_eq!(gs.group_of(m, g).await.unwrap().my.role, Role::Member);
}

/// Of adds of one user at the same instant, exactly one MUST succeed.
async fn racing_adds_of_one_user_admit_exactly_one(s: &Fresh) {
    let [o, a, x] = users(s, ["owner", "admin", "xavier"]).await;
    let g = group(s, o, &[]).await;
    s.groups.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    let answers = join_all((0..6).map(|i| {
        let actor = if i % 2 == 0 { o } else { a };
        s.groups.add_member(actor, g, x, Role::Member, at(1))
    }))
    .await;
    assert_eq!(
        answers.iter().filter(|r| r.is_ok()).count(),
        1,
        "{answers:?}"
    );
    for r in answers.into_iter().filter(Result::is_err) {
        conflict(r);
    }
    assert_eq!(s.groups.members(x, g).await.unwrap().len(), 3);
}

async fn change_role_sets_admin_and_member(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    let RoleChanged::Set(up) = gs.change_role(o, g, m, Role::Admin).await.unwrap() else {
        panic!("member to admin is a set");
    };
    assert_eq!((up.user.id, up.role, up.joined_at), (m, Role::Admin, T0));
    assert_eq!(
        role_set(s, o, g).await,
        sorted(&[(o, Role::Owner), (m, Role::Admin)])
    );
    let RoleChanged::Set(down) = gs.change_role(o, g, m, Role::Member).await.unwrap() else {
        panic!("admin to member is a set");
    };
    assert_eq!((down.user.id, down.role), (m, Role::Member));
    assert_eq!(gs.group_of(m, g).await.unwrap().my.role, Role::Member);
}

/// The role the target already holds MUST answer `Unchanged` and change nothing.
async fn the_role_already_held_changes_nothing(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    for (target, role) in [(m, Role::Member), (o, Role::Owner)] {
        let answer = gs.change_role(o, g, target, role).await.unwrap();
        let RoleChanged::Unchanged(member) = answer else {
            panic!("{answer:?}");
        };
        assert_eq!((member.user.id, member.role), (target, role));
    }
    assert_eq!(
        role_set(s, o, g).await,
        sorted(&[(o, Role::Owner), (m, Role::Member)])
    );
}

/// `owner` MUST make the target owner and the actor an admin in one transaction.
async fn transferring_ownership_makes_the_previous_owner_an_admin(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    let answer = gs.change_role(o, g, m, Role::Owner).await.unwrap();
    let RoleChanged::Transferred {
        member,
        previous_owner,
    } = answer
    else {
        panic!("to owner is a transfer, not {answer:?}");
    };
    assert_eq!(
        (member.user.id, member.role, previous_owner),
        (m, Role::Owner, o)
    );
    assert_eq!(
        role_set(s, m, g).await,
        sorted(&[(o, Role::Admin), (m, Role::Owner)])
    );
    forbidden(gs.change_role(o, g, m, Role::Member).await);
    let back = gs.change_role(m, g, o, Role::Member).await.unwrap();
    assert!(matches!(back, RoleChanged::Set(_)), "{back:?}");
}

/// MUST return `Error::Forbidden` when `actor` is not the owner, whether or not `target` is a
/// member.
async fn only_the_owner_changes_roles_whether_or_not_the_target_is_a_member(s: &Fresh) {
    let [o, a, m, x] = users(s, ["owner", "admin", "member", "xavier"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    gs.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    let before = roles(s, o, g).await;
    for actor in [a, m] {
        for target in [o, a, m, x, UserId::new()] {
            for role in [Role::Owner, Role::Admin, Role::Member] {
                forbidden(gs.change_role(actor, g, target, role).await);
            }
        }
    }
    assert_eq!(roles(s, o, g).await, before);
}

/// MUST return `Error::Forbidden` in a direct chat.
async fn roles_do_not_change_in_a_direct_chat(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let d = direct(s, a, b).await;
    for role in [Role::Owner, Role::Admin] {
        forbidden(s.groups.change_role(a, d, b, role).await);
    }
    assert!(roles(s, a, d).await.iter().all(|(_, r)| *r == Role::Member));
}

/// MUST return `Error::NotFound("member")` when `target` is not a member.
async fn changing_the_role_of_a_non_member_is_not_found_member(s: &Fresh) {
    let [o, x] = users(s, ["owner", "xavier"]).await;
    let g = group(s, o, &[]).await;
    for target in [x, UserId::new()] {
        for role in [Role::Admin, Role::Owner] {
            let answer = s.groups.change_role(o, g, target, role).await;
            not_found(answer, "member");
        }
    }
    assert_eq!(owners(s, o, g).await, [o]);
}

/// MUST return `Error::Invalid` on field `role` when the owner gives themself another role.
async fn the_owner_may_not_give_themself_another_role(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    let g = group(s, o, &[m]).await;
    for role in [Role::Admin, Role::Member] {
        invalid(s.groups.change_role(o, g, o, role).await, "role");
    }
    assert_eq!(owners(s, m, g).await, [o]);
}

/// Of transfers racing from one owner, exactly one MUST apply, leaving exactly one owner.
async fn racing_transfers_leave_exactly_one_owner(s: &Fresh) {
    let groups = raced_groups(s, 2).await; // owner, admin, 2 members: 3 transfers each
    let transfers = groups.iter().flat_map(|(g, us)| {
        us[1..]
            .iter()
            .map(|t| s.groups.change_role(us[0], *g, *t, Role::Owner))
    });
    let answers = join_all(transfers).await;
    for ((g, us), answers) in groups.iter().zip(answers.chunks(3)) {
        let winners: Vec<UserId> = answers
            .iter()
            .filter_map(|r| match r {
                Ok(RoleChanged::Transferred { member, .. }) => Some(member.user.id),
                _ => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "{answers:?}");
        let losers = answers
            .iter()
            .filter(|r| matches!(r, Err(Error::Forbidden(_))));
        assert_eq!(losers.count(), answers.len() - 1, "{answers:?}");
        assert_eq!(owners(s, us[0], *g).await, winners);
        assert!(roles(s, us[0], *g).await.contains(&(us[0], Role::Admin)));
    }
}

async fn the_owner_and_an_admin_remove_members_and_admins(s: &Fresh) {
    let [o, a, b, m, n] = users(s, ["owner", "admin", "bertha", "member", "nina"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m, n]).await);
    gs.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    gs.add_member(o, g, b, Role::Admin, T0).await.unwrap();
    for (actor, target) in [(o, m), (a, n), (a, b), (o, a)] {
        let answer = gs.remove_member(actor, g, target, at(1)).await.unwrap();
        assert_eq!(answer, Removal::Removed);
        no_group(gs.group_of(target, g).await);
    }
    assert_eq!(roles(s, o, g).await, [(o, Role::Owner)]);
}

/// MUST return `Error::Forbidden` when a plain member removes someone else, whether or not
/// the target is a member.
async fn a_plain_member_may_not_remove_anyone_even_a_non_member(s: &Fresh) {
    let [o, m, n, x] = users(s, ["owner", "member", "nina", "xavier"]).await;
    let g = group(s, o, &[m, n]).await;
    for target in [n, o, x, UserId::new()] {
        forbidden(s.groups.remove_member(m, g, target, T0).await);
    }
    assert_eq!(roles(s, o, g).await.len(), 3);
}

/// MUST return `Error::Forbidden` when the target is the owner.
async fn nobody_removes_the_owner(s: &Fresh) {
    let [o, a] = users(s, ["owner", "admin"]).await;
    let g = group(s, o, &[]).await;
    s.groups.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    forbidden(s.groups.remove_member(a, g, o, T0).await);
    assert_eq!(owners(s, a, g).await, [o]);
}

/// MUST return `Error::Forbidden` in a direct chat, which is closed, not left.
async fn nobody_is_removed_from_or_leaves_a_direct_chat(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let d = direct(s, a, b).await;
    forbidden(s.groups.remove_member(a, d, b, T0).await);
    forbidden(s.groups.remove_member(a, d, a, T0).await);
    forbidden(s.groups.remove_member(b, d, b, T0).await);
    assert_eq!(s.groups.members(b, d).await.unwrap().len(), 2);
}

/// MUST return `Error::NotFound("member")` when `target` is not a member.
async fn removing_a_non_member_is_not_found_member(s: &Fresh) {
    let [o, a, x] = users(s, ["owner", "admin", "xavier"]).await;
    let g = group(s, o, &[]).await;
    s.groups.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    for actor in [o, a] {
        for target in [x, UserId::new()] {
            let answer = s.groups.remove_member(actor, g, target, T0).await;
            not_found(answer, "member");
        }
    }
    assert_eq!(roles(s, o, g).await.len(), 2);
}

async fn a_member_leaves_and_the_owner_stays(s: &Fresh) {
    let [o, a, m] = users(s, ["owner", "admin", "member"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    gs.add_member(o, g, a, Role::Admin, T0).await.unwrap();
    for u in [m, a] {
        let answer = gs.remove_member(u, g, u, at(1)).await.unwrap();
        assert_eq!(answer, Removal::Left { new_owner: None });
    }
    assert_eq!(roles(s, o, g).await, [(o, Role::Owner)]);
}

/// Ownership MUST pass to the longest-standing admin.
async fn the_leaving_owner_hands_over_to_the_longest_standing_admin(s: &Fresh) {
    let [o, founder, late, early, member] =
        users(s, ["owner", "founder", "late", "early", "member"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[founder]).await);
    gs.add_member(o, g, member, Role::Member, at(5))
        .await
        .unwrap();
    gs.add_member(o, g, late, Role::Admin, at(20))
        .await
        .unwrap();
    gs.add_member(o, g, early, Role::Admin, at(10))
        .await
        .unwrap();
    let answer = gs.remove_member(o, g, o, at(30)).await.unwrap();
    assert_eq!(
        answer,
        Removal::Left {
            new_owner: Some(early)
        }
    );
    let expected = [
        (founder, Role::Member),
        (member, Role::Member),
        (early, Role::Owner),
        (late, Role::Admin),
    ];
    assert_eq!(roles(s, early, g).await, expected);
}

/// Without admins, ownership MUST pass to the longest-standing member (the first in `members`
/// order: ties by user id).
async fn without_admins_the_longest_standing_member_becomes_owner(s: &Fresh) {
    let [o, x, y, late] = users(s, ["owner", "xavier", "yvonne", "late"]).await;
    let new = named(o, &[x, y], 0);
    let (gs, g) = (&s.groups, new.id);
    gs.create_group(new).await.unwrap();
    gs.add_member(o, g, late, Role::Member, at(1))
        .await
        .unwrap();
    let (first, second) = (x.min(y), x.max(y));
    for (leaver, heir) in [(o, first), (first, second), (second, late)] {
        let answer = gs.remove_member(leaver, g, leaver, at(2)).await.unwrap();
        assert_eq!(
            answer,
            Removal::Left {
                new_owner: Some(heir)
            }
        );
        assert_eq!(
            roles(s, late, g).await[0],
            (heir, Role::Owner),
            "first in members order"
        );
        assert_eq!(owners(s, late, g).await, [heir]);
    }
}

/// When the last member leaves, the group MUST be deleted.
async fn the_last_member_leaving_deletes_the_group(s: &Fresh) {
    let [o, m] = users(s, ["owner", "member"]).await;
    let (gs, g) = (&s.groups, group(s, o, &[m]).await);
    send(s, g, m, 1).await;
    gs.remove_member(m, g, m, at(2)).await.unwrap();
    assert_eq!(
        gs.remove_member(o, g, o, at(3)).await.unwrap(),
        Removal::GroupDeleted
    );
    no_group(gs.group_of(o, g).await);
    assert!(gs.groups_of(o).await.unwrap().is_empty());
    let alone = group(s, o, &[]).await;
    assert_eq!(
        gs.remove_member(o, alone, o, at(4)).await.unwrap(),
        Removal::GroupDeleted
    );
    no_group(gs.members(o, alone).await);
}

/// Leaves at the same instant MUST leave exactly one owner.
async fn the_owner_and_the_successor_leaving_at_once_leave_exactly_one_owner(s: &Fresh) {
    let groups = raced_groups(s, 1).await;
    let leaves = groups.iter().flat_map(|(g, us)| {
        us[..2]
            .iter()
            .map(|u| s.groups.remove_member(*u, *g, *u, at(2)))
    });
    let answers = join_all(leaves).await;
    for ((g, us), answers) in groups.iter().zip(answers.chunks(2)) {
        for r in answers {
            assert!(matches!(r, Ok(Removal::Left { .. })), "{r:?}");
        }
        assert_eq!(roles(s, us[2], *g).await, [(us[2], Role::Owner)]);
    }
}

/// A transfer and the owner leaving at the same instant MUST leave exactly one owner.
async fn a_transfer_racing_the_owner_leaving_leaves_exactly_one_owner(s: &Fresh) {
    let groups = raced_groups(s, 1).await;
    let races = groups.iter().map(|(g, us)| async move {
        let (o, m) = (us[0], us[2]);
        futures::join!(
            s.groups.change_role(o, *g, m, Role::Owner),
            s.groups.remove_member(o, *g, o, at(2)),
        )
    });
    let answers = join_all(races).await;
    for ((g, us), (transfer, leave)) in groups.iter().zip(answers) {
        let [o, a, m] = [us[0], us[1], us[2]];
        let heir = match transfer {
            // The transfer first: the former owner then leaves as an admin.
            Ok(RoleChanged::Transferred { .. }) => {
                assert_eq!(leave.unwrap(), Removal::Left { new_owner: None });
                m
            }
            // The leave first: the admin succeeds, and the former owner is no member.
            Err(Error::NotFound("group")) => {
                assert_eq!(leave.unwrap(), Removal::Left { new_owner: Some(a) });
                a
            }
            other => panic!("the transfer answered {other:?}"),
        };
        assert_eq!(owners(s, m, *g).await, [heir]);
        assert!(!roles(s, m, *g).await.iter().any(|(u, _)| *u == o));
    }
}

/// Members all leaving at once MUST delete the group.
async fn everyone_leaving_at_once_deletes_the_group(s: &Fresh) {
    let groups = raced_groups(s, 2).await;
    let leaves = groups
        .iter()
        .flat_map(|(g, us)| us.iter().map(|u| s.groups.remove_member(*u, *g, *u, at(2))));
    let answers = join_all(leaves).await;
    for ((g, us), answers) in groups.iter().zip(answers.chunks(4)) {
        let deleted = answers
            .iter()
            .filter(|r| matches!(r, Ok(Removal::GroupDeleted)));
        let left = answers
            .iter()
            .filter(|r| matches!(r, Ok(Removal::Left { .. })));
        assert_eq!((deleted.count(), left.count()), (1, 3), "{answers:?}");
        for u in us {
            no_group(s.groups.group_of(*u, *g).await);
            assert!(s.groups.groups_of(*u).await.unwrap().is_empty());
        }
    }
}
