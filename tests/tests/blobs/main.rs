//! The blob-store conformance suite: every MUST of `ports/src/blobs.rs`, over the port itself,
//! run against each adapter — a directory (`confab_files::DirBlobs`), a fresh SQLite file and a
//! fresh PostgreSQL database — so a failure reads `<adapter>::<case>` and the three cannot
//! drift apart unnoticed. The directory adapter's own cases (its layout on disk, a crash in
//! the middle of a write) are in `disk`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod disk;

use std::sync::Arc;
use std::time::Duration;

use confab_ports::blobs::Blobs;
use confab_tests::TestDatabase;
use tempfile::TempDir;
use tokio::sync::RwLock;

/// Which adapter a case runs on.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Dir,
    Sqlite,
    Postgres,
}

/// A fresh, empty blob store, and what keeps it alive.
pub struct Fresh {
    pub blobs: Arc<dyn Blobs>,
    _dir: Option<TempDir>,
    _database: Option<TestDatabase>,
}

/// How long a store operation may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How long one case may take, 10 MiB through a debug build included.
const CASE_TIMEOUT: Duration = Duration::from_secs(180);

impl Fresh {
    pub async fn new(kind: Kind) -> Self {
        match kind {
            Kind::Dir => {
                let dir = tempfile::tempdir().unwrap();
                let blobs = confab_files::DirBlobs::open(dir.path().join("attachments"))
                    .await
                    .unwrap();
                Self {
                    blobs: Arc::new(blobs),
                    _dir: Some(dir),
                    _database: None,
                }
            }
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("confab.db");
                let store = tokio::task::spawn_blocking(move || {
                    confab_sqlite::SqliteStore::open(&path, TIMEOUT)
                })
                .await
                .unwrap()
                .unwrap();
                Self {
                    blobs: Arc::new(store),
                    _dir: Some(dir),
                    _database: None,
                }
            }
            Kind::Postgres => {
                let database = TestDatabase::new().await;
                let settings = confab_postgres::PgSettings {
                    max_connections: 20,
                    timeout: TIMEOUT,
                };
                let store = confab_postgres::PgStore::connect(database.url(), &settings)
                    .await
                    .unwrap();
                Self {
                    blobs: Arc::new(store),
                    _dir: None,
                    _database: Some(database),
                }
            }
        }
    }
}

/// Taken shared by every case, and alone by those that measure this process's memory, so that
/// no other case's buffers are counted.
pub static ALONE: RwLock<()> = RwLock::const_new(());

/// Runs `case` on a fresh store of `kind`, within [`CASE_TIMEOUT`].
pub async fn run<F>(kind: Kind, alone: bool, case: F)
where
    F: AsyncFnOnce(&dyn Blobs),
{
    let (_shared, _alone) = if alone {
        (None, Some(ALONE.write().await))
    } else {
        (Some(ALONE.read().await), None)
    };
    let store = Fresh::new(kind).await;
    tokio::time::timeout(CASE_TIMEOUT, case(store.blobs.as_ref()))
        .await
        .unwrap_or_else(|_| panic!("the case took over {CASE_TIMEOUT:?} on {kind:?}"));
}

/// Instantiates each case of `cases` once per adapter, in modules named after it, so a failure
/// reads `dir::<case>`, `sqlite::<case>` or `postgres::<case>`; those after `alone:` run with
/// no other case of this binary running.
macro_rules! blob_cases {
    ($($name:ident),* $(,)?; alone: $($lonely:ident),* $(,)?) => {
        blob_cases!(@adapter dir, Dir; $($name),*; $($lonely),*);
        blob_cases!(@adapter sqlite, Sqlite; $($name),*; $($lonely),*);
        blob_cases!(@adapter postgres, Postgres; $($name),*; $($lonely),*);
    };
    (@adapter $module:ident, $kind:ident; $($name:ident),*; $($lonely:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::run($crate::Kind::$kind, false, $crate::cases::$name).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $lonely() {
                    $crate::run($crate::Kind::$kind, true, $crate::cases::$lonely).await;
                }
            )*
        }
    };
}

blob_cases!(
    round_trip_in_uneven_chunks,
    reads_are_chunked,
    ranges,
    an_empty_blob_is_a_blob,
    invisible_until_committed,
    unknown_ids_are_not_found,
    a_dropped_writer_leaves_nothing,
    remove_partial_spares_later_writers,
    creating_a_committed_id_conflicts,
    writers_interleave,
    delete_is_idempotent,
    list_pages_in_id_order;
    alone: memory_stays_bounded,
);
