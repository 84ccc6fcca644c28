//! Raster images: their size, read from the header alone, and a small thumbnail. A port so
//! that the image decoders (and their weight) stay in an adapter (`confab-files`); the limits
//! they must keep are `confab_domain::attachment`'s.

/// A thumbnail: PNG or WebP bytes, at most `THUMBNAIL_MAX_SIDE` pixels on the long side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// `image/png` or `image/webp`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why an image could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The bytes are not an image of the declared type (or are truncated or corrupt).
    #[error("the file is not a readable {0} image")]
    Unreadable(String),
    /// Decoding would need more memory than the decoder is allowed.
    #[error("the image is too large to decode")]
    TooLarge,
}

/// Image work. Both calls are CPU-bound and blocking: callers run them off the async threads
/// (`spawn_blocking`), one at a time per process at most as many as the decode budget allows.
#[cfg_attr(test, mockall::automock)]
pub trait Images: Send + Sync {
    /// Width and height in pixels, read from the header without decoding the pixels.
    fn dimensions(&self, bytes: &[u8], content_type: &str) -> Result<(u32, u32), ImageError>;

    /// Decodes the image and scales it to `width` × `height` (what
    /// `confab_domain::attachment::thumbnail_size` says). The decoder MUST refuse to allocate
    /// more than its budget (`ImageError::TooLarge`), whatever the header claims.
    fn thumbnail(
        &self,
        bytes: &[u8],
        content_type: &str,
        width: u32,
        height: u32,
    ) -> Result<Thumbnail, ImageError>;
}
