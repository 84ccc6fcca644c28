//! Reports: any user reports a message of one of their groups, or another user; server admins
//! list them (by status, newest first) and decide them, over the API or `confab reports`.
//! Never shows a report to anyone but an admin: a non-admin learns 403 and nothing more, before
//! anything they sent is looked at.

use std::collections::HashMap;

use confab_domain::{
    MessageId, Report, ReportDecision, ReportId, ReportReason, ReportStatus, ReportTarget, UserId,
    Username, may_moderate,
};

use crate::Result;
use crate::rate_limit::Bucket;
use crate::service::{Conversations, page_limit};
use crate::store::{NewReport, Principal, ReportPage};

/// Default and largest page of reports (as for announcements).
pub const REPORTS_DEFAULT: u32 = 50;
pub const REPORTS_MAX: u32 = 100;

/// A report as a transport read it, before any rule is checked.
#[derive(Debug, Clone, Default)]
pub struct ReportDraft {
    pub message_id: Option<MessageId>,
    pub user_id: Option<UserId>,
    pub reason: String,
}

/// A report with the names of the two users it is about, for an operator's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub report: Report,
    /// `None` only if the account is not found (accounts are never deleted today).
    pub reporter: Option<Username>,
    pub reported: Option<Username>,
}

impl Conversations {
    /// Files a report by the caller. Counts against the caller's report budget
    /// ([`Bucket::Reports`]) once its input is valid; a report the store refuses (an unknown
    /// or unseen message, a deleted one, oneself) is given back, so only recorded reports
    /// count.
    pub async fn report(&self, caller: &Principal, draft: ReportDraft) -> Result<Report> {
        let target = ReportTarget::of(draft.message_id, draft.user_id)?;
        let reason = ReportReason::parse(&draft.reason)?;
        let key = caller.user_id.to_string();
        self.ports.limiter.hit(Bucket::Reports, &key).await?;
        let made = self
            .ports
            .reports
            .create_report(NewReport {
                id: ReportId::new(),
                reporter_id: caller.user_id,
                target,
                reason,
                now: self.ports.clock.now(),
            })
            .await;
        if made.is_err() {
            self.ports.limiter.refund(Bucket::Reports, &key).await;
        }
        made
    }

    /// A page of reports, newest first: those older than `before` when given, of `status`
    /// when given (all otherwise). Server admins only, checked before the query.
    pub async fn reports(
        &self,
        caller: &Principal,
        status: Option<&str>,
        before: Option<ReportId>,
        limit: Option<i64>,
    ) -> Result<ReportPage> {
        may_moderate(caller.is_admin)?;
        let status = status.map(ReportStatus::parse).transpose()?;
        let limit = page_limit(limit, REPORTS_DEFAULT, REPORTS_MAX)?;
        self.ports.reports.reports(status, before, limit).await
    }

    /// Decides report `id` (`status`: `resolved` or `dismissed`). Server admins only, checked
    /// before the decision is read.
    pub async fn decide_report(
        &self,
        caller: &Principal,
        id: ReportId,
        status: &str,
    ) -> Result<Report> {
        may_moderate(caller.is_admin)?;
        let decision = ReportDecision::parse(status)?;
        self.ports.reports.decide_report(id, decision).await
    }

    /// Up to `limit` reports (of `status`, all when `None`), newest first, with the usernames
    /// of reporter and reported: the operator's listing (`confab reports`), which runs with
    /// the database's authority, not a caller's.
    pub async fn admin_reports(
        &self,
        status: Option<ReportStatus>,
        limit: usize,
    ) -> Result<Vec<ReportLine>> {
        let mut reports: Vec<Report> = Vec::new();
        let mut before = None;
        while reports.len() < limit {
            let want =
                u32::try_from(limit - reports.len()).map_or(REPORTS_MAX, |n| n.min(REPORTS_MAX));
            let page = self.ports.reports.reports(status, before, want).await?;
            before = page.reports.last().map(|r| r.id);
            reports.extend(page.reports);
            if !page.has_more || before.is_none() {
                break;
            }
        }
        let mut names: HashMap<UserId, Option<Username>> = HashMap::new();
        let mut lines = Vec::with_capacity(reports.len());
        for report in reports {
            let reporter = self.username(&mut names, report.reporter_id).await?;
            let reported = self.username(&mut names, report.user_id).await?;
            lines.push(ReportLine {
                report,
                reporter,
                reported,
            });
        }
        Ok(lines)
    }

    /// The username of `id`, asked of the store once per listing.
    async fn username(
        &self,
        names: &mut HashMap<UserId, Option<Username>>,
        id: UserId,
    ) -> Result<Option<Username>> {
        if let Some(known) = names.get(&id) {
            return Ok(known.clone());
        }
        let name = self.ports.users.user_by_id(id).await?.map(|u| u.username);
        names.insert(id, name.clone());
        Ok(name)
    }
}
