//! Events: what happened, published after the commit, for everyone it concerns.
//!
//! These carry what routing needs (member lists for events that change membership); the
//! frames a client sees are made from them at the edge, per recipient.

use crate::{Announcement, GroupId, Message, Role, Timestamp, UserId};

/// Something that happened that connected clients must hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new message; `message.rev` orders it within its group.
    MessageCreated { message: Message },
    /// A message's body changed.
    MessageUpdated { message: Message },
    /// A message became a tombstone.
    MessageDeleted { message: Message },
    /// A group (or direct chat) came to exist with these members.
    GroupCreated {
        group_id: GroupId,
        members: Vec<UserId>,
    },
    /// A group's name changed.
    GroupUpdated { group_id: GroupId },
    /// A direct chat was closed (or a room expired).
    GroupClosed { group_id: GroupId },
    /// A group is gone; `members` were its members.
    GroupDeleted {
        group_id: GroupId,
        members: Vec<UserId>,
    },
    /// `user_id` joined `group_id`.
    MemberJoined {
        group_id: GroupId,
        user_id: UserId,
        role: Role,
    },
    /// `user_id` left or was removed.
    MemberLeft { group_id: GroupId, user_id: UserId },
    /// `user_id` now holds `role`.
    MemberRoleChanged {
        group_id: GroupId,
        user_id: UserId,
        role: Role,
    },
    /// `user_id` is typing (relayed, never stored).
    Typing { group_id: GroupId, user_id: UserId },
    /// `user_id` has read up to `seq`.
    Read {
        group_id: GroupId,
        user_id: UserId,
        seq: u64,
    },
    /// A server-wide announcement: every connected user hears it, whatever their groups.
    AnnouncementCreated { announcement: Announcement },
    /// The pool matched `members` into the new room `group_id` (announced to each of them).
    PoolMatched {
        group_id: GroupId,
        members: Vec<UserId>,
    },
    /// An admin banned `user_id`: every socket of theirs, on every instance, ends (4003).
    UserBanned { user_id: UserId },
    /// `user_id` came online, or went offline (last seen at `last_seen_at`). Heard by the
    /// members of `groups` — every group the user is in, open or closed, read when it was
    /// announced — but not by `hidden_from` (a block stands between them and the user, read
    /// then too), and by the user's own sockets.
    Presence {
        user_id: UserId,
        online: bool,
        last_seen_at: Option<Timestamp>,
        groups: Vec<GroupId>,
        hidden_from: Vec<UserId>,
    },
}

impl Event {
    /// The group the event is about; `None` for server-wide events.
    pub fn group_id(&self) -> Option<GroupId> {
        match self {
            Event::MessageCreated { message }
            | Event::MessageUpdated { message }
            | Event::MessageDeleted { message } => Some(message.group_id),
            Event::GroupCreated { group_id, .. }
            | Event::GroupUpdated { group_id }
            | Event::GroupClosed { group_id }
            | Event::GroupDeleted { group_id, .. }
            | Event::MemberJoined { group_id, .. }
            | Event::MemberLeft { group_id, .. }
            | Event::MemberRoleChanged { group_id, .. }
            | Event::Typing { group_id, .. }
            | Event::Read { group_id, .. }
            | Event::PoolMatched { group_id, .. } => Some(*group_id),
            Event::AnnouncementCreated { .. }
            | Event::UserBanned { .. }
            | Event::Presence { .. } => None,
        }
    }

    /// The group's change counter for message events, which are delivered in `rev` order
    /// with no gap; `None` for events outside that order.
    pub fn rev(&self) -> Option<u64> {
        match self {
            Event::MessageCreated { message }
            | Event::MessageUpdated { message }
            | Event::MessageDeleted { message } => Some(message.rev),
            _ => None,
        }
    }
}
