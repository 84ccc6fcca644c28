//! Attachments: what an uploaded file is, and every rule about it — its cleaned name, its
//! declared type against its bytes, image sizes, the uploader's quota, and which uploads a
//! message may carry. Both stores and the upload use case ask these functions; nothing here
//! reads or writes bytes.

use std::collections::HashSet;

use crate::{AttachmentId, GroupId, Invalid, MessageId, Timestamp, UserId};

/// An uploaded file, as stored. It belongs to the group it was uploaded to; until a message
/// of its uploader takes it (`message_id`), it is unused and swept after a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub group_id: GroupId,
    pub uploader_id: UserId,
    pub message_id: Option<MessageId>,
    pub name: FileName,
    pub content_type: ContentType,
    pub size: u64,
    /// The SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// Pixels, for raster images only.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub created_at: Timestamp,
}

/// Most attachments one message carries.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;

/// An upload unused for this long (no message took it) is removed.
pub const UNUSED_ATTACHMENT_TTL: time::Duration = time::Duration::hours(24);

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_SIDE: u32 = 512;

/// Images are decoded (for their thumbnail) only up to these sizes: a larger one is refused,
/// so a small file that claims 50,000 × 50,000 pixels (a decompression bomb) never gets
/// decoded. 50 megapixels holds the photos of today's phones.
pub const IMAGE_MAX_SIDE: u32 = 16_384;
pub const IMAGE_MAX_PIXELS: u64 = 50_000_000;

/// A file's name as it is kept and sent back: the last path component only, without control
/// or bidirectional-override characters, at most [`FileName::MAX_BYTES`] bytes of UTF-8 (the
/// extension kept when it is cut), never empty (`file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

crate::string_newtype!(FileName);

impl FileName {
    /// Longest name, in bytes of UTF-8: what common file systems allow.
    pub const MAX_BYTES: usize = 255;
    /// The name of a file sent without one, or whose name cleans to nothing.
    pub const FALLBACK: &'static str = "file";

    /// Cleans a name a client sent. Never fails: a hostile name becomes a harmless one.
    pub fn clean(raw: &str) -> Self {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let kept: String = last.chars().filter(|&c| !is_hidden_char(c)).collect();
        let trimmed = kept.trim().trim_end_matches('.').trim_end();
        if trimmed.chars().all(|c| c == '.') {
            return Self(Self::FALLBACK.to_owned());
        }
        Self(cut_keeping_extension(trimmed, Self::MAX_BYTES))
    }
}

/// Characters a name must not carry: controls (NUL, line breaks, escapes) and the invisible
/// direction marks and overrides that make `evil\u{202E}gpj.exe` read as `evilexe.jpg`.
fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// At most `max` bytes of `name`, cut on a character boundary; an extension of up to 16 bytes
/// survives the cut.
fn cut_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext = name
        .rfind('.')
        .filter(|&dot| dot > 0 && name.len() - dot <= 16)
        .map_or("", |dot| &name[dot..]);
    let mut stem_end = max - ext.len();
    while !name.is_char_boundary(stem_end) {
        stem_end -= 1;
    }
    format!("{}{ext}", &name[..stem_end])
}

/// A media type as `type/subtype`, lower-cased, without parameters (`text/plain; charset=x`
/// is kept as `text/plain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType(String);

crate::string_newtype!(ContentType);

impl ContentType {
    /// Longest media type (RFC 6838 allows 127 characters per part; none real comes close).
    pub const MAX: usize = 127;
    /// What a file of unknown type is declared as; it matches any bytes.
    pub const OCTET_STREAM: &'static str = "application/octet-stream";

    /// Checks a declared media type.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let essence = raw.split(';').next().unwrap_or_default().trim();
        let invalid = || Invalid::new("content_type", "must be a media type such as image/png");
        let (kind, sub) = essence.split_once('/').ok_or_else(invalid)?;
        let is_token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        if essence.len() > Self::MAX || !is_token(kind) || !is_token(sub) {
            return Err(invalid());
        }
        Ok(Self(essence.to_ascii_lowercase()))
    }

    /// A raster image a browser shows (PNG, JPEG, GIF, WebP): these alone are thumbnailed and
    /// sent `inline`. SVG is not one: it can carry script.
    pub fn is_raster_image(&self) -> bool {
        matches!(
            self.0.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp"
        )
    }
}

