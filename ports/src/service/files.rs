//! Attachments: uploading (the bytes go to the blob store as they arrive, never held whole,
//! checked against the size limit, the quota and their declared type), images measured and
//! thumbnailed, reading them back, and sweeping what no message took. Every rule it applies is
//! `confab_domain::attachment`'s; it never decides who may see a file (the store does).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use confab_domain::attachment::{
    self, SNIFF_BYTES, UNUSED_ATTACHMENT_TTL, check_content, check_image_size, check_quota,
    thumbnail_size,
};
use confab_domain::{Attachment, AttachmentId, ContentType, FileName, GroupId, Invalid, Timestamp};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::blobs::{BlobWriter, Chunks, read_to_end};
use crate::images::{ImageError, Thumbnail};
use crate::store::{NewAttachment, Principal};
use crate::{Error, Ports, Result};

/// Upload limits (settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadSettings {
    /// Largest file, in bytes (`--attachment-max-bytes`).
    pub max_bytes: u64,
    /// Most bytes one user's attachments may take in all (`--attachment-quota`).
    pub quota: u64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            quota: 1024 * 1024 * 1024,
        }
    }
}

/// A blob that no attachment names is removed only once it is this old: younger, it may be an
/// upload between its bytes' commit and its row's.
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Blob ids a sweep checks at a time.
const SWEEP_PAGE: u32 = 500;

/// What one upload says about itself, besides its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadHeader<'a> {
    /// The file's name (`?name=`); cleaned, never refused.
    pub name: Option<&'a str>,
    /// The declared `Content-Type`.
    pub content_type: &'a str,
    /// `Content-Length`, when the client sent it: a body declared too large is refused before
    /// any of it is read.
    pub declared_len: Option<u64>,
}

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilesSwept {
    /// Uploads no message took within a day.
    pub unused: usize,
    /// Blobs no attachment names (a crash between the two commits).
    pub orphans: usize,
    /// Blob writes that never committed.
    pub partial: u64,
}

/// Attachment use cases. Cheap to clone.
#[derive(Clone)]
pub struct Files {
    ports: Arc<Ports>,
    /// Images are decoded one at a time: a decode may take the decoder's whole memory budget.
    decodes: Arc<Semaphore>,
}

/// What streaming an upload's body learnt about it.
struct Received {
    size: u64,
    sha256: String,
}

impl Files {
    /// Builds the use cases over the given ports.
    pub fn new(ports: Ports) -> Self {
        Self {
            ports: Arc::new(ports),
            decodes: Arc::new(Semaphore::new(1)),
        }
    }

    /// Uploads a file to `group` for the caller's next message: checks membership and the
    /// limits, streams `body` to the blob store, checks the bytes against the declared type,
    /// measures and thumbnails raster images, and records it.
    pub async fn upload(
        &self,
        caller: &Principal,
        group: GroupId,
        header: UploadHeader<'_>,
        body: &mut dyn Chunks,
    ) -> Result<Attachment> {
        let name = FileName::clean(header.name.unwrap_or_default());
        let content_type = ContentType::parse(header.content_type)?;
        let limits = self.ports.uploads;
        let now = self.ports.clock.now();
        let used = self
            .ports
            .attachments
            .uploaded_bytes(caller.user_id, group, now)
            .await?;
        if let Some(len) = header.declared_len {
            check_size(len, limits.max_bytes)?;
            check_quota(used, len, limits.quota)?;
        }
        let id = AttachmentId::new();
        let mut writer = self.ports.blobs.create(id, now).await?;
        // On any refusal below, `writer` is dropped uncommitted: nothing of it stays visible.
        let received = receive(body, writer.as_mut(), &content_type, used, limits).await?;
        writer.commit().await?;
        let attachment = Attachment {
            id,
            group_id: group,
            uploader_id: caller.user_id,
            message_id: None,
            name,
            content_type,
            size: received.size,
            sha256: received.sha256,
            width: None,
            height: None,
            created_at: now,
        };
        let recorded = self.describe_and_record(attachment, now).await;
        if recorded.is_err() {
            self.remove_bytes(&[id]).await;
        }
        recorded
    }

    /// Measures and thumbnails a raster image, then records the attachment.
    async fn describe_and_record(
        &self,
        mut attachment: Attachment,
        now: Timestamp,
    ) -> Result<Attachment> {
        let thumbnail = if attachment.content_type.is_raster_image() {
            let (width, height, thumbnail) = self.measure_image(&attachment).await?;
            attachment.width = Some(width);
            attachment.height = Some(height);
            Some(thumbnail)
        } else {
            None
        };
        self.ports
            .attachments
            .insert_attachment(
                NewAttachment {
                    attachment,
                    thumbnail,
                },
                self.ports.uploads.quota,
                now,
            )
            .await
    }

    /// Reads a committed image back and, off the async threads and one at a time, reads its
    /// size (refusing one too large to decode) and makes its thumbnail.
    async fn measure_image(&self, attachment: &Attachment) -> Result<(u32, u32, Thumbnail)> {
        let _permit = self
            .decodes
            .acquire()
            .await
            .map_err(|_| Error::Internal("the image decode budget is closed".into()))?;
        let mut chunks = self
            .ports
            .blobs
            .open(attachment.id, 0, attachment.size)
            .await?;
        let max = usize::try_from(attachment.size).unwrap_or(usize::MAX);
        let bytes = read_to_end(chunks.as_mut(), max).await?;
        let images = self.ports.images.clone();
        let content_type = attachment.content_type.as_str().to_owned();
        tokio::task::spawn_blocking(move || {
            let unreadable =
                |e: ImageError| Error::Invalid(Invalid::new("content_type", e.to_string()));
            let (width, height) = images
                .dimensions(&bytes, &content_type)
                .map_err(unreadable)?;
            check_image_size(width, height)?;
            let (w, h) = thumbnail_size(width, height);
            let thumbnail = images
                .thumbnail(&bytes, &content_type, w, h)
                .map_err(unreadable)?;
            Ok((width, height, thumbnail))
        })
        .await
        .map_err(|e| Error::Internal(format!("an image decode failed: {e}")))?
    }

