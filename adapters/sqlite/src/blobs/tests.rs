//! What only the in-database blobs do (the shared blob suite in `tests/tests/blobs` checks the
//! contract): how a read is cut into pieces, chunk rows of bounded size, and the rows a
//! dropped or abandoned writer leaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use time::macros::datetime;

const T0: Timestamp = datetime!(2026-12-01 12:00:00.000 UTC);

fn store() -> (tempfile::TempDir, SqliteStore, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let store = SqliteStore::open(&path, crate::DEFAULT_BUSY_TIMEOUT).unwrap();
    (dir, store, path)
}

/// Rows of the blob tables for `id`, read by a connection of its own.
fn rows(path: &std::path::Path, id: AttachmentId) -> (i64, i64) {
    let conn = Connection::open(path).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [id.to_string()], |r| r.get(0)).unwrap() };
    (
        count("SELECT count(*) FROM blobs WHERE id = ?1"),
        count("SELECT count(*) FROM blob_chunks WHERE blob_id = ?1"),
    )
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

async fn read(store: &SqliteStore, id: AttachmentId, start: u64, end: u64) -> Vec<Vec<u8>> {
    let mut chunks = store.open(id, start, end).await.unwrap();
    let mut all = Vec::new();
    while let Some(c) = chunks.next_chunk().await.unwrap() {
        all.push(c.to_vec());
    }
    all
}

#[test]
fn a_read_is_cut_into_pieces_of_each_chunk_at_most_blob_chunk_long() {
    let piece = |idx, from, len| Piece { idx, from, len };
    let small = [(0, 10), (1, 10), (2, 5)];
    assert_eq!(
        Vec::from(plan(&small, 5, 22)),
        vec![piece(0, 5, 5), piece(1, 0, 10), piece(2, 0, 2)]
    );
    assert_eq!(Vec::from(plan(&small, 0, 1000)).len(), 3);
    assert!(plan(&small, 25, 30).is_empty());
    assert!(plan(&small, 7, 7).is_empty());
    assert!(plan(&[], 0, 10).is_empty());
    let big = BLOB_CHUNK as u64 * 2 + 3;
    assert_eq!(
        Vec::from(plan(&[(0, big)], 1, big)),
        vec![
            piece(0, 1, BLOB_CHUNK as u64),
            piece(0, 1 + BLOB_CHUNK as u64, BLOB_CHUNK as u64),
            piece(0, 1 + 2 * BLOB_CHUNK as u64, 2),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_of_any_size_are_stored_in_rows_of_at_most_blob_chunk_bytes() {
    let (_dir, store, path) = store();
    let id = AttachmentId::new();
    let data = bytes(3 * BLOB_CHUNK + 12_345);
    let mut writer = store.create(id, T0).await.unwrap();
    for part in data.chunks(100_003) {
        writer.write(Bytes::copy_from_slice(part)).await.unwrap();
    }
    writer.commit().await.unwrap();
    let conn = Connection::open(&path).unwrap();
    let longest: i64 = conn
        .query_row("SELECT max(length(data)) FROM blob_chunks", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(longest, BLOB_CHUNK as i64);
    assert_eq!(rows(&path, id), (1, 4));
    let size: i64 = conn
        .query_row("SELECT size FROM blobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(size, data.len() as i64);
    let all = read(&store, id, 0, u64::MAX).await;
    assert!(all.iter().all(|c| c.len() <= BLOB_CHUNK));
    assert_eq!(all.concat(), data);
    let start = BLOB_CHUNK as u64 - 5;
    assert_eq!(
        read(&store, id, start, start + 10).await.concat(),
        data[start as usize..start as usize + 10]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_blob_is_committed_and_reads_as_nothing() {
    let (_dir, store, _path) = store();
    let id = AttachmentId::new();
    store.create(id, T0).await.unwrap().commit().await.unwrap();
    assert!(read(&store, id, 0, 10).await.is_empty());
    assert_eq!(store.list(None, 10).await.unwrap(), vec![id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_writer_leaves_no_row_behind() {
    let (_dir, store, path) = store();
    let id = AttachmentId::new();
    let mut writer = store.create(id, T0).await.unwrap();
    writer
        .write(Bytes::from(bytes(BLOB_CHUNK + 10)))
        .await
        .unwrap();
    assert_eq!(rows(&path, id), (1, 1));
    drop(writer);
    // The clean-up was queued at the drop, before this write: once this one is committed,
    // so is the clean-up.
    store
        .create(AttachmentId::new(), T0)
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
    assert_eq!(rows(&path, id), (0, 0));
    // Its id is free again.
    store.create(id, T0).await.unwrap().commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_write_is_removed_by_remove_partial_only_once_old_enough() {
    let (_dir, store, path) = store();
    let (old, young, done) = (
        AttachmentId::new(),
        AttachmentId::new(),
        AttachmentId::new(),
    );
    let mut writers = Vec::new();
    for (id, at) in [(old, T0), (young, T0 + time::Duration::hours(2))] {
        let mut w = store.create(id, at).await.unwrap();
        w.write(Bytes::from(bytes(BLOB_CHUNK))).await.unwrap();
        writers.push(w);
    }
    store
        .create(done, T0)
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
    let removed = store
        .remove_partial(T0 + time::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(rows(&path, old), (0, 0));
    assert_eq!(rows(&path, young), (1, 1));
    assert_eq!(rows(&path, done), (1, 0));
    // A writer whose blob was removed cannot go on.
    let mut first = writers.remove(0);
    let refused = first.write(Bytes::from(bytes(BLOB_CHUNK))).await;
    assert!(
        matches!(refused, Err(Error::NotFound("blob"))),
        "{refused:?}"
    );
    assert!(first.commit().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_a_blob_and_its_chunks_over_several_jobs() {
    let (_dir, store, path) = store();
    // More bytes than one removal job frees.
    let ids: Vec<AttachmentId> = (0..6).map(|_| AttachmentId::new()).collect();
    for id in &ids {
        let mut w = store.create(*id, T0).await.unwrap();
        for _ in 0..8 {
            w.write(Bytes::from(bytes(BLOB_CHUNK))).await.unwrap();
        }
        w.commit().await.unwrap();
    }
    let being_written = AttachmentId::new();
    let _writer = store.create(being_written, T0).await.unwrap();
    let mut doomed = ids.clone();
    doomed.push(being_written);
    doomed.push(AttachmentId::new());
    store.delete(&doomed).await.unwrap();
    for id in &ids {
        assert_eq!(rows(&path, *id), (0, 0));
        let gone = store.open(*id, 0, 1).await.err();
        assert!(matches!(gone, Some(Error::NotFound("blob"))), "{gone:?}");
    }
    assert_eq!(
        rows(&path, being_written),
        (1, 0),
        "only committed blobs are deleted"
    );
}
