use async_trait::async_trait;
use confab_domain::{
    Report, ReportDecision, ReportId, ReportReason, ReportStatus, ReportTarget, Timestamp, UserId,
};

use crate::Result;

/// A report to record.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub id: ReportId,
    pub reporter_id: UserId,
    pub target: ReportTarget,
    pub reason: ReportReason,
    pub now: Timestamp,
}

/// A page of reports, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPage {
    pub reports: Vec<Report>,
    /// Whether older reports (of the same status, when filtered) lie beyond this page.
    pub has_more: bool,
}

impl ReportPage {
    /// How many reports a store reads for a page of `limit`: one more, which only tells
    /// whether there is more.
    pub fn to_read(limit: u32) -> i64 {
        i64::from(limit) + 1
    }

    /// The page of `limit` from `read` (up to [`ReportPage::to_read`] reports, in page order).
    pub fn from_read(mut read: Vec<Report>, limit: u32) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_more = read.len() > limit;
        read.truncate(limit);
        Self {
            reports: read,
            has_more,
        }
    }
}

/// Reports of messages and users to the server's admins. Who may read and decide them is the
/// use case's to check (`confab_domain::may_moderate`); these methods trust their caller.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Reports: Send + Sync {
    /// Records an open report, in one transaction with loading its target and
    /// `confab_domain::decide::report_message` or `report_user` over what was loaded, and
    /// answers it as stored: `created_at = report.now` (to the millisecond), `status` open.
    /// A message report MUST name the message's sender as `user_id` and copy the message's
    /// body as it is at that moment into `message_body`, which MUST then stay as it was
    /// whatever becomes of the message (an edit, a delete, its group deleted: `message_id`
    /// becomes `None` when the message row goes, the copy stays). A user report has no
    /// `message_body`.
    ///
    /// MUST answer, writing nothing:
    /// - `Error::NotFound("message")` when the message does not exist or the reporter is not
    ///   a member of its group (never telling the two apart);
    /// - `Error::Gone` when the message is deleted;
    /// - `Error::Invalid` (`message_id`) for the reporter's own message;
    /// - `Error::NotFound("user")` when the reported user does not exist;
    /// - `Error::Invalid` (`user_id`) when reporters report themselves.
    async fn create_report(&self, report: NewReport) -> Result<Report>;

    /// MUST answer up to `limit` reports with an id below `before` (all when `None`) and, when
    /// `status` is given, of that status only, highest id first (ids are UUID v7: newest
    /// first), compared as the UUIDs' bytes. `before` need not name a stored report. `has_more`
    /// MUST be `true` exactly when such reports remain beyond the page, so that paging with
    /// the last id as `before` lists each report once.
    async fn reports(
        &self,
        status: Option<ReportStatus>,
        before: Option<ReportId>,
        limit: u32,
    ) -> Result<ReportPage>;

    /// Applies an admin's decision to report `id`, in one transaction with reading its status
    /// and `confab_domain::decide::report_status` over it, and answers the report as it is
    /// then: a decided report MAY change to the other decision; the same decision again
    /// changes nothing. Nothing but the status changes. MUST answer
    /// `Error::NotFound("report")` for an id that names no report.
    async fn decide_report(&self, id: ReportId, decision: ReportDecision) -> Result<Report>;
}
