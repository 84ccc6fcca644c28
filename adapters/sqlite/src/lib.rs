//! The store on SQLite: one file, WAL, `synchronous=FULL`.
//!
//! Writes go to one writer thread that commits whatever is queued as one transaction (group
//! commit) and answers each caller only after the commit is on disk. Reads use a small pool of
//! read-only connections on blocking threads; WAL readers never wait for the writer.
//! This crate never makes a policy decision of its own: rules come from `confab-domain`.
#![forbid(unsafe_code)]

mod error;
mod health;
mod migrate;
mod readers;
mod rows;
mod sessions;
mod users;
mod writer;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

pub use error::OpenError;
use readers::Readers;
use writer::Writer;

/// How many read-only connections the pool keeps.
const READERS: usize = 4;

/// The SQLite store. Cheap to share behind an `Arc`; implements every store port.
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let fail = |e: &dyn std::fmt::Display| {
            OpenError(format!("cannot open database {}: {e}", path.display()))
        };
        let mut conn = Connection::open(path).map_err(|e| fail(&e))?;
        configure(&conn).map_err(|e| fail(&e))?;
        migrate::run(&mut conn).map_err(|e| fail(&e))?;
        let readers = (0..READERS)
            .map(|_| {
                let c = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(5))?;
                Ok(c)
            })
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| fail(&e))?;
        let writer = Writer::start(conn).map_err(|e| fail(&e))?;
        Ok(Self {
            writer,
            readers: Readers::new(readers),
        })
    }
}
