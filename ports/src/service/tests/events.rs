//! What the conversation use cases publish: exactly the events of what the store committed,
//! in order, after the commit; nothing when validation or the store refuses, nothing for a
//! no-op.

use std::sync::Arc;

use super::RecordingBus;
use std::time::Duration;

use confab_domain::{
    Event, Group, GroupId, GroupKind, GroupName, Message, MessageId, Role, UserId,
};

use super::{
    Mocks, NOW, assert_invalid, assert_not_found, caller, member, owner_membership, user_named,
};
use crate::Error;
use crate::rate_limit::{Bucket, Limited};
use crate::service::DirectWith;
use crate::store::{Appended, Changed, Closing, GroupView, Removal, RoleChanged};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// Fresh mocks and a subscription to their bus, taken before anything can be published.
fn mocks() -> (Mocks, Arc<RecordingBus>) {
    let m = Mocks::default();
    let rx = Arc::clone(&m.bus);
    (m, rx)
}

/// The bus carried exactly `expected`, in this order, and nothing more. `Empty` ends the
/// stream while the use cases are alive; `Closed` once they (and with them the bus) are dropped,
/// after every buffered event was received, so nothing more can come either way.
#[track_caller]
fn assert_published(rx: &RecordingBus, expected: &[Event]) {
    let mut got = Vec::new();
    while let Some(event) = rx.try_recv() {
        got.push(event);
    }
    assert_eq!(got, expected);
}

/// Nothing was published.
#[track_caller]
fn assert_silent(rx: &RecordingBus) {
    assert_published(rx, &[]);
}

fn view_of(id: GroupId, kind: GroupKind, created_by: UserId) -> GroupView {
    GroupView {
        group: Group {
            id,
            kind,
            name: (kind == GroupKind::Group).then(|| GroupName::parse("Rust fans").unwrap()),
            created_by,
            created_at: NOW,
            expires_at: None,
            closed_at: None,
            last_seq: 0,
            last_rev: 0,
        },
        member_count: 2,
        my: owner_membership(),
    }
}

fn message(group: GroupId, rev: u64, body: &str) -> Message {
    Message {
        id: MessageId::new(),
        group_id: group,
        seq: 3,
        rev,
        created_rev: rev,
        sender_id: UserId::new(),
        body: body.to_owned(),
        client_id: None,
        created_at: NOW,
        edited_at: None,
        deleted: false,
    }
}

fn store_down() -> Error {
    Error::Unavailable("database is down".into())
}

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

// ---------------------------------------------------------------------------------------------
// mark_read
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn mark_read_publishes_read_with_the_marker_the_store_answered_not_the_requested_seq() {
    let me = caller(false);
    let gid = GroupId::new();
    let (mut m, rx) = mocks();
    m.groups
        .expect_mark_read()
        .times(1)
        .withf(|_, _, seq| *seq == 10)
        .returning(|_, _, _| Ok(7));
    let out = m.conversations().mark_read(&me, gid, 10).await.unwrap();
    assert_eq!(out, 7);
    assert_published(
        &rx,
        &[Event::Read {
            group_id: gid,
            user_id: me.user_id,
            seq: 7,
        }],
    );
}

#[tokio::test]
async fn mark_read_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_mark_read()
        .times(1)
        .returning(|_, _, _| Err(Error::NotFound("group")));
    let res = m
        .conversations()
        .mark_read(&caller(false), GroupId::new(), 3)
        .await;
    assert_not_found(res, "group");
    assert_silent(&rx);
}

// ---------------------------------------------------------------------------------------------
// send_message, edit_message, delete_message
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn send_message_publishes_message_created_with_the_stored_message() {
    let me = caller(false);
    let gid = GroupId::new();
    let stored = message(gid, 5, "hello");
    let answer = stored.clone();
    let (mut m, rx) = mocks();
    m.messages
        .expect_append_message()
        .times(1)
        .returning(move |_| {
            Ok(Appended {
                message: answer.clone(),
                duplicate: false,
            })
        });
    m.conversations()
        .send_message(&me, gid, "hello", Some("c-1"))
        .await
        .unwrap();
    assert_published(&rx, &[Event::MessageCreated { message: stored }]);
}

#[tokio::test]
async fn send_message_publishes_nothing_for_a_duplicate() {
    let gid = GroupId::new();
    let earlier = message(gid, 5, "hello");
    let (mut m, rx) = mocks();
    m.messages
        .expect_append_message()
        .times(1)
        .returning(move |_| {
            Ok(Appended {
                message: earlier.clone(),
                duplicate: true,
            })
        });
    let out = m
        .conversations()
        .send_message(&caller(false), gid, "hello", Some("c-1"))
        .await
        .unwrap();
    assert!(out.duplicate);
    assert_silent(&rx);
}

#[tokio::test]
async fn send_message_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.messages
        .expect_append_message()
        .times(1)
        .returning(|_| Err(Error::Gone("this chat is closed".into())));
    let res = m
        .conversations()
        .send_message(&caller(false), GroupId::new(), "hello", None)
        .await;
    assert!(matches!(res, Err(Error::Gone(_))), "{res:?}");
    assert_silent(&rx);
}

#[tokio::test]
async fn edit_message_publishes_message_updated_with_the_stored_message() {
    let edited = message(GroupId::new(), 8, "fixed");
    let answer = edited.clone();
    let (mut m, rx) = mocks();
    m.messages
        .expect_edit_message()
        .times(1)
        .returning(move |_, _, _, _| {
            Ok(Changed {
                message: answer.clone(),
                changed: true,
            })
        });
    m.conversations()
        .edit_message(&caller(false), edited.id, "fixed")
        .await
        .unwrap();
    assert_published(&rx, &[Event::MessageUpdated { message: edited }]);
}

