//! The store, split by aggregate. Each method is one atomic operation shaped like its use case:
//! the adapter opens one transaction, loads what the rule needs, writes and commits. A method
//! that answers `Ok` for a write MUST have made it durable first.
//!
//! Every method MAY return `Error::Unavailable` when the database cannot be reached.

mod announcements;
mod attachments;
mod blocks;
mod circles;
mod groups;
mod health;
mod invites;
mod messages;
mod otp;
mod pool;
mod reports;
pub mod rows;
mod sessions;
mod transfer;
mod users;

/// The migrations a database at schema `current` still needs, of the `known` this build has
/// (numbered from 1): both stores refuse a database written by a newer confab rather than guess
/// at a schema they do not know.
pub fn pending_migrations(
    current: i64,
    known: usize,
) -> std::result::Result<std::ops::RangeInclusive<i64>, String> {
    let known = i64::try_from(known).unwrap_or(i64::MAX);
    if current > known {
        return Err(format!(
            "its schema version {current} is newer than this confab knows ({known}); upgrade confab"
        ));
    }
    Ok(current.max(0) + 1..=known)
}

pub use announcements::{AnnouncementPage, Announcements, NewAnnouncement};
pub use attachments::{Attachments, NewAttachment};
pub use blocks::{Blocked, Blocks};
pub use circles::Circles;
pub use groups::{
    Closing, GroupView, Groups, Member, MyMembership, NewGroup, Removal, RoleChanged,
};
pub use health::Health;
pub use invites::Invites;
pub use messages::{Appended, Changed, Cursor, Messages, NewMessage, Page};
pub use otp::{NewOtp, OneTimeCodes};
pub use pool::{Joined, MatchPool, PoolJoin, Swept};
pub use reports::{NewReport, ReportPage, Reports};
pub use sessions::{NewSession, Principal, Rotation, Sessions};
pub use transfer::{Column, Kind, NOT_COPIED, Row, TABLES, Table, TableLayout, Transfer, Value};
pub use users::{Credentials, NewUser, ProfileChange, Users};

#[cfg(test)]
pub use announcements::MockAnnouncements;
#[cfg(test)]
pub use attachments::MockAttachments;
#[cfg(test)]
pub use blocks::MockBlocks;
#[cfg(test)]
pub use circles::MockCircles;
#[cfg(test)]
pub use groups::MockGroups;
#[cfg(test)]
pub use health::MockHealth;
#[cfg(test)]
pub use invites::MockInvites;
#[cfg(test)]
pub use messages::MockMessages;
#[cfg(test)]
pub use otp::MockOneTimeCodes;
#[cfg(test)]
pub use pool::MockMatchPool;
#[cfg(test)]
pub use reports::MockReports;
#[cfg(test)]
pub use sessions::MockSessions;
#[cfg(test)]
pub use transfer::MockTransfer;
#[cfg(test)]
pub use users::MockUsers;

#[cfg(test)]
mod tests {
    use super::pending_migrations;

    #[test]
    fn pending_migrations_are_those_after_the_current_schema_and_a_newer_one_is_refused() {
        assert_eq!(pending_migrations(0, 6), Ok(1..=6));
        assert_eq!(pending_migrations(4, 6), Ok(5..=6));
        assert!(pending_migrations(6, 6).unwrap().is_empty());
        let refused = pending_migrations(7, 6).unwrap_err();
        assert!(refused.contains("newer") && refused.contains("upgrade confab"));
    }
}
