//! `Blobs` in the database: attachment bytes as rows of `blob_chunks`, under a `blobs` row
//! that becomes visible (`committed = 1`) only when the writer commits.
//!
//! Every write is a job of the one writer thread, so an upload never holds it for long: one
//! job per chunk of [`BLOB_CHUNK`] bytes, and removals in jobs of a bounded number of bytes.
//! Reads go through the reader pool one chunk at a time: a blob is never held whole in memory,
//! here or in SQLite. Nothing here knows what a blob is for or who may read it.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use confab_domain::{AttachmentId, Timestamp};
use confab_ports::blobs::{BLOB_CHUNK, BlobWriter, Blobs, Chunks};
use confab_ports::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::error::{StoreError, StoreResult};
use crate::readers::Readers;
use crate::rows::{millis, uuid_at};
use crate::writer::Writer;

/// Bytes one removal job frees at most (give or take one blob) before it commits and the next
/// job goes on: freeing a blob's pages reads all of them, and other writes wait meanwhile.
const REMOVE_BUDGET: u64 = 8 * 1024 * 1024;

/// Partial blobs one `remove_partial` job looks at.
const PARTIAL_PAGE: i64 = 64;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn start(conn: &Connection, id: AttachmentId, now: Timestamp) -> StoreResult<()> {
    // A blob being written counts as taken too: one writer per id.
    let taken = conn
        .prepare_cached("SELECT 1 FROM blobs WHERE id = ?1")?
        .exists([id.to_string()])?;
    if taken {
        return Err(Error::Conflict { field: "id" }.into());
    }
    conn.prepare_cached("INSERT INTO blobs (id, created_at) VALUES (?1, ?2)")?
        .execute(params![id.to_string(), millis(now)])?;
    Ok(())
}

/// Appends chunk `idx`. Refuses (having written nothing) when the blob is no longer being
/// written: `remove_partial` took it.
fn append(conn: &Connection, id: AttachmentId, idx: i64, data: &[u8]) -> StoreResult<()> {
    let growing = conn
        .prepare_cached("UPDATE blobs SET size = size + ?2 WHERE id = ?1 AND committed = 0")?
        .execute(params![id.to_string(), to_i64(data.len() as u64)])?;
    if growing == 0 {
        return Err(Error::NotFound("blob").into());
    }
    conn.prepare_cached("INSERT INTO blob_chunks (blob_id, idx, data) VALUES (?1, ?2, ?3)")?
        .execute(params![id.to_string(), idx, data])?;
    Ok(())
}

fn finish(conn: &Connection, id: AttachmentId, idx: i64, tail: &[u8]) -> StoreResult<()> {
    if !tail.is_empty() {
        append(conn, id, idx, tail)?;
    }
    let done = conn
        .prepare_cached("UPDATE blobs SET committed = 1 WHERE id = ?1 AND committed = 0")?
        .execute([id.to_string()])?;
    if done == 0 {
        return Err(Error::NotFound("blob").into());
    }
    Ok(())
}

/// Removes blobs of `ids` (those whose `committed` is as given), in order, until about
/// [`REMOVE_BUDGET`] bytes are freed; answers how many it removed and the ids it did not reach.
fn remove_some(
    conn: &Connection,
    mut ids: VecDeque<AttachmentId>,
    committed: bool,
) -> StoreResult<(u64, VecDeque<AttachmentId>)> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM blobs WHERE id = ?1 AND committed = ?2 RETURNING size")?;
    let (mut removed, mut freed) = (0, 0u64);
    while freed < REMOVE_BUDGET {
        let Some(id) = ids.pop_front() else { break };
        // The chunks go with their blob (ON DELETE CASCADE).
        let size: Option<i64> = stmt
            .query_row(params![id.to_string(), committed], |r| r.get(0))
            .optional()?;
        if let Some(size) = size {
            removed += 1;
            freed += u64::try_from(size).unwrap_or(0);
        }
    }
    Ok((removed, ids))
}

