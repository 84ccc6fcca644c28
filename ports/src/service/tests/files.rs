//! `Files`: what an upload checks before, while and after its bytes stream to the blob store,
//! what it hands the store, and what it cleans up when it refuses.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use confab_domain::{Attachment, AttachmentId, GroupId};
use mockall::predicate::eq;

use super::{Mocks, NOW, caller};
use crate::Error;
use crate::blobs::{Chunks, MockBlobWriter, MockChunks};
use crate::images::{ImageError, Thumbnail};
use crate::service::{InMemory, UploadHeader, UploadSettings};

const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0";

fn header<'a>(content_type: &'a str, declared_len: Option<u64>) -> UploadHeader<'a> {
    UploadHeader {
        name: Some("../a.txt"),
        content_type,
        declared_len,
    }
}

/// Mocks whose store lets the caller upload, with `used` bytes already taken.
fn member_with(used: u64, limits: UploadSettings) -> Mocks {
    let mut m = Mocks {
        uploads: limits,
        ..Mocks::default()
    };
    m.attachments
        .expect_uploaded_bytes()
        .returning(move |_, _, _| Ok(used));
    m
}

const LIMITS: UploadSettings = UploadSettings {
    max_bytes: 100,
    quota: 1000,
};

/// A writer that keeps what it is given; `committed` says whether `commit` ran.
fn recording_writer(kept: Arc<Mutex<Vec<u8>>>, committed: Arc<Mutex<bool>>) -> MockBlobWriter {
    let mut w = MockBlobWriter::new();
    w.expect_write().returning(move |chunk: Bytes| {
        kept.lock().unwrap().extend_from_slice(&chunk);
        Ok(())
    });
    w.expect_commit().returning(move || {
        *committed.lock().unwrap() = true;
        Ok(())
    });
    w
}

