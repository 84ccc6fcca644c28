//! Embedded migrations, tracked in `confab_schema`: migration N runs once, in order, under an
//! advisory lock so that instances starting at once do not race. Each one's checksum is kept
//! beside its version; a start that finds a migration edited since it ran stops
//! (`confab_ports::store::check_applied` decides). Nothing here may run a migration twice or
//! skip the check.

use confab_ports::store::{Migration, check_applied, pending_migrations};
use sqlx::PgPool;

const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "0001_schema.sql",
        sql: include_str!("../migrations/0001_schema.sql"),
    },
    Migration {
        name: "0002_announcements.sql",
        sql: include_str!("../migrations/0002_announcements.sql"),
    },
    Migration {
        name: "0003_pool.sql",
        sql: include_str!("../migrations/0003_pool.sql"),
    },
    Migration {
        name: "0004_otp.sql",
        sql: include_str!("../migrations/0004_otp.sql"),
    },
    Migration {
        name: "0005_attachments.sql",
        sql: include_str!("../migrations/0005_attachments.sql"),
    },
    Migration {
        name: "0006_replies_reactions.sql",
        sql: include_str!("../migrations/0006_replies_reactions.sql"),
    },
    Migration {
        name: "0007_blocks_bans.sql",
        sql: include_str!("../migrations/0007_blocks_bans.sql"),
    },
    Migration {
        name: "0008_reports.sql",
        sql: include_str!("../migrations/0008_reports.sql"),
    },
    Migration {
        name: "0009_presence.sql",
        sql: include_str!("../migrations/0009_presence.sql"),
    },
    Migration {
        name: "0010_invites.sql",
        sql: include_str!("../migrations/0010_invites.sql"),
    },
];

/// Key of the advisory lock held while migrating (any constant unlikely to collide).
const MIGRATION_LOCK: i64 = 0x636f_6e66_6162; // "confab"

/// Applies every migration newer than the database, each in its own transaction. Refuses a
/// database written by a newer confab rather than guess at a schema it does not know.
pub(crate) async fn run(pool: &PgPool) -> Result<(), String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    // Waiting for another instance's migration, or a long one of ours, is not a request: the
    // connection's request timeouts do not apply here.
    sqlx::raw_sql("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0")
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS confab_schema (version bigint NOT NULL);
         ALTER TABLE confab_schema ADD COLUMN IF NOT EXISTS checksum text",
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    let applied: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT version, checksum FROM confab_schema ORDER BY version")
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    let current = applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
    let pending = pending_migrations(current, MIGRATIONS.len())?;
    for (version, checksum) in check_applied(&applied, MIGRATIONS)? {
        sqlx::query("UPDATE confab_schema SET checksum = $2 WHERE version = $1")
            .bind(version)
            .bind(checksum)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    for (version, migration) in (1..).zip(MIGRATIONS).filter(|(v, _)| pending.contains(v)) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sql))
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("migration {version} failed: {e}"))?;
        sqlx::query("INSERT INTO confab_schema (version, checksum) VALUES ($1, $2)")
            .bind(version)
            .bind(migration.checksum())
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            version,
            name = migration.name,
            "applied PostgreSQL migration"
        );
    }
    tx.commit().await.map_err(|e| e.to_string())
}