/// Checks that a file's first bytes are of the type it was declared as, by their magic
/// numbers (`sniffed` is what the sniffer recognised them as, if anything). A file whose
/// bytes are of a known type must be declared as that type (or as `application/octet-stream`);
/// a file declared as a type with magic numbers must start with them. Types without magic
/// numbers (text, JSON, SVG…) are taken as declared.
pub fn check_content(declared: &ContentType, sniffed: Option<&str>) -> Result<(), Invalid> {
    let declared_type = canonical(declared.as_str());
    if declared_type == ContentType::OCTET_STREAM {
        return Ok(());
    }
    let mismatch = |what: String| Err(Invalid::new("content_type", what));
    match sniffed.map(canonical) {
        Some(found) if found == declared_type || both_zip(found, declared_type) => Ok(()),
        Some(found) => mismatch(format!(
            "the file's bytes are {found}, not the declared {declared_type}"
        )),
        None if infer::is_mime_supported(declared_type) => mismatch(format!(
            "the file's bytes are not {declared_type}, as declared"
        )),
        None => Ok(()),
    }
}

/// The name a media type is best known by (`image/jpg` is `image/jpeg`).
fn canonical(mime: &str) -> &str {
    match mime {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "application/x-zip-compressed" => "application/zip",
        other => other,
    }
}

/// Office documents, EPUBs and Java archives are zip files: declared as one and sniffed as the
/// other is no mismatch.
fn both_zip(a: &str, b: &str) -> bool {
    const ZIPS: &[&str] = &[
        "application/zip",
        "application/epub+zip",
        "application/java-archive",
        "application/vnd.android.package-archive",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ];
    ZIPS.contains(&a) && ZIPS.contains(&b)
}

/// What the sniffer recognises the first bytes of a file as (its media type), if anything.
/// The first 8 KiB are enough for every type it knows.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    infer::get(head).map(|kind| kind.mime_type())
}

/// How many leading bytes [`sniff`] needs.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Refuses an image too large to decode safely (see [`IMAGE_MAX_PIXELS`]).
pub fn check_image_size(width: u32, height: u32) -> Result<(), Invalid> {
    if width == 0 || height == 0 {
        return Err(Invalid::new("content_type", "the image has no pixels"));
    }
    if width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE {
        return Err(Invalid::new(
            "content_type",
            format!(
                "the image is {width} × {height} pixels; at most {IMAGE_MAX_SIDE} on a side are accepted"
            ),
        ));
    }
    if u64::from(width) * u64::from(height) > IMAGE_MAX_PIXELS {
        return Err(Invalid::new(
            "content_type",
            format!(
                "the image is {width} × {height} pixels; at most {IMAGE_MAX_PIXELS} pixels are accepted"
            ),
        ));
    }
    Ok(())
}

/// The size of a thumbnail of a `width` × `height` image: the long side at most
/// [`THUMBNAIL_MAX_SIDE`], the aspect kept, never enlarged, never 0.
pub fn thumbnail_size(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= THUMBNAIL_MAX_SIDE {
        return (width.max(1), height.max(1));
    }
    let scale = |side: u32| {
        let scaled = u64::from(side) * u64::from(THUMBNAIL_MAX_SIDE) / u64::from(long);
        u32::try_from(scaled).unwrap_or(THUMBNAIL_MAX_SIDE).max(1)
    };
    (scale(width), scale(height))
}

/// An upload refused because it would take its uploader past their quota (422
/// `quota_exceeded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this upload would take you past your storage quota of {quota} bytes")]
pub struct QuotaExceeded {
    pub quota: u64,
}

/// Refuses an upload of `adding` bytes by someone whose uploads take `used` bytes.
pub fn check_quota(used: u64, adding: u64, quota: u64) -> Result<(), QuotaExceeded> {
    if used.saturating_add(adding) > quota {
        return Err(QuotaExceeded { quota });
    }
    Ok(())
}

/// The `attachment_ids` of a send: at most [`MAX_ATTACHMENTS_PER_MESSAGE`], none twice.
pub fn check_attachment_ids(ids: &[AttachmentId]) -> Result<(), Invalid> {
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(Invalid::new(
            "attachment_ids",
            format!("at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments per message"),
        ));
    }
    let mut seen = HashSet::new();
    if !ids.iter().all(|id| seen.insert(*id)) {
        return Err(Invalid::new("attachment_ids", "names an attachment twice"));
    }
    Ok(())
}

/// Whether a message by `sender` to `group` may carry the uploads `requested`: each must be
/// found (`found` are the stored attachments among them), uploaded by the sender to this very
/// group, and in no message yet. Stores load `found` in the send's transaction and ask this.
pub fn check_attachable(
    requested: &[AttachmentId],
    found: &[Attachment],
    sender: UserId,
    group: GroupId,
) -> Result<(), Invalid> {
    check_attachment_ids(requested)?;
    let usable = |id: &AttachmentId| {
        found.iter().any(|a| {
            a.id == *id && a.uploader_id == sender && a.group_id == group && a.message_id.is_none()
        })
    };
    match requested.iter().find(|id| !usable(id)) {
        Some(id) => Err(Invalid::new(
            "attachment_ids",
            format!("{id} is not an unused upload of yours to this group"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
