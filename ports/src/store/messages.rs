use async_trait::async_trait;
use confab_domain::{Body, ClientId, GroupId, Message, MessageId, Timestamp, UserId};

use crate::Result;

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    pub group_id: GroupId,
    pub sender_id: UserId,
    pub body: Body,
    pub client_id: Option<ClientId>,
    pub now: Timestamp,
}

/// The outcome of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    /// `true` when `client_id` matched an earlier message, which is returned unchanged.
    pub duplicate: bool,
}

/// Where a page of history starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The newest messages, newest first.
    Latest,
    /// Messages with seq < n, newest first.
    Before(u64),
    /// Messages with seq > n, oldest first.
    After(u64),
}

/// A page of history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<Message>,
    /// Whether more messages lie beyond this page in its direction.
    pub has_more: bool,
}

/// The outcome of an edit or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub message: Message,
    /// `false` when a delete found the message already deleted (no new `rev`).
    pub changed: bool,
}

/// Messages. Every method MUST answer `Error::NotFound` when the group (or the message's
/// group) does not exist or the caller is not a member of it.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Messages: Send + Sync {
    /// Appends a message: the next `seq` and the next `rev` of the group, in one transaction
    /// with the membership and writability checks. MUST return the earlier message with
    /// `duplicate: true` when the same sender already sent `client_id` to this group, and
    /// `Error::Gone` when the group is closed or expired.
    async fn append_message(&self, message: NewMessage) -> Result<Appended>;

    /// A page of the group's history (deleted messages included, as tombstones).
    async fn history(
        &self,
        user: UserId,
        group: GroupId,
        cursor: Cursor,
        limit: u32,
    ) -> Result<Page>;

    /// Replaces the body of the caller's own message, taking the next `rev`.
    /// MUST return `Error::Forbidden` for someone else's message and `Error::Gone` for a
    /// deleted message or a closed group.
    async fn edit_message(
        &self,
        actor: UserId,
        message: MessageId,
        body: Body,
        now: Timestamp,
    ) -> Result<Changed>;

    /// Turns a message into a tombstone (sender, or owner/admin), taking the next `rev`: the
    /// body MUST become `""` and `edited_at` MUST become `None` (a deletion is not an edit);
    /// a second delete changes nothing. MUST return `Error::Gone` in a closed group.
    async fn delete_message(
        &self,
        actor: UserId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<Changed>;

    /// The group's messages changed after `rev` (created, edited or deleted), each once at its
    /// latest state, in `rev` order, at most `limit`: what a reconnecting client missed, and
    /// what fills a gap in live delivery. MUST answer `Error::NotFound("group")` unless `user`
    /// is a member.
    async fn changes_since(
        &self,
        user: UserId,
        group: GroupId,
        rev: u64,
        limit: u32,
    ) -> Result<Vec<Message>>;

    /// Messages of the caller's groups (or of `group` only) matching every term, best match
    /// first. Deleted messages never match.
    async fn search_messages(
        &self,
        user: UserId,
        terms: Vec<String>,
        group: Option<GroupId>,
        limit: u32,
    ) -> Result<Vec<Message>>;
}
