//! Attachment helpers: upload bytes, download them (as bytes, not text), and the files the
//! tests upload — a tiny PNG, a PNG of any size, a header that claims a huge image.

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Body, Resp, Session, TestServer};

/// A download's answer, with its body as bytes.
#[derive(Debug)]
pub struct Download {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Download {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The body as JSON (errors are JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

/// The SHA-256 of bytes, lower-case hex, as the API reports it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A valid 1 × 1 PNG.
pub fn tiny_png() -> Vec<u8> {
    png(1, 1)
}

/// A valid PNG of `width` × `height` pixels (a gradient, so it does not compress to nothing).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}

/// The first bytes of a PNG that claims `width` × `height` pixels (a valid signature and IHDR
/// chunk, CRC included, and no pixel data): what a decompression bomb looks like to a reader
/// of headers.
pub fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&ihdr);
    out.extend(crc32(&ihdr).to_be_bytes());
    // An IDAT chunk of a few zero bytes: enough for a sniffer, nothing to decode.
    let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01".to_vec();
    out.extend(((idat.len() - 4) as u32).to_be_bytes());
    out.extend(&idat);
    out.extend(crc32(&idat).to_be_bytes());
    out
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
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

/// `name` percent-encoded for a query string.
pub fn query_escape(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl TestServer {
    /// `POST /groups/{group}/attachments?name=` with the bytes as the body; the answer as it is.
    pub async fn upload(
        &self,
        me: &Session,
        group: &str,
        name: &str,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Resp {
        let path = format!(
            "/api/v1/groups/{group}/attachments?name={}",
            query_escape(name)
        );
        self.call(
            Method::POST,
            &path,
            Some(&me.access),
            Body::Raw {
                content_type: Some(content_type),
                bytes,
            },
        )
        .await
    }

    /// `GET /attachments/{id}` (or `{id}/thumbnail` with `suffix`), with extra headers; the
    /// body as bytes.
    pub async fn download(
        &self,
        token: Option<&str>,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Download {
        let mut req = self.http.get(self.url(&format!("/api/v1{path}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body read").to_vec();
        Download {
            status,
            headers,
            bytes,
        }
    }
}