/// Removes some partial blobs started before `before`; answers how many, and whether more
/// may be left.
fn remove_partial_some(conn: &Connection, before: Timestamp) -> StoreResult<(u64, bool)> {
    let ids = conn
        .prepare_cached(
            "SELECT id FROM blobs WHERE committed = 0 AND created_at < ?1
              ORDER BY created_at LIMIT ?2",
        )?
        .query_map(params![millis(before), PARTIAL_PAGE], |r| {
            uuid_at(r, 0).map(AttachmentId::from_uuid)
        })?
        .collect::<rusqlite::Result<VecDeque<_>>>()?;
    let full = ids.len() == PARTIAL_PAGE as usize;
    let (removed, rest) = remove_some(conn, ids, false)?;
    Ok((removed, full || !rest.is_empty()))
}

/// One piece of a read: `len` bytes of chunk `idx` from byte `from` of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    idx: i64,
    from: u64,
    len: u64,
}

/// The pieces, each at most [`BLOB_CHUNK`] bytes, that read `start..end` of a blob stored as
/// chunks of the given `(idx, length)`, in order. Chunks may be of any length.
fn plan(chunks: &[(i64, u64)], start: u64, end: u64) -> VecDeque<Piece> {
    let mut pieces = VecDeque::new();
    let mut offset = 0u64;
    for &(idx, len) in chunks {
        let (chunk_start, chunk_end) = (offset, offset + len);
        offset = chunk_end;
        let (from, to) = (start.max(chunk_start), end.min(chunk_end));
        let mut at = from;
        while at < to {
            let n = (to - at).min(BLOB_CHUNK as u64);
            pieces.push_back(Piece {
                idx,
                from: at - chunk_start,
                len: n,
            });
            at += n;
        }
    }
    pieces
}

/// The lengths of a committed blob's chunks, in order (one statement, one snapshot); `None`
/// when no such blob is committed.
fn layout(conn: &Connection, id: AttachmentId) -> StoreResult<Option<Vec<(i64, u64)>>> {
    // `length()` of a BLOB reads no overflow page: the layout costs no bytes of the blob.
    let rows = conn
        .prepare_cached(
            "SELECT c.idx, length(c.data) FROM blobs b
               LEFT JOIN blob_chunks c ON c.blob_id = b.id
              WHERE b.id = ?1 AND b.committed = 1 ORDER BY c.idx",
        )?
        .query_map([id.to_string()], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .filter_map(|(idx, len)| Some((idx?, u64::try_from(len?).unwrap_or(0))))
            .collect(),
    ))
}

fn read_piece(conn: &Connection, id: AttachmentId, piece: Piece) -> StoreResult<Vec<u8>> {
    let data: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT substr(data, ?3, ?4) FROM blob_chunks WHERE blob_id = ?1 AND idx = ?2",
        )?
        .query_row(
            params![
                id.to_string(),
                piece.idx,
                to_i64(piece.from + 1),
                to_i64(piece.len)
            ],
            |r| r.get(0),
        )
        .optional()?;
    // Removed since it was opened.
    let data = data.ok_or(Error::NotFound("blob"))?;
    if data.len() as u64 != piece.len {
        return Err(StoreError::Internal(format!(
            "blob {id} chunk {} holds fewer bytes than its length said",
            piece.idx
        )));
    }
    Ok(data)
}

/// A blob being written: full chunks go to the writer thread as they fill.
struct DbBlobWriter {
    writer: Writer,
    id: AttachmentId,
    /// Bytes not yet written, fewer than [`BLOB_CHUNK`].
    pending: BytesMut,
    next_idx: i64,
    /// A chunk failed to be written: the blob can never be whole.
    broken: bool,
    committed: bool,
}

