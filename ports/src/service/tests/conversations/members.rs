//! Members and roles: `add_member` (the role parsed, defaulting to member, never owner),
//! `change_role` (the parsed role for the target) and `remove_member` (at the clock's time);
//! each role checked before any store call.

use confab_domain::{GroupId, Role, UserId};

use crate::service::tests::{Mocks, NOW, assert_invalid, caller, member};
use crate::store::{Removal, RoleChanged};

// ---------------------------------------------------------------------------------------------
// add_member
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn add_member_adds_the_target_with_the_given_role_defaulting_to_member_at_the_clocks_time() {
    for (raw, role) in [
        (None, Role::Member),
        (Some("member"), Role::Member),
        (Some("admin"), Role::Admin),
    ] {
        let me = caller(false);
        let id = me.user_id;
        let (gid, target) = (GroupId::new(), UserId::new());
        let added = member(role);
        let answer = added.clone();
        let mut m = Mocks::default();
        m.groups
            .expect_add_member()
            .times(1)
            .withf(move |actor, group, t, r, now| {
                *actor == id && *group == gid && *t == target && *r == role && *now == NOW
            })
            .returning(move |_, _, _, _, _| Ok(answer.clone()));
        let out = m
            .conversations()
            .add_member(&me, gid, target, raw)
            .await
            .unwrap();
        assert_eq!(out, added, "{raw:?}");
    }
}

#[tokio::test]
async fn add_member_as_owner_is_invalid_role_without_a_store_call() {
    let mut m = Mocks::default();
    m.groups.expect_add_member().never();
    let res = m
        .conversations()
        .add_member(&caller(false), GroupId::new(), UserId::new(), Some("owner"))
        .await;
    assert_invalid(res, "role");
}

#[tokio::test]
async fn add_member_with_an_unknown_role_is_invalid_role_without_a_store_call() {
    for bad in ["", "Admin", "MEMBER", " admin", "moderator", "owner "] {
        let mut m = Mocks::default();
        m.groups.expect_add_member().never();
        let res = m
            .conversations()
            .add_member(&caller(false), GroupId::new(), UserId::new(), Some(bad))
            .await;
        assert_invalid(res, "role");
    }
}

// ---------------------------------------------------------------------------------------------
// change_role
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn change_role_passes_the_parsed_role_for_the_target_to_the_store() {
    for (raw, role) in [
        ("owner", Role::Owner),
        ("admin", Role::Admin),
        ("member", Role::Member),
    ] {
        let me = caller(false);
        let id = me.user_id;
        let (gid, target) = (GroupId::new(), UserId::new());
        let updated = member(role);
        let answer = updated.clone();
        let mut m = Mocks::default();
        m.groups
            .expect_change_role()
            .times(1)
            .withf(move |actor, group, t, r| {
                *actor == id && *group == gid && *t == target && *r == role
            })
            .returning(move |_, _, _, _| Ok(RoleChanged::Set(answer.clone())));
        let out = m
            .conversations()
            .change_role(&me, gid, target, raw)
            .await
            .unwrap();
        assert_eq!(out, updated, "{raw}");
    }
}

#[tokio::test]
async fn change_role_with_an_unknown_role_is_invalid_role_without_a_store_call() {
    for bad in ["", "Owner", "ADMIN", "member ", "moderator"] {
        let mut m = Mocks::default();
        m.groups.expect_change_role().never();
        let res = m
            .conversations()
            .change_role(&caller(false), GroupId::new(), UserId::new(), bad)
            .await;
        assert_invalid(res, "role");
    }
}

// ---------------------------------------------------------------------------------------------
// remove_member
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn remove_member_removes_the_target_at_the_clocks_time_and_says_what_happened() {
    for removal in [
        Removal::Removed,
        Removal::Left { new_owner: None },
        Removal::Left {
            new_owner: Some(UserId::new()),
        },
        Removal::GroupDeleted,
    ] {
        let me = caller(false);
        let id = me.user_id;
        let (gid, target) = (GroupId::new(), UserId::new());
        let mut m = Mocks::default();
        m.groups
            .expect_remove_member()
            .times(1)
            .withf(move |actor, group, t, now| {
                *actor == id && *group == gid && *t == target && *now == NOW
            })
            .returning(move |_, _, _, _| Ok(removal));
        let out = m
            .conversations()
            .remove_member(&me, gid, target)
            .await
            .unwrap();
        assert_eq!(out, removal);
    }
}
