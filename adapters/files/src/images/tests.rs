//! Real images of each format, made here with the crate's own encoders, and hostile ones: a
//! truncated file, a decompression bomb's header, a zip behind a PNG signature.

use std::io::Cursor;
use std::time::Instant;

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, Frame, ImageEncoder, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;

/// A 300 × 200 gradient, so a resize has something to average.
fn picture() -> RgbImage {
    RgbImage::from_fn(300, 200, |x, y| {
        Rgb([(x * 255 / 299) as u8, (y * 255 / 199) as u8, 128])
    })
}

fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        .unwrap();
    out
}

fn webp(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .unwrap();
    out
}

/// A two-frame GIF: red, then blue.
fn gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        for colour in [Rgba([255, 0, 0, 255]), Rgba([0, 0, 255, 255])] {
            let frame = Frame::from_parts(
                RgbaImage::from_pixel(40, 30, colour),
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            );
            encoder.encode_frame(frame).unwrap();
        }
    }
    out
}

/// Decodes a thumbnail, checking it is the PNG it says it is.
fn decoded(thumbnail: &Thumbnail) -> DynamicImage {
    assert_eq!(thumbnail.content_type, "image/png");
    image::load_from_memory_with_format(&thumbnail.bytes, ImageFormat::Png).unwrap()
}

#[test]
fn every_format_is_measured_and_thumbnailed() {
    let picture = picture();
    let images = RasterImages::default();
    for (content_type, bytes) in [
        ("image/png", png(&picture)),
        ("image/jpeg", jpeg(&picture)),
        ("image/webp", webp(&picture)),
    ] {
        assert_eq!(
            images.dimensions(&bytes, content_type),
            Ok((300, 200)),
            "{content_type}"
        );
        let thumbnail = images.thumbnail(&bytes, content_type, 150, 100).unwrap();
        let small = decoded(&thumbnail);
        assert_eq!(
            (small.width(), small.height()),
            (150, 100),
            "{content_type}"
        );
        // The gradient survives: the far corner is brighter than the near one.
        let small = small.into_rgb8();
        assert!(small.get_pixel(140, 90)[0] > small.get_pixel(5, 5)[0] + 100);
    }
}

#[test]
fn a_gif_is_thumbnailed_from_its_first_frame() {
    let images = RasterImages::default();
    let bytes = gif();
    assert_eq!(images.dimensions(&bytes, "image/gif"), Ok((40, 30)));
    let thumbnail = images.thumbnail(&bytes, "image/gif", 20, 15).unwrap();
    let small = decoded(&thumbnail).into_rgba8();
    assert_eq!(small.dimensions(), (20, 15));
    let Rgba([r, g, b, _]) = *small.get_pixel(10, 7);
    assert!(
        r > 200 && g < 50 && b < 50,
        "the first frame is red: {r} {g} {b}"
    );
}

#[test]
fn alpha_is_kept_and_sixteen_bits_become_eight() {
    let images = RasterImages::default();
    let translucent = RgbaImage::from_pixel(64, 64, Rgba([10, 20, 30, 128]));
    let mut bytes = Cursor::new(Vec::new());
    translucent.write_to(&mut bytes, ImageFormat::Png).unwrap();
    let small = decoded(
        &images
            .thumbnail(bytes.get_ref(), "image/png", 32, 32)
            .unwrap(),
    );
    assert_eq!(small.color(), image::ColorType::Rgba8);

    let deep = image::ImageBuffer::<Rgb<u16>, _>::from_pixel(64, 64, Rgb([60_000, 0, 0]));
    let mut bytes = Cursor::new(Vec::new());
    deep.write_to(&mut bytes, ImageFormat::Png).unwrap();
    let small = decoded(
        &images
            .thumbnail(bytes.get_ref(), "image/png", 32, 32)
            .unwrap(),
    );
    assert_eq!(small.color(), image::ColorType::Rgb8);
}

/// An EXIF block (little-endian TIFF) holding only an orientation.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"II*\0".to_vec();
    exif.extend_from_slice(&8u32.to_le_bytes()); // the first directory follows
    exif.extend_from_slice(&1u16.to_le_bytes()); // one entry:
    exif.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation,
    exif.extend_from_slice(&3u16.to_le_bytes()); // a SHORT,
    exif.extend_from_slice(&1u32.to_le_bytes()); // one of them,
    exif.extend_from_slice(&value.to_le_bytes());
    exif.extend_from_slice(&[0, 0]);
    exif.extend_from_slice(&0u32.to_le_bytes()); // no next directory
    exif
}

