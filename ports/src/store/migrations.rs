//! What both stores decide about their embedded migrations: which still need to run, and
//! whether the ones a database already ran are the ones this build carries. A store only
//! reads and writes its own bookkeeping; it never decides either question itself.
//!
//! Migrations are forward-only: a migration, once released, is never edited (a change goes in
//! a new one). An edited one would leave databases migrated before and after the edit with
//! different schemas under one version number, so a start that finds one stops.

use sha2::{Digest, Sha256};

/// One embedded migration: its file name (for messages) and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The SHA-256 of the SQL, in hex. Line endings are normalised first, so a checkout that
    /// turned `\n` into `\r\n` does not count as an edit.
    pub fn checksum(&self) -> String {
        let digest = Sha256::digest(self.sql.replace("\r\n", "\n").as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The migrations a database at schema `current` still needs, of the `known` this build has
/// (numbered from 1): both stores refuse a database written by a newer confab rather than guess
/// at a schema they do not know.
pub fn pending_migrations(
    current: i64,
    known: usize,
) -> std::result::Result<std::ops::RangeInclusive<i64>, String> {
    let known = i64::try_from(known).unwrap_or(i64::MAX);
    if current > known {
        return Err(format!(
            "its schema version {current} is newer than this confab knows ({known}); upgrade confab"
        ));
    }
    Ok(current.max(0) + 1..=known)
}

/// Checks what a database recorded for each migration it ran (`applied`: version and checksum,
/// `None` where it ran before checksums were kept) against this build's `known` migrations.
/// Answers the versions whose checksum is still to be recorded (trusted as they are, once), or
/// the one line that stops the start when a migration was edited after it ran.
pub fn check_applied(
    applied: &[(i64, Option<String>)],
    known: &[Migration],
) -> std::result::Result<Vec<(i64, String)>, String> {
    let mut to_record = Vec::new();
    for (version, recorded) in applied {
        // A version this build does not know is `pending_migrations`' refusal, not this one's.
        let Some(migration) = usize::try_from(*version - 1)
            .ok()
            .and_then(|i| known.get(i))
        else {
            continue;
        };
        let expected = migration.checksum();
        match recorded {
            None => to_record.push((*version, expected)),
            Some(found) if *found == expected => {}
            Some(found) => {
                return Err(format!(
                    "migration {version} ({}) differs from the one this database ran \
                     (checksum {} recorded, {} in this build): a released migration must never \
                     be edited; restore the original file and put the change in a new migration",
                    migration.name,
                    short(found),
                    short(&expected),
                ));
            }
        }
    }
    Ok(to_record)
}

/// The first 12 hex digits: enough to tell two checksums apart in a message.
fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[Migration] = &[
        Migration {
            name: "0001_a.sql",
            sql: "CREATE TABLE a (x INTEGER);\n",
        },
        Migration {
            name: "0002_b.sql",
            sql: "CREATE TABLE b (y INTEGER);\n",
        },
    ];

    #[test]
    fn pending_migrations_are_those_after_the_current_schema_and_a_newer_one_is_refused() {
        assert_eq!(pending_migrations(0, 6), Ok(1..=6));
        assert_eq!(pending_migrations(4, 6), Ok(5..=6));
        assert!(pending_migrations(6, 6).unwrap().is_empty());
        let refused = pending_migrations(7, 6).unwrap_err();
        assert!(refused.contains("newer") && refused.contains("upgrade confab"));
    }

    #[test]
    fn a_checksum_is_the_sql_s_sha256_whatever_its_line_endings() {
        let a = KNOWN[0];
        assert_eq!(a.checksum().len(), 64);
        let crlf = Migration {
            name: a.name,
            sql: "CREATE TABLE a (x INTEGER);\r\n",
        };
        assert_eq!(crlf.checksum(), a.checksum());
        assert_ne!(KNOWN[1].checksum(), a.checksum());
    }

    #[test]
    fn matching_checksums_pass_and_missing_ones_are_recorded() {
        let applied = [(1, Some(KNOWN[0].checksum())), (2, None)];
        assert_eq!(
            check_applied(&applied, KNOWN),
            Ok(vec![(2, KNOWN[1].checksum())])
        );
        assert_eq!(check_applied(&[], KNOWN), Ok(vec![]));
    }

    #[test]
    fn an_edited_migration_stops_the_start_naming_it() {
        let applied = [(1, Some(KNOWN[0].checksum())), (2, Some("0".repeat(64)))];
        let refused = check_applied(&applied, KNOWN).unwrap_err();
        assert!(refused.contains("migration 2 (0002_b.sql)"), "{refused}");
        assert!(refused.contains("000000000000 recorded"), "{refused}");
        assert!(!refused.contains('\n'));
    }

    #[test]
    fn versions_this_build_does_not_know_are_left_to_pending_migrations() {
        assert_eq!(check_applied(&[(0, None), (9, None)], KNOWN), Ok(vec![]));
    }
}
