//! One blob's bytes moving: a writer that appends to its temporary file and renames it into
//! place on commit, and a reader that streams a range of a committed file in bounded chunks.
//! Neither ever holds more than one chunk in memory.

use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use confab_ports::blobs::{BLOB_CHUNK, BlobWriter, Chunks};
use confab_ports::{Error, Result};
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{DirError, sync_dir};

/// A blob being written to `temp`, renamed to `target` on commit.
pub(crate) struct DirWriter {
    file: Option<File>,
    temp: PathBuf,
    target: PathBuf,
    root: Arc<Path>,
    /// Renamed into place: nothing is left for `Drop` to remove.
    committed: bool,
}

impl DirWriter {
    pub(crate) async fn create(temp: PathBuf, target: PathBuf, root: Arc<Path>) -> Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await
            .map_err(DirError::io("create", &temp))?;
        Ok(Self {
            file: Some(file),
            temp,
            target,
            root,
            committed: false,
        })
    }
}

#[async_trait]
impl BlobWriter for DirWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Internal("a blob written after its commit".into()))?;
        file.write_all(&chunk)
            .await
            .map_err(DirError::io("write", &self.temp))?;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        let temp = self.temp.clone();
        let mut file = self
            .file
            .take()
            .ok_or_else(|| Error::Internal("a blob committed twice".into()))?;
        // tokio's file writes in the background: flush waits for the last write to land.
        file.flush().await.map_err(DirError::io("write", &temp))?;
        let file = file.into_std().await;
        let target = self.target.clone();
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || move_into_place(file, &temp, &target, &root))
            .await
            .map_err(DirError::from)??;
        self.committed = true;
        Ok(())
    }
}

/// Makes the temporary file durable, then visible under its committed name, durably. Until the
/// rename, a crash leaves only the temporary file; after it, the whole blob.
fn move_into_place(
    file: std::fs::File,
    temp: &Path,
    target: &Path,
    root: &Path,
) -> Result<(), DirError> {
    file.sync_all().map_err(DirError::io("sync", temp))?;
    drop(file);
    let dir = target.parent().unwrap_or(root);
    match std::fs::create_dir(dir) {
        // A new prefix directory is an entry of the root, which must be durable too.
        Ok(()) => sync_dir(root).map_err(DirError::io("sync", root))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(DirError::io("create", dir)(e)),
    }
    // Ids are never reused, but a rename would silently replace a committed blob.
    if target.exists() {
        return Err(DirError::Taken(target.to_path_buf()));
    }
    std::fs::rename(temp, target).map_err(DirError::io("rename", temp))?;
    if let Err(e) = sync_dir(dir) {
        // Not durable, so not committed: take it back (the caller is told it failed).
        let _ = std::fs::remove_file(target);
        return Err(DirError::io("sync", dir)(e));
    }
    Ok(())
}

impl Drop for DirWriter {
    /// An uncommitted writer's file goes at once, best effort (`remove_partial` takes what
    /// this misses), off the async thread when there is a runtime to run it on.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        drop(self.file.take());
        let temp = std::mem::take(&mut self.temp);
        let remove = move || match std::fs::remove_file(&temp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                tracing::warn!(error = %e, path = %temp.display(), "could not remove an unfinished blob");
            }
            _ => {}
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(remove)),
            Err(_) => remove(),
        }
    }
}

/// A range of a committed blob's file, read a chunk at a time.
pub(crate) struct FileChunks {
    file: File,
    path: PathBuf,
    /// Bytes of the range not read yet.
    left: u64,
}

impl FileChunks {
    /// Bytes `start..end` of the file at `path` (clamped to its length); `NotFound("blob")`
    /// when there is none.
    pub(crate) async fn open(path: &Path, start: u64, end: u64) -> Result<Self> {
        let mut file = match File::open(path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Error::NotFound("blob")),
            Err(e) => return Err(DirError::io("open", path)(e).into()),
        };
        let len = file
            .metadata()
            .await
            .map_err(DirError::io("read the size of", path))?
            .len();
        let end = end.min(len);
        let start = start.min(end);
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .await
                .map_err(DirError::io("seek in", path))?;
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            left: end - start,
        })
    }
}

#[async_trait]
impl Chunks for FileChunks {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        let want = usize::try_from(self.left).map_or(BLOB_CHUNK, |left| left.min(BLOB_CHUNK));
        if want == 0 {
            return Ok(None);
        }
        let mut buf = BytesMut::zeroed(want);
        let mut filled = 0;
        while filled < want {
            let read = self
                .file
                .read(&mut buf[filled..])
                .await
                .map_err(DirError::io("read", &self.path))?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        if filled < want {
            // The file is shorter than it was when opened: it cannot be, as committed files
            // are never written again, so something else changed it.
            return Err(Error::Internal(format!(
                "{} ended {} bytes early",
                self.path.display(),
                self.left - filled as u64
            )));
        }
        buf.truncate(filled);
        self.left -= filled as u64;
        Ok(Some(buf.freeze()))
    }
}
