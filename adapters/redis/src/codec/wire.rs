//! The wire mirror of `domain::Event` and its conversions, both ways. Decoding checks what
//! the domain needs (times in range); nothing here may panic on any input.

use confab_domain::{
    Announcement, AnnouncementId, Attachment, AttachmentId, ClientId, ContentType, Emoji, Event,
    FileName, GroupId, Message, MessageId, Reaction, ReplyRef, Role, UserId, from_unix_millis,
    unix_millis,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DecodeError;

#[derive(Serialize, Deserialize)]
pub(super) struct WireMessage {
    id: Uuid,
    group_id: Uuid,
    seq: u64,
    rev: u64,
    created_rev: u64,
    sender_id: Uuid,
    body: String,
    client_id: Option<String>,
    created_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
    attachments: Vec<WireAttachment>,
    reply_to: Option<WireReplyRef>,
    reactions: Vec<(String, Vec<Uuid>)>,
    mentions: Vec<Uuid>,
    pinned: bool,
}

#[derive(Serialize, Deserialize)]
pub(super) struct WireReplyRef {
    id: Uuid,
    seq: u64,
    sender_id: Uuid,
    excerpt: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct WireAttachment {
    id: Uuid,
    group_id: Uuid,
    uploader_id: Uuid,
    message_id: Option<Uuid>,
    name: String,
    content_type: String,
    size: u64,
    sha256: String,
    width: Option<u32>,
    height: Option<u32>,
    created_at: i64,
}

impl From<&Attachment> for WireAttachment {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id.as_uuid(),
            group_id: a.group_id.as_uuid(),
            uploader_id: a.uploader_id.as_uuid(),
            message_id: a.message_id.map(|m| m.as_uuid()),
            name: a.name.as_str().to_owned(),
            content_type: a.content_type.as_str().to_owned(),
            size: a.size,
            sha256: a.sha256.clone(),
            width: a.width,
            height: a.height,
            created_at: unix_millis(a.created_at),
        }
    }
}

impl TryFrom<WireAttachment> for Attachment {
    type Error = DecodeError;

    fn try_from(a: WireAttachment) -> Result<Self, DecodeError> {
        Ok(Self {
            id: AttachmentId::from_uuid(a.id),
            group_id: GroupId::from_uuid(a.group_id),
            uploader_id: UserId::from_uuid(a.uploader_id),
            message_id: a.message_id.map(MessageId::from_uuid),
            // Written by an instance from a stored, validated attachment.
            name: FileName::from_trusted(a.name),
            content_type: ContentType::from_trusted(a.content_type),
            size: a.size,
            sha256: a.sha256,
            width: a.width,
            height: a.height,
            created_at: time(a.created_at)?,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct WireAnnouncement {
    id: Uuid,
    sender_id: Uuid,
    body: String,
    created_at: i64,
}

/// Roles as one byte.
#[derive(Serialize, Deserialize)]
pub(super) enum WireRole {
    Owner,
    Admin,
    Member,
}

#[derive(Serialize, Deserialize)]
pub(super) enum WireEvent {
    MessageCreated(WireMessage),
    MessageUpdated(WireMessage),
    MessageDeleted(WireMessage),
    GroupCreated {
        group_id: Uuid,
        members: Vec<Uuid>,
    },
    GroupUpdated {
        group_id: Uuid,
    },
    GroupClosed {
        group_id: Uuid,
    },
    GroupDeleted {
        group_id: Uuid,
        members: Vec<Uuid>,
    },
    MemberJoined {
        group_id: Uuid,
        user_id: Uuid,
        role: WireRole,
    },
    MemberLeft {
        group_id: Uuid,
        user_id: Uuid,
    },
    MemberRoleChanged {
        group_id: Uuid,
        user_id: Uuid,
        role: WireRole,
    },
    Typing {
        group_id: Uuid,
        user_id: Uuid,
    },
    Read {
        group_id: Uuid,
        user_id: Uuid,
        seq: u64,
    },
    AnnouncementCreated(WireAnnouncement),
    PoolMatched {
        group_id: Uuid,
        members: Vec<Uuid>,
    },
    UserBanned {
        user_id: Uuid,
    },
    Presence {
        user_id: Uuid,
        online: bool,
        last_seen_at: Option<i64>,
        groups: Vec<Uuid>,
        hidden_from: Vec<Uuid>,
    },
}

/// Encodes what `origin` says: the version byte, then the body.
fn ids<T>(list: &[T], id: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    list.iter().map(id).collect()
}

fn users(list: Vec<Uuid>) -> Vec<UserId> {
    list.into_iter().map(UserId::from_uuid).collect()
}

impl From<Role> for WireRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => WireRole::Owner,
            Role::Admin => WireRole::Admin,
            Role::Member => WireRole::Member,
        }
    }
}

impl From<WireRole> for Role {
    fn from(role: WireRole) -> Self {
        match role {
            WireRole::Owner => Role::Owner,
            WireRole::Admin => Role::Admin,
            WireRole::Member => Role::Member,
        }
    }
}

impl From<&Message> for WireMessage {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.as_uuid(),
            group_id: m.group_id.as_uuid(),
            seq: m.seq,
            rev: m.rev,
            created_rev: m.created_rev,
            sender_id: m.sender_id.as_uuid(),
            body: m.body.clone(),
            client_id: m.client_id.as_ref().map(|c| c.as_str().to_owned()),
            created_at: unix_millis(m.created_at),
            edited_at: m.edited_at.map(unix_millis),
            deleted: m.deleted,
            attachments: m.attachments.iter().map(WireAttachment::from).collect(),
            reply_to: m.reply_to.as_ref().map(|r| WireReplyRef {
                id: r.id.as_uuid(),
                seq: r.seq,
                sender_id: r.sender_id.as_uuid(),
                excerpt: r.excerpt.clone(),
            }),
            reactions: m
                .reactions
                .iter()
                .map(|r| {
                    let users = r.user_ids.iter().map(|u| u.as_uuid()).collect();
                    (r.emoji.as_str().to_owned(), users)
                })
                .collect(),
            mentions: m.mentions.iter().map(|u| u.as_uuid()).collect(),
            pinned: m.pinned,
        }
    }
}

