//! The shared cases: one or more per MUST of `ports/src/blobs.rs`, each an `async fn(&dyn Blobs)`
//! over a fresh, empty store. Only the port is used here (no adapter, no harness), so any
//! adapter can run them.

use std::time::Duration;

use confab_domain::{AttachmentId, Timestamp};
use confab_ports::Error;
use confab_ports::blobs::{BLOB_CHUNK, BlobWriter, Blobs};
use uuid::Uuid;

const MIB: u64 = 1024 * 1024;

/// Chunk sizes a writer is handed, in turn: tiny, empty, odd, just over a read chunk, large.
const UNEVEN: &[usize] = &[
    1,
    0,
    7,
    1000,
    65_536,
    300_001,
    BLOB_CHUNK + 1,
    1024 * 1024,
    3,
];

/// The byte at offset `i` of every blob written here: no short period, so a chunk read from
/// the wrong offset shows.
pub fn byte(i: u64) -> u8 {
    let mixed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 56) as u8 ^ (i >> 8) as u8
}

/// The bytes `start..start + len` of the pattern.
pub fn pattern(start: u64, len: u64) -> Vec<u8> {
    (start..start + len).map(byte).collect()
}

/// Wall-clock now: the directory adapter goes by its files' mtimes, the stores by the `now`
/// handed to `create`; with real time both agree.
pub fn now() -> Timestamp {
    Timestamp::now_utc()
}

/// Writes `len` bytes of the pattern in chunks of the `sizes` given, in turn, without
/// committing.
pub async fn write(writer: &mut dyn BlobWriter, len: u64, sizes: &[usize]) {
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= len {
            break;
        }
        let size = (size as u64).min(len - at);
        writer.write(pattern(at, size).into()).await.unwrap();
        at += size;
    }
}

/// Writes and commits a blob of `len` bytes of the pattern.
pub async fn put(blobs: &dyn Blobs, id: AttachmentId, len: u64, sizes: &[usize]) {
    let mut writer = blobs.create(id, now()).await.unwrap();
    write(writer.as_mut(), len, sizes).await;
    writer.commit().await.unwrap();
}

/// Reads `start..end` of a committed blob whole, checking that no chunk is over `BLOB_CHUNK`;
/// answers the bytes and how many chunks carried them.
pub async fn read(blobs: &dyn Blobs, id: AttachmentId, start: u64, end: u64) -> (Vec<u8>, usize) {
    let mut chunks = match blobs.open(id, start, end).await {
        Ok(chunks) => chunks,
        Err(e) => panic!("cannot open blob {id} at {start}..{end}: {e}"),
    };
    let mut all = Vec::new();
    let mut count = 0;
    while let Some(chunk) = chunks.next_chunk().await.unwrap() {
        assert!(
            chunk.len() <= BLOB_CHUNK,
            "a chunk of {} bytes, over {BLOB_CHUNK}",
            chunk.len()
        );
        all.extend_from_slice(&chunk);
        count += 1;
    }
    (all, count)
}

/// Asserts that `id` is not there to open.
pub async fn assert_absent(blobs: &dyn Blobs, id: AttachmentId) {
    match blobs.open(id, 0, u64::MAX).await {
        Err(Error::NotFound("blob")) => {}
        Err(e) => panic!("blob {id}: expected NotFound(\"blob\"), got {e:?}"),
        Ok(_) => panic!("blob {id} opened; it should not be there"),
    }
}

/// Every committed id, paging through `list` in pages of `page`.
pub async fn list_all(blobs: &dyn Blobs, page: u32) -> Vec<AttachmentId> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let ids = blobs.list(after, page).await.unwrap();
        assert!(ids.len() <= page as usize, "a page over its limit");
        let Some(&last) = ids.last() else {
            return all;
        };
        all.extend(ids);
        after = Some(last);
    }
}

