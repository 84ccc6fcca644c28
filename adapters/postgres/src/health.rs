//! `Health` on PostgreSQL: a real query, and the signing secret kept in `settings`.

use async_trait::async_trait;
use confab_ports::Result;
use confab_ports::store::Health;

use crate::PgStore;

const SIGNING_SECRET: &str = "jwt_secret";

#[async_trait]
impl Health for PgStore {
    async fn ping(&self) -> Result<()> {
        self.run(async {
            sqlx::query("SELECT count(*) FROM settings")
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn signing_secret_or_init(&self, candidate: Vec<u8>) -> Result<Vec<u8>> {
        self.run(async {
            // Instances starting at once: the first insert wins, the others wait for it to
            // commit, insert nothing, and read the winner's secret.
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(SIGNING_SECRET)
            .bind(candidate)
            .execute(&mut *tx)
            .await?;
            let secret: Vec<u8> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(SIGNING_SECRET)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(secret)
        })
        .await
    }
}
