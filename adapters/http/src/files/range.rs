//! The `Range` header of a download (RFC 9110 §14): one byte range, or the whole file. Several
//! ranges at once and anything malformed are ignored (answered with the whole file), as the RFC
//! allows; only a well-formed range wholly past the end is refused (416).

/// What to send of a file of some size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// All of it (200).
    Whole,
    /// Bytes `start..end` (206); never empty, `end` at most the size.
    Part { start: u64, end: u64 },
    /// A range that lies past the end (416).
    Unsatisfiable,
}

/// Reads a `Range` header value against a file of `size` bytes.
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') || size == 0 {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (number(first), number(last), last.trim().is_empty()) {
        // `bytes=-n`: the last n bytes.
        (None, Some(n), _) if first.trim().is_empty() => match n {
            0 => Wanted::Unsatisfiable,
            n => Wanted::Part {
                start: size.saturating_sub(n),
                end: size,
            },
        },
        (Some(start), _, _) if start >= size => Wanted::Unsatisfiable,
        // `bytes=a-`: from a to the end.
        (Some(start), None, true) => Wanted::Part { start, end: size },
        // `bytes=a-b`: inclusive, clamped to the end.
        (Some(start), Some(last), _) if last >= start => Wanted::Part {
            start,
            end: last.saturating_add(1).min(size),
        },
        _ => Wanted::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> Wanted {
        Wanted::Part { start, end }
    }

    #[test]
    fn one_range_of_each_form_is_read() {
        assert_eq!(wanted(Some("bytes=0-99"), 1000), part(0, 100));
        assert_eq!(wanted(Some("bytes=500-"), 1000), part(500, 1000));
        assert_eq!(wanted(Some("bytes=-10"), 1000), part(990, 1000));
        assert_eq!(wanted(Some("bytes=-5000"), 1000), part(0, 1000));
        assert_eq!(wanted(Some("bytes=900-5000"), 1000), part(900, 1000));
        assert_eq!(wanted(Some("bytes=999-999"), 1000), part(999, 1000));
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable() {
        assert_eq!(wanted(Some("bytes=1000-"), 1000), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=2000-3000"), 1000), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 1000), Wanted::Unsatisfiable);
    }

    #[test]
    fn anything_else_means_the_whole_file() {
        for ignored in [
            None,
            Some(""),
            Some("bytes=0-1,5-6"),
            Some("items=0-1"),
            Some("bytes=5-1"),
            Some("bytes=a-b"),
            Some("bytes=-"),
            Some("bytes=+1-2"),
            Some("bytes=99999999999999999999999-"),
        ] {
            assert_eq!(wanted(ignored, 1000), Wanted::Whole, "{ignored:?}");
        }
        assert_eq!(wanted(Some("bytes=0-1"), 0), Wanted::Whole);
    }
}
