//! `Blobs` in the database: attachment bytes as `bytea` rows of at most `BLOB_CHUNK` bytes
//! (`blob_chunks`) under a `blobs` row that says whether they are committed, so that every
//! instance on the database shares them with nothing more to run or back up.
//!
//! A writer inserts its chunks as they fill, each in a short transaction of its own (never one
//! held open across a client's reads), and flips `committed` last. The chunk transactions
//! commit without waiting for their WAL flush; the final commit waits for its own, which (the
//! WAL being one sequence) flushes every chunk written before it: durable when it answers, at
//! one fsync per blob. A reader fetches one chunk per query, never a whole blob into memory.
//!
//! It must never show a blob before its commit, nor let a writer that lost its blob (removed
//! as partial, or taken over by a new writer of the same id) write into or commit another's:
//! every write names the writer's token.

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use confab_domain::{AttachmentId, Timestamp};
use confab_ports::blobs::{BLOB_CHUNK, BlobWriter, Blobs, Chunks};
use confab_ports::{Error, Result};
use uuid::Uuid;

use crate::PgStore;
use crate::error::{StoreError, StoreResult};
use crate::rows::{as_i64, millis};

/// A chunk's length, as the offsets are counted.
const CHUNK: u64 = BLOB_CHUNK as u64;

/// A blob being written.
struct Writer {
    store: PgStore,
    id: AttachmentId,
    /// This writer's own token (`blobs.writer`).
    token: Uuid,
    /// Bytes not yet in a full chunk.
    pending: BytesMut,
    /// The index of the next chunk row.
    next: i64,
    size: u64,
    /// Committed: nothing to clean up on drop.
    committed: bool,
}

impl Writer {
    /// Inserts one chunk row, in a transaction of its own that does not wait for its WAL flush
    /// (the blob's commit does; see the module's header).
    async fn insert_chunk(&mut self, data: &[u8]) -> StoreResult<()> {
        let mut tx = self.store.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO blob_chunks (blob_id, idx, data)
             SELECT id, $2, $3 FROM blobs WHERE id = $1 AND writer = $4 AND NOT committed",
        )
        .bind(self.id.as_uuid())
        .bind(self.next)
        .bind(data)
        .bind(self.token)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(lost(self.id));
        }
        tx.commit().await?;
        self.next += 1;
        Ok(())
    }

    async fn write_all(&mut self, chunk: Bytes) -> StoreResult<()> {
        self.size += chunk.len() as u64;
        self.pending.extend_from_slice(&chunk);
        while self.pending.len() >= BLOB_CHUNK {
            let full = self.pending.split_to(BLOB_CHUNK);
            self.insert_chunk(&full).await?;
        }
        Ok(())
    }

    async fn finish(&mut self) -> StoreResult<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.insert_chunk(&rest).await?;
        }
        let flipped = sqlx::query(
            "UPDATE blobs SET committed = true, size = $3
              WHERE id = $1 AND writer = $2 AND NOT committed",
        )
        .bind(self.id.as_uuid())
        .bind(self.token)
        .bind(as_i64(self.size))
        .execute(self.store.pool())
        .await?
        .rows_affected();
        if flipped == 0 {
            return Err(lost(self.id));
        }
        self.committed = true;
        Ok(())
    }
}

/// A writer's blob is no longer its own (removed as partial, or taken over).
fn lost(id: AttachmentId) -> StoreError {
    StoreError::Internal(format!("blob {id} was removed while it was being written"))
}

#[async_trait]
impl BlobWriter for Writer {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let store = self.store.clone();
        store.run(self.write_all(chunk)).await
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let store = self.store.clone();
        store.run(self.finish()).await
    }
}

impl Drop for Writer {
    /// Removes at once what an uncommitted writer wrote, when a runtime is there to do it;
    /// otherwise (or if this fails) `remove_partial` does, later. Never anything committed.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.store.pool().clone();
        let (id, token) = (self.id.as_uuid(), self.token);
        runtime.spawn(async move {
            let removed =
                sqlx::query("DELETE FROM blobs WHERE id = $1 AND writer = $2 AND NOT committed")
                    .bind(id)
                    .bind(token)
                    .execute(&pool)
                    .await;
            if let Err(e) = removed {
                tracing::debug!(error = %e, %id, "an abandoned blob is left for the partial sweep");
            }
        });
    }
}

/// The bytes `pos..end` of a committed blob, a chunk row per query.
struct Reader {
    store: PgStore,
    id: AttachmentId,
    pos: u64,
    end: u64,
}

