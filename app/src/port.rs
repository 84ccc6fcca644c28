//! `confab port --from URL --to URL`: the move between stores. The copy itself is the
//! `copy_store` use case; here are the URLs, the refusals that need the file system, opening
//! both stores, and the lines the operator sees.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use confab_ports::clock::{Clock, SystemClock};
use confab_ports::service::{Progress, Report, TRANSFER_BATCH, copy_blobs, copy_store};

use crate::StartError;
use crate::config::{DatabaseUrl, PortArgs};
use crate::store::open_transfer;

/// How long one operation (a batch) may take when [`port`] is called as a library.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// At most one progress line a second for a table still being copied (its last line always).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Copies everything from the database at `from` into the empty one at `to` (URLs as
/// `--database-url` takes them), calling `progress` before each table and after each batch,
/// and verifies the row counts. Refuses a bad URL, the same database twice, a SQLite source
/// that does not exist and a target that has data.
pub async fn port(
    from: &str,
    to: &str,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Report, StartError> {
    port_with(from, to, DEFAULT_TIMEOUT, progress).await
}

/// Runs `confab port`: progress lines and the verified counts on stdout.
pub(crate) async fn run(args: PortArgs) -> Result<(), StartError> {
    let mut printer = Printer::default();
    let report = port_with(&args.from, &args.to, args.database_timeout, &mut |p| {
        printer.show(p)
    })
    .await?;
    println!("verified: {report}");
    Ok(())
}

async fn port_with(
    from: &str,
    to: &str,
    timeout: Duration,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Report, StartError> {
    let from_url = DatabaseUrl::parse(from).map_err(|e| StartError(format!("--from: {e}")))?;
    let to_url = DatabaseUrl::parse(to).map_err(|e| StartError(format!("--to: {e}")))?;
    if let DatabaseUrl::Sqlite(path) = &from_url {
        // Opening would create an empty database, and the copy would "succeed" with nothing.
        if !path.is_file() {
            return Err(StartError(format!(
                "--from: there is no SQLite database at {}",
                path.display()
            )));
        }
    }
    if same_database(&from_url, &to_url) {
        return Err(StartError(format!(
            "--from and --to are the same database ({from_url}); give an empty one as --to"
        )));
    }
    let source = open_transfer(&from_url, timeout)
        .await
        .map_err(|e| StartError(format!("--from: {e}")))?;
    let target = open_transfer(&to_url, timeout)
        .await
        .map_err(|e| StartError(format!("--to: {e}")))?;
    tracing::info!(from = %from_url, to = %to_url, "copying");
    let mut report = copy_store(
        &*source.transfer,
        &*target.transfer,
        TRANSFER_BATCH,
        progress,
    )
    .await
    .map_err(|e| StartError(e.to_string()))?;
    // The bytes kept in the database; those in an --attachments-dir stay where they are.
    report.files = copy_blobs(&*source.blobs, &*target.blobs, SystemClock.now())
        .await
        .map_err(|e| StartError(e.to_string()))?;
    Ok(report)
}

/// Whether both URLs name one database: one file (however its path is spelt), or one
/// PostgreSQL URL.
fn same_database(a: &DatabaseUrl, b: &DatabaseUrl) -> bool {
    match (a, b) {
        (DatabaseUrl::Sqlite(a), DatabaseUrl::Sqlite(b)) => canonical(a) == canonical(b),
        (DatabaseUrl::Postgres(a), DatabaseUrl::Postgres(b)) => a == b,
        _ => false,
    }
}

/// The file's canonical path; a file that does not exist yet is its own (it cannot be the
/// source, which must exist).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// Prints `table: copied/total` lines: each table's last, and in between one a second.
#[derive(Default)]
struct Printer {
    last: Option<Instant>,
}

impl Printer {
    fn show(&mut self, p: &Progress) {
        let done = p.copied >= p.total;
        let due = self.last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
        // The line before a table's first batch says nothing the next one will not.
        if done || (due && p.copied > 0) {
            println!("{}: {}/{}", p.table, p.copied, p.total);
            self.last = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_same_file_is_recognised_however_it_is_spelt() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.db");
        std::fs::write(&file, b"").unwrap();
        let a = DatabaseUrl::Sqlite(file.clone());
        let b = DatabaseUrl::Sqlite(dir.path().join(".").join("a.db"));
        assert!(same_database(&a, &b));
        assert!(!same_database(
            &a,
            &DatabaseUrl::Sqlite(dir.path().join("b.db"))
        ));
        let pg = DatabaseUrl::Postgres("postgres://h/db".into());
        assert!(same_database(&pg, &pg.clone()));
        assert!(!same_database(&a, &pg));
    }
}
