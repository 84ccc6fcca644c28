//! Events of members and roles: `add_member` (`member.joined` with the stored role),
//! `change_role` (`member.role_changed`, two for a transfer, none when unchanged) and
//! `remove_member` (`member.left`, the new owner, or `group.deleted`).

use confab_domain::{Event, GroupId, Role, UserId};

use super::{assert_published, assert_silent, mocks};
use crate::Error;
use crate::service::tests::{assert_not_found, caller, member};
use crate::store::{Removal, RoleChanged};

// ---------------------------------------------------------------------------------------------
// add_member, change_role, remove_member
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn add_member_publishes_member_joined_with_the_role_the_store_answered() {
    for (raw, role) in [(None, Role::Member), (Some("admin"), Role::Admin)] {
        let gid = GroupId::new();
        let added = member(role);
        let answer = added.clone();
        let (mut m, rx) = mocks();
        m.groups
            .expect_add_member()
            .times(1)
            .returning(move |_, _, _, _, _| Ok(answer.clone()));
        m.conversations()
            .add_member(&caller(false), gid, added.user.id, raw)
            .await
            .unwrap();
        assert_published(
            &rx,
            &[Event::MemberJoined {
                group_id: gid,
                user_id: added.user.id,
                role,
            }],
        );
    }
}

#[tokio::test]
async fn add_member_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_add_member()
        .times(1)
        .returning(|_, _, _, _, _| Err(Error::Conflict { field: "user_id" }));
    let res = m
        .conversations()
        .add_member(&caller(false), GroupId::new(), UserId::new(), None)
        .await;
    assert!(res.is_err());
    assert_silent(&rx);
}

#[tokio::test]
async fn change_role_set_publishes_member_role_changed() {
    let gid = GroupId::new();
    let admin = member(Role::Admin);
    let answer = admin.clone();
    let (mut m, rx) = mocks();
    m.groups
        .expect_change_role()
        .times(1)
        .returning(move |_, _, _, _| Ok(RoleChanged::Set(answer.clone())));
    m.conversations()
        .change_role(&caller(false), gid, admin.user.id, "admin")
        .await
        .unwrap();
    assert_published(
        &rx,
        &[Event::MemberRoleChanged {
            group_id: gid,
            user_id: admin.user.id,
            role: Role::Admin,
        }],
    );
}

#[tokio::test]
async fn change_role_transfer_publishes_the_new_owner_then_the_previous_owner_as_admin() {
    let me = caller(false);
    let gid = GroupId::new();
    let heir = member(Role::Owner);
    let answer = heir.clone();
    let previous_owner = me.user_id;
    let (mut m, rx) = mocks();
    m.groups
        .expect_change_role()
        .times(1)
        .returning(move |_, _, _, _| {
            Ok(RoleChanged::Transferred {
                member: answer.clone(),
                previous_owner,
            })
        });
    let out = m
        .conversations()
        .change_role(&me, gid, heir.user.id, "owner")
        .await
        .unwrap();
    assert_eq!(out, heir);
    assert_published(
        &rx,
        &[
            Event::MemberRoleChanged {
                group_id: gid,
                user_id: heir.user.id,
                role: Role::Owner,
            },
            Event::MemberRoleChanged {
                group_id: gid,
                user_id: me.user_id,
                role: Role::Admin,
            },
        ],
    );
}

#[tokio::test]
async fn change_role_publishes_nothing_when_the_role_is_unchanged() {
    let same = member(Role::Admin);
    let answer = same.clone();
    let (mut m, rx) = mocks();
    m.groups
        .expect_change_role()
        .times(1)
        .returning(move |_, _, _, _| Ok(RoleChanged::Unchanged(answer.clone())));
    let out = m
        .conversations()
        .change_role(&caller(false), GroupId::new(), same.user.id, "admin")
        .await
        .unwrap();
    assert_eq!(out, same);
    assert_silent(&rx);
}

#[tokio::test]
async fn change_role_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_change_role()
        .times(1)
        .returning(|_, _, _, _| Err(Error::NotFound("member")));
    let res = m
        .conversations()
        .change_role(&caller(false), GroupId::new(), UserId::new(), "admin")
        .await;
    assert_not_found(res, "member");
    assert_silent(&rx);
}

#[tokio::test]
async fn remove_member_publishes_what_the_removal_did() {
    let me = caller(false);
    let gid = GroupId::new();
    let other = UserId::new();
    let heir = UserId::new();
    let left = |user_id| Event::MemberLeft {
        group_id: gid,
        user_id,
    };
    for (target, removal, expected) in [
        (other, Removal::Removed, vec![left(other)]),
        (
            me.user_id,
            Removal::Left {
                new_owner: Some(heir),
            },
            vec![
                left(me.user_id),
                Event::MemberRoleChanged {
                    group_id: gid,
                    user_id: heir,
                    role: Role::Owner,
                },
            ],
        ),
        (
            me.user_id,
            Removal::Left { new_owner: None },
            vec![left(me.user_id)],
        ),
        (
            me.user_id,
            Removal::GroupDeleted,
            vec![Event::GroupDeleted {
                group_id: gid,
                members: vec![me.user_id],
            }],
        ),
    ] {
        let (mut m, rx) = mocks();
        m.groups
            .expect_remove_member()
            .times(1)
            .returning(move |_, _, _, _| Ok(removal));
        let out = m
            .conversations()
            .remove_member(&me, gid, target)
            .await
            .unwrap();
        assert_eq!(out, removal);
        assert_published(&rx, &expected);
    }
}

#[tokio::test]
async fn remove_member_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_remove_member()
        .times(1)
        .returning(|_, _, _, _| Err(Error::Forbidden("the owner cannot be removed".into())));
    let res = m
        .conversations()
        .remove_member(&caller(false), GroupId::new(), UserId::new())
        .await;
    assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    assert_silent(&rx);
}
