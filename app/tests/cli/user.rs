//! `confab user`: `create` (the password from the flag, stdin or the environment; optional
//! profile fields), `grant-admin`, `revoke-admin`, `ban`, `unban` and `reset-password`, what the server then
//! sees, and one clear line for unknown users and invalid input.

use crate::h::{
    self, PASSWORD, Server, assert_one_error_line, dir, get, login, migrated_dir, post_json, run,
    run_env, run_stdin, stderr, stdout, text,
};

#[test]
fn user_create_prints_one_line_and_a_taken_name_is_refused() {
    let d = dir();
    let out = run(
        d.path(),
        ["user", "create", "alice", "--password", PASSWORD, "--admin"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout(&out);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(printed.starts_with("created user alice "), "{printed}");
    assert!(printed.trim_end().ends_with("(admin)"), "{printed}");
    h::assert_no_panic(&stderr(&out));
    assert!(d.path().join("confab.db").is_file());

    for name in ["alice", "ALICE", "Alice"] {
        let out = run(d.path(), ["user", "create", name, "--password", PASSWORD]);
        assert_one_error_line(&out, &["username", "taken"]);
    }

    let out = run(d.path(), ["user", "create", "bob", "--password", PASSWORD]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout(&out);
    assert!(printed.starts_with("created user bob "), "{printed}");
    assert!(!printed.contains("admin"), "{printed}");
}

#[test]
fn user_create_takes_optional_profile_fields_and_checks_them() {
    let d = migrated_dir();
    let out = run(
        d.path(),
        [
            "user",
            "create",
            "ada",
            "--password",
            PASSWORD,
            "--email",
            "ada@example.com",
            "--display-name",
            "Ada L.",
            "--country",
            "GB",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    let out = run(
        d.path(),
        [
            "user",
            "create",
            "eve",
            "--password",
            PASSWORD,
            "--email",
            "ada@example.com",
        ],
    );
    assert_one_error_line(&out, &["email", "taken"]);
    let out = run(
        d.path(),
        [
            "user",
            "create",
            "eve",
            "--password",
            PASSWORD,
            "--email",
            "not-an-email",
        ],
    );
    assert_one_error_line(&out, &["email"]);
    let out = run(
        d.path(),
        [
            "user",
            "create",
            "eve",
            "--password",
            PASSWORD,
            "--country",
            "Narnia",
        ],
    );
    assert_one_error_line(&out, &["country"]);
}

#[test]
fn user_create_reads_the_password_from_stdin_or_the_environment() {
    let d = dir();
    let out = run_stdin(d.path(), ["user", "create", "dave"], "from stdin 123\n");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).starts_with("created user dave "),
        "{}",
        text(&out)
    );

    let out = run_stdin(d.path(), ["user", "create", "carl"], "crlf line 123\r\n");
    assert!(out.status.success(), "{}", text(&out));

    let out = run_env(
        d.path(),
        ["user", "create", "erin"],
        &[("CONFAB_NEW_PASSWORD", "from the env 1")],
    );
    assert!(out.status.success(), "{}", text(&out));

    // No password anywhere: one clear line, not a hang.
    let out = run(d.path(), ["user", "create", "frank"]);
    assert_one_error_line(
        &out,
        &["no password", "--password", "CONFAB_NEW_PASSWORD", "stdin"],
    );
    let out = run_stdin(d.path(), ["user", "create", "frank"], "\n");
    assert_one_error_line(&out, &["no password"]);
    let out = run_stdin(d.path(), ["user", "create", "frank"], "short\n");
    assert_one_error_line(&out, &["password", "at least 8"]);

    // The passwords really are the ones given: log in with each.
    let server = Server::start(d.path(), &[]);
    for (user, pw) in [
        ("dave", "from stdin 123"),
        ("carl", "crlf line 123"),
        ("erin", "from the env 1"),
    ] {
        let r = login(server.port, user, pw);
        assert_eq!(r.status, 200, "{user}: {r:?}");
    }
    let r = login(server.port, "dave", "from stdin 123\\n"); // JSON-escaped newline
    assert_eq!(r.status, 401, "{r:?}");
    let r = login(server.port, "frank", "short");
    assert_eq!(r.status, 401, "{r:?}");
    server.stop();
}

#[test]
fn grant_revoke_and_reset_change_what_the_server_sees() {
    let d = dir();
    let out = run(
        d.path(),
        ["user", "create", "alice", "--password", PASSWORD, "--admin"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run_stdin(
        d.path(),
        ["user", "create", "bob"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", text(&out));

    let out = run(d.path(), ["user", "grant-admin", "bob"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&out).trim(), "bob is now an admin");

    let out = run(d.path(), ["user", "revoke-admin", "ALICE"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stdout(&out).trim(), "alice is no longer an admin");

    let out = run(
        d.path(),
        [
            "user",
            "reset-password",
            "bob",
            "--password",
            "brand new secret",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout(&out);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(printed.contains("bob"), "{printed}");

    let out = run_stdin(
        d.path(),
        ["user", "reset-password", "alice"],
        "alice from stdin\n",
    );
    assert!(out.status.success(), "{}", text(&out));

    let server = Server::start(d.path(), &[]);
    let bob = login(server.port, "bob", "brand new secret");
    assert_eq!(bob.status, 200, "{bob:?}");
    assert!(bob.body.contains(r#""roles":["admin"]"#), "{bob:?}");
    let old = login(server.port, "bob", PASSWORD);
    assert_eq!(old.status, 401, "old password still works: {old:?}");
    let alice = login(server.port, "alice", "alice from stdin");
    assert_eq!(alice.status, 200, "{alice:?}");
    assert!(alice.body.contains(r#""roles":[]"#), "{alice:?}");
    server.stop();
}

#[test]
fn reset_password_ends_every_login_of_the_user() {
    let d = dir();
    let server = Server::start(d.path(), &[]);
    let reg = post_json(
        server.port,
        "/api/v1/auth/register",
        &format!(r#"{{"username":"carol","password":"{PASSWORD}"}}"#),
    );
    assert_eq!(reg.status, 201, "{reg:?}");
    let bearer = format!("Bearer {}", h::json_str(&reg.body, "access_token").unwrap());
    let refresh = h::json_str(&reg.body, "refresh_token").unwrap();

    let out = run(
        d.path(),
        [
            "user",
            "reset-password",
            "carol",
            "--password",
            "another one",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    let me = get(
        server.port,
        "/api/v1/users/me",
        &[("Authorization", &bearer)],
    );
    assert_eq!(me.status, 401, "access token outlived the reset: {me:?}");
    let r = post_json(
        server.port,
        "/api/v1/auth/refresh",
        &format!(r#"{{"refresh_token":"{refresh}"}}"#),
    );
    assert_eq!(r.status, 401, "refresh token outlived the reset: {r:?}");
    server.stop();
}

#[test]
fn user_commands_on_an_unknown_user_fail_with_one_line() {
    let d = migrated_dir();
    for args in [
        &["user", "grant-admin", "nobody"][..],
        &["user", "revoke-admin", "nobody"],
        &["user", "reset-password", "nobody", "--password", PASSWORD],
        &["user", "ban", "nobody"],
        &["user", "unban", "nobody"],
    ] {
        let out = run(d.path(), args);
        assert_one_error_line(&out, &["user", "not found"]);
    }
}

#[test]
fn invalid_usernames_and_short_passwords_fail_with_one_line() {
    let d = migrated_dir();
    let long = "a".repeat(5_000);
    for name in ["Al ice", "al", long.as_str(), "ålice", "alice\u{7}", ""] {
        let out = run(d.path(), ["user", "create", name, "--password", PASSWORD]);
        assert_one_error_line(&out, &["username"]);
        let out = run(d.path(), ["user", "grant-admin", name]);
        assert_one_error_line(&out, &["username"]);
    }
    let out = run(
        d.path(),
        ["user", "create", "alice", "--password", "1234567"],
    );
    assert_one_error_line(&out, &["password", "at least 8"]);
    let out = run(
        d.path(),
        ["user", "create", "alice", "--password", &"p".repeat(257)],
    );
    assert_one_error_line(&out, &["password", "at most 256"]);

    let out = run(
        d.path(),
        ["user", "create", "alice", "--password", PASSWORD],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run(
        d.path(),
        ["user", "reset-password", "alice", "--password", "short"],
    );
    assert_one_error_line(&out, &["password", "at least 8"]);
}

#[test]
fn user_commands_honour_the_database_settings() {
    let d = dir();
    let out = run_env(
        d.path(),
        ["user", "create", "alice", "--password", PASSWORD],
        &[("CONFAB_DATABASE_URL", "sqlite://env.db")],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(d.path().join("env.db").is_file());
    assert!(!d.path().join("confab.db").exists());

    // alice lives in env.db only.
    let out = run(
        d.path(),
        [
            "user",
            "grant-admin",
            "alice",
            "--database-url",
            "sqlite://env.db",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run(d.path(), ["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(d.path(), ["user", "grant-admin", "alice"]);
    assert_one_error_line(&out, &["not found"]);

    let out = run(
        d.path(),
        [
            "user",
            "create",
            "bob",
            "--password",
            PASSWORD,
            "--log-format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn ban_ends_every_login_and_unban_lets_the_user_log_in_again() {
    let d = dir();
    let server = Server::start(d.path(), &[]);
    let reg = post_json(
        server.port,
        "/api/v1/auth/register",
        &format!(r#"{{"username":"dave","password":"{PASSWORD}"}}"#),
    );
    assert_eq!(reg.status, 201, "{reg:?}");
    let bearer = format!("Bearer {}", h::json_str(&reg.body, "access_token").unwrap());

    let out = run(d.path(), ["user", "ban", "DAVE", "--reason", "spam"]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout(&out);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(printed.starts_with("banned dave"), "{printed}");
    let me = get(
        server.port,
        "/api/v1/users/me",
        &[("Authorization", &bearer)],
    );
    assert_eq!(me.status, 403, "{me:?}");
    assert!(me.body.contains(r#""code":"banned""#), "{me:?}");
    let refused = login(server.port, "dave", PASSWORD);
    assert_eq!(refused.status, 403, "{refused:?}");

    // Banning again is fine; a reason breaking its rule is one clear line.
    let out = run(d.path(), ["user", "ban", "dave"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(d.path(), ["user", "ban", "dave", "--reason", "two\nlines"]);
    assert_one_error_line(&out, &["reason"]);

    let out = run(d.path(), ["user", "unban", "dave"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        stdout(&out).trim(),
        "dave is no longer banned and may log in again"
    );
    let back = login(server.port, "dave", PASSWORD);
    assert_eq!(back.status, 200, "{back:?}");
    server.stop();
}
