//! The confab model and its rules.
//!
//! Everything here is pure: no async, no I/O, no wire formats. Validators are newtypes that parse
//! (`Username::parse(raw)`), and policy functions decide what a role may do. Both stores and every
//! transport call these same functions; nothing re-implements a rule elsewhere.
#![forbid(unsafe_code)]

mod country;
mod display_name;
mod email;
mod event;
mod group;
mod ids;
mod invalid;
mod message;
mod password;
pub mod policy;
mod user;
mod username;

pub use country::Country;
pub use display_name::DisplayName;
pub use email::Email;
pub use event::Event;
pub use group::{Alias, Closed, Group, GroupKind, GroupName, pair_key};
pub use ids::{GroupId, MessageId, SessionId, UserId};
pub use invalid::Invalid;
pub use message::{Body, ClientId, Message};
pub use password::Password;
pub use policy::{Refusal, Role};
pub use user::{GlobalRole, User};
pub use username::Username;

/// Timestamps are UTC, truncated to whole milliseconds: what the API shows is what is stored.
pub type Timestamp = time::OffsetDateTime;

/// Truncates a timestamp to whole milliseconds, the precision the API and the stores keep.
pub fn to_millis(t: Timestamp) -> Timestamp {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

/// Rejects ASCII and Unicode control characters (NUL included) in user-visible text.
pub(crate) fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}
