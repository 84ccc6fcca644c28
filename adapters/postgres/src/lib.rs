//! The store on PostgreSQL, for deployments that run several instances on one database.
//!
//! Every operation is one transaction on a pooled connection, but for appends: `appender`
//! commits whatever appends are queued as one transaction (as SQLite's writer commits a group),
//! answering each only after the COMMIT. Where SQLite relies on its single writer, this store
//! takes row locks: a write to a group first locks the group's row (`SELECT … FOR UPDATE`), so
//! appends, membership changes and closes of one group are serialised while different groups
//! proceed in parallel. Uniqueness (usernames, emails, one
//! open direct chat per pair, `client_id` per sender and group, one owner) is enforced by
//! constraints, and a violation maps to the answer the port promises, never a 500.
//! Attachment bytes live here too (`blobs`: chunked `bytea` rows), so that instances sharing
//! the database share files.
//! This crate never makes a policy decision of its own: rules come from `confab-domain`.
#![forbid(unsafe_code)]

/// Runs `$body` (a future over the transaction `$tx`) in one transaction, commits it, and maps
/// the error into the port's.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        $store
            .run(async {
                let mut $tx = $store.begin().await?;
                let out = $body.await?;
                $tx.commit().await?;
                $crate::committed();
                Ok(out)
            })
            .await
    };
}

/// Counts a committed write transaction (`confab_store_commits_total`, as the SQLite store counts).
fn committed() {
    metrics::counter!("confab_store_commits_total").increment(1);
}

mod announcements;
mod appender;
mod attachments;
mod batch;
mod blobs;
mod blocks;
mod chat_rows;
mod circles;
mod error;
mod groups;
mod health;
mod invites;
mod messages;
mod migrate;
mod otp;
mod pool;
mod reports;
mod rows;
mod search;
mod sessions;
mod social;
mod transfer;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

pub use error::OpenError;
use error::StoreResult;

/// Connections the pool opens at most, unless configured.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// How the store connects.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// Most connections held at once.
    pub max_connections: u32,
    /// How long an operation waits for a connection (or to open one) before answering
    /// unavailable; also the limit for a single statement.
    pub timeout: Duration,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The PostgreSQL store. Cheap to share behind an `Arc`; implements every store port.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The most one operation may take, waiting included.
    timeout: Duration,
    /// Where appends queue to be committed in batches; its lanes stop when the last clone of
    /// the store is dropped.
    appender: std::sync::Arc<appender::Appender>,
}

fn connect_options(url: &str, settings: &PgSettings) -> Result<PgConnectOptions, OpenError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| OpenError(format!("invalid PostgreSQL URL: {e}")))?;
    let statement_timeout = format!("{}", settings.timeout.as_millis().max(1));
    // A transaction left open by a confab that vanished would hold its group's lock until the
    // server noticed the dead connection (hours, by default): end it, and probe idle sockets.
    let idle_in_transaction = format!("{}", settings.timeout.as_millis().max(1) * 2);
    // An acknowledged write must be on disk: never let a server default weaken that. A statement
    // that cannot finish in time (a lock held by a stuck client) fails instead of hanging.
    Ok(options.application_name("confab").options([
        ("synchronous_commit", "on"),
        ("statement_timeout", statement_timeout.as_str()),
        ("lock_timeout", statement_timeout.as_str()),
        (
            "idle_in_transaction_session_timeout",
            idle_in_transaction.as_str(),
        ),
        ("tcp_keepalives_idle", "30"),
        ("tcp_keepalives_interval", "10"),
        ("tcp_keepalives_count", "3"),
        // Notices such as "relation already exists, skipping" are not news for the log.
        ("client_min_messages", "warning"),
    ]))
}

impl PgStore {
    /// Connects to the database at `url` and runs pending migrations.
    pub async fn connect(url: &str, settings: &PgSettings) -> Result<Self, OpenError> {
        let options = connect_options(url, settings)?;
        // One plain connection first: the pool would retry until its timeout and then report
        // only that it timed out; this says why (refused, unknown database, bad password).
        let first = tokio::time::timeout(settings.timeout, PgConnection::connect_with(&options))
            .await
            .map_err(|_| {
                OpenError(format!(
                    "cannot connect to PostgreSQL: no answer within {:?}",
                    settings.timeout
                ))
            })?
            .map_err(|e| OpenError(format!("cannot connect to PostgreSQL: {}", describe(&e))))?;
        first.close().await.ok();
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(settings.timeout)
            .connect_with(options)
            .await
            .map_err(|e| OpenError(format!("cannot connect to PostgreSQL: {e}")))?;
        migrate::run(&pool)
            .await
            .map_err(|e| OpenError(format!("cannot migrate the PostgreSQL database: {e}")))?;
        Ok(Self {
            appender: std::sync::Arc::new(appender::Appender::start(&pool, settings.timeout)),
            pool,
            timeout: settings.timeout,
        })
    }

    /// Runs a store operation written against the adapter's error type, within the store's
    /// timeout, and maps its error into the port's, once: the trait methods are all
    /// `self.run(async { … })`. The server-side statement and lock timeouts cannot help when the
    /// network itself is gone (a query would wait for TCP to give up, minutes later); this bound
    /// holds whatever happens on the wire.
    pub(crate) async fn run<T>(
        &self,
        operation: impl std::future::Future<Output = StoreResult<T>>,
    ) -> confab_ports::Result<T> {
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(done) => Ok(done?),
            Err(_) => Err(confab_ports::Error::Unavailable(format!(
                "the database did not answer within {:?}",
                self.timeout
            ))),
        }
    }

    /// Starts a transaction on a pooled connection.
    pub(crate) async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// A pooled connection for a read.
    pub(crate) async fn conn(&self) -> StoreResult<PoolConnection<Postgres>> {
        Ok(self.pool.acquire().await?)
    }

    /// The pool, for the move between stores.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A driver error in one line for an operator: the server's own message when it sent one.
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// Connects to `url` and runs pending migrations, then disconnects: `confab migrate`, and the
/// test harness's template database.
pub async fn migrate(url: &str) -> Result<(), OpenError> {
    let store = PgStore::connect(url, &PgSettings::default()).await?;
    store.pool.close().await;
    Ok(())
}
