//! Crashes and shutdowns of the real server binary under load, on both stores.
//!
//! - [`kill`]: SIGKILL mid-send, several rounds on one database: after each restart every
//!   acknowledged message is stored exactly once, seqs are gapless, a resent `client_id` is
//!   answered with the first message, and a receiver that was connected before the kill
//!   reconnects, `sync`s from the revs it saw and ends with exactly what the store holds.
//! - [`term`]: SIGTERM under load: every socket gets the answers it is owed, then 1001;
//!   every HTTP request made before the signal is answered; what was acknowledged is stored.
//! - [`attachments`]: SIGKILL mid-upload (bytes in a directory, or in either database): the
//!   cut upload leaves no row and no committed bytes, every upload answered 201 is intact
//!   (sha256), and what is left behind is only partial writes for the sweep.
//! - [`backup`]: PostgreSQL's `pg_dump` under write load, `pg_restore`, a server on the
//!   restore: every message acknowledged before the dump is there.
//!
//! The servers are processes of their own ([`TestServer::spawn`]), so a SIGKILL is a real
//! crash: nothing of the process runs after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attachments;
mod backup;
mod kill;
mod ledger;
mod sock;
mod term;

use confab_tests::{Store, TestDatabase, TestServer};

/// Every server here: request budgets out of the way (the senders are as fast as their
/// answers), the rest as deployed.
const FLAGS: &[&str] = &[
    "--request-burst",
    "1000000",
    "--requests-per-second",
    "1000000",
];

/// A database that outlives the server processes on it: a SQLite file in a directory of the
/// test's own, or a PostgreSQL database of its own on the shared cluster.
pub struct Db {
    pub store: Store,
    url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<TestDatabase>,
}

impl Db {
    pub async fn new(store: Store) -> Self {
        match store {
            Store::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("confab.db").display());
                Self {
                    store,
                    url,
                    _dir: Some(dir),
                    _pg: None,
                }
            }
            Store::Postgres => {
                let db = TestDatabase::new().await;
                Self {
                    store,
                    url: db.url().to_owned(),
                    _dir: None,
                    _pg: Some(db),
                }
            }
        }
    }

    /// Its `--database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A server process (the real binary) on this database.
    pub async fn spawn(&self) -> TestServer {
        TestServer::spawn(
            std::path::Path::new(env!("CARGO_BIN_EXE_confab-node")),
            self.store,
            &self.url,
            FLAGS,
        )
        .await
    }
}
