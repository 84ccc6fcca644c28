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