fn chunks_of(parts: &[&'static [u8]]) -> MockChunks {
    let mut queue: std::collections::VecDeque<Bytes> =
        parts.iter().map(|p| Bytes::from_static(p)).collect();
    let mut c = MockChunks::new();
    c.expect_next_chunk()
        .returning(move || Ok(queue.pop_front()));
    c
}

#[tokio::test]
async fn a_declared_length_over_the_limit_or_the_quota_is_refused_before_any_byte_is_stored() {
    // No blob expectations: creating one fails the test.
    let files = member_with(0, LIMITS).files();
    let mut body = InMemory::new(vec![0u8; 10]);
    let r = files
        .upload(
            &caller(false),
            GroupId::new(),
            header("text/plain", Some(101)),
            &mut body,
        )
        .await;
    assert!(matches!(r, Err(Error::TooLarge(_))), "{r:?}");

    let files = member_with(950, LIMITS).files();
    let r = files
        .upload(
            &caller(false),
            GroupId::new(),
            header("text/plain", Some(51)),
            &mut body,
        )
        .await;
    assert!(matches!(r, Err(Error::QuotaExceeded(_))), "{r:?}");
}

#[tokio::test]
async fn a_body_that_passes_the_limit_as_it_streams_is_never_committed() {
    let mut m = member_with(0, LIMITS);
    let committed = Arc::new(Mutex::new(false));
    let writer = recording_writer(Arc::default(), committed.clone());
    m.blobs
        .expect_create()
        .return_once(move |_, _| Ok(Box::new(writer)));
    let files = m.files();
    // No Content-Length: the limit is found while reading.
    let mut body = chunks_of(&[&[b'a'; 60], &[b'a'; 60]]);
    let r = files
        .upload(
            &caller(false),
            GroupId::new(),
            header("text/plain", None),
            &mut body,
        )
        .await;
    assert!(matches!(r, Err(Error::TooLarge(_))), "{r:?}");
    assert!(!*committed.lock().unwrap());
}

#[tokio::test]
async fn bytes_that_are_not_the_declared_type_are_never_committed() {
    let mut m = member_with(0, LIMITS);
    let committed = Arc::new(Mutex::new(false));
    let writer = recording_writer(Arc::default(), committed.clone());
    m.blobs
        .expect_create()
        .return_once(move |_, _| Ok(Box::new(writer)));
    let files = m.files();
    let mut body = InMemory::new(&b"PK\x03\x04 not a png at all"[..]);
    let r = files
        .upload(
            &caller(false),
            GroupId::new(),
            header("image/png", None),
            &mut body,
        )
        .await;
    assert!(
        matches!(&r, Err(Error::Invalid(i)) if i.field == "content_type"),
        "{r:?}"
    );
    assert!(!*committed.lock().unwrap());
}

#[tokio::test]
async fn a_body_cut_off_midway_is_never_committed() {
    let mut m = member_with(0, LIMITS);
    let committed = Arc::new(Mutex::new(false));
    let writer = recording_writer(Arc::default(), committed.clone());
    m.blobs
        .expect_create()
        .return_once(move |_, _| Ok(Box::new(writer)));
    let files = m.files();
    let mut body = MockChunks::new();
    let mut calls = 0;
    body.expect_next_chunk().returning(move || {
        calls += 1;
        if calls == 1 {
            Ok(Some(Bytes::from_static(b"hello")))
        } else {
            Err(Error::BadRequest("the upload was cut off".into()))
        }
    });
    let r = files
        .upload(
            &caller(false),
            GroupId::new(),
            header("text/plain", None),
            &mut body,
        )
        .await;
    assert!(matches!(r, Err(Error::BadRequest(_))), "{r:?}");
    assert!(!*committed.lock().unwrap());
}

#[tokio::test]
async fn a_file_is_stored_whole_and_recorded_with_its_hash_and_cleaned_name() {
    let mut m = member_with(10, LIMITS);
    let kept = Arc::new(Mutex::new(Vec::new()));
    let committed = Arc::new(Mutex::new(false));
    let writer = recording_writer(kept.clone(), committed.clone());
    m.blobs
        .expect_create()
        .withf(|_, now| *now == NOW)
        .return_once(move |_, _| Ok(Box::new(writer)));
    m.attachments
        .expect_insert_attachment()
        .withf(|new, quota, now| {
            let a = &new.attachment;
            a.name.as_str() == "a.txt"
                && a.content_type.as_str() == "text/plain"
                && a.size == 11
                // sha256("hello world")
                && a.sha256 == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
                && a.message_id.is_none()
                && a.width.is_none()
                && new.thumbnail.is_none()
                && *quota == 1000
                && *now == NOW
        })
        .returning(|new, _, _| Ok(new.attachment));
    let files = m.files();
    let mut body = chunks_of(&[b"hello", b" ", b"world"]);
    let a = files
        .upload(
            &caller(false),
            GroupId::new(),
            header("Text/Plain; charset=utf-8", None),
            &mut body,
        )
        .await
        .unwrap();
    assert_eq!(a.size, 11);
    assert_eq!(&*kept.lock().unwrap(), b"hello world");
    assert!(*committed.lock().unwrap());
}

#[tokio::test]
async fn a_refused_record_removes_the_committed_bytes() {
    let mut m = member_with(0, LIMITS);
    let writer = recording_writer(Arc::default(), Arc::default());
    let made: Arc<Mutex<Option<AttachmentId>>> = Arc::default();
    let made_in = made.clone();
    m.blobs.expect_create().return_once(move |id, _| {
        *made_in.lock().unwrap() = Some(id);
        Ok(Box::new(writer))
    });
    m.attachments
        .expect_insert_attachment()
        .returning(|_, quota, _| Err(confab_domain::QuotaExceeded { quota }.into()));
    let deleted: Arc<Mutex<Vec<AttachmentId>>> = Arc::default();
    let deleted_in = deleted.clone();
    m.blobs.expect_delete().returning(move |ids| {
        deleted_in.lock().unwrap().extend_from_slice(ids);
        Ok(())
    });
    let files = m.files();
    let mut body = InMemory::new(&b"hi"[..]);
    let r = files
        .upload(
            &caller(false),
            GroupId::new(),
            header("text/plain", None),
            &mut body,
        )
        .await;
    assert!(matches!(r, Err(Error::QuotaExceeded(_))), "{r:?}");
    assert_eq!(
        *deleted.lock().unwrap(),
        vec![made.lock().unwrap().unwrap()]
    );
}

/// Mocks for an image upload of `PNG_HEAD` whose bytes read back as they went in.
fn image_upload(m: &mut Mocks) {
    m.blobs
        .expect_create()
        .return_once(|_, _| Ok(Box::new(recording_writer(Arc::default(), Arc::default()))));
    m.blobs
        .expect_open()
        .returning(|_, _, _| Ok(Box::new(InMemory::new(PNG_HEAD)) as Box<dyn Chunks>));
}

#[tokio::test]
async fn an_image_is_measured_and_thumbnailed_at_the_domains_size() {
    let mut m = member_with(0, LIMITS);
    image_upload(&mut m);
    m.images
        .expect_dimensions()
        .withf(|bytes, ct| bytes == PNG_HEAD && ct == "image/png")
        .returning(|_, _| Ok((2048, 1024)));
    m.images
        .expect_thumbnail()
        .with(
            mockall::predicate::always(),
            eq("image/png"),
            eq(512),
            eq(256),
        )
        .returning(|_, _, _, _| {
            Ok(Thumbnail {
                content_type: "image/png".into(),
                bytes: vec![1, 2, 3],
            })
        });
    m.attachments
        .expect_insert_attachment()
        .withf(|new, _, _| {
            new.attachment.width == Some(2048)
                && new.attachment.height == Some(1024)
                && new.thumbnail.as_ref().is_some_and(|t| t.bytes == [1, 2, 3])
        })
        .returning(|new, _, _| Ok(new.attachment));
    let mut body = InMemory::new(PNG_HEAD);
    let a: Attachment = m
        .files()
        .upload(
            &caller(false),
            GroupId::new(),
            header("image/png", None),
            &mut body,
        )
        .await
        .unwrap();
    assert_eq!((a.width, a.height), (Some(2048), Some(1024)));
}

/// Uploads `PNG_HEAD` as an image whose header reads as `dimensions` answers, and checks that
/// it is refused as invalid and its committed bytes removed (no thumbnail is ever made: the
/// mocks have no expectation for one).
async fn assert_image_refused(
    dimensions: impl Fn(&[u8], &str) -> Result<(u32, u32), ImageError> + Send + Sync + 'static,
) {
    let mut m = member_with(0, LIMITS);
    image_upload(&mut m);
    m.images.expect_dimensions().returning(dimensions);
    m.blobs.expect_delete().times(1).returning(|_| Ok(()));
    let mut body = InMemory::new(PNG_HEAD);
    let r = m
        .files()
        .upload(
            &caller(false),
            GroupId::new(),
            header("image/png", None),
            &mut body,
        )
        .await;
    assert!(
        matches!(&r, Err(Error::Invalid(i)) if i.field == "content_type"),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_without_decoding_and_its_bytes_removed() {
    assert_image_refused(|_, _| Ok((50_000, 50_000))).await;
}

#[tokio::test]
async fn an_unreadable_image_is_invalid_and_its_bytes_removed() {
    assert_image_refused(|_, ct| Err(ImageError::Unreadable(ct.to_owned()))).await;
}

#[tokio::test]
async fn the_sweep_removes_unused_uploads_and_only_old_orphans() {
    let mut m = Mocks::default();
    let unused = vec![AttachmentId::new()];
    let unused_in = unused.clone();
    m.attachments
        .expect_sweep_unused()
        .withf(|before| *before == NOW - time::Duration::hours(24))
        .return_once(move |_| Ok(unused_in));
    // An orphan made two hours before NOW, one made just now (an upload in flight), and one
    // that is recorded.
    let old = AttachmentId::from_uuid(uuid_at(NOW - time::Duration::hours(2)));
    let fresh = AttachmentId::from_uuid(uuid_at(NOW));
    let named = AttachmentId::from_uuid(uuid_at(NOW - time::Duration::hours(3)));
    let page = vec![named, old, fresh];
    let mut pages = vec![page.clone(), Vec::new()].into_iter();
    m.blobs
        .expect_list()
        .returning(move |_, _| Ok(pages.next().unwrap_or_default()));
    m.attachments
        .expect_recorded()
        .returning(move |_| Ok(vec![named]));
    m.blobs
        .expect_remove_partial()
        .withf(|before| *before == NOW - time::Duration::hours(1))
        .returning(|_| Ok(2));
    let deleted: Arc<Mutex<Vec<Vec<AttachmentId>>>> = Arc::default();
    let deleted_in = deleted.clone();
    m.blobs.expect_delete().returning(move |ids| {
        deleted_in.lock().unwrap().push(ids.to_vec());
        Ok(())
    });
    let swept = m.files().sweep(true).await.unwrap();
    assert_eq!((swept.unused, swept.orphans, swept.partial), (1, 1, 2));
    assert_eq!(*deleted.lock().unwrap(), vec![unused, vec![old]]);
}

/// A v7 UUID whose timestamp is `at`.
fn uuid_at(at: confab_domain::Timestamp) -> uuid::Uuid {
    let ms = u64::try_from(confab_domain::unix_millis(at)).unwrap();
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, (ms % 1000) as u32 * 1_000_000);
    uuid::Uuid::new_v7(ts)
}
