//! `Announcements` on PostgreSQL: the sender's row is share-locked while the admin check and
//! the insert run, so a concurrent revoke waits for (or precedes) the announcement.

use async_trait::async_trait;
use confab_domain::{Announcement, AnnouncementId, may_announce};
use confab_ports::store::{AnnouncementPage, Announcements, NewAnnouncement};
use confab_ports::{AuthFailure, Error, Result};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::PgStore;
use crate::error::StoreResult;
use crate::rows::{Cols, driver, millis};
use confab_ports::store::rows;

const COLUMNS: &str = "id, sender_id, body, created_at";

fn from_row(row: &PgRow) -> sqlx::Result<Announcement> {
    rows::announcement(&Cols(row)).map_err(driver)
}

async fn create(conn: &mut PgConnection, a: &NewAnnouncement) -> StoreResult<Announcement> {
    let is_admin: bool = sqlx::query_scalar("SELECT is_admin FROM users WHERE id = $1 FOR SHARE")
        .bind(a.sender_id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::Unauthorized(AuthFailure::InvalidToken))?;
    may_announce(is_admin).map_err(Error::from)?;
    let sql = format!(
        "INSERT INTO announcements (id, sender_id, body, created_at) VALUES ($1, $2, $3, $4)
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(a.id.as_uuid())
        .bind(a.sender_id.as_uuid())
        .bind(a.body.as_str())
        .bind(millis(a.now))
        .fetch_one(&mut *conn)
        .await?;
    Ok(from_row(&row)?)
}

async fn page(
    conn: &mut PgConnection,
    before: Option<AnnouncementId>,
    limit: u32,
) -> StoreResult<AnnouncementPage> {
    let sql = format!(
        "SELECT {COLUMNS} FROM announcements WHERE ($1::uuid IS NULL OR id < $1)
          ORDER BY id DESC LIMIT $2"
    );
    // One more than asked tells whether there is more.
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(before.map(|b| b.as_uuid()))
        .bind(i64::from(limit) + 1)
        .fetch_all(conn)
        .await?;
    let mut announcements = rows
        .iter()
        .map(from_row)
        .collect::<sqlx::Result<Vec<_>>>()?;
    let has_more = announcements.len() > limit as usize;
    announcements.truncate(limit as usize);
    Ok(AnnouncementPage {
        announcements,
        has_more,
    })
}

#[async_trait]
impl Announcements for PgStore {
    async fn create_announcement(&self, announcement: NewAnnouncement) -> Result<Announcement> {
        in_tx!(self, |tx| create(&mut tx, &announcement))
    }

    async fn announcements(
        &self,
        before: Option<AnnouncementId>,
        limit: u32,
    ) -> Result<AnnouncementPage> {
        self.run(async { page(&mut *self.conn().await?, before, limit).await })
            .await
    }
}
