//! Conversation use cases, one file per family: groups ([`groups`]: create, rename, delete,
//! alias), direct chats ([`direct`]), members and roles ([`members`]), sending, editing and
//! deleting messages ([`messages`]), history and read markers ([`read`]), and search
//! ([`search`]). The fixtures they share are here.
//!
//! Every use case validates its input with the domain rules before touching a store and hands
//! the store exactly what it validated (with the caller's id and the clock's time); that is what
//! these tests hold. What the store answers, and that its answer reaches the client unchanged,
//! is the store conformance suite's (`tests/tests/store/groups.rs`, `members.rs`,
//! `messages.rs`, `search.rs`) and the black-box suite's (`tests/tests/api`); the events the
//! use cases publish are in `../events.rs`.

mod direct;
mod groups;
mod members;
mod messages;
mod read;
mod search;

use std::sync::{Arc, Mutex};

use confab_domain::{Group, GroupId, GroupKind, GroupName, Message, MessageId, Role, UserId};

use super::{NOW, owner_membership};
use crate::store::{Appended, Changed, GroupView, MyMembership, NewGroup, NewMessage};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// What a mock was called with, kept to look at after the call.
struct Seen<T>(Arc<Mutex<Option<T>>>);

impl<T> Default for Seen<T> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(None)))
    }
}

impl<T> Clone for Seen<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Seen<T> {
    fn put(&self, value: T) {
        *self.0.lock().unwrap() = Some(value);
    }

    #[track_caller]
    fn take(&self) -> T {
        self.0
            .lock()
            .unwrap()
            .take()
            .expect("the store was not called")
    }
}

fn group(kind: GroupKind, name: Option<&str>, created_by: UserId) -> Group {
    Group {
        id: GroupId::new(),
        kind,
        name: name.map(|n| GroupName::parse(n).unwrap()),
        created_by,
        created_at: NOW,
        expires_at: None,
        closed_at: None,
        last_seq: 0,
        last_rev: 0,
    }
}

fn view(group: Group, role: Role) -> GroupView {
    GroupView {
        group,
        member_count: 2,
        my: MyMembership {
            role,
            alias: None,
            last_read_seq: 0,
            unread_count: 0,
            mention_count: 0,
        },
    }
}

/// A named group `me` owns.
fn named_view(me: UserId) -> GroupView {
    view(group(GroupKind::Group, Some("Rust fans"), me), Role::Owner)
}

/// A direct chat `me` started.
fn direct_view(me: UserId) -> GroupView {
    view(group(GroupKind::Direct, None, me), Role::Member)
}

/// What a store answers to `create_group`.
fn created_view(g: &NewGroup) -> GroupView {
    GroupView {
        group: Group {
            id: g.id,
            kind: GroupKind::Group,
            name: Some(g.name.clone()),
            created_by: g.created_by,
            created_at: g.created_at,
            expires_at: None,
            closed_at: None,
            last_seq: 0,
            last_rev: 0,
        },
        member_count: u64::try_from(g.members.len()).unwrap() + 1,
        my: owner_membership(),
    }
}

fn message(group: GroupId, seq: u64, body: &str) -> Message {
    Message {
        id: MessageId::new(),
        group_id: group,
        seq,
        rev: seq,
        created_rev: seq,
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

/// What a store answers to `append_message`.
fn appended(m: &NewMessage, duplicate: bool) -> Appended {
    Appended {
        message: Message {
            id: m.id,
            group_id: m.group_id,
            seq: 1,
            rev: 1,
            created_rev: 1,
            sender_id: m.sender_id,
            body: m.body.as_str().to_owned(),
            client_id: m.client_id.clone(),
            created_at: m.now,
            edited_at: None,
            deleted: false,
            attachments: Vec::new(),
            reply_to: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            pinned: false,
        },
        duplicate,
    }
}

/// What a store answers to an edit or delete.
fn changed(group: GroupId, body: &str, changed: bool) -> Changed {
    Changed {
        message: message(group, 3, body),
        changed,
        freed: Vec::new(),
    }
}

/// Names a group may not have (nor an alias): empty once trimmed, over 100 characters, or
/// holding a control character.
fn bad_labels() -> Vec<String> {
    vec![
        String::new(),
        "   ".into(),
        "\t\n ".into(),
        "x".repeat(101),
        "é".repeat(101),
        format!("  {}  ", "x".repeat(101)),
        "nul\0byte".into(),
        "line\nbreak".into(),
        "bell\u{7}".into(),
        "esc\u{1b}[31m".into(),
        "del\u{7f}ete".into(),
        "next\u{85}line".into(),
    ]
}
