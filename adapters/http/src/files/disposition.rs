//! `Content-Disposition` for a download (RFC 6266): `inline` only for raster images, a plain
//! ASCII `filename` for old clients and the exact name in `filename*` (RFC 8187), so no name
//! can break out of the header or smuggle a quote.

use confab_domain::{ContentType, FileName};

/// The header value for a file of this name and type.
pub fn content_disposition(name: &FileName, content_type: &ContentType) -> String {
    let kind = if content_type.is_raster_image() {
        "inline"
    } else {
        "attachment"
    };
    let fallback: String = name
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        percent_encode(name.as_str())
    )
}

/// RFC 8187's `attr-char`s as they are, every other byte of the UTF-8 as `%XX`.
fn percent_encode(s: &str) -> String {
    use std::fmt::Write;
    s.bytes()
        .fold(String::with_capacity(s.len()), |mut out, b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disposition(name: &str, ct: &str) -> String {
        content_disposition(&FileName::clean(name), &ContentType::parse(ct).unwrap())
    }

    #[test]
    fn only_raster_images_are_inline() {
        assert!(disposition("a.png", "image/png").starts_with("inline;"));
        assert!(disposition("a.svg", "image/svg+xml").starts_with("attachment;"));
        assert!(disposition("a.html", "text/html").starts_with("attachment;"));
    }

    #[test]
    fn names_are_encoded_so_they_cannot_break_the_header() {
        assert_eq!(
            disposition("résumé \"final\".pdf", "application/pdf"),
            "attachment; filename=\"r_sum_ _final_.pdf\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        let header = disposition("a;b=c,d.txt", "text/plain");
        assert!(
            header.contains("filename*=UTF-8''a%3Bb%3Dc%2Cd.txt"),
            "{header}"
        );
        assert!(header.is_ascii());
    }
}
