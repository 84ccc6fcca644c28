use async_trait::async_trait;
use confab_domain::{Attachment, AttachmentId, GroupId, Timestamp, UserId};

use crate::Result;
use crate::images::Thumbnail;

/// An upload whose bytes are committed to the blob store, to record.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// Its `message_id` is `None`: no message has taken it yet.
    pub attachment: Attachment,
    pub thumbnail: Option<Thumbnail>,
}

/// What is known about uploaded files (their bytes are in `crate::blobs::Blobs`, under the same
/// id). An attachment belongs to the group it was uploaded to; `Messages::append_message`
/// gives it to a message (`attachment_ids`), and `Messages::delete_message` removes it with the
/// message (answering its id in `Changed::freed`, for its bytes to be removed).
///
/// Who sees one: every member of its group once a message carries it; only its uploader while
/// it is unused. Everyone else MUST get `Error::NotFound("attachment")`, the same as for an id
/// that does not exist.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Attachments: Send + Sync {
    /// The bytes `user`'s attachments take now (used or not), checking first that `user` may
    /// upload to `group`: MUST answer `Error::NotFound("group")` unless they are a member, and
    /// `Error::Gone` when the group is closed or has expired at `now`.
    async fn uploaded_bytes(&self, user: UserId, group: GroupId, now: Timestamp) -> Result<u64>;

    /// Records an upload, in one transaction with the same checks as [`uploaded_bytes`], and
    /// with `confab_domain::attachment::check_quota` over the uploader's bytes at that moment
    /// (`Error::QuotaExceeded`): two uploads racing each other MUST NOT both pass a quota only
    /// one of them fits. `created_at` is `now`.
    ///
    /// [`uploaded_bytes`]: Attachments::uploaded_bytes
    async fn insert_attachment(
        &self,
        new: NewAttachment,
        quota: u64,
        now: Timestamp,
    ) -> Result<Attachment>;

    /// An attachment `user` may see (see above).
    async fn attachment(&self, user: UserId, id: AttachmentId) -> Result<Attachment>;

    /// The thumbnail of an attachment `user` may see; `Error::NotFound("attachment")` also when
    /// it has none (it is not a raster image).
    async fn thumbnail(&self, user: UserId, id: AttachmentId) -> Result<Thumbnail>;

    /// Removes the attachments that no message took, created before `created_before`, and
    /// answers their ids (for their bytes to be removed).
    async fn sweep_unused(&self, created_before: Timestamp) -> Result<Vec<AttachmentId>>;

    /// Those of `ids` that are recorded: a blob named by none of them is an orphan.
    async fn recorded(&self, ids: Vec<AttachmentId>) -> Result<Vec<AttachmentId>>;
}
