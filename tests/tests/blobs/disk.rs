//! The directory adapter's own cases: what its files look like on disk, and what a crash in the
//! middle of a write leaves (a writer that is neither committed nor dropped, as after SIGKILL).

use std::path::{Path, PathBuf};
use std::time::Duration;

use confab_domain::AttachmentId;
use confab_files::DirBlobs;
use confab_ports::Error;
use confab_ports::blobs::Blobs;

use super::cases::{assert_absent, now, pattern, put, read, write};

/// A fresh directory and the adapter over it.
async fn fresh() -> (tempfile::TempDir, DirBlobs) {
    let dir = tempfile::tempdir().unwrap();
    let blobs = DirBlobs::open(dir.path()).await.unwrap();
    (dir, blobs)
}

/// Every file under `root`, as paths relative to it, sorted.
fn files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Where a committed blob lives: `<first 6 hex digits of its id>/<id>`.
fn committed(id: AttachmentId) -> PathBuf {
    let name = id.to_string();
    Path::new(&name[..6]).join(&name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_lays_out_the_tree() {
    let (dir, blobs) = fresh().await;
    let (a, b) = (AttachmentId::new(), AttachmentId::new());
    put(&blobs, a, 70_000, &[4096]).await;
    put(&blobs, b, 10, &[10]).await;
    let mut expected = vec![committed(a), committed(b)];
    expected.sort();
    assert_eq!(
        files(dir.path()),
        expected,
        "only the two blobs, nothing in tmp/"
    );
    assert!(dir.path().join("tmp").is_dir());
    assert_eq!(
        std::fs::read(dir.path().join(committed(a))).unwrap(),
        pattern(0, 70_000)
    );
    // Another instance over the same directory (a restart) sees them.
    let again = DirBlobs::open(dir.path()).await.unwrap();
    assert_eq!(again.list(None, 10).await.unwrap().len(), 2);
    let (bytes, _) = read(&again, b, 0, u64::MAX).await;
    assert_eq!(bytes, pattern(0, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_write_leaves_no_file_under_the_final_name() {
    let (dir, blobs) = fresh().await;
    let id = AttachmentId::new();
    let mut writer = blobs.create(id, now()).await.unwrap();
    write(writer.as_mut(), 3 * 1024 * 1024, &[100_000]).await;
    // As after SIGKILL: no commit, and no drop either.
    std::mem::forget(writer);
    assert!(!dir.path().join(committed(id)).exists());
    assert_absent(&blobs, id).await;
    assert!(blobs.list(None, 10).await.unwrap().is_empty());
    let left = files(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    let name = left[0].to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("tmp/{id}.")) && name.ends_with(".part"),
        "{name}"
    );
    // Too young for a sweep of an hour ago; an upload may still be arriving.
    let young = blobs
        .remove_partial(now() - Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(young, 0);
    let removed = blobs
        .remove_partial(now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(files(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_writer_removes_its_file_at_once() {
    let (dir, blobs) = fresh().await;
    let mut writer = blobs.create(AttachmentId::new(), now()).await.unwrap();
    write(writer.as_mut(), 500_000, &[100_000]).await;
    assert_eq!(files(dir.path()).len(), 1);
    drop(writer);
    // The removal runs on the blocking pool, so not quite at once.
    for _ in 0..100 {
        if files(dir.path()).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("left behind: {:?}", files(dir.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_files_are_not_blobs() {
    let (dir, blobs) = fresh().await;
    let id = AttachmentId::new();
    put(&blobs, id, 5, &[5]).await;
    let name = id.to_string();
    let prefix = dir.path().join(&name[..6]);
    // An upper-case id, a backup copy, an id in another's directory, notes, a stray temp name.
    std::fs::write(prefix.join(name.to_uppercase()), b"x").unwrap();
    std::fs::write(prefix.join(format!("{name}.bak")), b"x").unwrap();
    std::fs::create_dir(dir.path().join("abcdef")).unwrap();
    std::fs::write(dir.path().join("abcdef").join(&name), b"x").unwrap();
    std::fs::write(dir.path().join("README"), b"x").unwrap();
    std::fs::write(dir.path().join("tmp").join("notes.txt"), b"x").unwrap();
    assert_eq!(blobs.list(None, 10).await.unwrap(), vec![id]);
    let removed = blobs
        .remove_partial(now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(removed, 0, "only `.part` files are partial blobs");
    assert!(dir.path().join("tmp").join("notes.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_directory_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    match DirBlobs::open(file.join("attachments")).await {
        Err(Error::Unavailable(why)) => {
            assert!(why.contains("a-file/attachments"), "{why}");
        }
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
}
