//! The codec both ways, and what it refuses.
#![allow(clippy::unwrap_used)]

use super::*;
use confab_domain::{
    Announcement, AnnouncementId, Attachment, AttachmentId, ClientId, ContentType, FileName,
    GroupId, Message, MessageId, Role, UserId,
};
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
        attachments: if deleted {
            Vec::new()
        } else {
            vec![attachment()]
        },
        reply_to: Some(confab_domain::ReplyRef {
            id: MessageId::new(),
            seq: 3,
            sender_id: UserId::new(),
            excerpt: if deleted {
                String::new()
            } else {
                "the start of it".into()
            },
        }),
        reactions: if deleted {
            Vec::new()
        } else {
            vec![confab_domain::Reaction {
                emoji: confab_domain::Emoji::parse("👍🏽").unwrap(),
                user_ids: vec![UserId::new(), UserId::new()],
            }]
        },
        mentions: if deleted {
            Vec::new()
        } else {
            vec![UserId::new()]
        },
        pinned: !deleted,
    }
}

fn attachment() -> Attachment {
    Attachment {
        id: AttachmentId::new(),
        group_id: GroupId::new(),
        uploader_id: UserId::new(),
        message_id: Some(MessageId::new()),
        name: FileName::clean("cat 🐈.png"),
        content_type: ContentType::parse("image/png").unwrap(),
        size: 123_456,
        sha256: "ab".repeat(32),
        width: Some(640),
        height: Some(480),
        created_at: datetime!(2026-12-02 09:59:00.001 UTC),
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
        Event::UserBanned { user_id: v },
        Event::Presence {
            user_id: u,
            online: true,
            last_seen_at: None,
            groups: vec![g, GroupId::new()],
            hidden_from: vec![v],
        },
        Event::Presence {
            user_id: v,
            online: false,
            last_seen_at: Some(datetime!(2026-12-03 09:30:00.250 UTC)),
            groups: Vec::new(),
            hidden_from: Vec::new(),
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
                said: Said::Event(Box::new(event))
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
    let mut message = message(false);
    message.attachments.clear();
    message.reply_to = None;
    message.reactions.clear();
    message.mentions.clear();
    let event = Event::MessageCreated { message };
    let bytes = encode(Uuid::now_v7(), Saying::Event(&event));
    // Four ids (64 bytes), the body and a few varints: far below its JSON.
    assert!(bytes.len() < 120, "{} bytes", bytes.len());
}

#[test]
fn garbage_an_unknown_version_and_truncation_are_errors_not_panics() {
    assert!(matches!(decode(&[]), Err(DecodeError::Empty)));
    // The version before (presence without the blocked) and the one after.
    assert!(matches!(decode(&[4, 0, 0]), Err(DecodeError::Version(4))));
    assert!(matches!(decode(&[6, 0, 0]), Err(DecodeError::Version(6))));
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
