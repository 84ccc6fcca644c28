//! Embedded migrations, tracked in `confab_schema`: migration N runs once, in order, under an
//! advisory lock so that instances starting at once do not race.

use sqlx::PgPool;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_schema.sql"),
    include_str!("../migrations/0002_announcements.sql"),
    include_str!("../migrations/0003_pool.sql"),
    include_str!("../migrations/0004_otp.sql"),
    include_str!("../migrations/0005_attachments.sql"),
    include_str!("../migrations/0006_replies_reactions.sql"),
    include_str!("../migrations/0007_blocks_bans.sql"),
    include_str!("../migrations/0008_reports.sql"),
    include_str!("../migrations/0009_presence.sql"),
    include_str!("../migrations/0010_invites.sql"),
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
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS confab_schema (version bigint NOT NULL)")
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    let current: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM confab_schema")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    let pending = confab_ports::store::pending_migrations(current.unwrap_or(0), MIGRATIONS.len())?;
    for (version, sql) in (1..).zip(MIGRATIONS).filter(|(v, _)| pending.contains(v)) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("migration {version} failed: {e}"))?;
        sqlx::query("INSERT INTO confab_schema (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    tx.commit().await.map_err(|e| e.to_string())
}