#[tokio::test]
async fn edit_message_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.messages
        .expect_edit_message()
        .times(1)
        .returning(|_, _, _, _| Err(Error::Forbidden("not your message".into())));
    let res = m
        .conversations()
        .edit_message(&caller(false), MessageId::new(), "fixed")
        .await;
    assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    assert_silent(&rx);
}

#[tokio::test]
async fn delete_message_publishes_message_deleted_only_when_it_changed() {
    for was_live in [true, false] {
        let mut tombstone = message(GroupId::new(), 9, "");
        tombstone.deleted = true;
        let answer = tombstone.clone();
        let (mut m, rx) = mocks();
        m.messages
            .expect_delete_message()
            .times(1)
            .returning(move |_, _, _| {
                Ok(Changed {
                    message: answer.clone(),
                    changed: was_live,
                })
            });
        m.conversations()
            .delete_message(&caller(false), tombstone.id)
            .await
            .unwrap();
        let expected = if was_live {
            vec![Event::MessageDeleted { message: tombstone }]
        } else {
            vec![]
        };
        assert_published(&rx, &expected);
    }
}

#[tokio::test]
async fn delete_message_publishes_nothing_when_the_store_fails() {
    let (mut m, rx) = mocks();
    m.messages
        .expect_delete_message()
        .times(1)
        .returning(|_, _, _| Err(store_down()));
    let res = m
        .conversations()
        .delete_message(&caller(false), MessageId::new())
        .await;
    assert!(res.is_err());
    assert_silent(&rx);
}

// ---------------------------------------------------------------------------------------------
// typing
// ---------------------------------------------------------------------------------------------

/// Expects one membership check of `me` in `gid`, answered as the store would for a member.
fn expect_member(m: &mut Mocks, me: UserId, gid: GroupId) {
    m.groups
        .expect_group_of()
        .times(1)
        .withf(move |user, group| *user == me && *group == gid)
        .returning(move |_, _| Ok(view_of(gid, GroupKind::Group, me)));
}

/// Expects one `hit` on the typing bucket keyed by user and group, answering `allowed`.
fn expect_typing_hit(m: &mut Mocks, me: UserId, gid: GroupId, allowed: bool) {
    let key = format!("{me}:{gid}");
    m.limiter
        .expect_hit()
        .times(1)
        .withf(move |bucket, k| *bucket == Bucket::Typing && k == key)
        .returning(move |_, _| {
            if allowed {
                Ok(())
            } else {
                Err(Limited::Exhausted {
                    retry_after: Duration::from_secs(3),
                })
            }
        });
}

#[tokio::test]
async fn typing_of_a_member_within_budget_publishes_typing() {
    let me = caller(false);
    let gid = GroupId::new();
    let (mut m, rx) = mocks();
    expect_member(&mut m, me.user_id, gid);
    expect_typing_hit(&mut m, me.user_id, gid, true);
    m.conversations().typing(&me, gid).await.unwrap();
    assert_published(
        &rx,
        &[Event::Typing {
            group_id: gid,
            user_id: me.user_id,
        }],
    );
}

#[tokio::test]
async fn typing_over_budget_is_ok_and_publishes_nothing() {
    let me = caller(false);
    let gid = GroupId::new();
    let (mut m, rx) = mocks();
    expect_member(&mut m, me.user_id, gid);
    expect_typing_hit(&mut m, me.user_id, gid, false);
    m.conversations().typing(&me, gid).await.unwrap();
    assert_silent(&rx);
}

#[tokio::test]
async fn typing_outside_the_group_is_not_found_without_spending_budget_or_publishing() {
    let (mut m, rx) = mocks();
    m.groups
        .expect_group_of()
        .times(1)
        .returning(|_, _| Err(Error::NotFound("group")));
    m.limiter.expect_hit().never();
    let res = m
        .conversations()
        .typing(&caller(false), GroupId::new())
        .await;
    assert_not_found(res, "group");
    assert_silent(&rx);
}

// ---------------------------------------------------------------------------------------------
// Validation failures
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn refused_input_publishes_nothing() {
    // No expectations: any store call fails the test, and nothing may reach the bus.
    let (m, rx) = mocks();
    let c = m.conversations();
    let me = caller(false);
    let gid = GroupId::new();
    let other = UserId::new();
    let many = vec![UserId::new(); 1001];
    assert_invalid(c.create_group(&me, "", vec![]).await, "name");
    assert_invalid(c.create_group(&me, "Crowd", many).await, "member_ids");
    assert_invalid(
        c.open_direct(&me, DirectWith::Id(me.user_id)).await,
        "user_id",
    );
    assert_invalid(
        c.open_direct(&me, DirectWith::Username("no such name!".into()))
            .await,
        "username",
    );
    assert_invalid(c.rename_group(&me, gid, " ").await, "name");
    assert_invalid(c.add_member(&me, gid, other, Some("owner")).await, "role");
    assert_invalid(c.change_role(&me, gid, other, "moderator").await, "role");
    assert_invalid(c.mark_read(&me, gid, -1).await, "seq");
    assert_invalid(c.send_message(&me, gid, "", None).await, "body");
    assert_invalid(c.send_message(&me, gid, " \t ", Some("c-1")).await, "body");
    assert_invalid(
        c.send_message(&me, gid, "hi", Some(&"x".repeat(1000)))
            .await,
        "client_id",
    );
    assert_invalid(c.edit_message(&me, MessageId::new(), "").await, "body");
    assert_silent(&rx);
}