/// 10 MiB written in uneven chunks (an empty one among them) reads back the same, byte for
/// byte, in chunks of at most `BLOB_CHUNK`.
pub async fn round_trip_in_uneven_chunks(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    let len = 10 * MIB;
    put(blobs, id, len, UNEVEN).await;
    let (bytes, _) = read(blobs, id, 0, u64::MAX).await;
    assert_eq!(bytes.len() as u64, len);
    assert!(bytes == pattern(0, len), "the bytes read back differ");
    let (exact, _) = read(blobs, id, 0, len).await;
    assert!(exact == bytes, "reading 0..len differs from reading it all");
}

/// A 10 MiB blob is read in many chunks, none over `BLOB_CHUNK`, whatever the writer's chunk
/// sizes were (here larger than a read chunk); so is a large range of it.
pub async fn reads_are_chunked(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    let len = 10 * MIB;
    put(blobs, id, len, &[3 * MIB as usize]).await;
    let (bytes, count) = read(blobs, id, 0, len).await;
    assert_eq!(bytes.len() as u64, len);
    assert!(
        count >= (len as usize).div_ceil(BLOB_CHUNK),
        "{count} chunks"
    );
    let (part, count) = read(blobs, id, 12_345, 5 * MIB + 7).await;
    assert!(part == pattern(12_345, 5 * MIB + 7 - 12_345));
    assert!(count >= part.len().div_ceil(BLOB_CHUNK), "{count} chunks");
}

/// Ranges: the start, across a chunk boundary, the end, past the end (read to the end), and
/// empty ones (at the end, beyond it, or of no length) read no bytes.
pub async fn ranges(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    let chunk = BLOB_CHUNK as u64;
    let len = 3 * chunk + 12_345;
    put(blobs, id, len, &[100_000]).await;
    let cases = [
        (0, 10, 0..10),
        (0, 1, 0..1),
        (chunk - 5, chunk + 5, chunk - 5..chunk + 5),
        (100, 2 * chunk + 100, 100..2 * chunk + 100),
        (len - 10, len, len - 10..len),
        (len - 10, len + 1000, len - 10..len),
        (1, u64::MAX, 1..len),
        (len, len + 10, len..len),
        (len + 5, len + 10, len..len),
        (100, 100, 100..100),
    ];
    for (start, end, expected) in cases {
        let (bytes, _) = read(blobs, id, start, end).await;
        assert!(
            bytes == pattern(expected.start, expected.end - expected.start),
            "range {start}..{end}: {} bytes read, {} expected",
            bytes.len(),
            expected.end - expected.start
        );
    }
}

/// A blob of no bytes is a blob: listed, opened, read as nothing.
pub async fn an_empty_blob_is_a_blob(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    let writer = blobs.create(id, now()).await.unwrap();
    writer.commit().await.unwrap();
    let (bytes, _) = read(blobs, id, 0, u64::MAX).await;
    assert!(bytes.is_empty());
    assert_eq!(blobs.list(None, 10).await.unwrap(), vec![id]);
}

/// Nothing of a blob is visible (open, list) until its commit answers; then all of it is.
pub async fn invisible_until_committed(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    let mut writer = blobs.create(id, now()).await.unwrap();
    assert_absent(blobs, id).await;
    write(writer.as_mut(), MIB, &[100_000]).await;
    assert_absent(blobs, id).await;
    assert!(blobs.list(None, 10).await.unwrap().is_empty());
    writer.commit().await.unwrap();
    assert_eq!(blobs.list(None, 10).await.unwrap(), vec![id]);
    let (bytes, _) = read(blobs, id, 0, u64::MAX).await;
    assert!(bytes == pattern(0, MIB));
}

/// An id never written, or removed, is `NotFound("blob")`.
pub async fn unknown_ids_are_not_found(blobs: &dyn Blobs) {
    assert_absent(blobs, AttachmentId::new()).await;
    assert_absent(blobs, AttachmentId::from_uuid(Uuid::nil())).await;
}

