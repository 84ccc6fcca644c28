//! Embedded migrations, tracked by `PRAGMA user_version`: migration N runs once, in order.
//! Each one's checksum is kept in `confab_migrations`; a start that finds a migration edited
//! since it ran stops (`confab_ports::store::check_applied` decides). Nothing here may run a
//! migration twice or skip the check.

use confab_ports::store::{Migration, check_applied, pending_migrations};
use rusqlite::{Connection, OptionalExtension};

const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "0001_accounts.sql",
        sql: include_str!("../migrations/0001_accounts.sql"),
    },
    Migration {
        name: "0002_conversations.sql",
        sql: include_str!("../migrations/0002_conversations.sql"),
    },
    Migration {
        name: "0003_announcements.sql",
        sql: include_str!("../migrations/0003_announcements.sql"),
    },
    Migration {
        name: "0004_pool.sql",
        sql: include_str!("../migrations/0004_pool.sql"),
    },
    Migration {
        name: "0005_otp.sql",
        sql: include_str!("../migrations/0005_otp.sql"),
    },
    Migration {
        name: "0006_search_words.sql",
        sql: include_str!("../migrations/0006_search_words.sql"),
    },
    Migration {
        name: "0007_search_pending.sql",
        sql: include_str!("../migrations/0007_search_pending.sql"),
    },
    Migration {
        name: "0008_attachments.sql",
        sql: include_str!("../migrations/0008_attachments.sql"),
    },
    Migration {
        name: "0009_replies_reactions.sql",
        sql: include_str!("../migrations/0009_replies_reactions.sql"),
    },
    Migration {
        name: "0010_blocks_bans.sql",
        sql: include_str!("../migrations/0010_blocks_bans.sql"),
    },
    Migration {
        name: "0011_reports.sql",
        sql: include_str!("../migrations/0011_reports.sql"),
    },
    Migration {
        name: "0012_presence.sql",
        sql: include_str!("../migrations/0012_presence.sql"),
    },
    Migration {
        name: "0013_invites.sql",
        sql: include_str!("../migrations/0013_invites.sql"),
    },
];

/// Applies every migration newer than the database, each in its own transaction with its
/// checksum. Refuses a database written by a newer confab rather than guess at a schema it
/// does not know, and one whose applied migrations differ from this build's.
pub(crate) fn run(conn: &mut Connection) -> Result<(), String> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let pending = pending_migrations(current, MIGRATIONS.len())?;
    verify_applied(conn, current)?;
    for (version, migration) in (1..).zip(MIGRATIONS).filter(|(v, _)| pending.contains(v)) {
        let mut apply = || -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(migration.sql)?;
            record(&tx, version, &migration.checksum())?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        apply().map_err(|e| format!("migration {version} failed: {e}"))?;
        tracing::info!(version, name = migration.name, "applied SQLite migration");
    }
    Ok(())
}

/// Compares the checksums recorded for versions 1..=`current` with this build's, recording
/// those a database migrated before checksums were kept lacks.
fn verify_applied(conn: &mut Connection, current: i64) -> Result<(), String> {
    let sql = |e: rusqlite::Error| e.to_string();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS confab_migrations (
             version  INTEGER PRIMARY KEY,
             checksum TEXT NOT NULL
         ) STRICT",
    )
    .map_err(sql)?;
    let mut applied = Vec::new();
    for version in 1..=current {
        let recorded: Option<String> = conn
            .query_row(
                "SELECT checksum FROM confab_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        applied.push((version, recorded));
    }
    let tx = conn.transaction().map_err(sql)?;
    for (version, checksum) in check_applied(&applied, MIGRATIONS)? {
        record(&tx, version, &checksum).map_err(sql)?;
    }
    tx.commit().map_err(sql)
}

fn record(conn: &Connection, version: i64, checksum: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO confab_migrations (version, checksum) VALUES (?1, ?2)",
        rusqlite::params![version, checksum],
    )
    .map(|_| ())
}
