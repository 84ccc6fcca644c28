//! `confab demo`: seeds the demo accounts once and says how to log in.

use crate::h::{assert_one_error_line, dir, run, stdout, text};

#[test]
fn demo_prints_how_to_log_in_and_runs_once() {
    let d = dir();
    let out = run(d.path(), ["demo"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = stdout(&out);
    for needed in [
        "alice",
        "bob",
        "carol",
        "demo-password",
        "/api/v1/auth/login",
    ] {
        assert!(said.contains(needed), "{needed} missing from: {said}");
    }
    let out = run(d.path(), ["demo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_one_error_line(&out, &["already exists"]);
}
