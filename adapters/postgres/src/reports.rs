//! `Reports` on PostgreSQL: a report's target is loaded, judged (`confab_domain::decide`) and the
//! report written in one transaction. The reported message's row and the reporter's member
//! row are share-locked meanwhile, so an edit, a delete or the reporter's removal waits for
//! (or precedes) the report: the body copied and the membership seen are those of one moment.
//! Never decides a rule itself.

use async_trait::async_trait;
use confab_domain::decide::{self, SeenMessage, StatusChange};
use confab_domain::{
    MessageId, Report, ReportDecision, ReportId, ReportStatus, ReportTarget, UserId,
};
use confab_ports::store::{NewReport, ReportPage, Reports, rows};
use confab_ports::{Error, Result};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use crate::PgStore;
use crate::error::StoreResult;
use crate::rows::{Cols, driver, millis};

const COLUMNS: &str =
    "id, reporter_id, message_id, user_id, reason, status, created_at, message_body";

fn from_row(row: &PgRow) -> sqlx::Result<Report> {
    rows::report(&Cols(row)).map_err(driver)
}

/// The message as `reporter` may see it: `None` unless it exists and they are a member of its
/// group.
async fn seen_message(
    conn: &mut PgConnection,
    reporter: UserId,
    id: MessageId,
) -> StoreResult<Option<SeenMessage>> {
    let row = sqlx::query(
        "SELECT m.sender_id, m.body, m.deleted FROM messages m
           JOIN members b ON b.group_id = m.group_id AND b.user_id = $2
          WHERE m.id = $1
            FOR SHARE OF m, b",
    )
    .bind(id.as_uuid())
    .bind(reporter.as_uuid())
    .fetch_optional(conn)
    .await?;
    Ok(row
        .map(|r| -> sqlx::Result<SeenMessage> {
            Ok(SeenMessage {
                sender_id: UserId::from_uuid(r.try_get(0)?),
                body: r.try_get(1)?,
                deleted: r.try_get(2)?,
            })
        })
        .transpose()?)
}

async fn user_exists(conn: &mut PgConnection, id: UserId) -> StoreResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
            .bind(id.as_uuid())
            .fetch_one(conn)
            .await?,
    )
}

async fn create(conn: &mut PgConnection, r: &NewReport) -> StoreResult<Report> {
    let (message_id, reported) = match r.target {
        ReportTarget::Message(id) => {
            let seen = seen_message(&mut *conn, r.reporter_id, id).await?;
            (Some(id), decide::report_message(r.reporter_id, seen))
        }
        ReportTarget::User(id) => {
            let exists = user_exists(&mut *conn, id).await?;
            (None, decide::report_user(r.reporter_id, id, exists))
        }
    };
    let reported = reported.map_err(Error::from)?;
    let sql = format!(
        "INSERT INTO reports
             (id, reporter_id, message_id, user_id, reason, status, created_at, message_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(r.id.as_uuid())
        .bind(r.reporter_id.as_uuid())
        .bind(message_id.map(|m| m.as_uuid()))
        .bind(reported.user_id.as_uuid())
        .bind(r.reason.as_str())
        .bind(ReportStatus::Open.as_str())
        .bind(millis(r.now))
        .bind(reported.message_body)
        .fetch_one(&mut *conn)
        .await?;
    Ok(from_row(&row)?)
}

async fn page(
    conn: &mut PgConnection,
    status: Option<ReportStatus>,
    before: Option<ReportId>,
    limit: u32,
) -> StoreResult<ReportPage> {
    // Two statements rather than `$3 IS NULL OR status = $3`, so the plan of each may use its
    // index: `(status, id)` with a status, the primary key without.
    let filter = if status.is_some() {
        "status = $3 AND"
    } else {
        "$3::text IS NULL AND"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM reports WHERE {filter} ($1::uuid IS NULL OR id < $1)
          ORDER BY id DESC LIMIT $2"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(before.map(|b| b.as_uuid()))
        .bind(ReportPage::to_read(limit))
        .bind(status.map(ReportStatus::as_str))
        .fetch_all(conn)
        .await?;
    let read = rows
        .iter()
        .map(from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(ReportPage::from_read(read, limit))
}

async fn decide_status(
    conn: &mut PgConnection,
    id: ReportId,
    decision: ReportDecision,
) -> StoreResult<Report> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = $1 FOR UPDATE");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("report"))?;
    let report = from_row(&row)?;
    match decide::report_status(report.status, decision) {
        StatusChange::Unchanged => Ok(report),
        StatusChange::Set(status) => {
            sqlx::query("UPDATE reports SET status = $2 WHERE id = $1")
                .bind(id.as_uuid())
                .bind(status.as_str())
                .execute(&mut *conn)
                .await?;
            Ok(Report { status, ..report })
        }
    }
}

#[async_trait]
impl Reports for PgStore {
    async fn create_report(&self, report: NewReport) -> Result<Report> {
        in_tx!(self, |tx| create(&mut tx, &report))
    }

    async fn reports(
        &self,
        status: Option<ReportStatus>,
        before: Option<ReportId>,
        limit: u32,
    ) -> Result<ReportPage> {
        self.run(async { page(&mut *self.conn().await?, status, before, limit).await })
            .await
    }

    async fn decide_report(&self, id: ReportId, decision: ReportDecision) -> Result<Report> {
        in_tx!(self, |tx| decide_status(&mut tx, id, decision))
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
