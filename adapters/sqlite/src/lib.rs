//! The store on SQLite: one file, WAL, `synchronous=FULL`.
//!
//! Writes go to one writer thread that commits whatever is queued as one transaction (group
//! commit) and answers each caller only after the commit is on disk. Reads use a small pool of
//! read-only connections on blocking threads; WAL readers never wait for the writer.
//! This crate never makes a policy decision of its own: rules come from `confab-domain`.
#![forbid(unsafe_code)]

mod announcements;
mod attachments;
mod backup;
mod blobs;
mod blocks;
mod chat_rows;
mod circles;
mod error;
mod extras;
mod groups;
mod health;
mod invites;
mod messages;
mod migrate;
mod otp;
mod pool;
mod reactions;
mod readers;
mod reports;
mod rows;
mod search_index;
mod sessions;
mod transfer;
mod users;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use backup::{BackupError, backup};
pub use error::OpenError;
use readers::Readers;
use writer::Writer;

/// How many read-only connections the pool keeps.
const READERS: usize = 4;

/// The SQLite store. Cheap to share behind an `Arc`; implements every store port, and `Blobs`
/// (attachment bytes in the database).
pub struct SqliteStore {
    writer: Writer,
    /// Shared with the blob readers, which outlive the call that opened them.
    readers: Arc<Readers>,
}

/// How long an operation waits for a lock held by another process before giving up (503).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQL function `confab_words(text)`: the text's search words (`confab_domain::search_words`)
/// joined by spaces, which the full-text index's triggers store. The writing connection must
/// have it (migration 6 and every insert or edit of a message call it).
fn register_search_words(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "confab_words",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.map_or_else(String::new, |t| confab_domain::search_words(&t).join(" ")))
        },
    )
}

/// Statements each connection keeps prepared: more than the store has, so none is parsed
/// twice (rusqlite's default of 16 made the hot ones evict each other).
const STATEMENT_CACHE: usize = 256;

fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    register_search_words(conn)?;
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // temp_store: each write's savepoint keeps its undo pages in memory, not in a temporary
    // file (they live only until the transaction ends).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs pending migrations. An
    /// operation that cannot get a lock within `busy_timeout` fails as unavailable.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Self, OpenError> {
        let fail = |e: &dyn std::fmt::Display| {
            OpenError(format!("cannot open database {}: {e}", path.display()))
        };
        let mut conn = Connection::open(path).map_err(|e| fail(&e))?;
        configure(&conn, busy_timeout).map_err(|e| fail(&e))?;
        migrate::run(&mut conn).map_err(|e| fail(&e))?;
        let readers = (0..READERS)
            .map(|_| {
                let c = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(busy_timeout)?;
                c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                Ok(c)
            })
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| fail(&e))?;
        let writer = Writer::start(conn, search_index::index_pending).map_err(|e| fail(&e))?;
        Ok(Self {
            writer,
            readers: Arc::new(Readers::new(readers)),
        })
    }
}
