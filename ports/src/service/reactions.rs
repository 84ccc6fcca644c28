//! Reactions, pins and threads of replies. Each reaction change, pin and unpin is a change of
//! the message (a new `rev`), published as `message.updated` so that `sync` recovers it.

use confab_domain::{Emoji, Event, GroupId, Message, MessageId};

use crate::service::messaging::{MESSAGES_DEFAULT, MESSAGES_MAX};
use crate::service::{Conversations, page_limit};
use crate::store::{Changed, Page, Principal};
use crate::{Error, Result};

impl Conversations {
    /// Adds (`on`) or removes the caller's reaction `emoji` (one emoji, as the client sent it)
    /// on a message. Idempotent: no change publishes nothing.
    pub async fn react(
        &self,
        caller: &Principal,
        message: MessageId,
        emoji: &str,
        on: bool,
    ) -> Result<Changed> {
        let emoji = Emoji::parse(emoji)?;
        let now = self.ports.clock.now();
        let changed = self
            .ports
            .messages
            .set_reaction(caller.user_id, message, emoji, on, now)
            .await?;
        self.publish_change(&changed).await;
        Ok(changed)
    }

    /// Pins (`on`) or unpins a message of `group` (owner or admin; either member of a direct
    /// chat). Idempotent: no change publishes nothing.
    pub async fn pin(
        &self,
        caller: &Principal,
        group: GroupId,
        message: MessageId,
        on: bool,
    ) -> Result<Changed> {
        let now = self.ports.clock.now();
        let changed = self
            .ports
            .messages
            .set_pin(caller.user_id, group, message, on, now)
            .await?;
        self.publish_change(&changed).await;
        Ok(changed)
    }

    /// The group's pinned messages, most recently pinned first.
    pub async fn pins(&self, caller: &Principal, group: GroupId) -> Result<Vec<Message>> {
        self.ports.messages.pins(caller.user_id, group).await
    }

    /// The replies to a message after `after` (a seq), oldest first.
    pub async fn replies(
        &self,
        caller: &Principal,
        message: MessageId,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Page> {
        let after = u64::try_from(after.unwrap_or(0))
            .map_err(|_| Error::invalid("after", "must not be negative"))?;
        let limit = page_limit(limit, MESSAGES_DEFAULT, MESSAGES_MAX)?;
        self.ports
            .messages
            .replies(caller.user_id, message, after, limit)
            .await
    }

    async fn publish_change(&self, changed: &Changed) {
        if changed.changed {
            self.publish(Event::MessageUpdated {
                message: changed.message.clone(),
            })
            .await;
        }
    }
}
