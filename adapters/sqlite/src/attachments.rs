//! `Attachments` on SQLite, and the attachment rows of messages: loading a page's attachments
//! (one query per page), giving uploads to a new message and taking them away with a deleted
//! one. Who may upload, the quota and which uploads a message may carry are decided by
//! `confab_domain`; this module only loads what those rules need and applies their answers.
//! It never touches the bytes (see `blobs.rs`).

use std::collections::HashMap;

use async_trait::async_trait;
use confab_domain::attachment::check_quota;
use confab_domain::{Attachment, AttachmentId, GroupId, Message, MessageId, Timestamp, UserId};
use confab_ports::images::Thumbnail;
use confab_ports::store::rows;
use confab_ports::store::{Attachments, NewAttachment};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::chat_rows::standing;
use crate::error::{StoreError, StoreResult};
use crate::rows::{Cols, driver, millis, uuid_at};

/// The columns `attachment_from_row` expects, in order.
pub(crate) const ATTACHMENT_COLUMNS: &str = "id, group_id, uploader_id, message_id, name, \
     content_type, size, sha256, width, height, created_at";

/// Who may see an attachment (`?2` is the user): a member of its group, once a message carries
/// it; before, its uploader alone. Anyone else finds nothing, as for an id that does not exist.
const VISIBLE: &str = "EXISTS (SELECT 1 FROM members m WHERE m.group_id = attachments.group_id
                                AND m.user_id = ?2)
       AND (message_id IS NOT NULL OR uploader_id = ?2)";

fn attachment_from_row(row: &Row<'_>) -> rusqlite::Result<Attachment> {
    rows::attachment(&Cols(row), 0).map_err(driver)
}

/// Ids as one JSON array, for `IN (SELECT value FROM json_each(?))`: one cached statement
/// whatever their number. UUIDs need no escaping.
pub(crate) fn json_ids<T: std::fmt::Display>(ids: impl IntoIterator<Item = T>) -> String {
    let quoted: Vec<String> = ids.into_iter().map(|id| format!("\"{id}\"")).collect();
    format!("[{}]", quoted.join(","))
}

fn as_i64(n: u64) -> StoreResult<i64> {
    i64::try_from(n).map_err(|_| StoreError::Internal(format!("{n} does not fit a column")))
}

/// The attachments of `ids` that exist, in no particular order.
pub(crate) fn by_ids(conn: &Connection, ids: &[AttachmentId]) -> StoreResult<Vec<Attachment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments
          WHERE id IN (SELECT value FROM json_each(?1))"
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_map([json_ids(ids)], attachment_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(found)
}

/// Gives `ids` to `message`, in that order. The caller has checked them
/// (`check_attachable`).
pub(crate) fn give(conn: &Connection, message: MessageId, ids: &[AttachmentId]) -> StoreResult<()> {
    let mut stmt =
        conn.prepare_cached("UPDATE attachments SET message_id = ?1, position = ?2 WHERE id = ?3")?;
    for (position, id) in (0i64..).zip(ids) {
        stmt.execute(params![message.to_string(), position, id.to_string()])?;
    }
    Ok(())
}

