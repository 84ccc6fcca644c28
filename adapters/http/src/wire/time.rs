//! Times on the wire: RFC 3339, UTC, milliseconds (`2026-11-24T09:18:07.123Z`).

use confab_domain::Timestamp;
use time::format_description::FormatItem;
use time::macros::format_description;

const RFC3339_MS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats a time the way the API shows every time.
pub fn rfc3339_ms(t: Timestamp) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(RFC3339_MS)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_milliseconds_and_z() {
        let t = Timestamp::from_unix_timestamp_nanos(1_800_000_000_123_456_789).unwrap();
        assert_eq!(rfc3339_ms(t), "2027-01-15T08:00:00.123Z");
    }
}