/// A writer dropped without commit (a client gone mid-upload) leaves nothing visible, and
/// `remove_partial` takes whatever it left; the next sweep finds nothing more.
pub async fn a_dropped_writer_leaves_nothing(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    let mut writer = blobs.create(id, now()).await.unwrap();
    write(writer.as_mut(), 2 * MIB, UNEVEN).await;
    drop(writer);
    assert_absent(blobs, id).await;
    assert!(blobs.list(None, 10).await.unwrap().is_empty());
    let removed = blobs
        .remove_partial(now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert!(removed <= 1, "one writer was dropped; {removed} removed");
    let again = blobs
        .remove_partial(now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(again, 0, "a second sweep found more");
    assert_absent(blobs, id).await;
    assert!(blobs.list(None, 10).await.unwrap().is_empty());
}

/// `remove_partial` takes only writers started before its time: one started later (an upload
/// still arriving) is left alone and commits.
pub async fn remove_partial_spares_later_writers(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    let mut writer = blobs.create(id, now()).await.unwrap();
    write(writer.as_mut(), MIB, &[70_000]).await;
    let removed = blobs
        .remove_partial(now() - Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(removed, 0);
    write(writer.as_mut(), MIB, &[70_000]).await;
    writer.commit().await.unwrap();
    let (bytes, _) = read(blobs, id, 0, u64::MAX).await;
    assert_eq!(bytes.len() as u64, 2 * MIB);
    assert!(bytes[..MIB as usize] == pattern(0, MIB)[..]);
    // A sweep after the commit leaves the committed blob alone.
    blobs
        .remove_partial(now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(blobs.list(None, 10).await.unwrap(), vec![id]);
}

/// Ids are never reused: `create` of a committed id is `Conflict`, and the blob is intact.
pub async fn creating_a_committed_id_conflicts(blobs: &dyn Blobs) {
    let id = AttachmentId::new();
    put(blobs, id, 1000, &[1000]).await;
    match blobs.create(id, now()).await {
        Err(Error::Conflict { .. }) => {}
        Err(e) => panic!("expected Conflict, got {e:?}"),
        Ok(_) => panic!("a committed id was created again"),
    }
    let (bytes, _) = read(blobs, id, 0, u64::MAX).await;
    assert!(bytes == pattern(0, 1000));
}

/// Several blobs written at once, their chunks interleaved, each read back as its own.
pub async fn writers_interleave(blobs: &dyn Blobs) {
    let ids: Vec<AttachmentId> = (0..3).map(|_| AttachmentId::new()).collect();
    let mut writers = Vec::new();
    for &id in &ids {
        writers.push(blobs.create(id, now()).await.unwrap());
    }
    for round in 0..20u64 {
        for (n, writer) in writers.iter_mut().enumerate() {
            // Blob n is the pattern from n * 1 MiB on, so blobs differ.
            let at = n as u64 * MIB + round * 50_000;
            writer.write(pattern(at, 50_000).into()).await.unwrap();
        }
    }
    for writer in writers {
        writer.commit().await.unwrap();
    }
    for (n, &id) in ids.iter().enumerate() {
        let (bytes, _) = read(blobs, id, 0, u64::MAX).await;
        assert!(bytes == pattern(n as u64 * MIB, 1_000_000), "blob {n}");
    }
}

/// `delete` removes committed blobs; ids not there (never written, already deleted) are no
/// error, nor is an empty list; other blobs stay.
pub async fn delete_is_idempotent(blobs: &dyn Blobs) {
    let (a, b) = (AttachmentId::new(), AttachmentId::new());
    put(blobs, a, 300_000, &[65_536]).await;
    put(blobs, b, 10, &[10]).await;
    blobs.delete(&[a, AttachmentId::new()]).await.unwrap();
    assert_absent(blobs, a).await;
    blobs.delete(&[a]).await.unwrap();
    blobs.delete(&[]).await.unwrap();
    assert_eq!(blobs.list(None, 10).await.unwrap(), vec![b]);
    let (bytes, _) = read(blobs, b, 0, u64::MAX).await;
    assert!(bytes == pattern(0, 10));
}

/// `list` answers committed ids after `after`, in id order, at most `limit` a page, whatever
/// order they were written in and wherever their bytes fall (ids spread over the UUID space,
/// and time-ordered ones); an `after` that is not a blob works too.
pub async fn list_pages_in_id_order(blobs: &dyn Blobs) {
    let mut ids: Vec<AttachmentId> = [
        0xff00_0000_0000_7000_8000_0000_0000_0001u128,
        0x0000_0000_0000_7000_8000_0000_0000_0002,
        0x0123_4500_0000_7000_8000_0000_0000_0003,
        0x0123_4500_0000_7000_8000_0000_0000_0001,
        0x0123_46ff_ffff_7fff_bfff_ffff_ffff_ffff,
        0x8000_0000_0000_7000_8000_0000_0000_0000,
    ]
    .into_iter()
    .map(|n| AttachmentId::from_uuid(Uuid::from_u128(n)))
    .chain((0..5).map(|_| AttachmentId::new()))
    .collect();
    for &id in &ids {
        put(blobs, id, 1, &[1]).await;
    }
    // Written but not committed: never listed.
    let mut pending = blobs.create(AttachmentId::new(), now()).await.unwrap();
    pending.write(vec![1, 2, 3].into()).await.unwrap();
    ids.sort();
    for page in [1, 2, 3, 4, 100] {
        assert_eq!(list_all(blobs, page).await, ids, "pages of {page}");
    }
    assert!(blobs.list(None, 0).await.unwrap().is_empty());
    assert_eq!(
        blobs.list(Some(ids[4]), 3).await.unwrap(),
        ids[5..8].to_vec()
    );
    let between =
        AttachmentId::from_uuid(Uuid::from_u128(0x0123_4500_0000_7000_8000_0000_0000_0002));
    let after_between: Vec<_> = ids.iter().copied().filter(|id| *id > between).collect();
    assert_eq!(blobs.list(Some(between), 100).await.unwrap(), after_between);
    let last = *ids.last().unwrap();
    assert!(blobs.list(Some(last), 10).await.unwrap().is_empty());
    blobs.delete(&ids[..2]).await.unwrap();
    assert_eq!(list_all(blobs, 2).await, ids[2..].to_vec());
}

/// Anonymous memory this process holds, in bytes (`RssAnon`: file pages a store maps in do
/// not count, heap does).
fn anonymous_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("RssAnon:"))
        .unwrap();
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

/// Neither writing nor reading holds a blob whole: 64 MiB go through while this process's
/// anonymous memory grows by less than a third of that. Run alone in the process (see
/// `main.rs`), so no other case's buffers count.
pub async fn memory_stays_bounded(blobs: &dyn Blobs) {
    const LEN: u64 = 64 * MIB;
    const MAX_GROWTH: u64 = 24 * MIB;
    let id = AttachmentId::new();
    let mut writer = blobs.create(id, now()).await.unwrap();
    let before = anonymous_rss();
    let mut peak = before;
    let chunk = MIB;
    for at in (0..LEN).step_by(chunk as usize) {
        writer.write(pattern(at, chunk).into()).await.unwrap();
        peak = peak.max(anonymous_rss());
    }
    writer.commit().await.unwrap();
    let wrote = peak.saturating_sub(before);

    let before = anonymous_rss();
    let mut peak = before;
    let mut chunks = match blobs.open(id, 0, LEN).await {
        Ok(chunks) => chunks,
        Err(e) => panic!("cannot open the blob: {e}"),
    };
    let mut at = 0;
    while let Some(chunk) = chunks.next_chunk().await.unwrap() {
        assert!(chunk.len() <= BLOB_CHUNK);
        assert!(chunk[..] == pattern(at, chunk.len() as u64)[..], "at {at}");
        at += chunk.len() as u64;
        peak = peak.max(anonymous_rss());
    }
    assert_eq!(at, LEN);
    let read = peak.saturating_sub(before);
    println!(
        "64 MiB: memory grew {} KiB writing, {} KiB reading",
        wrote / 1024,
        read / 1024
    );
    assert!(wrote < MAX_GROWTH, "writing grew memory by {wrote} bytes");
    assert!(read < MAX_GROWTH, "reading grew memory by {read} bytes");
}
