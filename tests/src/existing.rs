//! Servers over a store filled by something else than a server: what a move between stores
//! (`confab port`) needs. An empty store of either kind to copy into, its URL, and a server
//! started on it afterwards that takes the signing secret it finds there, as a server does
//! after a real move.

use tempfile::TempDir;

use crate::{Store, TestDatabase, TestServer, sqlite_path};

/// A store nobody has served yet: a SQLite file to be in a fresh directory, or a fresh
/// PostgreSQL database of the shared cluster (migrated, empty).
pub struct FreshStore {
    store: Store,
    dir: TempDir,
    database: Option<TestDatabase>,
}

impl FreshStore {
    /// A fresh store of kind `store`.
    pub async fn new(store: Store) -> Self {
        let database = match store {
            Store::Sqlite => None,
            Store::Postgres => Some(TestDatabase::new().await),
        };
        Self {
            store,
            dir: tempfile::tempdir().expect("temp dir"),
            database,
        }
    }

    /// Its `--database-url`.
    pub fn url(&self) -> String {
        match &self.database {
            Some(database) => database.url().to_owned(),
            None => format!("sqlite://{}", sqlite_path(&self.dir).display()),
        }
    }

    /// Which kind of store it is.
    pub fn store(&self) -> Store {
        self.store
    }
}

impl TestServer {
    /// A server on a fresh store with extra flags that, unlike [`TestServer::start_with`],
    /// is given no secret: it generates one and keeps it in the store, as the README's quick
    /// start does.
    pub async fn start_generated_with(store: Store, flags: &[&str]) -> Self {
        Self::start_over(FreshStore::new(store).await, flags).await
    }

    /// A server on `store` as it is now (e.g. filled by `confab port`), with extra flags and no
    /// secret given: it signs with the secret stored there, or generates one if there is none.
    pub async fn start_over(store: FreshStore, flags: &[&str]) -> Self {
        let flags = flags.iter().map(|s| (*s).to_owned()).collect();
        Self::start_in(store.store, store.dir, store.database, flags, false).await
    }

    /// The `--database-url` of this server's store; the store stays while the server value
    /// lives, stopped or not.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(database) => database.url().to_owned(),
            None => format!("sqlite://{}", self.sqlite_path().display()),
        }
    }
}
