//! `Attachments` on PostgreSQL, and what the message operations need of attachment rows: the
//! uploads an append asks for (locked in its transaction), a page's attachments read in one
//! query, a deleted message's removed.
//!
//! It never decides a rule itself: who may upload is `Group::check_writable` over the caller's
//! membership, the quota `confab_domain::attachment::check_quota`, what a message may carry
//! `check_attachable` (asked by `appender`). The quota holds under races because one uploader's
//! inserts are serialised on their `users` row before the sum is read.

use std::collections::HashMap;

use async_trait::async_trait;
use confab_domain::attachment::check_quota;
use confab_domain::{Attachment, AttachmentId, GroupId, Message, MessageId, Timestamp, UserId};
use confab_ports::images::Thumbnail;
use confab_ports::store::{Attachments, NewAttachment, NewMessage};
use confab_ports::{Error, Result};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use uuid::Uuid;

use crate::PgStore;
use crate::chat_rows::standing;
use crate::error::{StoreError, StoreResult};
use crate::rows::{Cols, as_i64, driver, millis};
use confab_ports::store::rows;

/// The columns `from_row` expects, in order (`rows::ATTACHMENT` of `attachments a`).
const COLUMNS: &str = "a.id, a.group_id, a.uploader_id, a.message_id, a.name, a.content_type, \
     a.size, a.sha256, a.width, a.height, a.created_at";

fn from_row(row: &PgRow) -> sqlx::Result<Attachment> {
    rows::attachment(&Cols(row), 0).map_err(driver)
}

/// Who may see an attachment (`$1` the user): a member of its group, and only its uploader
/// while no message carries it.
const VISIBLE: &str = "FROM attachments a
      JOIN members mb ON mb.group_id = a.group_id AND mb.user_id = $1
     WHERE a.id = $2 AND (a.message_id IS NOT NULL OR a.uploader_id = $1)";

/// The attachments of `messages`, each message's in position order: one query for a page.
pub(crate) async fn of_messages(
    conn: &mut PgConnection,
    messages: &[MessageId],
) -> StoreResult<HashMap<MessageId, Vec<Attachment>>> {
    let mut by_message: HashMap<MessageId, Vec<Attachment>> = HashMap::new();
    if messages.is_empty() {
        return Ok(by_message);
    }
    let ids: Vec<Uuid> = messages.iter().map(|m| m.as_uuid()).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments a WHERE a.message_id = ANY($1)
          ORDER BY a.message_id, a.position"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(conn)
        .await?;
    for row in &rows {
        let a = from_row(row)?;
        if let Some(message) = a.message_id {
            by_message.entry(message).or_default().push(a);
        }
    }
    Ok(by_message)
}

/// Fills in each message's attachments (see [`of_messages`]).
pub(crate) async fn fill(conn: &mut PgConnection, messages: &mut [Message]) -> StoreResult<()> {
    let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
    let mut by_message = of_messages(conn, &ids).await?;
    for m in messages {
        m.attachments = by_message.remove(&m.id).unwrap_or_default();
    }
    Ok(())
}

/// The stored uploads a batch of appends names, locked until the transaction ends (in id
/// order, so batches never wait for each other in a cycle): a sweep or another append cannot
/// take one between the check and the write, and one waiting for us sees it taken.
pub(crate) async fn lock_requested(
    conn: &mut PgConnection,
    batch: &[NewMessage],
) -> StoreResult<HashMap<AttachmentId, Attachment>> {
    let mut ids: Vec<Uuid> = batch
        .iter()
        .flat_map(|m| m.attachment_ids.iter().map(|a| a.as_uuid()))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort_unstable();
    ids.dedup();
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments a WHERE a.id = ANY($1) ORDER BY a.id
            FOR NO KEY UPDATE"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            let a = from_row(row)?;
            Ok((a.id, a))
        })
        .collect()
}

/// Removes a message's attachments (it is being deleted) and answers their ids, in the order
/// the message listed them.
pub(crate) async fn remove_of_message(
    conn: &mut PgConnection,
    message: MessageId,
) -> StoreResult<Vec<AttachmentId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM attachments WHERE message_id = $1 RETURNING id, position)
         SELECT id FROM gone ORDER BY position",
    )
    .bind(message.as_uuid())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(AttachmentId::from_uuid).collect())
}

/// Checks that `user` may upload to `group` at `now`: a member (else `NotFound("group")`) of a
/// group still open (else `Gone`).
async fn check_may_upload(
    conn: &mut PgConnection,
    user: UserId,
    group: GroupId,
    now: Timestamp,
) -> StoreResult<()> {
    let s = standing(conn, user, group).await?;
    s.group.check_writable(now).map_err(Error::from)?;
    Ok(())
}

/// The bytes `user`'s attachments take.
async fn used_bytes(conn: &mut PgConnection, user: UserId) -> StoreResult<u64> {
    let used: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(size), 0)::bigint FROM attachments WHERE uploader_id = $1",
    )
    .bind(user.as_uuid())
    .fetch_one(conn)
    .await?;
    u64::try_from(used).map_err(|_| StoreError::Internal("a negative size".into()))
}

