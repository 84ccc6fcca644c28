//! `confab port`: copies one database into another (empty) one, with progress and a check of
//! the counts.

use crate::h::{self, PASSWORD, dir, run, stderr, stdout, text};

#[test]
fn port_copies_a_database_prints_progress_and_refuses_to_copy_into_it_again() {
    let d = dir();
    let out = run(
        d.path(),
        ["user", "create", "alice", "--password", PASSWORD],
    );
    assert!(out.status.success(), "{}", text(&out));
    let port = [
        "port",
        "--from",
        "sqlite://confab.db",
        "--to",
        "sqlite://copy.db",
    ];
    let out = run(d.path(), port);
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout(&out);
    assert!(printed.lines().any(|l| l == "users: 1/1"), "{printed}");
    assert!(
        printed
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("verified: settings 1 = 1, users 1 = 1, ")),
        "{printed}"
    );
    // The copy has alice.
    let out = run(
        d.path(),
        [
            "user",
            "grant-admin",
            "alice",
            "--database-url",
            "sqlite://copy.db",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    let out = run(d.path(), port);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.lines().last().is_some_and(|l| l
            .starts_with("confab: the target already has data (settings: 1 row, users: 1 row)")),
        "{err}"
    );
    h::assert_no_panic(&err);
}

#[test]
fn port_needs_both_databases() {
    let d = dir();
    let out = run(d.path(), ["port", "--from", "sqlite://confab.db"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("--to <TO>"), "{}", text(&out));
    assert!(!d.path().join("confab.db").exists());
}
