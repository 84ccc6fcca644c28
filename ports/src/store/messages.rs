use async_trait::async_trait;
use confab_domain::{
    AttachmentId, Body, ClientId, Emoji, GroupId, Message, MessageId, Timestamp, UserId,
};

use crate::Result;

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    pub group_id: GroupId,
    pub sender_id: UserId,
    pub body: Body,
    pub client_id: Option<ClientId>,
    /// Uploads the message carries, in this order (checked by the store, in the append's
    /// transaction, with `confab_domain::attachment::check_attachable`).
    pub attachment_ids: Vec<AttachmentId>,
    /// The message it answers: MUST be a message of the same group (deleted ones too), else
    /// `Error::Invalid` on `reply_to`, checked in the append's transaction.
    pub reply_to: Option<MessageId>,
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
    /// The attachments a delete removed with the message, whose bytes are to be removed now.
    pub freed: Vec<AttachmentId>,
}

/// Messages: appends, history, edits, deletions, catch-up and search. (Read markers are not
/// here: they live in `Groups::mark_read`.)
///
/// Each write is one transaction that loads the caller's standing and the message, asks
/// `confab_domain::policy` and `Group::check_writable`, and applies the answer; no other write
/// to the same group can run in between (SQLite: the one writer thread; PostgreSQL: the
/// group's row is locked first).
///
/// Every method MUST answer `Error::NotFound` when the group (or the message's group) does not
/// exist or the caller is not (or no longer) a member of it, never telling the two apart and
/// before any other check (a non-member learns nothing from `Forbidden` or `Gone`): the
/// methods taking a group answer `NotFound("group")`, those taking a message
/// `NotFound("message")` (an unknown message too).
///
/// Counters: every group counts its messages (`seq`) and the changes to them (`rev`), each
/// from 1. An append takes the group's next `seq` and next `rev`; an edit, or a delete that
/// changes something, takes the next `rev`. Both MUST be gapless and never repeated within a
/// group, whatever runs at the same time, and the group's `last_seq` and `last_rev` MUST be the
/// newest taken. A change MUST NOT become visible to a reader before every change with a
/// smaller `rev` of its group is (the counters are taken under the group's lock and committed
/// with the message), so a reader paging `changes_since` never skips one.
///
/// A message keeps its `id`, `seq`, `sender_id`, `client_id`, `created_at` and `created_rev`
/// for ever; its `rev` is its latest change's.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Messages: Send + Sync {
    /// Appends a message: the next `seq` and the next `rev` of the group (`created_rev` is that
    /// `rev`), `created_at` = `now`, no `edited_at`, not deleted; the group's `last_seq`,
    /// `last_rev` and last activity advance with it. One transaction with the membership and
    /// writability checks.
    ///
    /// - MUST answer `Error::NotFound("group")` when the group does not exist or the sender is
    ///   not a member (retries included).
    /// - MUST return the earlier message, as it is now (edited, or a tombstone), with
    ///   `duplicate: true` when the same sender already sent `client_id` to this group; the
    ///   retry's `id` and `body` are ignored, and it takes no `seq` or `rev` and writes nothing.
    ///   This holds also when the group has closed or expired since (the send it retries was
    ///   accepted), and for retries racing each other or their original: one `client_id` is
    ///   at most one message. A `client_id` belongs to one sender in one group: another sender,
    ///   or the same sender in another group, may use it for a new message.
    /// - MUST answer `Error::Gone` when the group is closed or has expired (`expires_at <= now`).
    /// - MUST give the message the uploads `attachment_ids`, in that order, when
    ///   `confab_domain::attachment::check_attachable` allows it over those of them that exist
    ///   (read in the same transaction), and otherwise answer its `Error::Invalid` and write
    ///   nothing. The message carries them in `attachments`, and so does every later read of it.
    /// - `mentions` MUST be the members of the group among
    ///   `confab_domain::reaction::mentioned_usernames(body)`, in that order (a name that is not
    ///   a member's, the sender's own included, mentions nobody).
    async fn append_message(&self, message: NewMessage) -> Result<Appended>;

    /// A page of the group's history, at most `limit` messages (the use case asks for
    /// 1..=100), deleted messages included in their place as tombstones:
    /// - `Latest`: the newest messages, newest first;
    /// - `Before(n)`: messages with `seq < n`, newest first;
    /// - `After(n)`: messages with `seq > n`, oldest first.
    ///
    /// `has_more` MUST be `true` exactly when further messages lie beyond the page in its
    /// direction, so that paging from `Latest` with `Before(oldest seq)` (or from `After(0)`
    /// with `After(newest seq)`) yields every message once and ends with `has_more: false`.
    /// Closed chats and expired rooms stay readable. MUST answer `Error::NotFound("group")`
    /// when the group does not exist or `user` is not a member.
    async fn history(
        &self,
        user: UserId,
        group: GroupId,
        cursor: Cursor,
        limit: u32,
    ) -> Result<Page>;

    /// Replaces the body of the caller's own message and sets `edited_at` to `now`, taking the
    /// group's next `rev` (every edit is a change, even to the same body), and answers
    /// `changed: true`; `seq` and the group's `last_seq` stay. Its `mentions` become those of
    /// the new body (see [`Messages::append_message`]), so every member's `mention_count`
    /// stays exact.
    ///
    /// MUST answer `Error::NotFound("message")` when the message does not exist or `actor` is
    /// not a member of its group; `Error::Forbidden` for someone else's message (the owner's
    /// and admins' too); `Error::Gone` for a deleted message, and when the group is closed or
    /// has expired at `now`. A refused edit changes nothing.
    async fn edit_message(
        &self,
        actor: UserId,
        message: MessageId,
        body: Body,
        now: Timestamp,
    ) -> Result<Changed>;

    /// Turns a message into a tombstone, taking the group's next `rev`, and answers
    /// `changed: true`: `deleted` becomes `true`, the body MUST become `""` and `edited_at`
    /// MUST become `None` (a deletion is not an edit); it keeps its place in the history.
    /// Its attachments MUST be removed in the same transaction and their ids answered in
    /// `freed` (the tombstone carries none); so are its reactions, mentions and pin. Replies
    /// to it keep `reply_to` with an empty excerpt.
    /// The sender may delete their own message; in a named group the owner and admins may
    /// delete anyone's; in a direct chat (or pool room) only the sender may.
    ///
    /// A delete of a deleted message MUST change nothing: `changed: false`, the tombstone as it
    /// is, no new `rev`; of deletes racing each other exactly one answers `changed: true`.
    ///
    /// MUST answer `Error::NotFound("message")` when the message does not exist or `actor` is
    /// not a member of its group; `Error::Forbidden` when `actor` may not delete it;
    /// `Error::Gone` when the group is closed or has expired at `now` (even for a message
    /// already deleted). A refused delete changes nothing.
    async fn delete_message(
        &self,
        actor: UserId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<Changed>;

    /// The group's messages changed after `rev` (created, edited or deleted), each once at its
    /// latest state, in `rev` order, at most `limit`: what a reconnecting client missed, and
    /// what fills a gap in live delivery. A message whose latest change is at or before `rev`
    /// MUST NOT be returned (even if it was created after `rev`, its latest change is what
    /// counts); deleted messages come as tombstones. Paging by passing the last `rev` received
    /// MUST yield every change once, ending with a page shorter than `limit`. Closed chats and
    /// expired rooms stay readable. MUST answer `Error::NotFound("group")` unless `user` is a
    /// member.
    async fn changes_since(
        &self,
        user: UserId,
        group: GroupId,
        rev: u64,
        limit: u32,
    ) -> Result<Vec<Message>>;

    /// Adds (`on`) or removes `actor`'s reaction `emoji` on a message. A change takes the
    /// group's next `rev` (the message's `rev` becomes it) and answers `changed: true`; adding
    /// one already there or removing one that is not changes nothing (`changed: false`, no
    /// `rev`). Reactions are kept in the order each emoji was first used on the message, and
    /// each emoji's users in the order they reacted.
    ///
    /// MUST answer `Error::NotFound("message")` when the message does not exist or `actor` is
    /// not a member of its group; `Error::Gone` for a deleted message or a closed or expired
    /// group; `Error::Invalid` (field `emoji`) when `confab_domain::reaction::check_reaction`
    /// refuses the message's 21st distinct emoji. Concurrent changes MUST each be applied once,
    /// with gapless revs.
    async fn set_reaction(
        &self,
        actor: UserId,
        message: MessageId,
        emoji: Emoji,
        on: bool,
        now: Timestamp,
    ) -> Result<Changed>;

    /// Pins (`on`) or unpins a message of `group`. A change takes the group's next `rev` and
    /// answers `changed: true`; pinning a pinned message or unpinning one that is not changes
    /// nothing.
    ///
    /// MUST answer `Error::NotFound("group")` unless `actor` is a member of `group`;
    /// `Error::NotFound("message")` when the message is not one of that group's;
    /// `Error::Forbidden` when `confab_domain::policy::can(kind, role, Action::Pin)` refuses;
    /// `Error::Gone` for a deleted message or a closed or expired group; `Error::Invalid`
    /// when `confab_domain::reaction::check_pin` refuses the group's 51st pin.
    async fn set_pin(
        &self,
        actor: UserId,
        group: GroupId,
        message: MessageId,
        on: bool,
        now: Timestamp,
    ) -> Result<Changed>;

    /// The group's pinned messages, most recently pinned first. MUST answer
    /// `Error::NotFound("group")` unless `user` is a member.
    async fn pins(&self, user: UserId, group: GroupId) -> Result<Vec<Message>>;

    /// The messages replying to `message` with seq > `after`, oldest first, at most `limit`;
    /// `has_more` as in [`Messages::history`]. MUST answer `Error::NotFound("message")` when
    /// the message does not exist or `user` is not a member of its group.
    async fn replies(
        &self,
        user: UserId,
        message: MessageId,
        after: u64,
        limit: u32,
    ) -> Result<Page>;

    /// Messages of the caller's groups (or of `group` only) matching every term, best match
    /// first, at most `limit`.
    ///
    /// `terms` are what `service::search_terms` makes: at least one, each a lower-cased run of
    /// letters and digits (the stores need not accept anything else). A term matches a whole
    /// word of the body (no prefixes), ignoring case and diacritics (`cafe` and `café` find
    /// "CAFÉ"). Only the current body is searched: an edited message MUST be found by its new
    /// words and not by its old ones, and deleted messages MUST never match. Messages of groups
    /// the caller is not (or no longer) a member of MUST never match; closed chats and expired
    /// rooms are searched.
    ///
    /// Ranking legitimately differs between stores (SQLite: FTS5's bm25; PostgreSQL: `ts_rank`
    /// over the words' positions, normalised by length), as do words beyond the above (SQLite's
    /// `unicode61` tokenizer, PostgreSQL's NFKD folding in `search.rs`); what both guarantee is
    /// the set found and that equally ranked matches (the same body) in one group come newest
    /// (highest `seq`) first.
    ///
    /// MUST answer `Error::NotFound("group")` when `group` is given and does not exist or the
    /// caller is not a member of it.
    async fn search_messages(
        &self,
        user: UserId,
        terms: Vec<String>,
        group: Option<GroupId>,
        limit: u32,
    ) -> Result<Vec<Message>>;
}
