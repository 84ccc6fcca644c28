//! Reports: a user asks the server's admins to look at a message or at another user. What a
//! report names, how its reason reads, its status and which decisions an admin may take, and who
//! may read and decide reports. Pure rules: whether a report may be filed is decided in
//! `crate::decide` from what a store loaded; nothing here reads a clock or a database.

use crate::message::parse_text;
use crate::policy::Refusal;
use crate::{Invalid, MessageId, ReportId, Timestamp, UserId};

/// Why a user reports: trimmed, 1–[`ReportReason::MAX`] characters, with the rules of a message
/// body ([`crate::Body`]): line breaks and tabs kept, other control characters refused, a reason
/// of only white space or invisible characters empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportReason(String);

crate::string_newtype!(ReportReason);

impl ReportReason {
    /// Longest reason, in characters (Unicode scalar values), after trimming.
    pub const MAX: usize = 1000;

    /// Trims and checks a reason.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        parse_text(raw, "reason", Self::MAX).map(Self)
    }
}

/// Where a report stands: filed (`Open`), or decided by an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportStatus {
    Open,
    /// An admin acted on it.
    Resolved,
    /// An admin found nothing to act on.
    Dismissed,
}

impl ReportStatus {
    /// Every status, in the order they are listed to clients.
    pub const ALL: [ReportStatus; 3] = [
        ReportStatus::Open,
        ReportStatus::Resolved,
        ReportStatus::Dismissed,
    ];

    /// The name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Dismissed => "dismissed",
        }
    }

    /// Parses a status name (a filter of the list).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                Invalid::new("status", "must be \"open\", \"resolved\" or \"dismissed\"")
            })
    }
}

/// What an admin may decide about a report. There is no way back to `open`: a decided report
/// may only change to the other decision (an admin who dismissed too quickly resolves it after
/// all), so the list of open reports only ever shrinks by decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportDecision {
    Resolved,
    Dismissed,
}

impl ReportDecision {
    /// Parses a decision: `resolved` or `dismissed`; `open` and anything else are refused.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "resolved" => Ok(ReportDecision::Resolved),
            "dismissed" => Ok(ReportDecision::Dismissed),
            _ => Err(Invalid::new(
                "status",
                "must be \"resolved\" or \"dismissed\" (a decided report is never reopened)",
            )),
        }
    }

    /// The status a report has once decided so.
    pub fn status(self) -> ReportStatus {
        match self {
            ReportDecision::Resolved => ReportStatus::Resolved,
            ReportDecision::Dismissed => ReportStatus::Dismissed,
        }
    }
}

/// What a report names: exactly one message or one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTarget {
    Message(MessageId),
    User(UserId),
}

impl ReportTarget {
    /// The target of a report that gave `message_id` and `user_id` (each optional): exactly
    /// one of them, else a refusal naming `message_id`.
    pub fn of(message_id: Option<MessageId>, user_id: Option<UserId>) -> Result<Self, Invalid> {
        match (message_id, user_id) {
            (Some(message), None) => Ok(ReportTarget::Message(message)),
            (None, Some(user)) => Ok(ReportTarget::User(user)),
            (Some(_), Some(_)) => Err(Invalid::new(
                "message_id",
                "give either message_id or user_id, not both",
            )),
            (None, None) => Err(Invalid::new(
                "message_id",
                "give the message_id or the user_id of what you report",
            )),
        }
    }
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Time-ordered (UUID v7): the list pages by it.
    pub id: ReportId,
    pub reporter_id: UserId,
    /// The reported message; `None` for a user report, and once the message itself is gone
    /// (its group was deleted). A deleted message keeps its row, and so its id here.
    pub message_id: Option<MessageId>,
    /// The reported user: for a message report, the message's sender.
    pub user_id: UserId,
    pub reason: String,
    pub status: ReportStatus,
    pub created_at: Timestamp,
    /// The reported message's body when it was reported, kept whatever happens to the message
    /// since; `None` for a user report.
    pub message_body: Option<String>,
}

/// Whether a user may read and decide reports: only server admins, since a report may quote
/// a message of any group.
pub fn may_moderate(is_admin: bool) -> Result<(), Refusal> {
    if is_admin {
        Ok(())
    } else {
        Err(Refusal::Forbidden("only admins may read or decide reports"))
    }
}

#[cfg(test)]
mod tests;