impl DbBlobWriter {
    fn check(&self) -> Result<()> {
        if self.broken {
            return Err(Error::Internal(
                "an earlier write of this blob failed".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl BlobWriter for DbBlobWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.check()?;
        self.pending.extend_from_slice(&chunk);
        while self.pending.len() >= BLOB_CHUNK {
            let full = self.pending.split_to(BLOB_CHUNK).freeze();
            let (id, idx) = (self.id, self.next_idx);
            // Decided: it refuses before writing, or writes one row.
            let written = self
                .writer
                .write_decided(move |conn| append(conn, id, idx, &full))
                .await;
            if let Err(e) = written {
                self.broken = true;
                return Err(e.into());
            }
            self.next_idx += 1;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        self.check()?;
        let tail = self.pending.split().freeze();
        let (id, idx) = (self.id, self.next_idx);
        self.writer
            .write(move |conn| finish(conn, id, idx, &tail))
            .await?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for DbBlobWriter {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let id = self.id;
        // Queued now, so it runs before anything queued after the drop; if it cannot be
        // queued, `remove_partial` removes the rows later (they are invisible meanwhile).
        let queued = self.writer.write_detached(move |conn| {
            conn.prepare_cached("DELETE FROM blobs WHERE id = ?1 AND committed = 0")?
                .execute([id.to_string()])?;
            Ok(())
        });
        if !queued {
            tracing::debug!(%id, "left an abandoned blob write to the partial sweep");
        }
    }
}

/// A committed blob's bytes, read one piece at a time.
struct DbChunks {
    readers: Arc<Readers>,
    id: AttachmentId,
    pieces: VecDeque<Piece>,
}

#[async_trait]
impl Chunks for DbChunks {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        let Some(piece) = self.pieces.pop_front() else {
            return Ok(None);
        };
        let id = self.id;
        let data = self
            .readers
            .read(move |conn| read_piece(conn, id, piece))
            .await;
        match data {
            Ok(data) => Ok(Some(Bytes::from(data))),
            Err(e) => {
                // An error ends the stream.
                self.pieces.clear();
                Err(e.into())
            }
        }
    }
}

#[async_trait]
impl Blobs for SqliteStore {
    async fn create(&self, id: AttachmentId, now: Timestamp) -> Result<Box<dyn BlobWriter>> {
        self.writer
            .write_decided(move |conn| start(conn, id, now))
            .await?;
        Ok(Box::new(DbBlobWriter {
            writer: self.writer.clone(),
            id,
            pending: BytesMut::new(),
            next_idx: 0,
            broken: false,
            committed: false,
        }))
    }

    async fn open(&self, id: AttachmentId, start: u64, end: u64) -> Result<Box<dyn Chunks>> {
        let chunks = self
            .readers
            .read(move |conn| layout(conn, id))
            .await?
            .ok_or(Error::NotFound("blob"))?;
        Ok(Box::new(DbChunks {
            readers: self.readers.clone(),
            id,
            pieces: plan(&chunks, start, end),
        }))
    }

    async fn delete(&self, ids: &[AttachmentId]) -> Result<()> {
        let mut left: VecDeque<AttachmentId> = ids.iter().copied().collect();
        while !left.is_empty() {
            let (_, rest) = self
                .writer
                .write(move |conn| remove_some(conn, left, true))
                .await?;
            left = rest;
        }
        Ok(())
    }

    async fn list(&self, after: Option<AttachmentId>, limit: u32) -> Result<Vec<AttachmentId>> {
        // Ids are stored hyphenated and lower-case: their text order is their byte order.
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        Ok(self
            .readers
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT id FROM blobs WHERE committed = 1 AND id > ?1 ORDER BY id LIMIT ?2",
                    )?
                    .query_map(params![after, i64::from(limit)], |r| {
                        uuid_at(r, 0).map(AttachmentId::from_uuid)
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await?)
    }

    async fn remove_partial(&self, started_before: Timestamp) -> Result<u64> {
        let mut total = 0;
        loop {
            let (removed, more) = self
                .writer
                .write(move |conn| remove_partial_some(conn, started_before))
                .await?;
            total += removed;
            if !more {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests;