#[test]
fn a_sideways_photo_is_measured_and_thumbnailed_upright() {
    // Stored 300 × 200, to be turned 90° clockwise to be shown (orientation 6, as phones do).
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 90);
    encoder.set_exif_metadata(exif_orientation(6)).unwrap();
    picture().write_with_encoder(encoder).unwrap();
    let images = RasterImages::default();
    assert_eq!(images.dimensions(&bytes, "image/jpeg"), Ok((200, 300)));
    let small = decoded(&images.thumbnail(&bytes, "image/jpeg", 100, 150).unwrap()).into_rgb8();
    assert_eq!(small.dimensions(), (100, 150));
    // Turned clockwise: red (growing rightwards as stored) grows downwards, green (growing
    // downwards as stored) grows leftwards.
    assert!(small.get_pixel(50, 145)[0] > small.get_pixel(50, 5)[0] + 100);
    assert!(small.get_pixel(5, 75)[1] > small.get_pixel(95, 75)[1] + 100);
}

#[test]
fn a_truncated_png_is_unreadable() {
    let images = RasterImages::default();
    let bytes = png(&picture());
    let half = &bytes[..bytes.len() / 2];
    assert_eq!(
        images.thumbnail(half, "image/png", 150, 100),
        Err(ImageError::Unreadable("image/png".into()))
    );
    // Cut inside the header, not even the size can be read.
    assert_eq!(
        images.dimensions(&bytes[..20], "image/png"),
        Err(ImageError::Unreadable("image/png".into()))
    );
}

/// The CRC-32 a PNG chunk ends with (ISO 3309, bit by bit: only for a few test chunks).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A small file whose header claims `width` × `height` RGBA pixels (a decompression bomb's
/// shape: its one IDAT is a tiny zlib stream that would inflate to zeros).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = PNG_SIGNATURE.to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8 bits, RGBA, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib: a final stored block of 0 bytes; a real bomb holds megabytes of zeros here.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn a_bombs_header_is_measured_but_never_decoded() {
    let images = RasterImages::default();
    let bomb = png_claiming(50_000, 50_000);
    assert!(bomb.len() < 100);
    assert_eq!(images.dimensions(&bomb, "image/png"), Ok((50_000, 50_000)));
    assert_eq!(
        images.thumbnail(&bomb, "image/png", 512, 512),
        Err(ImageError::TooLarge)
    );
}

#[test]
fn the_allocation_budget_holds_within_the_side_limit() {
    // 16,000 × 16,000 RGBA is within the sides but needs 1 GB: over the budget.
    let images = RasterImages::default();
    let big = png_claiming(16_000, 16_000);
    assert_eq!(
        images.thumbnail(&big, "image/png", 512, 512),
        Err(ImageError::TooLarge)
    );
    // A budget smaller than a real image's pixels refuses it too.
    let tight = RasterImages::with_budget(1024);
    assert_eq!(
        tight.thumbnail(&png(&picture()), "image/png", 150, 100),
        Err(ImageError::TooLarge)
    );
}

#[test]
fn a_zip_behind_a_png_signature_is_unreadable() {
    let mut bytes = PNG_SIGNATURE.to_vec();
    bytes.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00");
    bytes.extend_from_slice(&[0x55; 200]);
    let images = RasterImages::default();
    let unreadable = Err(ImageError::Unreadable("image/png".into()));
    assert_eq!(
        images.dimensions(&bytes, "image/png").map(|_| ()),
        unreadable
    );
    assert_eq!(
        images.thumbnail(&bytes, "image/png", 10, 10).map(|_| ()),
        unreadable
    );
}

#[test]
fn the_declared_type_is_decoded_never_a_guess() {
    let images = RasterImages::default();
    let bytes = jpeg(&picture());
    assert_eq!(
        images.dimensions(&bytes, "image/png"),
        Err(ImageError::Unreadable("image/png".into()))
    );
    assert_eq!(
        images.dimensions(&png(&picture()), "image/svg+xml"),
        Err(ImageError::Unreadable("image/svg+xml".into()))
    );
}

#[test]
fn a_thumbnail_larger_than_the_maximum_is_refused() {
    let images = RasterImages::default();
    assert_eq!(
        images.thumbnail(&png(&picture()), "image/png", THUMBNAIL_MAX_SIDE + 1, 10),
        Err(ImageError::TooLarge)
    );
}

/// A phone photo's size (12 megapixels): how long its thumbnail takes here, printed (run with
/// `--nocapture`). Noise, not a gradient, so the JPEG is as hard to decode as a photo.
#[test]
fn a_twelve_megapixel_jpeg_is_thumbnailed() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let photo = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed & 0x3F) as u8;
        Rgb([(x / 16) as u8 ^ noise, (y / 12) as u8, noise])
    });
    let bytes = jpeg(&photo);
    let images = RasterImages::default();
    let started = Instant::now();
    let (width, height) = images.dimensions(&bytes, "image/jpeg").unwrap();
    let (w, h) = confab_domain::attachment::thumbnail_size(width, height);
    let thumbnail = images.thumbnail(&bytes, "image/jpeg", w, h).unwrap();
    println!(
        "a 4000 × 3000 JPEG of {} KiB: thumbnail {w} × {h} of {} KiB in {:?}",
        bytes.len() / 1024,
        thumbnail.bytes.len() / 1024,
        started.elapsed()
    );
    assert_eq!((w, h), (512, 384));
    let small = decoded(&thumbnail);
    assert_eq!((small.width(), small.height()), (512, 384));
}
