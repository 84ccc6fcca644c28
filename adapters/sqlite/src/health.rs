//! `Health` on SQLite: a trivial query, and the signing secret kept in `settings`.

use async_trait::async_trait;
use confab_ports::Result;
use confab_ports::store::Health;
use rusqlite::params;

use crate::SqliteStore;

const SIGNING_SECRET: &str = "jwt_secret";

#[async_trait]
impl Health for SqliteStore {
    async fn ping(&self) -> Result<()> {
        // `SELECT 1` would be answered without touching the file; read a real table, then make
        // a round trip through the writer, which must be able to take the write lock.
        self.readers
            .read(|conn| Ok(conn.query_row("SELECT count(*) FROM settings", [], |_| Ok(()))?))
            .await?;
        Ok(self.writer.write(|_| Ok(())).await?)
    }

    async fn signing_secret_or_init(&self, candidate: Vec<u8>) -> Result<Vec<u8>> {
        Ok(self
            .writer
            .write(move |conn| {
                conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                    params![SIGNING_SECRET, candidate],
                )?;
                Ok(conn.query_row(
                    "SELECT value FROM settings WHERE key = ?1",
                    [SIGNING_SECRET],
                    |row| row.get(0),
                )?)
            })
            .await?)
    }
}
