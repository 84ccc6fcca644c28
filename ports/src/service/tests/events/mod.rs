//! What the conversation use cases publish: exactly the events of what the store committed,
//! in order, after the commit; nothing when validation or the store refuses, nothing for a
//! no-op. One file per family (groups and direct chats, members, messages with read markers and
//! typing); the fixtures they share, and the check that refused input publishes nothing, are
//! here.

mod groups;
mod members;
mod messages;
mod reactions;

use std::sync::Arc;

use confab_domain::{Event, Group, GroupId, GroupKind, GroupName, Message, MessageId, UserId};

use super::{Mocks, NOW, RecordingBus, assert_invalid, caller, owner_membership};
use crate::Error;
use crate::service::DirectWith;
use crate::store::GroupView;

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
        attachments: Vec::new(),
        reply_to: None,
        reactions: Vec::new(),
        mentions: Vec::new(),
        pinned: false,
    }
}

fn store_down() -> Error {
    Error::Unavailable("database is down".into())
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
