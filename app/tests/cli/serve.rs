//! `confab [serve]` running: the zero-config start, logs, signals and shutdown, settings from
//! the environment and flags, and the JWT secret across restarts.

use std::time::Duration;

use crate::h::{self, PASSWORD, Server, dir, get, post_json, run_env, text};

// ---------------------------------------------------------------------------------------------
// Start, logs, signals
// ---------------------------------------------------------------------------------------------

#[test]
fn zero_config_start_serves_and_stops_cleanly_on_sigterm() {
    let d = dir();
    let server = Server::start(d.path(), &[]);
    let port = server.port;
    assert!(
        d.path().join("confab.db").is_file(),
        "the default database sqlite://confab.db was not created in the working directory"
    );
    let health = get(port, "/healthz", &[]);
    assert_eq!(health.status, 200);
    assert!(health.body.contains("ok"), "{health:?}");
    let ready = get(port, "/readyz", &[]);
    assert_eq!(ready.status, 200, "{ready:?}");
    let unknown = get(port, "/no/such/route", &[]);
    assert_eq!(unknown.status, 404, "{unknown:?}");

    let err = server.stop();
    assert!(err.contains("confab is listening"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("shutting down"), "{err}");
    // The port is free again.
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("port released after exit");
}

#[test]
fn sigint_stops_the_server_cleanly_too() {
    let d = dir();
    let server = Server::start(d.path(), &["serve"]);
    let (status, err) = server.stop_with("INT", Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{err}");
    h::assert_no_panic(&err);
}

#[test]
fn sigterm_finishes_promptly_with_idle_and_kept_alive_connections_open() {
    use std::io::{Read, Write};
    let d = dir();
    let server = Server::start(d.path(), &[]);
    // A connection that never sends anything...
    let _idle = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    // ...and one that finished a request and is being kept alive.
    let mut kept = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 12];
    kept.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    server.stop();
}

/// A client that sent half a request head cannot keep the server from exiting after SIGTERM:
/// shutdown waits for in-flight work at most `--shutdown-grace`.
#[test]
fn sigterm_finishes_promptly_with_a_half_sent_request_open() {
    use std::io::Write;
    let d = dir();
    let server = Server::start(d.path(), &["--shutdown-grace", "2s"]);
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Make sure the server has read the partial head before the signal.
    std::thread::sleep(Duration::from_millis(200));
    let (status, err) = server.stop_with("TERM", Duration::from_secs(5));
    drop(slow);
    assert_eq!(status.code(), Some(0), "{err}");
}

#[test]
fn log_format_json_writes_one_json_object_per_stderr_line() {
    let d = dir();
    let server = Server::start(d.path(), &["serve", "--log-format", "json"]);
    let err = server.stop();
    assert_json_lines(&err);
    assert!(err.contains(r#""message":"confab is listening""#), "{err}");
}

fn assert_json_lines(err: &str) {
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "expected log lines, got:\n{err}");
    for line in lines {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not a JSON object line: {line:?}"
        );
        assert!(line.contains(r#""level":""#), "no level: {line:?}");
        assert!(
            !line.contains('\u{1b}'),
            "ANSI escape in JSON log: {line:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

#[test]
fn settings_come_from_confab_environment_variables() {
    let d = dir();
    std::fs::create_dir(d.path().join("data")).unwrap();
    let port = h::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = h::confab(d.path());
    cmd.envs([
        ("CONFAB_LISTEN", listen.as_str()),
        ("CONFAB_LOG_FORMAT", "json"),
        ("CONFAB_DATABASE_URL", "sqlite://data/env.db"),
    ]);
    let server = Server::spawn(cmd, d.path(), port);
    assert!(d.path().join("data/env.db").is_file());
    assert!(!d.path().join("confab.db").exists());
    let err = server.stop();
    assert_json_lines(&err);
    assert!(err.contains("sqlite://data/env.db"), "{err}");
}

#[test]
fn flags_win_over_environment_variables() {
    let d = dir();
    // Every environment value is bad; the flags are good, so the start succeeds.
    let server = Server::start_env(
        d.path(),
        &["--database-url", "sqlite://flag.db", "--log-format", "text"],
        &[
            ("CONFAB_LISTEN", "garbage"),
            ("CONFAB_DATABASE_URL", "mysql://x"),
            ("CONFAB_LOG_FORMAT", "json"),
        ],
    );
    assert!(server.dir.join("flag.db").is_file());
    let err = server.stop();
    assert!(
        !err.trim_start().starts_with('{'),
        "text logs wanted: {err}"
    );

    let out = run_env(
        d.path(),
        ["migrate", "--database-url", "sqlite://other.db"],
        &[("CONFAB_DATABASE_URL", "postgres://u:p@h/db")],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(d.path().join("other.db").is_file());
}

// ---------------------------------------------------------------------------------------------
// The JWT secret
// ---------------------------------------------------------------------------------------------

#[test]
fn the_generated_jwt_secret_survives_a_restart() {
    let d = dir();
    let first = Server::start(d.path(), &[]);
    let reg = post_json(
        first.port,
        "/api/v1/auth/register",
        &format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#),
    );
    assert_eq!(reg.status, 201, "{reg:?}");
    let token = h::json_str(&reg.body, "access_token").expect("access token");
    let bearer = format!("Bearer {token}");
    let me = get(
        first.port,
        "/api/v1/users/me",
        &[("Authorization", &bearer)],
    );
    assert_eq!(me.status, 200, "{me:?}");
    first.stop();

    let second = Server::start(d.path(), &[]);
    let me = get(
        second.port,
        "/api/v1/users/me",
        &[("Authorization", &bearer)],
    );
    assert_eq!(
        me.status, 200,
        "token of the first run refused after restart: {me:?}"
    );
    assert!(me.body.contains(r#""username":"alice""#), "{me:?}");
    let anonymous = get(second.port, "/api/v1/users/me", &[]);
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    second.stop();
}

#[test]
fn an_explicit_jwt_secret_is_the_one_that_signs() {
    let d = dir();
    let a = "a".repeat(32);
    let b = "b".repeat(32);
    let first = Server::start(d.path(), &["--jwt-secret", &a]);
    let reg = post_json(
        first.port,
        "/api/v1/auth/register",
        &format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#),
    );
    assert_eq!(reg.status, 201, "{reg:?}");
    let bearer = format!("Bearer {}", h::json_str(&reg.body, "access_token").unwrap());
    first.stop();

    let other = Server::start_env(d.path(), &[], &[("CONFAB_JWT_SECRET", &b)]);
    let me = get(
        other.port,
        "/api/v1/users/me",
        &[("Authorization", &bearer)],
    );
    assert_eq!(
        me.status, 401,
        "token signed with another secret accepted: {me:?}"
    );
    other.stop();

    let same = Server::start_env(d.path(), &[], &[("CONFAB_JWT_SECRET", &a)]);
    let me = get(same.port, "/api/v1/users/me", &[("Authorization", &bearer)]);
    assert_eq!(me.status, 200, "{me:?}");
    same.stop();
}
