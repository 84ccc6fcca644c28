//! Sending, reading, editing, deleting and searching messages.

use confab_domain::{AttachmentId, Body, ClientId, Event, GroupId, Message, MessageId};

use crate::service::Conversations;
use crate::service::page_limit;
use crate::store::{Appended, Changed, Cursor, NewMessage, Page, Principal};
use crate::{Error, Result};

/// Default and largest page of history or search results.
pub const MESSAGES_DEFAULT: u32 = 50;
pub const MESSAGES_MAX: u32 = 100;

/// Longest search query, in characters; most words used from it.
const MAX_QUERY: usize = 256;
const MAX_TERMS: usize = 16;

/// The words of a search query, as `confab_domain::search_words` defines them (the stores index
/// by the same definition). Stores match every word; punctuation and operators are never
/// passed to a query language.
pub fn search_terms(q: &str) -> Result<Vec<String>> {
    if q.chars().count() > MAX_QUERY {
        return Err(Error::invalid(
            "q",
            format!("must be at most {MAX_QUERY} characters"),
        ));
    }
    let mut terms = confab_domain::search_words(q);
    terms.truncate(MAX_TERMS);
    if terms.is_empty() {
        return Err(Error::invalid("q", "must contain at least one word"));
    }
    Ok(terms)
}

fn seq_param(raw: i64, field: &'static str) -> Result<u64> {
    u64::try_from(raw).map_err(|_| Error::invalid(field, "must not be negative"))
}

/// A message to send, as a transport received it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Draft<'a> {
    pub body: &'a str,
    pub client_id: Option<&'a str>,
    /// The caller's unused uploads to the group that the message carries (at most 10); with
    /// at least one, the body may be empty.
    pub attachment_ids: &'a [AttachmentId],
    /// The message of the same group it answers.
    pub reply_to: Option<MessageId>,
}

impl Conversations {
    /// Sends a text message (see [`Conversations::send_draft`]).
    pub async fn send_message(
        &self,
        caller: &Principal,
        group: GroupId,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<Appended> {
        let draft = Draft {
            body,
            client_id,
            attachment_ids: &[],
            reply_to: None,
        };
        self.send_draft(caller, group, draft).await
    }

    /// Sends a message. The same `client_id` again from the same sender to the same group
    /// returns the first message (`duplicate: true`).
    pub async fn send_draft(
        &self,
        caller: &Principal,
        group: GroupId,
        draft: Draft<'_>,
    ) -> Result<Appended> {
        confab_domain::attachment::check_attachment_ids(draft.attachment_ids)?;
        let body = Body::parse_with_attachments(draft.body, draft.attachment_ids.len())?;
        let client_id = draft.client_id.map(ClientId::parse).transpose()?;
        let appended = self
            .ports
            .messages
            .append_message(NewMessage {
                id: MessageId::new(),
                group_id: group,
                sender_id: caller.user_id,
                body,
                client_id,
                attachment_ids: draft.attachment_ids.to_vec(),
                reply_to: draft.reply_to,
                now: self.ports.clock.now(),
            })
            .await?;
        if !appended.duplicate {
            self.publish(Event::MessageCreated {
                message: appended.message.clone(),
            })
            .await;
        }
        Ok(appended)
    }

    /// A page of history: `before` a seq (newest first), `after` a seq (oldest first), or the
    /// newest messages when neither is given.
    pub async fn history(
        &self,
        caller: &Principal,
        group: GroupId,
        before: Option<i64>,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Page> {
        let cursor = match (before, after) {
            (Some(_), Some(_)) => {
                return Err(Error::BadRequest(
                    "use either before or after, not both".into(),
                ));
            }
            (Some(b), None) => Cursor::Before(seq_param(b, "before")?),
            (None, Some(a)) => Cursor::After(seq_param(a, "after")?),
            (None, None) => Cursor::Latest,
        };
        let limit = page_limit(limit, MESSAGES_DEFAULT, MESSAGES_MAX)?;
        self.ports
            .messages
            .history(caller.user_id, group, cursor, limit)
            .await
    }

    /// Edits the caller's own message.
    pub async fn edit_message(
        &self,
        caller: &Principal,
        message: MessageId,
        body: &str,
    ) -> Result<Changed> {
        let body = Body::parse(body)?;
        let now = self.ports.clock.now();
        let edited = self
            .ports
            .messages
            .edit_message(caller.user_id, message, body, now)
            .await?;
        self.publish(Event::MessageUpdated {
            message: edited.message.clone(),
        })
        .await;
        Ok(edited)
    }

    /// Deletes a message (its sender, or the group's owner or an admin).
    pub async fn delete_message(&self, caller: &Principal, message: MessageId) -> Result<Changed> {
        let now = self.ports.clock.now();
        let deleted = self
            .ports
            .messages
            .delete_message(caller.user_id, message, now)
            .await?;
        if deleted.changed {
            self.publish(Event::MessageDeleted {
                message: deleted.message.clone(),
            })
            .await;
        }
        crate::service::files::remove_blobs(&self.ports, &deleted.freed).await;
        Ok(deleted)
    }

    /// The group's message changes after `rev`, each at its latest state, in `rev` order (at most
    /// `limit`): what a reconnecting socket missed.
    pub async fn changes_since(
        &self,
        caller: &Principal,
        group: GroupId,
        rev: u64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.ports
            .messages
            .changes_since(caller.user_id, group, rev, limit)
            .await
    }

    /// Full-text search over the caller's groups (or one of them), best match first.
    pub async fn search(
        &self,
        caller: &Principal,
        q: &str,
        group: Option<GroupId>,
        limit: Option<i64>,
    ) -> Result<Vec<Message>> {
        let terms = search_terms(q)?;
        let limit = page_limit(limit, MESSAGES_DEFAULT, MESSAGES_MAX)?;
        self.ports
            .messages
            .search_messages(caller.user_id, terms, group, limit)
            .await
    }
}