fn time(ms: i64) -> Result<confab_domain::Timestamp, DecodeError> {
    from_unix_millis(ms).ok_or_else(|| DecodeError::Malformed(format!("time {ms} out of range")))
}

impl TryFrom<WireMessage> for Message {
    type Error = DecodeError;

    fn try_from(m: WireMessage) -> Result<Self, DecodeError> {
        Ok(Self {
            id: MessageId::from_uuid(m.id),
            group_id: GroupId::from_uuid(m.group_id),
            seq: m.seq,
            rev: m.rev,
            created_rev: m.created_rev,
            sender_id: UserId::from_uuid(m.sender_id),
            body: m.body,
            // Written by an instance from a stored, validated id.
            client_id: m.client_id.map(ClientId::from_trusted),
            created_at: time(m.created_at)?,
            edited_at: m.edited_at.map(time).transpose()?,
            deleted: m.deleted,
            attachments: m
                .attachments
                .into_iter()
                .map(Attachment::try_from)
                .collect::<Result<_, _>>()?,
            reply_to: m.reply_to.map(|r| ReplyRef {
                id: MessageId::from_uuid(r.id),
                seq: r.seq,
                sender_id: UserId::from_uuid(r.sender_id),
                excerpt: r.excerpt,
            }),
            reactions: m
                .reactions
                .into_iter()
                .map(|(emoji, users)| Reaction {
                    // Written by an instance from a stored, validated emoji.
                    emoji: Emoji::from_trusted(emoji),
                    user_ids: users.into_iter().map(UserId::from_uuid).collect(),
                })
                .collect(),
            mentions: m.mentions.into_iter().map(UserId::from_uuid).collect(),
            pinned: m.pinned,
        })
    }
}

