//! The disk side of `limits`: how many synced 4 KiB writes per second a directory's disk
//! takes, written sequentially to a fresh temporary file, twice: opened with O_DSYNC, like
//! `dd if=/dev/zero of=FILE bs=4k count=N oflag=dsync`, and as a plain write followed by
//! `fdatasync`, which is what a database commit costs.
//!
//! It must never write to, or remove, any file but the one it created itself, and never leave
//! that one behind. It blocks: run it off the async runtime's worker threads.

use std::fs::{File, OpenOptions};
use std::io::{Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::api::run_id;
use crate::stats::{Latency, micros};

/// The size of one write.
pub const BLOCK: usize = 4096;
/// The temporary file goes back to its start once this long, so that a disk which does not
/// really sync (tmpfs, a lying cache) cannot fill up during the window.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// What the disk took.
#[derive(Debug, Serialize)]
pub struct DiskLimits {
    /// The directory measured, as given.
    pub dir: String,
    /// The filesystem it is on, `<type> on <device>` from `/proc/self/mounts`.
    pub filesystem: Option<String>,
    pub block_bytes: usize,
    /// Writes to a file opened with O_DSYNC (`dd … oflag=dsync`).
    pub o_dsync: SyncedWrites,
    /// Plain writes, each followed by `fdatasync` (a database commit).
    pub fdatasync: SyncedWrites,
}

/// One way of writing synced blocks, measured.
#[derive(Debug, Serialize)]
pub struct SyncedWrites {
    pub writes: u64,
    pub seconds: f64,
    pub writes_per_sec: f64,
    /// Megabytes (10^6 bytes) per second, as `dd` counts them.
    pub mb_per_sec: f64,
    /// Each write, sync included.
    pub latency: Latency,
    /// Times the file went back to its start after `MAX_FILE_BYTES` (0 on any real disk).
    pub rewinds: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    ODsync,
    Fdatasync,
}

/// Measures both ways for `window` each, in `dir`.
pub(super) fn measure(dir: &Path, window: Duration) -> Result<DiskLimits> {
    Ok(DiskLimits {
        dir: dir.display().to_string(),
        filesystem: filesystem(dir),
        block_bytes: BLOCK,
        o_dsync: synced_writes(dir, window, How::ODsync)?,
        fdatasync: synced_writes(dir, window, How::Fdatasync)?,
    })
}

/// Writes zeroed blocks to a fresh file in `dir`, each synced, until `window` has passed.
fn synced_writes(dir: &Path, window: Duration, how: How) -> Result<SyncedWrites> {
    let flags = match how {
        How::ODsync => libc::O_DSYNC,
        How::Fdatasync => 0,
    };
    let mut temp = TempFile::create(dir, flags)?;
    let block = [0u8; BLOCK];
    let mut times = Vec::new();
    let (mut written, mut rewinds) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < window {
        if written >= MAX_FILE_BYTES {
            temp.file.rewind().context("rewinding the temporary file")?;
            (written, rewinds) = (0, rewinds + 1);
        }
        let began = Instant::now();
        temp.file.write_all(&block).context("writing")?;
        if how == How::Fdatasync {
            temp.file.sync_data().context("fdatasync")?;
        }
        times.push(micros(began.elapsed()));
        written += BLOCK as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    temp.remove()?;
    let writes = times.len() as u64;
    Ok(SyncedWrites {
        writes,
        seconds,
        writes_per_sec: writes as f64 / seconds,
        mb_per_sec: (writes * BLOCK as u64) as f64 / seconds / 1e6,
        latency: Latency::from_micros(times),
        rewinds,
    })
}

/// The file being written; removed when dropped, should the measurement fail.
struct TempFile {
    path: PathBuf,
    file: File,
}

impl TempFile {
    /// A new file in `dir`, opened for writing with `flags` added; never an existing one.
    fn create(dir: &Path, flags: i32) -> Result<Self> {
        let name = format!(
            ".confab-bench-limits-{}-{}.tmp",
            std::process::id(),
            run_id()
        );
        let path = dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(flags)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path, file })
    }

    /// Removes the file, saying so when that fails.
    fn remove(mut self) -> Result<()> {
        let path = std::mem::take(&mut self.path);
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The filesystem `dir` is on, `<type> on <device>` (`None` when it cannot be told).
fn filesystem(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mount_of(&mounts, &dir)
}

/// The mount in a `/proc/self/mounts` that `path` (canonical) is under: the one with the
/// longest mount point, the last of them when one is mounted over another.
fn mount_of(mounts: &str, path: &Path) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(device), Some(point), Some(kind)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let point = point.replace("\\040", " ");
        if path.starts_with(&point) && best.as_ref().is_none_or(|(len, _)| point.len() >= *len) {
            best = Some((point.len(), format!("{kind} on {device}")));
        }
    }
    best.map(|(_, fs)| fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_and_latest_mount_point_wins() {
        let mounts = "/dev/vda / ext4 rw 0 0\n\
                      tmpfs /tmp tmpfs rw 0 0\n\
                      /dev/vdb /tmp xfs rw 0 0\n\
                      /dev/vdc /mnt/my\\040disk btrfs rw 0 0\n";
        let of = |p: &str| mount_of(mounts, Path::new(p));
        assert_eq!(of("/tmp/x").as_deref(), Some("xfs on /dev/vdb"));
        assert_eq!(of("/tmpx").as_deref(), Some("ext4 on /dev/vda"));
        assert_eq!(of("/mnt/my disk/a").as_deref(), Some("btrfs on /dev/vdc"));
        assert_eq!(mount_of("", Path::new("/")), None);
    }

    #[test]
    fn synced_writes_leave_no_file_behind() {
        let dir = std::env::temp_dir().join(format!("confab-bench-disk-{}", run_id()));
        std::fs::create_dir(&dir).expect("a fresh directory");
        let limits = measure(&dir, Duration::from_millis(50)).expect("measured");
        assert!(limits.o_dsync.writes > 0 && limits.fdatasync.writes > 0);
        let left = std::fs::read_dir(&dir).expect("listed").count();
        std::fs::remove_dir(&dir).expect("removed");
        assert_eq!(left, 0);
    }
}
