//! What travels on the Redis channel: a version byte, then a postcard-encoded envelope (the
//! sending instance, and an event, a heartbeat or a "lost" notice). Compact (varints, ids as
//! 16 bytes) and encoded once per publish. A later version adds a new version byte: an
//! instance skips what it cannot decode instead of misreading it, so a rolling upgrade of
//! mixed versions degrades to re-checks, never to wrong frames.
//!
//! The wire types mirror `domain::Event` here, in the adapter, so the domain stays free of
//! serde; nothing else may depend on this layout.

use confab_domain::{
    Announcement, AnnouncementId, ClientId, Event, GroupId, Message, MessageId, Role, UserId,
    from_unix_millis, unix_millis,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The layout version this build writes and reads.
pub(crate) const VERSION: u8 = 1;

/// What an instance says on the channel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Said {
    /// An event to fan out.
    Event(Event),
    /// "I am here": the sender expects to hear its own heartbeat back.
    Heartbeat,
    /// "I failed to publish some events": every instance re-checks against the store.
    Lost,
}

/// What an instance says, borrowed for encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Saying<'a> {
    Event(&'a Event),
    Heartbeat,
    Lost,
}

/// One message on the channel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Envelope {
    /// The instance that published it.
    pub origin: Uuid,
    pub said: Said,
}

/// Why a payload was skipped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("empty payload")]
    Empty,
    #[error("layout version {0} is not known to this build")]
    Version(u8),
    #[error("malformed payload: {0}")]
    Malformed(String),
}

#[derive(Serialize, Deserialize)]
struct WireEnvelope {
    origin: Uuid,
    said: WireSaid,
}

#[derive(Serialize, Deserialize)]
enum WireSaid {
    Event(WireEvent),
    Heartbeat,
    Lost,
}

#[derive(Serialize, Deserialize)]
struct WireMessage {
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
}

#[derive(Serialize, Deserialize)]
struct WireAnnouncement {
    id: Uuid,
    sender_id: Uuid,
    body: String,
    created_at: i64,
}

/// Roles as one byte.
#[derive(Serialize, Deserialize)]
enum WireRole {
    Owner,
    Admin,
    Member,
}

#[derive(Serialize, Deserialize)]
enum WireEvent {
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
}

/// Encodes what `origin` says: the version byte, then the body.
pub(crate) fn encode(origin: Uuid, saying: Saying<'_>) -> Vec<u8> {
    let wire = WireEnvelope {
        origin,
        said: match saying {
            Saying::Event(event) => WireSaid::Event(WireEvent::from(event)),
            Saying::Heartbeat => WireSaid::Heartbeat,
            Saying::Lost => WireSaid::Lost,
        },
    };
    let mut out = vec![VERSION];
    // Writing into a Vec fails only when the allocator does.
    if let Ok(body) = postcard::to_allocvec(&wire) {
        out.extend_from_slice(&body);
    }
    out
}

/// Decodes an envelope written by [`encode`]; anything else is an error, never a panic.
pub(crate) fn decode(payload: &[u8]) -> Result<Envelope, DecodeError> {
    let (&version, body) = payload.split_first().ok_or(DecodeError::Empty)?;
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let wire: WireEnvelope =
        postcard::from_bytes(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    Ok(Envelope {
        origin: wire.origin,
        said: match wire.said {
            WireSaid::Event(event) => Said::Event(event.try_into()?),
            WireSaid::Heartbeat => Said::Heartbeat,
            WireSaid::Lost => Said::Lost,
        },
    })
}

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
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    fn message(deleted: bool) -> Message {
        Message {
            id: MessageId::new(),
            group_id: GroupId::new(),
            seq: 7,
            rev: 12,
            created_rev: 9,
            sender_id: UserId::new(),
            body: "héllo\nthere 👋".into(),
            client_id: Some(ClientId::parse("c-1").unwrap()),
            created_at: datetime!(2026-12-02 10:00:00.123 UTC),
            edited_at: (!deleted).then_some(datetime!(2026-12-02 10:01:00.456 UTC)),
            deleted,
        }
    }

    /// One of every event, so a new variant that is not mirrored fails here.
    fn every_event() -> Vec<Event> {
        let (g, u, v) = (GroupId::new(), UserId::new(), UserId::new());
        vec![
            Event::MessageCreated {
                message: message(false),
            },
            Event::MessageUpdated {
                message: message(false),
            },
            Event::MessageDeleted {
                message: message(true),
            },
            Event::GroupCreated {
                group_id: g,
                members: vec![u, v],
            },
            Event::GroupUpdated { group_id: g },
            Event::GroupClosed { group_id: g },
            Event::GroupDeleted {
                group_id: g,
                members: vec![u],
            },
            Event::MemberJoined {
                group_id: g,
                user_id: u,
                role: Role::Admin,
            },
            Event::MemberLeft {
                group_id: g,
                user_id: u,
            },
            Event::MemberRoleChanged {
                group_id: g,
                user_id: v,
                role: Role::Owner,
            },
            Event::Typing {
                group_id: g,
                user_id: u,
            },
            Event::Read {
                group_id: g,
                user_id: u,
                seq: 3,
            },
            Event::AnnouncementCreated {
                announcement: Announcement {
                    id: AnnouncementId::new(),
                    sender_id: u,
                    body: "maintenance".into(),
                    created_at: datetime!(2026-12-02 11:00:00.000 UTC),
                },
            },
            Event::PoolMatched {
                group_id: g,
                members: vec![u, v],
            },
        ]
    }

    #[test]
    fn every_event_and_signal_comes_back_as_it_went() {
        let origin = Uuid::now_v7();
        for event in every_event() {
            let back = decode(&encode(origin, Saying::Event(&event))).unwrap();
            assert_eq!(
                back,
                Envelope {
                    origin,
                    said: Said::Event(event)
                }
            );
        }
        for (saying, said) in [
            (Saying::Heartbeat, Said::Heartbeat),
            (Saying::Lost, Said::Lost),
        ] {
            assert_eq!(
                decode(&encode(origin, saying)).unwrap(),
                Envelope { origin, said }
            );
        }
    }

    #[test]
    fn a_message_event_is_compact() {
        let event = Event::MessageCreated {
            message: message(false),
        };
        let bytes = encode(Uuid::now_v7(), Saying::Event(&event));
        // Four ids (64 bytes), the body and a few varints: far below its JSON.
        assert!(bytes.len() < 120, "{} bytes", bytes.len());
    }

    #[test]
    fn garbage_an_unknown_version_and_truncation_are_errors_not_panics() {
        assert!(matches!(decode(&[]), Err(DecodeError::Empty)));
        assert!(matches!(decode(&[2, 0, 0]), Err(DecodeError::Version(2))));
        let good = encode(Uuid::now_v7(), Saying::Event(&every_event()[0]));
        for cut in 1..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        for noise in [
            vec![1u8; 64],
            vec![1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        ] {
            assert!(decode(&noise).is_err());
        }
    }
}
