//! `Reports` on SQLite: a report's target is loaded, judged (`confab_domain::decide`) and the
//! report written in one writer transaction, so the membership seen and the body copied are
//! those of one moment. Never decides a rule itself.

use async_trait::async_trait;
use confab_domain::decide::{self, SeenMessage, StatusChange};
use confab_domain::{
    MessageId, Report, ReportDecision, ReportId, ReportStatus, ReportTarget, UserId,
};
use confab_ports::store::{NewReport, ReportPage, Reports, rows};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{Cols, driver, millis};

const COLUMNS: &str =
    "id, reporter_id, message_id, user_id, reason, status, created_at, message_body";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Report> {
    rows::report(&Cols(row)).map_err(driver)
}

/// The message as `reporter` may see it: `None` unless it exists and they are a member of its
/// group.
fn seen_message(
    conn: &Connection,
    reporter: UserId,
    id: MessageId,
) -> StoreResult<Option<SeenMessage>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.sender_id, m.body, m.deleted FROM messages m
               JOIN members b ON b.group_id = m.group_id AND b.user_id = ?2
              WHERE m.id = ?1",
        )?
        .query_row(params![id.to_string(), reporter.to_string()], |r| {
            Ok(SeenMessage {
                sender_id: UserId::from_uuid(crate::rows::uuid_at(r, 0)?),
                body: r.get(1)?,
                deleted: r.get(2)?,
            })
        })
        .optional()?)
}

fn user_exists(conn: &Connection, id: UserId) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)")?
        .query_row([id.to_string()], |r| r.get(0))?)
}

fn by_id(conn: &Connection, id: ReportId) -> StoreResult<Option<Report>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.to_string()], from_row)
        .optional()?)
}

fn create(conn: &Connection, r: &NewReport) -> StoreResult<Report> {
    let (message_id, reported) = match r.target {
        ReportTarget::Message(id) => (
            Some(id),
            decide::report_message(r.reporter_id, seen_message(conn, r.reporter_id, id)?),
        ),
        ReportTarget::User(id) => (
            None,
            decide::report_user(r.reporter_id, id, user_exists(conn, id)?),
        ),
    };
    let reported = reported.map_err(Error::from)?;
    conn.prepare_cached(
        "INSERT INTO reports
             (id, reporter_id, message_id, user_id, reason, status, created_at, message_body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        r.id.to_string(),
        r.reporter_id.to_string(),
        message_id.map(|m| m.to_string()),
        reported.user_id.to_string(),
        r.reason.as_str(),
        ReportStatus::Open.as_str(),
        millis(r.now),
        reported.message_body,
    ])?;
    by_id(conn, r.id)?
        .ok_or_else(|| Error::Internal("a report vanished as it was written".into()).into())
}

fn page(
    conn: &Connection,
    status: Option<ReportStatus>,
    before: Option<ReportId>,
    limit: u32,
) -> StoreResult<ReportPage> {
    // Hyphenated lower-case UUIDs sort as text in the order of their bytes, so `id < ?` is
    // "created before" for UUID v7. With a status, the `(status, id)` index serves the page.
    let filter = if status.is_some() {
        "status = ?3 AND"
    } else {
        "?3 IS NULL AND"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM reports WHERE {filter} (?1 IS NULL OR id < ?1)
          ORDER BY id DESC LIMIT ?2"
    );
    let read = conn
        .prepare_cached(&sql)?
        .query_map(
            params![
                before.map(|b| b.to_string()),
                ReportPage::to_read(limit),
                status.map(ReportStatus::as_str),
            ],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ReportPage::from_read(read, limit))
}

fn decide_status(conn: &Connection, id: ReportId, decision: ReportDecision) -> StoreResult<Report> {
    let report = by_id(conn, id)?.ok_or(Error::NotFound("report"))?;
    match decide::report_status(report.status, decision) {
        StatusChange::Unchanged => Ok(report),
        StatusChange::Set(status) => {
            conn.prepare_cached("UPDATE reports SET status = ?2 WHERE id = ?1")?
                .execute(params![id.to_string(), status.as_str()])?;
            Ok(Report { status, ..report })
        }
    }
}

#[async_trait]
impl Reports for SqliteStore {
    async fn create_report(&self, report: NewReport) -> Result<Report> {
        Ok(self.writer.write(move |conn| create(conn, &report)).await?)
    }

    async fn reports(
        &self,
        status: Option<ReportStatus>,
        before: Option<ReportId>,
        limit: u32,
    ) -> Result<ReportPage> {
        Ok(self
            .readers
            .read(move |conn| page(conn, status, before, limit))
            .await?)
    }

    async fn decide_report(&self, id: ReportId, decision: ReportDecision) -> Result<Report> {
        Ok(self
            .writer
            .write(move |conn| decide_status(conn, id, decision))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_columns_are_the_shared_ones() {
        assert_eq!(
            super::COLUMNS,
            confab_ports::store::rows::select_list("", confab_ports::store::rows::REPORT)
        );
    }
}