/// Removes the attachments of `message`; answers their ids.
pub(crate) fn take_away(conn: &Connection, message: MessageId) -> StoreResult<Vec<AttachmentId>> {
    let freed = conn
        .prepare_cached("DELETE FROM attachments WHERE message_id = ?1 RETURNING id")?
        .query_map([message.to_string()], |r| {
            uuid_at(r, 0).map(AttachmentId::from_uuid)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(freed)
}

/// Fills the `attachments` of `messages`, each in the order sent, with one query for all.
pub(crate) fn fill(conn: &Connection, messages: &mut [Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments
          WHERE message_id IN (SELECT value FROM json_each(?1))
          ORDER BY message_id, position"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let found = stmt.query_map(
        [json_ids(messages.iter().map(|m| m.id))],
        attachment_from_row,
    )?;
    let mut by_message: HashMap<MessageId, Vec<Attachment>> = HashMap::new();
    for attachment in found {
        let attachment = attachment?;
        if let Some(message) = attachment.message_id {
            by_message.entry(message).or_default().push(attachment);
        }
    }
    for message in messages {
        message.attachments = by_message.remove(&message.id).unwrap_or_default();
    }
    Ok(())
}

/// The bytes `user`'s attachments take, once `user` is known to be allowed to upload to
/// `group` at `now` (a member of a group still open).
fn may_upload(conn: &Connection, user: UserId, group: GroupId, now: Timestamp) -> StoreResult<u64> {
    let s = standing(conn, user, group)?;
    s.group.check_writable(now).map_err(Error::from)?;
    let used: i64 = conn
        .prepare_cached("SELECT coalesce(sum(size), 0) FROM attachments WHERE uploader_id = ?1")?
        .query_row([user.to_string()], |r| r.get(0))?;
    Ok(u64::try_from(used).unwrap_or(0))
}

fn insert(
    conn: &Connection,
    new: &NewAttachment,
    quota: u64,
    now: Timestamp,
) -> StoreResult<Attachment> {
    let a = &new.attachment;
    let used = may_upload(conn, a.uploader_id, a.group_id, now)?;
    check_quota(used, a.size, quota).map_err(Error::from)?;
    let sql = format!(
        "INSERT INTO attachments (id, group_id, uploader_id, name, content_type, size, sha256,
                                  width, height, created_at, thumbnail, thumbnail_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         RETURNING {ATTACHMENT_COLUMNS}"
    );
    let thumbnail = new.thumbnail.as_ref();
    Ok(conn.prepare_cached(&sql)?.query_row(
        params![
            a.id.to_string(),
            a.group_id.to_string(),
            a.uploader_id.to_string(),
            a.name.as_str(),
            a.content_type.as_str(),
            as_i64(a.size)?,
            a.sha256,
            a.width,
            a.height,
            millis(now),
            thumbnail.map(|t| t.bytes.as_slice()),
            thumbnail.map(|t| t.content_type.as_str()),
        ],
        attachment_from_row,
    )?)
}

fn visible(conn: &Connection, user: UserId, id: AttachmentId) -> StoreResult<Attachment> {
    let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?1 AND {VISIBLE}");
    conn.prepare_cached(&sql)?
        .query_row(
            params![id.to_string(), user.to_string()],
            attachment_from_row,
        )
        .optional()?
        .ok_or_else(|| Error::NotFound("attachment").into())
}

fn thumbnail(conn: &Connection, user: UserId, id: AttachmentId) -> StoreResult<Thumbnail> {
    let sql = format!(
        "SELECT thumbnail_type, thumbnail FROM attachments
          WHERE id = ?1 AND thumbnail IS NOT NULL AND {VISIBLE}"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![id.to_string(), user.to_string()], |r| {
            Ok(Thumbnail {
                content_type: r.get(0)?,
                bytes: r.get(1)?,
            })
        })
        .optional()?
        .ok_or_else(|| Error::NotFound("attachment").into())
}

fn sweep(conn: &Connection, created_before: Timestamp) -> StoreResult<Vec<AttachmentId>> {
    let swept = conn
        .prepare_cached(
            // Without statistics the planner would scan every unused row by `message_id`.
            "DELETE FROM attachments INDEXED BY attachments_unused
              WHERE message_id IS NULL AND created_at < ?1 RETURNING id",
        )?
        .query_map([millis(created_before)], |r| {
            uuid_at(r, 0).map(AttachmentId::from_uuid)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(swept)
}

fn recorded(conn: &Connection, ids: &[AttachmentId]) -> StoreResult<Vec<AttachmentId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = conn
        .prepare_cached("SELECT id FROM attachments WHERE id IN (SELECT value FROM json_each(?1))")?
        .query_map([json_ids(ids)], |r| {
            uuid_at(r, 0).map(AttachmentId::from_uuid)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(found)
}

#[async_trait]
impl Attachments for SqliteStore {
    async fn uploaded_bytes(&self, user: UserId, group: GroupId, now: Timestamp) -> Result<u64> {
        Ok(self
            .readers
            .read(move |conn| may_upload(conn, user, group, now))
            .await?)
    }

    async fn insert_attachment(
        &self,
        new: NewAttachment,
        quota: u64,
        now: Timestamp,
    ) -> Result<Attachment> {
        // On the one writer, the quota's sum and the insert are one serial step: two uploads
        // cannot both pass a quota only one fits. It refuses before it writes.
        Ok(self
            .writer
            .write_decided(move |conn| insert(conn, &new, quota, now))
            .await?)
    }

    async fn attachment(&self, user: UserId, id: AttachmentId) -> Result<Attachment> {
        Ok(self
            .readers
            .read(move |conn| visible(conn, user, id))
            .await?)
    }

    async fn thumbnail(&self, user: UserId, id: AttachmentId) -> Result<Thumbnail> {
        Ok(self
            .readers
            .read(move |conn| thumbnail(conn, user, id))
            .await?)
    }

    async fn sweep_unused(&self, created_before: Timestamp) -> Result<Vec<AttachmentId>> {
        Ok(self
            .writer
            .write(move |conn| sweep(conn, created_before))
            .await?)
    }

    async fn recorded(&self, ids: Vec<AttachmentId>) -> Result<Vec<AttachmentId>> {
        Ok(self.readers.read(move |conn| recorded(conn, &ids)).await?)
    }
}

#[cfg(test)]
mod tests {
    use confab_ports::store::rows::{ATTACHMENT, select_list};

    #[test]
    fn the_column_list_is_the_shared_one() {
        assert_eq!(super::ATTACHMENT_COLUMNS, select_list("", ATTACHMENT));
    }

    #[test]
    fn ids_become_a_json_array() {
        assert_eq!(super::json_ids(["a", "b"]), r#"["a","b"]"#);
        assert_eq!(super::json_ids(Vec::<String>::new()), "[]");
    }
}
