//! `Blobs` in a directory (`--attachments-dir`): one file per committed blob, written under a
//! temporary name and renamed into place only once fsynced, so a crash never leaves part of a
//! file under a committed name. It never holds a blob whole in memory, and never blocks an
//! async thread on the file system (every call is tokio's or in `spawn_blocking`).
//!
//! Layout, under the directory:
//! - `<prefix>/<id>`: a committed blob, `<id>` its UUID in lower-case hyphenated form and
//!   `<prefix>` the UUID's first [`PREFIX_LEN`] hex digits. Ids are UUIDv7, whose leading
//!   digits are their millisecond timestamp: one directory per ~4.7 hours of uploads, so no
//!   directory gets millions of entries, and directories sort as their ids do, so `list`
//!   reads only the few it needs.
//! - `tmp/<id>.<random>.part`: a blob being written (or left by a crash).

mod stream;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use confab_domain::{AttachmentId, Timestamp};
use confab_ports::blobs::{BlobWriter, Blobs, Chunks};
use confab_ports::{Error, Result};
use uuid::Uuid;

use stream::{DirWriter, FileChunks};

/// Hex digits of an id that name its directory: the top 24 bits of a UUIDv7's timestamp, a new
/// directory every 2^24 ms (about 4.7 hours).
pub(crate) const PREFIX_LEN: usize = 6;

/// Where blobs being written live, beside the prefix directories (never a hex prefix).
const TMP: &str = "tmp";

/// What went wrong on the file system; each says what was being done, and where.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DirError {
    #[error("cannot create or write files in {path}: {source}")]
    Unusable { path: PathBuf, source: io::Error },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("blob {0} is already committed")]
    Taken(PathBuf),
    #[error("a file system task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl DirError {
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

impl From<DirError> for Error {
    fn from(e: DirError) -> Self {
        match e {
            DirError::Taken(_) => Error::Conflict { field: "id" },
            DirError::Task(_) => Error::Internal(e.to_string()),
            DirError::Unusable { .. } | DirError::Io { .. } => Error::Unavailable(e.to_string()),
        }
    }
}

/// Attachment bytes as files in a directory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DirBlobs {
    root: Arc<Path>,
}

impl DirBlobs {
    /// Blobs under `path`: creates it (and its `tmp/`) if needed and checks that files can be
    /// written there, so a wrong path or permission fails at start, not at the first upload.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let root: Arc<Path> = Arc::from(path.as_ref());
        let dir = root.clone();
        tokio::task::spawn_blocking(move || {
            prepare(&dir).map_err(|source| DirError::Unusable {
                path: dir.to_path_buf(),
                source,
            })
        })
        .await
        .map_err(DirError::from)??;
        Ok(Self { root })
    }

    fn committed(&self, id: AttachmentId) -> PathBuf {
        let name = file_name(id);
        self.root.join(&name[..PREFIX_LEN]).join(name)
    }
}

/// `<id>` as its file is named.
fn file_name(id: AttachmentId) -> String {
    id.as_uuid().hyphenated().to_string()
}

/// Creates the directories and writes (and removes) a file in each, to prove it can.
fn prepare(root: &Path) -> io::Result<()> {
    let tmp = root.join(TMP);
    std::fs::create_dir_all(&tmp)?;
    for dir in [root, tmp.as_path()] {
        let probe = dir.join(format!(".probe.{:016x}", rand::random::<u64>()));
        let written = std::fs::write(&probe, b"confab");
        let removed = std::fs::remove_file(&probe);
        written.and(removed)?;
    }
    Ok(())
}

/// Makes a directory's entries (a rename, a removal) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait]
impl Blobs for DirBlobs {
    async fn create(&self, id: AttachmentId, _now: Timestamp) -> Result<Box<dyn BlobWriter>> {
        // `remove_partial` goes by the files' mtime, which each write moves on: an upload that
        // is still arriving is never taken for one a crash left.
        let target = self.committed(id);
        let exists = tokio::fs::try_exists(&target)
            .await
            .map_err(DirError::io("look for", &target))?;
        if exists {
            return Err(Error::Conflict { field: "id" });
        }
        let temp = self.root.join(TMP).join(format!(
            "{}.{:016x}.part",
            file_name(id),
            rand::random::<u64>()
        ));
        Ok(Box::new(
            DirWriter::create(temp, target, self.root.clone()).await?,
        ))
    }

