//! `Announcements` on SQLite: the admin check and the insert in one writer transaction.

use async_trait::async_trait;
use confab_domain::{Announcement, AnnouncementId, may_announce};
use confab_ports::store::{AnnouncementPage, Announcements, NewAnnouncement};
use confab_ports::{AuthFailure, Error, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::error::StoreResult;
use crate::rows::{Cols, driver, millis};
use confab_ports::store::rows;

const COLUMNS: &str = "id, sender_id, body, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Announcement> {
    rows::announcement(&Cols(row)).map_err(driver)
}

fn create(conn: &Connection, a: &NewAnnouncement) -> StoreResult<Announcement> {
    // Read in the write transaction: a role revoked since the request was authenticated counts.
    let is_admin: bool = conn
        .prepare_cached("SELECT is_admin FROM users WHERE id = ?1")?
        .query_row([a.sender_id.to_string()], |r| r.get(0))
        .optional()?
        .ok_or(Error::Unauthorized(AuthFailure::InvalidToken))?;
    may_announce(is_admin).map_err(Error::from)?;
    conn.prepare_cached(
        "INSERT INTO announcements (id, sender_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        a.id.to_string(),
        a.sender_id.to_string(),
        a.body.as_str(),
        millis(a.now),
    ])?;
    let sql = format!("SELECT {COLUMNS} FROM announcements WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([a.id.to_string()], from_row)?)
}

fn page(
    conn: &Connection,
    before: Option<AnnouncementId>,
    limit: u32,
) -> StoreResult<AnnouncementPage> {
    // Hyphenated lower-case UUIDs sort as text in the order of their bytes, so `id < ?`
    // is "created before" for UUID v7.
    let sql = format!(
        "SELECT {COLUMNS} FROM announcements WHERE (?1 IS NULL OR id < ?1)
          ORDER BY id DESC LIMIT ?2"
    );
    // One more than asked tells whether there is more.
    let mut announcements = conn
        .prepare_cached(&sql)?
        .query_map(
            params![before.map(|b| b.to_string()), i64::from(limit) + 1],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let has_more = announcements.len() > limit as usize;
    announcements.truncate(limit as usize);
    Ok(AnnouncementPage {
        announcements,
        has_more,
    })
}

#[async_trait]
impl Announcements for SqliteStore {
    async fn create_announcement(&self, announcement: NewAnnouncement) -> Result<Announcement> {
        Ok(self
            .writer
            .write(move |conn| create(conn, &announcement))
            .await?)
    }

    async fn announcements(
        &self,
        before: Option<AnnouncementId>,
        limit: u32,
    ) -> Result<AnnouncementPage> {
        Ok(self
            .readers
            .read(move |conn| page(conn, before, limit))
            .await?)
    }
}
