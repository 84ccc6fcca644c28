//! `confab backup`: a consistent copy of a live database file, through SQLite's online backup
//! API, while the server keeps reading and writing it. The whole copy is one step, so it reads
//! one snapshot (a WAL read transaction: the writer never waits for it) and never restarts
//! because a write landed half-way. It never writes to the source, and never overwrites a file.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// Why a backup failed; each says what was being done, and where.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no database at {0}")]
    NoSource(String),
    #[error("cannot read the database {path}: {source}")]
    Source {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot write the copy {path}: {detail}")]
    Target { path: String, detail: String },
    #[error("{0} is not a confab database (no migration was ever applied to it)")]
    NotConfab(String),
    #[error("the database stayed locked for {0:?}; try again")]
    Busy(Duration),
    #[error("the copy {path} failed its integrity check: {detail}")]
    Corrupt { path: String, detail: String },
}

/// Pause between tries while another connection holds a lock the copy needs.
const RETRY: Duration = Duration::from_millis(50);

/// Copies the database at `source` into a new file `target` (which must not exist), waiting at
/// most `busy_timeout` for locks, checks the copy's integrity and syncs it to disk.
/// Answers the copy's size in bytes.
pub fn backup(source: &Path, target: &Path, busy_timeout: Duration) -> Result<u64, BackupError> {
    let shown = |p: &Path| p.display().to_string();
    let target_err = |e: &dyn std::fmt::Display| BackupError::Target {
        path: shown(target),
        detail: e.to_string(),
    };
    if !source.is_file() {
        return Err(BackupError::NoSource(shown(source)));
    }
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|c| c.busy_timeout(busy_timeout).map(|()| c))
    .map_err(|e| BackupError::Source {
        path: shown(source),
        source: e,
    })?;
    // Read before anything is created: a file that is no database, or not confab's, is the
    // wrong path, not something to copy.
    let version: i64 = src
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| BackupError::Source {
            path: shown(source),
            source: e,
        })?;
    if version == 0 {
        return Err(BackupError::NotConfab(shown(source)));
    }
    // Created here, exclusively: a file that appeared meanwhile is never overwritten.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
        .map_err(|e| target_err(&e))?;
    let mut dst = Connection::open(target).map_err(|e| target_err(&e))?;
    copy_all(&src, &mut dst, busy_timeout).map_err(|e| match e {
        CopyError::Busy => BackupError::Busy(busy_timeout),
        CopyError::Sqlite(e) => target_err(&e),
    })?;
    check_integrity(&dst).map_err(|detail| BackupError::Corrupt {
        path: shown(target),
        detail,
    })?;
    drop(dst);
    let file = std::fs::File::open(target).map_err(|e| target_err(&e))?;
    file.sync_all().map_err(|e| target_err(&e))?;
    Ok(file.metadata().map_err(|e| target_err(&e))?.len())
}

enum CopyError {
    Busy,
    Sqlite(rusqlite::Error),
}

/// Every page in one step (one snapshot of the source), retried while a lock is in the way.
fn copy_all(src: &Connection, dst: &mut Connection, patience: Duration) -> Result<(), CopyError> {
    let started = Instant::now();
    let backup = Backup::new(src, dst).map_err(CopyError::Sqlite)?;
    loop {
        match backup.step(-1).map_err(CopyError::Sqlite)? {
            StepResult::Done => return Ok(()),
            StepResult::Busy | StepResult::Locked => {
                if started.elapsed() > patience {
                    return Err(CopyError::Busy);
                }
                std::thread::sleep(RETRY);
            }
            // `More` cannot come with -1 (all pages); stepping again finishes the copy.
            _ => {}
        }
    }
}

/// `PRAGMA integrity_check` on the copy: `Err` with what SQLite found unless it says "ok".
fn check_integrity(conn: &Connection) -> Result<(), String> {
    let found: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    if found == ["ok"] {
        Ok(())
    } else {
        Err(found.join("; "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_copy_holds_what_the_source_held_and_nothing_is_overwritten() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src.db");
        let conn = Connection::open(&src).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let not_yet = backup(&src, &d.path().join("early.db"), RETRY).unwrap_err();
        assert!(matches!(not_yet, BackupError::NotConfab(_)), "{not_yet}");
        assert!(!d.path().join("early.db").exists());
        conn.execute_batch("PRAGMA user_version = 1; INSERT INTO t VALUES (1), (2);")
            .unwrap();
        let dst = d.path().join("copy.db");
        assert!(backup(&src, &dst, Duration::from_secs(1)).unwrap() > 0);
        let copy = Connection::open(&dst).unwrap();
        let n: i64 = copy
            .query_row("SELECT sum(x) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);

        let again = backup(&src, &dst, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(again, BackupError::Target { .. }), "{again}");
        let missing = backup(&d.path().join("none.db"), &d.path().join("x.db"), RETRY);
        assert!(matches!(missing, Err(BackupError::NoSource(_))));
        assert!(!d.path().join("x.db").exists());
        let junk = d.path().join("junk.db");
        std::fs::write(&junk, vec![0x5a_u8; 8192]).unwrap();
        let err = backup(&junk, &d.path().join("y.db"), RETRY).unwrap_err();
        assert!(matches!(err, BackupError::Source { .. }), "{err}");
        assert!(!d.path().join("y.db").exists());
    }
}