impl From<&Event> for WireEvent {
    fn from(event: &Event) -> Self {
        let g = |id: &GroupId| id.as_uuid();
        let u = |id: &UserId| id.as_uuid();
        match event {
            Event::MessageCreated { message } => WireEvent::MessageCreated(message.into()),
            Event::MessageUpdated { message } => WireEvent::MessageUpdated(message.into()),
            Event::MessageDeleted { message } => WireEvent::MessageDeleted(message.into()),
            Event::GroupCreated { group_id, members } => WireEvent::GroupCreated {
                group_id: g(group_id),
                members: ids(members, u),
            },
            Event::GroupUpdated { group_id } => WireEvent::GroupUpdated {
                group_id: g(group_id),
            },
            Event::GroupClosed { group_id } => WireEvent::GroupClosed {
                group_id: g(group_id),
            },
            Event::GroupDeleted { group_id, members } => WireEvent::GroupDeleted {
                group_id: g(group_id),
                members: ids(members, u),
            },
            Event::MemberJoined {
                group_id,
                user_id,
                role,
            } => WireEvent::MemberJoined {
                group_id: g(group_id),
                user_id: u(user_id),
                role: (*role).into(),
            },
            Event::MemberLeft { group_id, user_id } => WireEvent::MemberLeft {
                group_id: g(group_id),
                user_id: u(user_id),
            },
            Event::MemberRoleChanged {
                group_id,
                user_id,
                role,
            } => WireEvent::MemberRoleChanged {
                group_id: g(group_id),
                user_id: u(user_id),
                role: (*role).into(),
            },
            Event::Typing { group_id, user_id } => WireEvent::Typing {
                group_id: g(group_id),
                user_id: u(user_id),
            },
            Event::Read {
                group_id,
                user_id,
                seq,
            } => WireEvent::Read {
                group_id: g(group_id),
                user_id: u(user_id),
                seq: *seq,
            },
            Event::AnnouncementCreated { announcement: a } => {
                WireEvent::AnnouncementCreated(WireAnnouncement {
                    id: a.id.as_uuid(),
                    sender_id: a.sender_id.as_uuid(),
                    body: a.body.clone(),
                    created_at: unix_millis(a.created_at),
                })
            }
            Event::PoolMatched { group_id, members } => WireEvent::PoolMatched {
                group_id: g(group_id),
                members: ids(members, u),
            },
            Event::UserBanned { user_id } => WireEvent::UserBanned {
                user_id: user_id.as_uuid(),
            },
            Event::Presence {
                user_id,
                online,
                last_seen_at,
                groups,
                hidden_from,
            } => WireEvent::Presence {
                user_id: u(user_id),
                online: *online,
                last_seen_at: last_seen_at.map(unix_millis),
                groups: ids(groups, g),
                hidden_from: ids(hidden_from, u),
            },
        }
    }
}

impl TryFrom<WireEvent> for Event {
    type Error = DecodeError;

    fn try_from(event: WireEvent) -> Result<Self, DecodeError> {
        let g = GroupId::from_uuid;
        let u = UserId::from_uuid;
        Ok(match event {
            WireEvent::MessageCreated(m) => Event::MessageCreated {
                message: m.try_into()?,
            },
            WireEvent::MessageUpdated(m) => Event::MessageUpdated {
                message: m.try_into()?,
            },
            WireEvent::MessageDeleted(m) => Event::MessageDeleted {
                message: m.try_into()?,
            },
            WireEvent::GroupCreated { group_id, members } => Event::GroupCreated {
                group_id: g(group_id),
                members: users(members),
            },
            WireEvent::GroupUpdated { group_id } => Event::GroupUpdated {
                group_id: g(group_id),
            },
            WireEvent::GroupClosed { group_id } => Event::GroupClosed {
                group_id: g(group_id),
            },
            WireEvent::GroupDeleted { group_id, members } => Event::GroupDeleted {
                group_id: g(group_id),
                members: users(members),
            },
            WireEvent::MemberJoined {
                group_id,
                user_id,
                role,
            } => Event::MemberJoined {
                group_id: g(group_id),
                user_id: u(user_id),
                role: role.into(),
            },
            WireEvent::MemberLeft { group_id, user_id } => Event::MemberLeft {
                group_id: g(group_id),
                user_id: u(user_id),
            },
            WireEvent::MemberRoleChanged {
                group_id,
                user_id,
                role,
            } => Event::MemberRoleChanged {
                group_id: g(group_id),
                user_id: u(user_id),
                role: role.into(),
            },
            WireEvent::Typing { group_id, user_id } => Event::Typing {
                group_id: g(group_id),
                user_id: u(user_id),
            },
            WireEvent::Read {
                group_id,
                user_id,
                seq,
            } => Event::Read {
                group_id: g(group_id),
                user_id: u(user_id),
                seq,
            },
            WireEvent::AnnouncementCreated(a) => Event::AnnouncementCreated {
                announcement: Announcement {
                    id: AnnouncementId::from_uuid(a.id),
                    sender_id: u(a.sender_id),
                    body: a.body,
                    created_at: time(a.created_at)?,
                },
            },
            WireEvent::PoolMatched { group_id, members } => Event::PoolMatched {
                group_id: g(group_id),
                members: users(members),
            },
            WireEvent::UserBanned { user_id } => Event::UserBanned {
                user_id: UserId::from_uuid(user_id),
            },
            WireEvent::Presence {
                user_id,
                online,
                last_seen_at,
                groups,
                hidden_from,
            } => Event::Presence {
                user_id: u(user_id),
                online,
                last_seen_at: last_seen_at.map(time).transpose()?,
                groups: groups.into_iter().map(g).collect(),
                hidden_from: users(hidden_from),
            },
        })
    }
}
