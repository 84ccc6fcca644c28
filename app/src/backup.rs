//! `confab backup PATH`: a consistent copy of a running server's SQLite database (through the
//! adapter's online backup, `confab_sqlite::backup`) and of its attachments directory, into a
//! new directory: `PATH/confab.db` and `PATH/attachments/`. It never writes to the live data,
//! never overwrites anything, and leaves no half-made PATH behind when it fails. PostgreSQL is
//! refused: pg_dump does that job better than we could.

use std::path::Path;

use confab_files::DirBlobs;

use crate::StartError;
use crate::config::DatabaseUrl;
use crate::ops_config::BackupArgs;

/// The database file's name inside the backup directory.
pub const DATABASE_FILE: &str = "confab.db";
/// The attachments directory's name inside the backup directory.
pub const ATTACHMENTS_DIR: &str = "attachments";

/// Runs `confab backup`.
pub(crate) async fn run(args: BackupArgs) -> Result<(), StartError> {
    let source = match DatabaseUrl::parse(&args.store.database_url).map_err(StartError)? {
        DatabaseUrl::Sqlite(path) => path,
        DatabaseUrl::Postgres(_) => {
            return Err(StartError(
                "confab backup copies SQLite databases; back PostgreSQL up with pg_dump (see \"Backups\" in docs/operations.md)".into(),
            ));
        }
    };
    let target = args.path.clone();
    make_target(&target)?;
    match copy(&source, &target, &args).await {
        Ok(done) => {
            println!(
                "backed up {} ({} bytes) and {} attachment file(s) into {}",
                source.display(),
                done.bytes,
                done.attachments,
                target.display()
            );
            Ok(())
        }
        Err(e) => {
            // Ours alone (made just now, exclusively): nothing else is lost.
            let _ = std::fs::remove_dir_all(&target);
            Err(e)
        }
    }
}

struct Copied {
    bytes: u64,
    attachments: u64,
}

/// Creates `path`, which must not exist, readable by its owner only (it holds password
/// hashes and everyone's messages).
fn make_target(path: &Path) -> Result<(), StartError> {
    if path.as_os_str().is_empty() {
        return Err(StartError("the backup path is empty".into()));
    }
    if path.symlink_metadata().is_ok() {
        return Err(StartError(format!(
            "{} already exists; give a new directory (a backup never overwrites)",
            path.display()
        )));
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .map_err(|e| StartError(format!("cannot create {}: {e}", path.display())))
}

async fn copy(source: &Path, target: &Path, args: &BackupArgs) -> Result<Copied, StartError> {
    let db = target.join(DATABASE_FILE);
    let (from, timeout) = (source.to_path_buf(), args.store.database_timeout);
    let bytes = tokio::task::spawn_blocking(move || confab_sqlite::backup(&from, &db, timeout))
        .await
        .map_err(|e| StartError(format!("the backup failed: {e}")))?
        .map_err(|e| StartError(format!("the backup failed: {e}")))?;
    // After the database: every file its copy names was there before it (an upload's bytes
    // are committed before its row), so none is missing; newer ones are swept as unused.
    let attachments = match &args.attachments_dir {
        Some(dir) => copy_attachments(dir, &target.join(ATTACHMENTS_DIR)).await?,
        None => 0,
    };
    Ok(Copied { bytes, attachments })
}

/// Copies every committed attachment file through the `Blobs` port, each checked after.
async fn copy_attachments(from: &Path, to: &Path) -> Result<u64, StartError> {
    if !from.is_dir() {
        return Err(StartError(format!(
            "there is no attachments directory at {}",
            from.display()
        )));
    }
    let fail = |e: &dyn std::fmt::Display| StartError(format!("copying attachments failed: {e}"));
    let source = DirBlobs::open(from).await.map_err(|e| fail(&e))?;
    let copy = DirBlobs::open(to).await.map_err(|e| fail(&e))?;
    let now = confab_domain::Timestamp::now_utc();
    confab_ports::service::copy_blobs(&source, &copy, now)
        .await
        .map_err(|e| fail(&e))
}
