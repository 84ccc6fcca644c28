//! The `Images` port over the `image` crate: an image's size read from its header, and a PNG
//! thumbnail decoded within a fixed memory budget. Only PNG, JPEG, GIF and WebP are compiled
//! in, and the format decoded is always the one the upload declared — never a guess from the
//! bytes, so a file cannot be decoded by a parser its type did not name. Sizes and thumbnails
//! are as the image is shown: its EXIF orientation applied, as browsers do. Blocking and
//! CPU-bound: callers run it off the async threads.

use std::io::Cursor;

use confab_domain::attachment::{IMAGE_MAX_SIDE, THUMBNAIL_MAX_SIDE};
use confab_ports::images::{ImageError, Images, Thumbnail};
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Most bytes one decode may allocate: the decoded pixels plus the decoder's own buffers.
///
/// 256 MiB holds any 8-bit image the domain lets through to a thumbnail (at most
/// `IMAGE_MAX_PIXELS` = 50 million pixels: 200 MB as RGBA8, 150 MB as RGB8), with room for the
/// decoder's buffers. A 16-bit PNG takes twice as much, so one past ~33 megapixels (RGBA16) is
/// refused as too large; such files are rare as chat attachments. The resize after the decode
/// needs at most ~60 MB more (a `width × 512` buffer of 16-byte pixels, widest for a square
/// image), so one thumbnail peaks near 320 MiB; the upload use case runs one at a time.
pub const DECODE_BUDGET: u64 = 256 * 1024 * 1024;

/// Raster images with the `image` crate.
#[derive(Debug, Clone)]
pub struct RasterImages {
    budget: u64,
}

impl Default for RasterImages {
    fn default() -> Self {
        Self {
            budget: DECODE_BUDGET,
        }
    }
}

impl RasterImages {
    /// Images decoded within `budget` bytes (tests use a small one).
    pub fn with_budget(budget: u64) -> Self {
        Self { budget }
    }

    /// A reader of `bytes` as the declared type, within `limits`.
    fn reader<'a>(
        &self,
        bytes: &'a [u8],
        content_type: &str,
        limits: Limits,
    ) -> Result<ImageReader<Cursor<&'a [u8]>>, ImageError> {
        let format = declared_format(content_type)
            .ok_or_else(|| ImageError::Unreadable(content_type.to_owned()))?;
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        reader.limits(limits);
        Ok(reader)
    }

    /// Decodes the whole image (a GIF's first frame) within the budget, as `ImageReader::decode`
    /// does (the pixels are reserved first, the decoder gets what is left), keeping the
    /// orientation its metadata asks for.
    fn decode(
        &self,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<(Orientation, DynamicImage), ImageError> {
        let refuse = |e| refused(e, content_type);
        let mut limits = Limits::no_limits();
        limits.max_image_width = Some(IMAGE_MAX_SIDE);
        limits.max_image_height = Some(IMAGE_MAX_SIDE);
        limits.max_alloc = Some(self.budget);
        let mut decoder = self
            .reader(bytes, content_type, limits.clone())?
            .into_decoder()
            .map_err(refuse)?;
        limits.reserve(decoder.total_bytes()).map_err(refuse)?;
        decoder.set_limits(limits).map_err(refuse)?;
        let orientation = orientation(&mut decoder);
        let image = DynamicImage::from_decoder(decoder).map_err(refuse)?;
        Ok((orientation, image))
    }
}

impl Images for RasterImages {
    fn dimensions(&self, bytes: &[u8], content_type: &str) -> Result<(u32, u32), ImageError> {
        // No limit on the sides: the header alone is read, and the caller refuses an image too
        // large with the domain's own message. The allocation budget still bounds the header's
        // chunks (a PNG's text and colour profile).
        let mut limits = Limits::no_limits();
        limits.max_alloc = Some(self.budget);
        let mut decoder = self
            .reader(bytes, content_type, limits)?
            .into_decoder()
            .map_err(|e| refused(e, content_type))?;
        let (width, height) = decoder.dimensions();
        // As shown: a phone's portrait photo is stored sideways, with an orientation to apply.
        Ok(if swaps_sides(orientation(&mut decoder)) {
            (height, width)
        } else {
            (width, height)
        })
    }

    fn thumbnail(
        &self,
        bytes: &[u8],
        content_type: &str,
        width: u32,
        height: u32,
    ) -> Result<Thumbnail, ImageError> {
        // The size comes from `thumbnail_size`; anything larger is a caller's mistake that
        // would allocate outside the budget.
        if width > THUMBNAIL_MAX_SIDE || height > THUMBNAIL_MAX_SIDE {
            return Err(ImageError::TooLarge);
        }
        let (orientation, image) = self.decode(bytes, content_type)?;
        // Scaled first, turned after: turning the full image would copy all of it.
        let (w, h) = if swaps_sides(orientation) {
            (height, width)
        } else {
            (width, height)
        };
        let mut small = image.resize_exact(w.max(1), h.max(1), FilterType::Triangle);
        drop(image);
        small.apply_orientation(orientation);
        encode_png(small).map_err(|e| refused(e, content_type))
    }
}

/// The orientation an image's metadata asks for; none when it has none or it is unreadable
/// (broken metadata does not make the pixels unreadable).
fn orientation(decoder: &mut impl ImageDecoder) -> Orientation {
    decoder.orientation().unwrap_or(Orientation::NoTransforms)
}

/// Whether showing an image so oriented swaps its width and height.
fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// A thumbnail as 8-bit PNG: 16-bit and float images are sent as 8-bit, a thumbnail needs no
/// more.
fn encode_png(small: DynamicImage) -> image::ImageResult<Thumbnail> {
    let small = if small.color().has_alpha() {
        DynamicImage::ImageRgba8(small.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(small.into_rgb8())
    };
    let mut png = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut png, CompressionType::Default, PngFilter::Adaptive);
    small.write_with_encoder(encoder)?;
    Ok(Thumbnail {
        content_type: "image/png".to_owned(),
        bytes: png,
    })
}

/// The decoder a declared media type names; `None` for any other type.
fn declared_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// A decoder's failure as the port's: a limit hit is `TooLarge`, anything else means the bytes
/// are not a readable image of the declared type.
fn refused(e: image::ImageError, content_type: &str) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        other => {
            tracing::debug!(error = %other, content_type, "an image could not be read");
            ImageError::Unreadable(content_type.to_owned())
        }
    }
}

#[cfg(test)]
mod tests;
