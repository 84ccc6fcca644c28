//! Opens the store the database URL names, as the store ports (or, for `confab port`,
//! as the `Transfer` port).

use std::sync::Arc;

use confab_ports::blobs::Blobs;
use confab_ports::store::{
    Announcements, Attachments, Blocks, Circles, Groups, Health, Invites, MatchPool, Messages,
    OneTimeCodes, Reports, Sessions, Transfer, Users,
};
use confab_postgres::{PgSettings, PgStore};
use confab_sqlite::SqliteStore;

use crate::StartError;
use crate::config::{DatabaseUrl, StoreArgs};

/// The store behind every store port.
#[derive(Clone)]
pub(crate) struct Store {
    pub users: Arc<dyn Users>,
    pub blocks: Arc<dyn Blocks>,
    pub circles: Arc<dyn Circles>,
    pub groups: Arc<dyn Groups>,
    pub messages: Arc<dyn Messages>,
    pub announcements: Arc<dyn Announcements>,
    pub reports: Arc<dyn Reports>,
    pub invites: Arc<dyn Invites>,
    pub sessions: Arc<dyn Sessions>,
    pub health: Arc<dyn Health>,
    pub otp_codes: Arc<dyn OneTimeCodes>,
    pub pool: Arc<dyn MatchPool>,
    pub attachments: Arc<dyn Attachments>,
    /// The in-database blob store (used unless `--attachments-dir` is set).
    pub blobs: Arc<dyn Blobs>,
}

impl Store {
    fn over<
        S: Users
            + Blocks
            + Circles
            + Groups
            + Messages
            + Announcements
            + Reports
            + Invites
            + Sessions
            + Health
            + OneTimeCodes
            + MatchPool
            + Attachments
            + Blobs
            + 'static,
    >(
        store: S,
    ) -> Self {
        let store = Arc::new(store);
        Self {
            users: store.clone(),
            blocks: store.clone(),
            circles: store.clone(),
            groups: store.clone(),
            messages: store.clone(),
            announcements: store.clone(),
            reports: store.clone(),
            invites: store.clone(),
            sessions: store.clone(),
            otp_codes: store.clone(),
            pool: store.clone(),
            attachments: store.clone(),
            blobs: store.clone(),
            health: store,
        }
    }
}

/// Opens the SQLite file (creating it) at `path`, running migrations.
pub(crate) async fn open_sqlite(
    path: std::path::PathBuf,
    timeout: std::time::Duration,
) -> Result<SqliteStore, StartError> {
    tokio::task::spawn_blocking(move || SqliteStore::open(&path, timeout))
        .await
        .map_err(|e| StartError(format!("opening the database failed: {e}")))?
        .map_err(|e| StartError(e.to_string()))
}

/// Connects to the PostgreSQL database at `url`, running migrations.
pub(crate) async fn open_postgres(url: &str, args: &StoreArgs) -> Result<PgStore, StartError> {
    let settings = PgSettings {
        max_connections: args.database_connections,
        timeout: args.database_timeout,
    };
    PgStore::connect(url, &settings)
        .await
        .map_err(|e| StartError(e.to_string()))
}

/// Opens the store the settings name, running migrations.
pub(crate) async fn open_store(args: &StoreArgs) -> Result<Store, StartError> {
    Ok(
        match DatabaseUrl::parse(&args.database_url).map_err(StartError)? {
            DatabaseUrl::Sqlite(path) => {
                Store::over(open_sqlite(path, args.database_timeout).await?)
            }
            DatabaseUrl::Postgres(url) => Store::over(open_postgres(&url, args).await?),
        },
    )
}

/// Connections the move between stores holds: it reads or writes one batch at a time.
const TRANSFER_CONNECTIONS: u32 = 2;

/// A store opened for a move: its rows, and the attachment bytes it holds itself.
pub(crate) struct Movable {
    pub transfer: Arc<dyn Transfer>,
    pub blobs: Arc<dyn Blobs>,
}

impl Movable {
    fn over<S: Transfer + Blobs + 'static>(store: S) -> Self {
        let store = Arc::new(store);
        Self {
            transfer: store.clone(),
            blobs: store,
        }
    }
}

/// Opens the store `url` names for a move between stores (`confab port`), running migrations.
/// `timeout` bounds each operation, a whole batch.
pub(crate) async fn open_transfer(
    url: &DatabaseUrl,
    timeout: std::time::Duration,
) -> Result<Movable, StartError> {
    Ok(match url {
        DatabaseUrl::Sqlite(path) => Movable::over(open_sqlite(path.clone(), timeout).await?),
        DatabaseUrl::Postgres(url) => {
            let settings = PgSettings {
                max_connections: TRANSFER_CONNECTIONS,
                timeout,
            };
            Movable::over(
                PgStore::connect(url, &settings)
                    .await
                    .map_err(|e| StartError(e.to_string()))?,
            )
        }
    })
}