    async fn open(&self, id: AttachmentId, start: u64, end: u64) -> Result<Box<dyn Chunks>> {
        Ok(Box::new(
            FileChunks::open(&self.committed(id), start, end).await?,
        ))
    }

    async fn delete(&self, ids: &[AttachmentId]) -> Result<()> {
        let paths: Vec<PathBuf> = ids.iter().map(|&id| self.committed(id)).collect();
        tokio::task::spawn_blocking(move || remove_durably(&paths))
            .await
            .map_err(DirError::from)??;
        Ok(())
    }

    async fn list(&self, after: Option<AttachmentId>, limit: u32) -> Result<Vec<AttachmentId>> {
        let root = self.root.clone();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let ids = tokio::task::spawn_blocking(move || {
            list_after(&root, after.map(|id| id.as_uuid()), limit)
        })
        .await
        .map_err(DirError::from)??;
        Ok(ids.into_iter().map(AttachmentId::from_uuid).collect())
    }

    async fn remove_partial(&self, started_before: Timestamp) -> Result<u64> {
        let tmp = self.root.join(TMP);
        let before = SystemTime::from(started_before);
        let removed = tokio::task::spawn_blocking(move || remove_older(&tmp, before))
            .await
            .map_err(DirError::from)??;
        Ok(removed)
    }
}

/// Removes files (those already gone are no error), then syncs each directory they were in.
fn remove_durably(paths: &[PathBuf]) -> Result<(), DirError> {
    let mut dirs: Vec<&Path> = Vec::new();
    for path in paths {
        match std::fs::remove_file(path) {
            Ok(()) => dirs.extend(path.parent()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(DirError::io("remove", path)(e)),
        }
    }
    dirs.sort_unstable();
    dirs.dedup();
    for dir in dirs {
        sync_dir(dir).map_err(DirError::io("sync", dir))?;
    }
    Ok(())
}

/// The names in `dir`, as UTF-8 (others are not ours); none when it does not exist.
fn names(dir: &Path) -> Result<Vec<String>, DirError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DirError::io("read", dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(DirError::io("read", dir))?;
        names.extend(entry.file_name().into_string().ok());
    }
    Ok(names)
}

fn is_prefix(name: &str) -> bool {
    name.len() == PREFIX_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A committed blob's id from its file name in directory `prefix`: exactly the lower-case
/// hyphenated form, under its own prefix (anything else is not a blob of ours).
fn blob_id(name: &str, prefix: &str) -> Option<Uuid> {
    let id = Uuid::try_parse(name).ok()?;
    (id.hyphenated().to_string() == name && name.starts_with(prefix)).then_some(id)
}

/// Up to `limit` committed ids after `after`, in order. Prefix directories sort as their ids
/// do, so it skips those before `after`'s and stops at the first that fills the page.
fn list_after(root: &Path, after: Option<Uuid>, limit: usize) -> Result<Vec<Uuid>, DirError> {
    let after_name = after.map(|id| id.hyphenated().to_string());
    let first_prefix = after_name.as_deref().map(|name| &name[..PREFIX_LEN]);
    let mut prefixes: Vec<String> = names(root)?
        .into_iter()
        .filter(|name| is_prefix(name) && first_prefix.is_none_or(|first| name.as_str() >= first))
        .collect();
    prefixes.sort_unstable();
    let mut ids = Vec::new();
    for prefix in prefixes {
        if ids.len() >= limit {
            break;
        }
        let mut here: Vec<Uuid> = names(&root.join(&prefix))?
            .iter()
            .filter_map(|name| blob_id(name, &prefix))
            .filter(|&id| after.is_none_or(|after| id > after))
            .collect();
        here.sort_unstable();
        ids.extend(here);
    }
    ids.truncate(limit);
    Ok(ids)
}

/// Removes the temporary files last written before `before`; answers how many.
fn remove_older(tmp: &Path, before: SystemTime) -> Result<u64, DirError> {
    let mut removed = 0;
    for name in names(tmp)? {
        if !name.ends_with(".part") {
            continue;
        }
        let path = tmp.join(&name);
        let modified = match std::fs::metadata(&path).and_then(|m| m.modified()) {
            Ok(modified) => modified,
            // Committed or removed meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(DirError::io("read the time of", &path)(e)),
        };
        if modified >= before {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(DirError::io("remove", &path)(e)),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
