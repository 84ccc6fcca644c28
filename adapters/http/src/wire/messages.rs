use confab_domain::Message;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{AttachmentBody, rfc3339_ms, rules};

/// A message. A deleted one keeps its `id` and `seq`, with `deleted: true` and `body: ""`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    pub id: Uuid,
    pub group_id: Uuid,
    /// Position in the group, from 1, gapless.
    pub seq: u64,
    /// The group's change counter at this message's latest change.
    pub rev: u64,
    pub sender_id: Uuid,
    pub body: String,
    /// The sender's idempotency key, `null` when none was given.
    #[schema(required = true)]
    pub client_id: Option<String>,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required = true, format = DateTime)]
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// The files it carries, in the order sent; empty when none (and once deleted).
    pub attachments: Vec<AttachmentBody>,
    /// The message it answers, as it is now; `null` when it answers none.
    #[schema(required = true)]
    pub reply_to: Option<ReplyToBody>,
    /// Reactions, in the order each emoji was first used; empty once deleted.
    pub reactions: Vec<ReactionBody>,
    /// Members its body mentions (`@username`), in order of first mention.
    pub mentions: Vec<Uuid>,
    /// Whether it is pinned in its group.
    pub pinned: bool,
}

/// `{id, seq, sender_id, excerpt}`: what a reply shows of the message it answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyToBody {
    pub id: Uuid,
    pub seq: u64,
    pub sender_id: Uuid,
    /// The first 100 characters of its body; `""` once it is deleted.
    pub excerpt: String,
}

/// `{emoji, count, user_ids}`: one emoji on a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReactionBody {
    pub emoji: String,
    pub count: u64,
    /// Who reacted with it, in the order they did.
    pub user_ids: Vec<Uuid>,
}

impl From<&Message> for MessageBody {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.as_uuid(),
            group_id: m.group_id.as_uuid(),
            seq: m.seq,
            rev: m.rev,
            sender_id: m.sender_id.as_uuid(),
            body: m.body.clone(),
            client_id: m.client_id.as_ref().map(|c| c.as_str().to_owned()),
            created_at: rfc3339_ms(m.created_at),
            edited_at: m.edited_at.map(rfc3339_ms),
            deleted: m.deleted,
            attachments: m.attachments.iter().map(AttachmentBody::from).collect(),
            reply_to: m.reply_to.as_ref().map(|r| ReplyToBody {
                id: r.id.as_uuid(),
                seq: r.seq,
                sender_id: r.sender_id.as_uuid(),
                excerpt: r.excerpt.clone(),
            }),
            reactions: m
                .reactions
                .iter()
                .map(|r| ReactionBody {
                    emoji: r.emoji.as_str().to_owned(),
                    count: r.user_ids.len() as u64,
                    user_ids: r.user_ids.iter().map(|u| u.as_uuid()).collect(),
                })
                .collect(),
            mentions: m.mentions.iter().map(|u| u.as_uuid()).collect(),
            pinned: m.pinned,
        }
    }
}

/// `{messages, has_more}`: a page of history.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePageBody {
    pub messages: Vec<MessageBody>,
    /// Whether more messages lie beyond this page in its direction.
    pub has_more: bool,
}

/// `{messages}`: search results, best match first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagesBody {
    pub messages: Vec<MessageBody>,
}

/// `POST /groups/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// May be empty when `attachment_ids` names at least one file.
    #[schema(schema_with = rules::send_body)]
    pub body: String,
    #[schema(schema_with = rules::client_id_or_null)]
    pub client_id: Option<String>,
    /// The caller's unused uploads to this group that the message carries, in this order.
    #[serde(default)]
    #[schema(schema_with = rules::attachment_ids)]
    pub attachment_ids: Option<Vec<Uuid>>,
    /// The id of the message of this group that it answers.
    #[serde(default)]
    pub reply_to: Option<Uuid>,
}

/// `GET /messages/{id}/replies` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RepliesQuery {
    /// Replies with seq greater than this (paging: the last seq received).
    #[param(schema_with = rules::after_seq)]
    pub after: Option<i64>,
    #[param(schema_with = rules::messages_limit)]
    pub limit: Option<i64>,
}

/// `PATCH /messages/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    #[schema(schema_with = rules::body)]
    pub body: String,
}

/// `GET /groups/{id}/messages` query: `before` or `after` (not both), and `limit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Messages with seq < `before`, newest first.
    #[param(schema_with = rules::before_seq)]
    pub before: Option<i64>,
    /// Messages with seq > `after`, oldest first.
    #[param(schema_with = rules::after_seq)]
    pub after: Option<i64>,
    #[param(schema_with = rules::messages_limit)]
    pub limit: Option<i64>,
}

/// `GET /search/messages` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words that must all appear.
    #[param(inline, value_type = rules::SearchWords)]
    pub q: String,
    /// Only this group.
    pub group_id: Option<Uuid>,
    #[param(schema_with = rules::messages_limit)]
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::{ClientId, GroupId, MessageId, Timestamp, UserId};

    #[test]
    fn a_message_has_every_key_with_null_when_unset() {
        let m = Message {
            id: MessageId::new(),
            group_id: GroupId::new(),
            seq: 3,
            rev: 7,
            created_rev: 5,
            sender_id: UserId::new(),
            body: "hi".into(),
            client_id: None,
            created_at: Timestamp::from_unix_timestamp(1_800_000_000).unwrap(),
            edited_at: None,
            deleted: false,
            attachments: Vec::new(),
            reply_to: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            pinned: false,
        };
        let json = serde_json::to_value(MessageBody::from(&m)).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 15);
        assert!(json["reply_to"].is_null() && json["pinned"] == false);
        assert_eq!(
            (&json["reactions"], &json["mentions"]),
            (&serde_json::json!([]), &serde_json::json!([]))
        );
        assert_eq!(json["attachments"], serde_json::json!([]));
        assert_eq!(json["id"], m.id.to_string());
        assert_eq!(json["group_id"], m.group_id.to_string());
        assert_eq!(json["sender_id"], m.sender_id.to_string());
        assert_eq!(
            (json["seq"].as_u64(), json["rev"].as_u64()),
            (Some(3), Some(7))
        );
        assert!(json["client_id"].is_null() && json["edited_at"].is_null());
        assert_eq!(json["created_at"], "2027-01-15T08:00:00.000Z");
        assert_eq!(json["deleted"], false);

        let edited = Message {
            client_id: Some(ClientId::from_trusted("c-1".into())),
            edited_at: Some(Timestamp::from_unix_timestamp(1_800_000_001).unwrap()),
            ..m
        };
        let json = serde_json::to_value(MessageBody::from(&edited)).unwrap();
        assert_eq!(json["client_id"], "c-1");
        assert_eq!(json["edited_at"], "2027-01-15T08:00:01.000Z");
    }

    #[test]
    fn send_refuses_unknown_fields() {
        assert!(serde_json::from_str::<SendMessageRequest>(r#"{"body":"x","ref":1}"#).is_err());
        let ok: SendMessageRequest =
            serde_json::from_str(r#"{"body":"x","client_id":null}"#).unwrap();
        assert!(ok.client_id.is_none());
    }
}
