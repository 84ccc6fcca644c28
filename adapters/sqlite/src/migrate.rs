//! Embedded migrations, tracked by `PRAGMA user_version`: migration N runs once, in order.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_accounts.sql"),
    include_str!("../migrations/0002_conversations.sql"),
    include_str!("../migrations/0003_announcements.sql"),
    include_str!("../migrations/0004_pool.sql"),
    include_str!("../migrations/0005_otp.sql"),
    include_str!("../migrations/0006_search_words.sql"),
    include_str!("../migrations/0007_search_pending.sql"),
    include_str!("../migrations/0008_attachments.sql"),
    include_str!("../migrations/0009_replies_reactions.sql"),
    include_str!("../migrations/0010_blocks_bans.sql"),
    include_str!("../migrations/0011_reports.sql"),
    include_str!("../migrations/0012_presence.sql"),
    include_str!("../migrations/0013_invites.sql"),
];

/// Applies every migration newer than the database, each in its own transaction. Refuses a
/// database written by a newer confab rather than guess at a schema it does not know.
pub(crate) fn run(conn: &mut Connection) -> Result<(), String> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let pending = confab_ports::store::pending_migrations(current, MIGRATIONS.len())?;
    for (version, sql) in (1..).zip(MIGRATIONS).filter(|(v, _)| pending.contains(v)) {
        let mut apply = || -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        apply().map_err(|e| format!("migration {version} failed: {e}"))?;
        tracing::info!(version, "applied SQLite migration");
    }
    Ok(())
}
