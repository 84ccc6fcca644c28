//! `confab migrate`: creates the database, and running it again changes nothing.

use crate::h::{self, dir, run, stderr, stdout, text};

#[test]
fn migrate_creates_the_database_and_is_idempotent() {
    let d = dir();
    let out = run(d.path(), ["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&out).trim(), "migrations are up to date");
    assert!(d.path().join("confab.db").is_file());
    h::assert_no_panic(&stderr(&out));

    let out = run(d.path(), ["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&out).trim(), "migrations are up to date");
    assert!(
        stderr(&out).is_empty(),
        "nothing to apply, nothing to log: {}",
        text(&out)
    );

    let out = run(
        d.path(),
        ["migrate", "--database-url", "sqlite:elsewhere.db"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(d.path().join("elsewhere.db").is_file());
}

/// A migration edited after it ran (its recorded checksum no longer matches this build's)
/// stops `migrate` and `serve` alike, with one line naming it and nothing changed.
#[test]
fn an_edited_migration_stops_migrate_and_serve_with_one_line() {
    let d = dir();
    let out = run(d.path(), ["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    rusqlite::Connection::open(d.path().join("confab.db"))
        .and_then(|c| {
            c.execute(
                "UPDATE confab_migrations SET checksum = 'edited' WHERE version = 2",
                [],
            )
        })
        .expect("tamper with the record");
    for args in [&["migrate"][..], &["serve", "--listen", h::ANY][..]] {
        let out = run(d.path(), args);
        h::assert_one_error_line(&out, &["migration 2 (0002_", "never be edited"]);
    }
}