async fn insert(
    conn: &mut PgConnection,
    new: NewAttachment,
    quota: u64,
    now: Timestamp,
) -> StoreResult<Attachment> {
    let mut a = new.attachment;
    a.created_at = now;
    a.message_id = None;
    // Serialises this uploader's inserts (here and on other instances): the sum below counts
    // every one committed before, and none can commit before this one does. NO KEY UPDATE
    // leaves the foreign-key checks of their messages free to run meanwhile.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind(a.uploader_id.as_uuid())
        .execute(&mut *conn)
        .await?;
    check_may_upload(conn, a.uploader_id, a.group_id, now).await?;
    let used = used_bytes(conn, a.uploader_id).await?;
    check_quota(used, a.size, quota).map_err(Error::from)?;
    let (thumbnail, thumbnail_type) = match new.thumbnail {
        Some(t) => (Some(t.bytes), Some(t.content_type)),
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO attachments (id, group_id, uploader_id, name, content_type, size, sha256,
                                  width, height, created_at, thumbnail, thumbnail_type)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(a.id.as_uuid())
    .bind(a.group_id.as_uuid())
    .bind(a.uploader_id.as_uuid())
    .bind(a.name.as_str())
    .bind(a.content_type.as_str())
    .bind(as_i64(a.size))
    .bind(&a.sha256)
    .bind(a.width.map(i64::from))
    .bind(a.height.map(i64::from))
    .bind(millis(now))
    .bind(thumbnail)
    .bind(thumbnail_type)
    .execute(&mut *conn)
    .await?;
    Ok(a)
}

async fn visible(
    conn: &mut PgConnection,
    user: UserId,
    id: AttachmentId,
) -> StoreResult<Attachment> {
    let sql = format!("SELECT {COLUMNS} {VISIBLE}");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("attachment"))?;
    Ok(from_row(&row)?)
}

async fn thumbnail(
    conn: &mut PgConnection,
    user: UserId,
    id: AttachmentId,
) -> StoreResult<Thumbnail> {
    let sql = format!("SELECT a.thumbnail, a.thumbnail_type {VISIBLE}");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("attachment"))?;
    let bytes: Option<Vec<u8>> = row.try_get(0)?;
    let content_type: Option<String> = row.try_get(1)?;
    match (bytes, content_type) {
        (Some(bytes), Some(content_type)) => Ok(Thumbnail {
            content_type,
            bytes,
        }),
        _ => Err(Error::NotFound("attachment").into()),
    }
}

fn attachment_ids(uuids: Vec<Uuid>) -> Vec<AttachmentId> {
    uuids.into_iter().map(AttachmentId::from_uuid).collect()
}

#[async_trait]
impl Attachments for PgStore {
    async fn uploaded_bytes(&self, user: UserId, group: GroupId, now: Timestamp) -> Result<u64> {
        self.run(async {
            let mut conn = self.conn().await?;
            check_may_upload(&mut conn, user, group, now).await?;
            used_bytes(&mut conn, user).await
        })
        .await
    }

    async fn insert_attachment(
        &self,
        new: NewAttachment,
        quota: u64,
        now: Timestamp,
    ) -> Result<Attachment> {
        in_tx!(self, |tx| insert(&mut tx, new, quota, now))
    }

    async fn attachment(&self, user: UserId, id: AttachmentId) -> Result<Attachment> {
        self.run(async { visible(&mut *self.conn().await?, user, id).await })
            .await
    }

    async fn thumbnail(&self, user: UserId, id: AttachmentId) -> Result<Thumbnail> {
        self.run(async { thumbnail(&mut *self.conn().await?, user, id).await })
            .await
    }

    async fn sweep_unused(&self, created_before: Timestamp) -> Result<Vec<AttachmentId>> {
        self.run(async {
            let swept: Vec<Uuid> = sqlx::query_scalar(
                "DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1
                 RETURNING id",
            )
            .bind(millis(created_before))
            .fetch_all(self.pool())
            .await?;
            crate::committed();
            Ok(attachment_ids(swept))
        })
        .await
    }

    async fn recorded(&self, ids: Vec<AttachmentId>) -> Result<Vec<AttachmentId>> {
        self.run(async {
            let wanted: Vec<Uuid> = ids.iter().map(|a| a.as_uuid()).collect();
            let found: Vec<Uuid> =
                sqlx::query_scalar("SELECT id FROM attachments WHERE id = ANY($1) ORDER BY id")
                    .bind(wanted)
                    .fetch_all(self.pool())
                    .await?;
            Ok(attachment_ids(found))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_column_list_is_the_shared_one() {
        use confab_ports::store::rows::{ATTACHMENT, select_list};
        assert_eq!(super::COLUMNS, select_list("a", ATTACHMENT));
    }
}