impl Reader {
    async fn next(&mut self) -> StoreResult<Option<Bytes>> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let (idx, within) = (self.pos / CHUNK, self.pos % CHUNK);
        let take = (CHUNK - within).min(self.end - self.pos);
        let to_i32 = |n: u64| i32::try_from(n).map_err(|_| StoreError::Internal("offset".into()));
        let data: Vec<u8> = sqlx::query_scalar(
            "SELECT substring(data FROM $3 FOR $4) FROM blob_chunks
              WHERE blob_id = $1 AND idx = $2",
        )
        .bind(self.id.as_uuid())
        .bind(as_i64(idx))
        .bind(to_i32(within + 1)?)
        .bind(to_i32(take)?)
        .fetch_optional(self.store.pool())
        .await?
        // Removed since it was opened.
        .ok_or(Error::NotFound("blob"))?;
        if data.len() as u64 != take {
            return Err(StoreError::Internal(format!(
                "blob {} is shorter than its recorded size",
                self.id
            )));
        }
        self.pos += take;
        Ok(Some(Bytes::from(data)))
    }
}

#[async_trait]
impl Chunks for Reader {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        let store = self.store.clone();
        store.run(self.next()).await
    }
}

#[async_trait]
impl Blobs for PgStore {
    async fn create(&self, id: AttachmentId, now: Timestamp) -> Result<Box<dyn BlobWriter>> {
        let token = Uuid::now_v7();
        self.run(async {
            // A blob left uncommitted under this id (its writer gone) is taken over, its old
            // chunks removed; a committed one is never written again.
            let mine: i64 = sqlx::query_scalar(
                "WITH mine AS (
                    INSERT INTO blobs (id, created_at, writer) VALUES ($1, $2, $3)
                    ON CONFLICT (id) DO UPDATE
                       SET created_at = excluded.created_at, writer = excluded.writer, size = 0
                     WHERE NOT blobs.committed
                    RETURNING id
                 ), stale AS (
                    DELETE FROM blob_chunks WHERE blob_id = $1 AND EXISTS (SELECT 1 FROM mine)
                 )
                 SELECT count(*) FROM mine",
            )
            .bind(id.as_uuid())
            .bind(millis(now))
            .bind(token)
            .fetch_one(self.pool())
            .await?;
            if mine == 0 {
                return Err(Error::Conflict { field: "id" }.into());
            }
            Ok(())
        })
        .await?;
        Ok(Box::new(Writer {
            store: self.clone(),
            id,
            token,
            pending: BytesMut::new(),
            next: 0,
            size: 0,
            committed: false,
        }))
    }

    async fn open(&self, id: AttachmentId, start: u64, end: u64) -> Result<Box<dyn Chunks>> {
        let size = self
            .run(async {
                let size: i64 =
                    sqlx::query_scalar("SELECT size FROM blobs WHERE id = $1 AND committed")
                        .bind(id.as_uuid())
                        .fetch_optional(self.pool())
                        .await?
                        .ok_or(Error::NotFound("blob"))?;
                u64::try_from(size).map_err(|_| StoreError::Internal("a negative size".into()))
            })
            .await?;
        let end = end.min(size);
        Ok(Box::new(Reader {
            store: self.clone(),
            id,
            pos: start.min(end),
            end,
        }))
    }

    async fn delete(&self, ids: &[AttachmentId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
        self.run(async {
            // Their chunks go with them (ON DELETE CASCADE).
            sqlx::query("DELETE FROM blobs WHERE id = ANY($1) AND committed")
                .bind(ids)
                .execute(self.pool())
                .await?;
            crate::committed();
            Ok(())
        })
        .await
    }

    async fn list(&self, after: Option<AttachmentId>, limit: u32) -> Result<Vec<AttachmentId>> {
        self.run(async {
            let ids: Vec<Uuid> = sqlx::query_scalar(
                "SELECT id FROM blobs WHERE committed AND ($1::uuid IS NULL OR id > $1)
                  ORDER BY id LIMIT $2",
            )
            .bind(after.map(|a| a.as_uuid()))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
            Ok(ids.into_iter().map(AttachmentId::from_uuid).collect())
        })
        .await
    }

    async fn remove_partial(&self, started_before: Timestamp) -> Result<u64> {
        self.run(async {
            let removed = sqlx::query("DELETE FROM blobs WHERE NOT committed AND created_at < $1")
                .bind(millis(started_before))
                .execute(self.pool())
                .await?
                .rows_affected();
            crate::committed();
            Ok(removed)
        })
        .await
    }
}
