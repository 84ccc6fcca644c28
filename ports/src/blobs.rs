//! Where attachment bytes live: a port with two kinds of adapter, in the database (the
//! stores' blob tables) and in a directory (`confab-files`). Both pass one shared suite
//! (`tests/tests/blobs`). Only bytes cross this port; what a file is, and who may read it,
//! is the `Attachments` store's business.

use async_trait::async_trait;
use bytes::Bytes;
use confab_domain::{AttachmentId, Timestamp};

use crate::Result;

/// Most bytes one chunk read from a blob carries; writers accept chunks of any size.
pub const BLOB_CHUNK: usize = 256 * 1024;

/// The bytes of one blob being written. Nothing of it is visible (to `open` or `list`) until
/// `commit` answers `Ok`, and then all of it is, durably. A writer dropped without `commit`
/// (a client gone mid-upload, a task cancelled) MUST leave nothing visible; what it wrote is
/// removed at once or by [`Blobs::remove_partial`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait BlobWriter: Send {
    /// Appends bytes.
    async fn write(&mut self, chunk: Bytes) -> Result<()>;
    /// Makes the blob durable and visible under its id, all of it at once.
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Chunks read in order: a blob's bytes, or an upload's body.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Chunks: Send {
    /// The next chunk, or `None` at the end. An `Err` ends the stream.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>>;
}

/// Attachment bytes by attachment id.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Blobs: Send + Sync {
    /// Starts writing the blob `id`. MUST answer `Error::Conflict` if `id` is already
    /// committed (ids are never reused).
    async fn create(&self, id: AttachmentId, now: Timestamp) -> Result<Box<dyn BlobWriter>>;

    /// The bytes `start..end` of a committed blob, in chunks of at most [`BLOB_CHUNK`] bytes.
    /// `end` past the blob's length reads to its end. MUST answer `Error::NotFound("blob")`
    /// for an id that is not committed (being written, removed, or never written).
    async fn open(&self, id: AttachmentId, start: u64, end: u64) -> Result<Box<dyn Chunks>>;

    /// Removes committed blobs; ids that are not there are no error. Durable when it answers.
    async fn delete(&self, ids: &[AttachmentId]) -> Result<()>;

    /// Committed blobs with ids after `after`, in id order, at most `limit`: how a sweep finds
    /// blobs no attachment names any more (a crash between a blob's commit and its row's), and
    /// how `confab port` copies them.
    async fn list(&self, after: Option<AttachmentId>, limit: u32) -> Result<Vec<AttachmentId>>;

    /// Removes what writers that never committed left behind, of those started before
    /// `started_before`; answers how many it removed.
    async fn remove_partial(&self, started_before: Timestamp) -> Result<u64>;
}

/// Reads chunks to their end into one buffer, refusing to hold more than `max` bytes.
pub async fn read_to_end(chunks: &mut dyn Chunks, max: usize) -> Result<Vec<u8>> {
    let mut all = Vec::new();
    while let Some(chunk) = chunks.next_chunk().await? {
        if all.len() + chunk.len() > max {
            return Err(crate::Error::Internal(format!(
                "a blob holds more than the {max} bytes expected"
            )));
        }
        all.extend_from_slice(&chunk);
    }
    Ok(all)
}
