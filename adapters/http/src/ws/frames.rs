//! WebSocket frames: JSON text frames `{"type": ..., ...}`, exactly API.md's tables.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::wire::{AnnouncementBody, GroupBody, MessageBody};

/// A frame a client sends. `ref` is echoed back verbatim in the answer (any JSON value).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ClientFrame {
    #[serde(rename = "message.send")]
    MessageSend {
        #[serde(rename = "ref")]
        reference: Value,
        group_id: Uuid,
        /// May be empty when `attachment_ids` names a file.
        body: String,
        client_id: Option<String>,
        #[serde(default)]
        attachment_ids: Option<Vec<Uuid>>,
        #[serde(default)]
        reply_to: Option<Uuid>,
    },
    #[serde(rename = "reaction.add")]
    ReactionAdd {
        #[serde(rename = "ref")]
        reference: Value,
        id: Uuid,
        emoji: String,
    },
    #[serde(rename = "reaction.remove")]
    ReactionRemove {
        #[serde(rename = "ref")]
        reference: Value,
        id: Uuid,
        emoji: String,
    },
    #[serde(rename = "typing")]
    Typing {
        #[serde(rename = "ref")]
        reference: Option<Value>,
        group_id: Uuid,
    },
    #[serde(rename = "read")]
    Read {
        #[serde(rename = "ref")]
        reference: Option<Value>,
        group_id: Uuid,
        seq: i64,
    },
    #[serde(rename = "sync")]
    Sync {
        #[serde(rename = "ref")]
        reference: Value,
        since: HashMap<Uuid, u64>,
    },
    #[serde(rename = "ping")]
    Ping {
        #[serde(rename = "ref")]
        reference: Option<Value>,
    },
    #[serde(rename = "auth")]
    Auth {
        #[serde(rename = "ref")]
        reference: Value,
        token: String,
    },
    #[serde(rename = "message.edit")]
    MessageEdit {
        #[serde(rename = "ref")]
        reference: Value,
        id: Uuid,
        body: String,
    },
    #[serde(rename = "message.delete")]
    MessageDelete {
        #[serde(rename = "ref")]
        reference: Value,
        id: Uuid,
    },
    #[serde(rename = "group.create")]
    GroupCreate {
        #[serde(rename = "ref")]
        reference: Value,
        name: String,
        member_ids: Option<Vec<Uuid>>,
    },
    #[serde(rename = "group.update")]
    GroupUpdate {
        #[serde(rename = "ref")]
        reference: Value,
        group_id: Uuid,
        name: String,
    },
    #[serde(rename = "group.delete")]
    GroupDelete {
        #[serde(rename = "ref")]
        reference: Value,
        group_id: Uuid,
    },
    #[serde(rename = "member.add")]
    MemberAdd {
        #[serde(rename = "ref")]
        reference: Value,
        group_id: Uuid,
        user_id: Uuid,
        role: Option<String>,
    },
    #[serde(rename = "member.remove")]
    MemberRemove {
        #[serde(rename = "ref")]
        reference: Value,
        group_id: Uuid,
        user_id: Uuid,
    },
}

impl ClientFrame {
    /// The frame's type, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientFrame::MessageSend { .. } => "message.send",
            ClientFrame::ReactionAdd { .. } => "reaction.add",
            ClientFrame::ReactionRemove { .. } => "reaction.remove",
            ClientFrame::Typing { .. } => "typing",
            ClientFrame::Read { .. } => "read",
            ClientFrame::Sync { .. } => "sync",
            ClientFrame::Ping { .. } => "ping",
            ClientFrame::Auth { .. } => "auth",
            ClientFrame::MessageEdit { .. } => "message.edit",
            ClientFrame::MessageDelete { .. } => "message.delete",
            ClientFrame::GroupCreate { .. } => "group.create",
            ClientFrame::GroupUpdate { .. } => "group.update",
            ClientFrame::GroupDelete { .. } => "group.delete",
            ClientFrame::MemberAdd { .. } => "member.add",
            ClientFrame::MemberRemove { .. } => "member.remove",
        }
    }
}

