//! Events of activity in a group: `mark_read` (`read` with the marker in force), `send_message`,
//! `edit_message` and `delete_message` (`message.*` with the stored message, none for a
//! duplicate or a no-op delete), and `typing` (relayed within its budget, to members only).

use std::time::Duration;

use confab_domain::{Event, GroupId, GroupKind, MessageId, UserId};

use super::{assert_published, assert_silent, message, mocks, store_down, view_of};
use crate::Error;
use crate::rate_limit::{Bucket, Limited};
use crate::service::tests::{Mocks, assert_not_found, caller};
use crate::store::{Appended, Changed};

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
                freed: Vec::new(),
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
                    freed: Vec::new(),
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
async fn deleting_a_message_removes_the_bytes_of_the_attachments_it_freed() {
    let mut tombstone = message(GroupId::new(), 9, "");
    tombstone.deleted = true;
    let freed = vec![
        confab_domain::AttachmentId::new(),
        confab_domain::AttachmentId::new(),
    ];
    let (answer, expected) = (tombstone.clone(), freed.clone());
    let (mut m, _rx) = mocks();
    m.messages
        .expect_delete_message()
        .times(1)
        .returning(move |_, _, _| {
            Ok(Changed {
                message: answer.clone(),
                changed: true,
                freed: freed.clone(),
            })
        });
    m.blobs
        .expect_delete()
        .withf(move |ids| ids == expected.as_slice())
        .times(1)
        .returning(|_| Ok(()));
    m.conversations()
        .delete_message(&caller(false), tombstone.id)
        .await
        .unwrap();
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
