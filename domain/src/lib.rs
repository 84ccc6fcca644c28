//! The confab model and its rules.
//!
//! Everything here is pure: no async, no I/O, no wire formats. Validators are newtypes that parse
//! (`Username::parse(raw)`), and policy functions decide what a role may do. Both stores and every
//! transport call these same functions; nothing re-implements a rule elsewhere.
#![forbid(unsafe_code)]

mod announcement;
pub mod attachment;
pub mod block;
mod country;
pub mod decide;
mod display_name;
mod email;
mod event;
mod group;
mod ids;
mod invalid;
mod invite;
mod message;
mod otp;
mod password;
pub mod policy;
pub mod pool;
pub mod presence;
pub mod reaction;
mod report;
mod search;
mod user;
mod username;

pub use announcement::{Announcement, may_announce};
pub use attachment::{Attachment, ContentType, FileName, QuotaExceeded};
pub use country::Country;
pub use display_name::DisplayName;
pub use email::Email;
pub use event::Event;
pub use group::{Alias, Closed, Group, GroupKind, GroupName, pair_key};
pub use ids::{AnnouncementId, AttachmentId, GroupId, MessageId, ReportId, SessionId, UserId};
pub use invalid::Invalid;
pub use invite::{
    INVITE_MAX_USES, Invite, InviteCode, RegistrationPolicy, RegistrationRefused, invite_uses,
    may_invite, may_register,
};
pub use message::{Body, ClientId, Message, Reaction, ReplyRef};
pub use otp::{
    OTP_DIGITS, OTP_MAX_ATTEMPTS, OtpCode, OtpPurpose, OtpState, OtpTarget, OtpVerdict, judge_otp,
    two_factor_needs_email,
};
pub use password::Password;
pub use policy::{Refusal, Role};
pub use reaction::Emoji;
pub use report::{Report, ReportDecision, ReportReason, ReportStatus, ReportTarget, may_moderate};
pub use search::{MAX_WORD_BYTES, search_words};
pub use user::{BanReason, GlobalRole, User, check_ban};
pub use username::Username;

/// Timestamps are UTC, truncated to whole milliseconds: what the API shows is what is stored.
pub type Timestamp = time::OffsetDateTime;

/// Truncates a timestamp to whole milliseconds, the precision the API and the stores keep.
pub fn to_millis(t: Timestamp) -> Timestamp {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

/// A timestamp as whole milliseconds since the Unix epoch: how both stores keep times, so a
/// move between them is exact.
pub fn unix_millis(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The inverse of [`unix_millis`]; `None` outside the representable range.
pub fn from_unix_millis(ms: i64) -> Option<Timestamp> {
    Timestamp::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// A trimmed label (names, aliases): 1–`max` characters, no control characters.
pub(crate) fn parse_label(raw: &str, field: &'static str, max: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if len > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if has_control_chars(trimmed) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// The accessors every validated string newtype has: the text, and a way back from storage
/// (where the value was validated on its way in).
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value read back from storage.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }
        }
    };
}
pub(crate) use string_newtype;

/// Rejects ASCII and Unicode control characters (NUL included) in user-visible text.
pub(crate) fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}
