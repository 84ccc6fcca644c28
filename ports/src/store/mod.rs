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
mod migrations;
mod otp;
mod pool;
mod reports;
pub mod rows;
mod sessions;
mod transfer;
mod users;

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
pub use migrations::{Migration, check_applied, pending_migrations};
pub use otp::{NewOtp, OneTimeCodes};
pub use pool::{Joined, MatchPool, PoolJoin, Swept};
pub use reports::{NewReport, ReportPage, Reports};
pub use sessions::{NewSession, Principal, Rotation, Sessions};
pub use transfer::{Column, Kind, NOT_COPIED, Row, TABLES, Table, TableLayout, Transfer, Value};
pub use users::{Credentials, Erasure, NewUser, ProfileChange, Users};

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