/// A frame the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    #[serde(rename = "ready")]
    Ready { user_id: Uuid },
    #[serde(rename = "ack")]
    Ack {
        #[serde(rename = "ref")]
        reference: Value,
        // Boxed: most acks carry neither, and every frame is as large as its largest variant.
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<Box<MessageBody>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<Box<GroupBody>>,
    },
    #[serde(rename = "error")]
    Error {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<Value>,
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        field: Option<&'static str>,
    },
    #[serde(rename = "synced")]
    Synced {
        #[serde(rename = "ref")]
        reference: Value,
    },
    #[serde(rename = "pong")]
    Pong {
        #[serde(rename = "ref")]
        reference: Option<Value>,
    },
    #[serde(rename = "message.created")]
    MessageCreated { message: MessageBody },
    #[serde(rename = "message.updated")]
    MessageUpdated { message: MessageBody },
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        group_id: Uuid,
        id: Uuid,
        seq: u64,
        rev: u64,
    },
    #[serde(rename = "group.created")]
    GroupCreated { group: GroupBody },
    #[serde(rename = "group.updated")]
    GroupUpdated { group: GroupBody },
    #[serde(rename = "group.closed")]
    GroupClosed { group_id: Uuid },
    #[serde(rename = "group.deleted")]
    GroupDeleted { group_id: Uuid },
    #[serde(rename = "member.joined")]
    MemberJoined {
        group_id: Uuid,
        user_id: Uuid,
        role: &'static str,
    },
    #[serde(rename = "member.left")]
    MemberLeft { group_id: Uuid, user_id: Uuid },
    #[serde(rename = "member.role_changed")]
    MemberRoleChanged {
        group_id: Uuid,
        user_id: Uuid,
        role: &'static str,
    },
    #[serde(rename = "typing")]
    Typing { group_id: Uuid, user_id: Uuid },
    #[serde(rename = "read")]
    Read {
        group_id: Uuid,
        user_id: Uuid,
        seq: u64,
    },
    #[serde(rename = "announcement.created")]
    AnnouncementCreated { announcement: AnnouncementBody },
    #[serde(rename = "pool.matched")]
    PoolMatched { group: GroupBody },
    #[serde(rename = "presence")]
    Presence {
        user_id: Uuid,
        online: bool,
        /// RFC 3339, UTC, milliseconds; `null` while online.
        last_seen_at: Option<String>,
    },
}

impl ServerFrame {
    /// The frame's type, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerFrame::Ready { .. } => "ready",
            ServerFrame::Ack { .. } => "ack",
            ServerFrame::Error { .. } => "error",
            ServerFrame::Synced { .. } => "synced",
            ServerFrame::Pong { .. } => "pong",
            ServerFrame::MessageCreated { .. } => "message.created",
            ServerFrame::MessageUpdated { .. } => "message.updated",
            ServerFrame::MessageDeleted { .. } => "message.deleted",
            ServerFrame::GroupCreated { .. } => "group.created",
            ServerFrame::GroupUpdated { .. } => "group.updated",
            ServerFrame::GroupClosed { .. } => "group.closed",
            ServerFrame::GroupDeleted { .. } => "group.deleted",
            ServerFrame::MemberJoined { .. } => "member.joined",
            ServerFrame::MemberLeft { .. } => "member.left",
            ServerFrame::MemberRoleChanged { .. } => "member.role_changed",
            ServerFrame::Typing { .. } => "typing",
            ServerFrame::Read { .. } => "read",
            ServerFrame::AnnouncementCreated { .. } => "announcement.created",
            ServerFrame::PoolMatched { .. } => "pool.matched",
            ServerFrame::Presence { .. } => "presence",
        }
    }

    /// The answer to a command that wrote a message.
    pub fn ack_message(reference: Value, message: &confab_domain::Message) -> Self {
        ServerFrame::Ack {
            reference,
            message: Some(Box::new(message.into())),
            group: None,
        }
    }

    /// The answer to a command that created or changed a group.
    pub fn ack_group(reference: Value, group: &confab_ports::store::GroupView) -> Self {
        ServerFrame::Ack {
            reference,
            message: None,
            group: Some(Box::new(group.into())),
        }
    }

    /// An answer that just says "done".
    pub fn ack(reference: Value) -> Self {
        ServerFrame::Ack {
            reference,
            message: None,
            group: None,
        }
    }

    /// The frame for a message at its current state, for a client that has seen up to `rev`:
    /// new to it → created (a tombstone if it was deleted meanwhile); else deleted or updated.
    pub fn for_change(message: &confab_domain::Message, seen_rev: u64) -> Self {
        if message.created_rev > seen_rev {
            ServerFrame::MessageCreated {
                message: message.into(),
            }
        } else if message.deleted {
            ServerFrame::MessageDeleted {
                group_id: message.group_id.as_uuid(),
                id: message.id.as_uuid(),
                seq: message.seq,
                rev: message.rev,
            }
        } else {
            ServerFrame::MessageUpdated {
                message: message.into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_parse_by_type() {
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"message.send","ref":7,"group_id":"0190c0ff-ee00-7000-8000-000000000000","body":"hi"}"#,
        )
        .unwrap();
        assert_eq!(f.kind(), "message.send");
        let f: ClientFrame = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(f.kind(), "ping");
    }

    #[test]
    fn unknown_types_and_fields_are_refused() {
        for bad in [
            r#"{"type":"nope"}"#,
            r#"{"type":"ping","extra":1}"#,
            r#"{"ref":1}"#,
            r#"{"type":"message.send","ref":1,"group_id":"x","body":"hi"}"#,
            r#"{"type":"read","group_id":"0190c0ff-ee00-7000-8000-000000000000","seq":"1"}"#,
        ] {
            assert!(serde_json::from_str::<ClientFrame>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_frames_carry_their_type() {
        let v = serde_json::to_value(ServerFrame::Pong { reference: None }).unwrap();
        assert_eq!(v, serde_json::json!({"type": "pong", "ref": null}));
        let v = serde_json::to_value(ServerFrame::ack(serde_json::json!("a"))).unwrap();
        assert_eq!(v, serde_json::json!({"type": "ack", "ref": "a"}));
        let v = serde_json::to_value(ServerFrame::Presence {
            user_id: Uuid::nil(),
            online: false,
            last_seen_at: None,
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "presence", "user_id": Uuid::nil(), "online": false, "last_seen_at": null})
        );
    }
}
