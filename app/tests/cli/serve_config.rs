//! `confab [serve]` with bad configuration: the start stops with one clear line (or a usage
//! error) and never echoes a secret. Database URLs (SQLite paths, PostgreSQL URLs), Redis URLs,
//! the JWT secret, listen addresses, durations, numbers and hostile values; the store settings
//! are shared by `migrate` and `user`, so some cases run those too.

use std::time::Duration;

use crate::h::{
    self, ANY, PASSWORD, Server, assert_one_error_line, assert_usage_error, dir, login,
    migrated_dir, post_json, run, run_env,
};

// ---------------------------------------------------------------------------------------------
// Database URLs and files
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unparseable_database_url_is_refused() {
    let d = dir();
    let out = run(d.path(), ["--database-url", "mysql://x", "--listen", ANY]);
    assert_one_error_line(&out, &["database url", "sqlite://"]);
    assert!(!d.path().join("confab.db").exists());

    let out = run_env(
        d.path(),
        ["serve", "--listen", ANY],
        &[("CONFAB_DATABASE_URL", "mysql://x")],
    );
    assert_one_error_line(&out, &["database url", "sqlite://"]);

    let out = run(d.path(), ["migrate", "--database-url", "confab.db"]);
    assert_one_error_line(&out, &["database url"]);

    let out = run(d.path(), ["--database-url", "sqlite://", "--listen", ANY]);
    assert_one_error_line(&out, &["needs a file path"]);
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn an_unreachable_postgres_is_refused_quickly_without_echoing_the_password() {
    let d = dir();
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    for url in [
        "postgres://confab:hunter2@127.0.0.1:1/confab",
        "postgresql://confab:hunter2@127.0.0.1:1/confab",
    ] {
        let started = std::time::Instant::now();
        let out = run(d.path(), ["--database-url", url, "--listen", ANY]);
        let line = assert_one_error_line(&out, &["cannot connect to postgresql", "refused"]);
        assert!(!line.contains("hunter2"), "password echoed: {line}");

        let out = run_env(d.path(), ["migrate"], &[("CONFAB_DATABASE_URL", url)]);
        let line = assert_one_error_line(&out, &["cannot connect to postgresql", "refused"]);
        assert!(!line.contains("hunter2"), "password echoed: {line}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn a_malformed_postgres_url_is_refused_without_echoing_the_password() {
    let d = dir();
    for url in [
        "postgres://confab:hunter2@127.0.0.1:1/confab?sslmode=bogus",
        "postgres://confab:hunter2@127.0.0.1:notaport/confab",
    ] {
        let out = run(d.path(), ["--database-url", url, "--listen", ANY]);
        let line = assert_one_error_line(&out, &["postgresql url"]);
        assert!(!line.contains("hunter2"), "password echoed: {line}");
    }
    let long = format!("postgres://{}@127.0.0.1:1/x", "u".repeat(5_000));
    let out = run(d.path(), ["--database-url", &long, "--listen", ANY]);
    assert_one_error_line(&out, &["postgresql"]);
}

#[test]
fn an_unwritable_database_path_is_refused() {
    let d = dir();
    std::fs::write(d.path().join("plain-file"), "not a directory").unwrap();
    let in_file = d.path().join("plain-file").join("confab.db");
    let in_file_url = format!("sqlite://{}", in_file.display());
    for url in [
        "sqlite:///nonexistent-dir/x/confab.db",
        "sqlite://missing/sub/dir/confab.db",
        in_file_url.as_str(),
        "sqlite://.",
    ] {
        let out = run(d.path(), ["--database-url", url, "--listen", ANY]);
        assert_one_error_line(&out, &["cannot open database"]);
        let out = run_env(d.path(), ["migrate"], &[("CONFAB_DATABASE_URL", url)]);
        assert_one_error_line(&out, &["cannot open database"]);
        let out = run(
            d.path(),
            [
                "user",
                "create",
                "alice",
                "--password",
                PASSWORD,
                "--database-url",
                url,
            ],
        );
        assert_one_error_line(&out, &["cannot open database"]);
    }
    assert!(!d.path().join("nonexistent-dir").exists());
    assert!(!d.path().join("missing").exists());
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let d = dir();
    std::fs::write(
        d.path().join("confab.db"),
        "this is not SQLite\n".repeat(100),
    )
    .unwrap();
    let out = run(d.path(), ["migrate"]);
    assert_one_error_line(&out, &["cannot open database", "confab.db"]);
    let out = run(d.path(), ["--listen", ANY]);
    assert_one_error_line(&out, &["cannot open database", "confab.db"]);
}

#[test]
fn hostile_database_urls_fail_with_one_line() {
    let d = migrated_dir();
    let long_path = format!("sqlite://{}", "a".repeat(5_000));
    let long_url = format!("mysql://{}", "b".repeat(5_000));
    let out = run(d.path(), ["--database-url", &long_path, "--listen", ANY]);
    assert_one_error_line(&out, &["cannot open database"]);
    let out = run(d.path(), ["--database-url", &long_url, "--listen", ANY]);
    assert_one_error_line(&out, &["database url"]);
    let out = run(d.path(), ["--database-url", "☃://☃", "--listen", ANY]);
    assert_one_error_line(&out, &["database url"]);
}

/// `sqlite://:memory:` cannot work (each pooled connection would see its own empty database),
/// so it must be refused with one clear line rather than start and then fail with 500s.
#[test]
fn an_in_memory_database_is_refused_or_works() {
    let d = dir();
    let server = match Server::try_start(d.path(), &["--database-url", "sqlite://:memory:"], &[]) {
        Err(out) => {
            // Refused with one clear line: fine.
            assert_one_error_line(&out, &["memory"]);
            return;
        }
        Ok(server) => server,
    };
    let reg = post_json(
        server.port,
        "/api/v1/auth/register",
        &format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#),
    );
    assert_eq!(reg.status, 201, "{reg:?}");
    let r = login(server.port, "alice", PASSWORD);
    server.stop();
    assert_eq!(r.status, 200, "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// The JWT secret and the listen address
// ---------------------------------------------------------------------------------------------

#[test]
fn a_short_jwt_secret_is_refused_without_echoing_it() {
    let d = migrated_dir();
    let short = "s3cr3t-but-only-31-bytes-long!!";
    assert_eq!(short.len(), 31);
    let out = run(d.path(), ["--jwt-secret", short, "--listen", ANY]);
    let line = assert_one_error_line(&out, &["jwt secret", "32 bytes"]);
    assert!(!line.contains(short), "secret echoed: {line}");

    let out = run_env(
        d.path(),
        ["serve", "--listen", ANY],
        &[("CONFAB_JWT_SECRET", short)],
    );
    let line = assert_one_error_line(&out, &["jwt secret", "CONFAB_JWT_SECRET", "32 bytes"]);
    assert!(!line.contains(short), "secret echoed: {line}");

    let out = run(d.path(), ["--jwt-secret", "", "--listen", ANY]);
    assert_one_error_line(&out, &["jwt secret", "32 bytes"]);

    // Exactly 32 bytes (and far more) is enough to start.
    for ok in [
        "0123456789abcdef0123456789abcdef".to_owned(),
        "k".repeat(5_000),
    ] {
        let server = Server::start(d.path(), &["--jwt-secret", &ok]);
        let err = server.stop();
        assert!(!err.contains(&ok), "secret logged: {err}");
    }
}

#[test]
fn a_port_in_use_is_refused() {
    let d = migrated_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(d.path(), ["--listen", &addr]);
    assert_one_error_line(&out, &["cannot listen on", &addr]);

    let out = run_env(d.path(), ["serve"], &[("CONFAB_LISTEN", &addr)]);
    assert_one_error_line(&out, &["cannot listen on", &addr]);
    drop(taken);
}

#[test]
fn a_failed_start_in_a_fresh_directory_prints_only_its_error() {
    let d = dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(d.path(), ["--listen", &addr]);
    assert_one_error_line(&out, &["cannot listen on", &addr]);
    let out = run(d.path(), ["--listen", "not-an-address"]);
    assert_one_error_line(&out, &["cannot listen on not-an-address"]);
    drop(taken);
}

#[test]
fn hostile_listen_addresses_fail_with_one_line() {
    let d = migrated_dir();
    let long = "x".repeat(5_000);
    let long_port = format!("127.0.0.1:{}", "9".repeat(5_000));
    // None of these needs a DNS lookup to be found wrong.
    for listen in [
        long.as_str(),
        long_port.as_str(),
        "",
        "   ",
        "127.0.0.1:99999",
        "127.0.0.1:port",
        "%s%n%x:%d",
        "☃☃☃",
        "::::",
        "'; DROP TABLE users; --",
    ] {
        let out = run(d.path(), ["--listen", listen]);
        assert_one_error_line(&out, &["cannot listen on"]);
        let out = run_env(d.path(), ["serve"], &[("CONFAB_LISTEN", listen)]);
        assert_one_error_line(&out, &["cannot listen on"]);
    }
}

/// A value with a line break (or terminal escape codes) must not turn the one error line into
/// several, the later ones forged: control characters are escaped.
#[test]
fn a_value_with_a_line_break_still_fails_with_one_line() {
    let d = migrated_dir();
    let out = run(d.path(), ["--listen", "127.0.0.1:0\nconfab: forged line"]);
    assert_one_error_line(&out, &["cannot listen on"]);
    let out = run(
        d.path(),
        [
            "--database-url",
            "sqlite:///nonexistent\n/x.db",
            "--listen",
            ANY,
        ],
    );
    assert_one_error_line(&out, &["cannot open database"]);
}

// ---------------------------------------------------------------------------------------------
// Redis URLs
// ---------------------------------------------------------------------------------------------

#[test]
fn redis_with_a_sqlite_file_is_refused_before_the_file_is_made() {
    let d = dir();
    let url = "redis://:hunter2@cache.example:6379/0";
    let out = run(d.path(), ["--redis-url", url, "--listen", ANY]);
    let line = assert_one_error_line(&out, &["--redis-url", "sqlite", "cannot be shared"]);
    assert!(!line.contains("hunter2"), "password echoed: {line}");

    let out = run_env(
        d.path(),
        ["serve", "--listen", ANY],
        &[("CONFAB_REDIS_URL", url)],
    );
    let line = assert_one_error_line(&out, &["--redis-url", "sqlite"]);
    assert!(!line.contains("hunter2"), "password echoed: {line}");
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn a_malformed_redis_url_is_refused_without_echoing_the_password() {
    let d = dir();
    for url in [
        "http://:hunter2@cache.example:6379/0",
        "redis://:hunter2@cache.example:notaport/0",
        "redis://:hunter2@cache.example:6379/notadb",
        "",
    ] {
        let out = run(
            d.path(),
            [
                "--redis-url",
                url,
                "--database-url",
                "postgres://u:p@127.0.0.1:1/x",
                "--listen",
                ANY,
            ],
        );
        let line = assert_one_error_line(&out, &["redis url is not valid"]);
        assert!(!line.contains("hunter2"), "password echoed: {line}");
    }
}

#[test]
fn an_unreachable_redis_is_refused_quickly_before_the_database() {
    let d = dir();
    let started = std::time::Instant::now();
    let out = run(
        d.path(),
        [
            "--redis-url",
            "redis://:hunter2@127.0.0.1:1/0",
            "--database-url",
            "postgres://u:p@127.0.0.1:1/x",
            "--listen",
            ANY,
        ],
    );
    let line = assert_one_error_line(&out, &["cannot reach redis at 127.0.0.1:1"]);
    assert!(!line.contains("hunter2"), "password echoed: {line}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

// ---------------------------------------------------------------------------------------------
// Log format, durations and numbers
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_log_format_is_a_usage_error() {
    let d = dir();
    let out = run(d.path(), ["--log-format", "xml"]);
    assert_usage_error(&out, &["'xml'", "--log-format", "text", "json"]);

    let out = run_env(d.path(), ["serve"], &[("CONFAB_LOG_FORMAT", "xml")]);
    assert_usage_error(&out, &["'xml'", "text", "json"]);

    let out = run(d.path(), ["migrate", "--log-format", "XML!"]);
    assert_usage_error(&out, &["XML!"]);
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn bad_durations_are_usage_errors() {
    let d = dir();
    for (flag, value) in [
        ("--access-token-ttl", "5weeks"),
        ("--access-token-ttl", "0s"),
        ("--refresh-token-ttl", "1.5h"),
        ("--refresh-token-ttl", "-1d"),
        ("--login-failure-window", "ten minutes"),
        ("--request-timeout", ""),
        ("--request-timeout", "99999999999999999999d"),
        ("--pool-wait", "0s"),
        ("--room-lifetime", "a day"),
        ("--expiry-sweep-interval", "-30s"),
    ] {
        let out = run(d.path(), [format!("{flag}={value}")]);
        assert_usage_error(&out, &[flag, &format!("'{value}'")]);
    }
    let out = run_env(
        d.path(),
        ["serve"],
        &[("CONFAB_ACCESS_TOKEN_TTL", "5weeks")],
    );
    assert_usage_error(&out, &["'5weeks'", "unknown unit"]);
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn pool_lifetimes_beyond_their_bounds_stop_the_start() {
    let d = dir();
    for (flag, value, max) in [
        ("--pool-wait", "2d", "1d"),
        ("--room-lifetime", "3651d", "3650d"),
        ("--expiry-sweep-interval", "2h", "1h"),
    ] {
        let out = run(d.path(), ["--listen", "127.0.0.1:0", flag, value]);
        assert_one_error_line(&out, &[flag, max]);
    }
    let out = run_env(
        d.path(),
        ["--listen", "127.0.0.1:0"],
        &[("CONFAB_POOL_WAIT", "5d")],
    );
    assert_one_error_line(&out, &["--pool-wait"]);
}

#[test]
fn out_of_range_numbers_and_unknown_arguments_are_usage_errors() {
    let d = dir();
    for args in [
        &["--body-limit", "5"][..],
        &["--body-limit", "lots"],
        &["--request-burst", "0"],
        &["--requests-per-second", "-3"],
        &["--ws-outbox-bytes", "100"],
        &["--ws-outbox-bytes", "1e9"],
        &["--idle-timeout", "0s"],
        &["--idle-timeout", "soon"],
        &["--max-connections", "0"],
        &["--max-connections", "-1"],
        &["--max-connections", "99999999999"],
        &["--max-connections-per-address", "-5"],
        &["--max-connections-per-address", "ten"],
        &["--login-failures-per-account", "4294967296"],
        &["--trust-forwarded-for=maybe"],
        &["--no-such-flag"],
        &["frobnicate"],
        &["--listen", "127.0.0.1:0", "user", "create", "alice"],
        &["user", "create"],
        &["user", "erase", "alice"],
    ] {
        let out = run(d.path(), args);
        assert_usage_error(&out, &[]);
    }
    assert!(!d.path().join("confab.db").exists());
}

/// A token lifetime beyond what the clock can represent must not be accepted and then make
/// every register or login panic in the handler (it did at the first commit).
#[test]
fn an_absurd_token_lifetime_is_refused_at_start_or_works() {
    for flag in ["--access-token-ttl", "--refresh-token-ttl"] {
        let d = dir();
        match Server::try_start(d.path(), &[flag, "3000000d"], &[]) {
            // Refused at start, by the parser or with one clear line: fine.
            Err(out) if out.status.code() == Some(2) => assert_usage_error(&out, &[flag]),
            Err(out) => {
                assert_one_error_line(&out, &[flag]);
            }
            // Accepted: then it must work.
            Ok(server) => {
                let reg = post_json(
                    server.port,
                    "/api/v1/auth/register",
                    &format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#),
                );
                let (status, err) = server.stop_with("TERM", Duration::from_secs(5));
                assert_eq!(reg.status, 201, "{flag} 3000000d: {reg:?}\n{err}");
                assert_eq!(status.code(), Some(0), "{err}");
                h::assert_no_panic(&err);
            }
        }
    }
}