    /// An attachment the caller may see.
    pub async fn attachment(&self, caller: &Principal, id: AttachmentId) -> Result<Attachment> {
        self.ports.attachments.attachment(caller.user_id, id).await
    }

    /// The thumbnail of a raster image the caller may see.
    pub async fn thumbnail(&self, caller: &Principal, id: AttachmentId) -> Result<Thumbnail> {
        self.ports.attachments.thumbnail(caller.user_id, id).await
    }

    /// The bytes `start..end` of an attachment got from [`Files::attachment`].
    pub async fn bytes(
        &self,
        attachment: &Attachment,
        start: u64,
        end: u64,
    ) -> Result<Box<dyn Chunks>> {
        self.ports.blobs.open(attachment.id, start, end).await
    }

    /// Removes the bytes of attachments that are gone (their message was deleted). A failure
    /// is logged, not answered: the orphan sweep removes them later.
    pub(crate) async fn remove_bytes(&self, ids: &[AttachmentId]) {
        remove_blobs(&self.ports, ids).await;
    }

    /// Removes uploads no message took within a day, with their bytes; with `leftovers`, also
    /// blobs no attachment names and blob writes that never committed (this walks every blob:
    /// the caller does it rarely).
    pub async fn sweep(&self, leftovers: bool) -> Result<FilesSwept> {
        let now = self.ports.clock.now();
        let unused = self
            .ports
            .attachments
            .sweep_unused(now - UNUSED_ATTACHMENT_TTL)
            .await?;
        self.ports.blobs.delete(&unused).await?;
        let mut swept = FilesSwept {
            unused: unused.len(),
            ..FilesSwept::default()
        };
        if leftovers {
            swept.partial = self.ports.blobs.remove_partial(now - ORPHAN_AGE).await?;
            swept.orphans = self.sweep_orphans(now).await?;
        }
        Ok(swept)
    }

    async fn sweep_orphans(&self, now: Timestamp) -> Result<usize> {
        let old_enough = |id: &AttachmentId| {
            id.as_uuid()
                .get_timestamp()
                .map(|ts| {
                    let (secs, nanos) = ts.to_unix();
                    let made = time::OffsetDateTime::from_unix_timestamp(secs as i64)
                        .map(|t| t + time::Duration::nanoseconds(i64::from(nanos)));
                    made.is_ok_and(|made| made + ORPHAN_AGE <= now)
                })
                .unwrap_or(false)
        };
        let mut after = None;
        let mut removed = 0;
        loop {
            let page = self.ports.blobs.list(after, SWEEP_PAGE).await?;
            let Some(last) = page.last().copied() else {
                return Ok(removed);
            };
            let recorded = self.ports.attachments.recorded(page.clone()).await?;
            let orphans: Vec<_> = page
                .into_iter()
                .filter(|id| !recorded.contains(id) && old_enough(id))
                .collect();
            self.ports.blobs.delete(&orphans).await?;
            removed += orphans.len();
            after = Some(last);
        }
    }
}

/// Removes blobs, logging (not answering) a failure: the orphan sweep removes them later.
pub(crate) async fn remove_blobs(ports: &Ports, ids: &[AttachmentId]) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = ports.blobs.delete(ids).await {
        tracing::warn!(error = %e, count = ids.len(), "could not remove attachment bytes; the sweep will");
    }
}

fn check_size(size: u64, max: u64) -> Result<()> {
    if size > max {
        return Err(Error::TooLarge(format!(
            "a file may be at most {max} bytes"
        )));
    }
    Ok(())
}

/// Streams the body into the writer, refusing it as soon as it passes the size limit or the
/// quota, or its first bytes are not of the declared type.
async fn receive(
    body: &mut dyn Chunks,
    writer: &mut dyn BlobWriter,
    declared: &ContentType,
    used: u64,
    limits: UploadSettings,
) -> Result<Received> {
    let mut size: u64 = 0;
    let mut hasher = Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut sniffed = false;
    while let Some(chunk) = body.next_chunk().await? {
        size += chunk.len() as u64;
        check_size(size, limits.max_bytes)?;
        check_quota(used, size, limits.quota)?;
        hasher.update(&chunk);
        if !sniffed {
            let take = chunk.len().min(SNIFF_BYTES - head.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == SNIFF_BYTES {
                check_content(declared, attachment::sniff(&head))?;
                sniffed = true;
            }
        }
        writer.write(chunk).await?;
    }
    if !sniffed {
        check_content(declared, attachment::sniff(&head))?;
    }
    Ok(Received {
        size,
        sha256: hex(&hasher.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A chunk source over bytes in memory (the CLI's and the tests' uploads).
#[derive(Debug)]
pub struct InMemory(Option<Bytes>);

impl InMemory {
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self(Some(bytes.into()))
    }
}

#[async_trait::async_trait]
impl Chunks for InMemory {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        Ok(self.0.take().filter(|b| !b.is_empty()))
    }
}
