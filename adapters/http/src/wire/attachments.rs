//! Attachments on the wire: the `attachment` object and the upload's query.

use confab_domain::{Attachment, AttachmentId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// An uploaded file: `{id, name, content_type, size, sha256, width, height}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentBody {
    pub id: Uuid,
    /// The file's name, cleaned: no path, no control or direction characters, at most 255
    /// bytes of UTF-8.
    pub name: String,
    /// The declared media type, checked against the bytes (`type/subtype`, lower case).
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex; also the download's `ETag`.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// Pixels, for raster images (PNG, JPEG, GIF, WebP); `null` otherwise.
    #[schema(required = true)]
    pub width: Option<u32>,
    #[schema(required = true)]
    pub height: Option<u32>,
}

impl From<&Attachment> for AttachmentBody {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id.as_uuid(),
            name: a.name.as_str().to_owned(),
            content_type: a.content_type.as_str().to_owned(),
            size: a.size,
            sha256: a.sha256.clone(),
            width: a.width,
            height: a.height,
        }
    }
}

/// `POST /groups/{id}/attachments` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name; cleaned, never refused (a missing or empty one becomes `file`), and cut
    /// to 255 bytes. Longer names are accepted as long as the request target stays within
    /// 8 KiB (414 beyond).
    #[param(max_length = 512)]
    pub name: Option<String>,
}

/// The `attachment_ids` of a send (HTTP body or `message.send` frame) as ids; absent or `null`
/// is none.
pub fn attachment_ids(ids: Option<&[Uuid]>) -> Vec<AttachmentId> {
    ids.unwrap_or_default()
        .iter()
        .copied()
        .map(AttachmentId::from_uuid)
        .collect()
}
