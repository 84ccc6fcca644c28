//! Events of groups and direct chats: `create_group` and `open_direct` (`group.created`, the
//! creator first), `rename_group` (`group.updated`) and `delete_group` (`group.deleted` or
//! `group.closed`, as the store closed it).

use confab_domain::{Event, GroupId, GroupKind, UserId};

use super::{assert_published, assert_silent, mocks, store_down, view_of};
use crate::Error;
use crate::service::DirectWith;
use crate::service::tests::{assert_not_found, caller, user_named};
use crate::store::Closing;

// ---------------------------------------------------------------------------------------------
// create_group, open_direct
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_group_publishes_group_created_with_the_creator_first_then_the_deduped_members() {
    let me = caller(false);
    let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
    // The store picks the id it answers with; the event names that one.
    let gid = GroupId::new();
    let (mut m, rx) = mocks();
    m.groups
        .expect_create_group()
        .times(1)
        .returning(move |g| Ok(view_of(gid, GroupKind::Group, g.created_by)));
    m.conversations()
        .create_group(
            &me,
            "Rust fans",
            vec![b, me.user_id, a, b, me.user_id, c, a],
        )
        .await
        .unwrap();
    assert_published(
        &rx,
        &[Event::GroupCreated {
            group_id: gid,
            members: vec![me.user_id, b, a, c],
        }],
    );
}

#[tokio::test]
async fn create_group_of_the_caller_alone_publishes_the_caller_as_the_only_member() {
    let me = caller(false);
    let gid = GroupId::new();
    let (mut m, rx) = mocks();
    m.groups
        .expect_create_group()
        .times(1)
        .returning(move |g| Ok(view_of(gid, GroupKind::Group, g.created_by)));
    m.conversations()
        .create_group(&me, "Just me", vec![me.user_id])
        .await
        .unwrap();
    assert_published(
        &rx,
        &[Event::GroupCreated {
            group_id: gid,
            members: vec![me.user_id],
        }],
    );
}

#[tokio::test]
async fn create_group_publishes_nothing_when_the_store_fails() {
    for fail in [store_down as fn() -> Error, || {
        Error::invalid("member_ids", "no such user")
    }] {
        let (mut m, rx) = mocks();
        m.groups
            .expect_create_group()
            .times(1)
            .returning(move |_| Err(fail()));
        let res = m
            .conversations()
            .create_group(&caller(false), "Rust fans", vec![UserId::new()])
            .await;
        assert!(res.is_err());
        assert_silent(&rx);
    }
}

#[tokio::test]
async fn open_direct_publishes_group_created_with_the_caller_then_the_other_when_created() {
    let me = caller(false);
    let bob = UserId::new();
    let gid = GroupId::new();
    let id = me.user_id;
    let (mut m, rx) = mocks();
    m.groups
        .expect_open_direct()
        .times(1)
        .returning(move |_, _, _, _| Ok((view_of(gid, GroupKind::Direct, id), true)));
    m.conversations()
        .open_direct(&me, DirectWith::Id(bob))
        .await
        .unwrap();
    assert_published(
        &rx,
        &[Event::GroupCreated {
            group_id: gid,
            members: vec![me.user_id, bob],
        }],
    );
}

#[tokio::test]
async fn open_direct_by_username_publishes_the_looked_up_user_as_the_other_member() {
    let me = caller(false);
    let bob = user_named("bob");
    let bob_id = bob.id;
    let gid = GroupId::new();
    let id = me.user_id;
    let (mut m, rx) = mocks();
    m.users
        .expect_user_by_username()
        .times(1)
        .returning(move |_| Ok(Some(bob.clone())));
    m.groups
        .expect_open_direct()
        .times(1)
        .returning(move |_, _, _, _| Ok((view_of(gid, GroupKind::Direct, id), true)));
    m.conversations()
        .open_direct(&me, DirectWith::Username("bob".into()))
        .await
        .unwrap();
    assert_published(
        &rx,
        &[Event::GroupCreated {
            group_id: gid,
            members: vec![me.user_id, bob_id],
        }],
    );
}

#[tokio::test]
async fn open_direct_publishes_nothing_when_the_chat_already_existed() {
    let me = caller(false);
    let id = me.user_id;
    let (mut m, rx) = mocks();
    m.groups
        .expect_open_direct()
        .times(1)
        .returning(move |_, _, _, _| Ok((view_of(GroupId::new(), GroupKind::Direct, id), false)));
    m.conversations()
        .open_direct(&me, DirectWith::Id(UserId::new()))
        .await
        .unwrap();
    assert_silent(&rx);
}

#[tokio::test]
async fn open_direct_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_open_direct()
        .times(1)
        .returning(|_, _, _, _| Err(Error::NotFound("user")));
    let res = m
        .conversations()
        .open_direct(&caller(false), DirectWith::Id(UserId::new()))
        .await;
    assert_not_found(res, "user");
    assert_silent(&rx);
}

// ---------------------------------------------------------------------------------------------
// rename_group, delete_group
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rename_group_publishes_group_updated() {
    let me = caller(false);
    let gid = GroupId::new();
    let id = me.user_id;
    let (mut m, rx) = mocks();
    m.groups
        .expect_rename_group()
        .times(1)
        .returning(move |_, _, _| Ok(view_of(gid, GroupKind::Group, id)));
    m.conversations()
        .rename_group(&me, gid, "Rustaceans")
        .await
        .unwrap();
    assert_published(&rx, &[Event::GroupUpdated { group_id: gid }]);
}

#[tokio::test]
async fn rename_group_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_rename_group()
        .times(1)
        .returning(|_, _, _| Err(Error::Forbidden("only the owner or an admin".into())));
    let res = m
        .conversations()
        .rename_group(&caller(false), GroupId::new(), "Rustaceans")
        .await;
    assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    assert_silent(&rx);
}

#[tokio::test]
async fn delete_group_publishes_what_the_closing_did() {
    let gid = GroupId::new();
    let (a, b) = (UserId::new(), UserId::new());
    for (closing, expected) in [
        (
            Closing::Deleted {
                members: vec![a, b],
            },
            vec![Event::GroupDeleted {
                group_id: gid,
                members: vec![a, b],
            }],
        ),
        (Closing::Closed, vec![Event::GroupClosed { group_id: gid }]),
        (Closing::AlreadyClosed, vec![]),
    ] {
        let (mut m, rx) = mocks();
        m.groups.expect_delete_or_close().times(1).returning({
            let closing = closing.clone();
            move |_, _, _| Ok(closing.clone())
        });
        let out = m
            .conversations()
            .delete_group(&caller(false), gid)
            .await
            .unwrap();
        assert_eq!(out, closing);
        assert_published(&rx, &expected);
    }
}

#[tokio::test]
async fn delete_group_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_delete_or_close()
        .times(1)
        .returning(|_, _, _| Err(store_down()));
    let res = m
        .conversations()
        .delete_group(&caller(false), GroupId::new())
        .await;
    assert!(res.is_err());
    assert_silent(&rx);
}
