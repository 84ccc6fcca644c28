//! Secrets are never printed: not by `--help` (whatever the environment holds), not in the
//! server's log at start or stop, not from a configuration file.

use std::path::Path;

use crate::h::{Server, confab, dir, free_port, run_env, stderr, stdout, text};

/// A password no output may contain.
const SECRET: &str = "Zebra-Quux-9137";

/// Every variable that may hold a secret, each holding [`SECRET`].
fn secret_env() -> Vec<(&'static str, &'static str)> {
    let owned = vec![
        (
            "CONFAB_DATABASE_URL",
            format!("postgres://confab:{SECRET}@127.0.0.1:1/confab"),
        ),
        (
            "CONFAB_REDIS_URL",
            format!("redis://:{SECRET}@127.0.0.1:1/0"),
        ),
        ("CONFAB_JWT_SECRET", format!("{SECRET}-{SECRET}-{SECRET}")),
        ("CONFAB_SMTP_PASSWORD", SECRET.to_owned()),
        ("CONFAB_NEW_PASSWORD", SECRET.to_owned()),
    ];
    // Leaked once per test run: a handful of short strings.
    owned
        .into_iter()
        .map(|(k, v)| (k, &*Box::leak(v.into_boxed_str())))
        .collect()
}

fn assert_clean(what: &str, out: &str) {
    assert!(!out.contains(SECRET), "{what} printed the secret:\n{out}");
    assert!(
        !out.contains("Zebra"),
        "{what} printed part of the secret:\n{out}"
    );
}

#[test]
fn help_never_shows_a_secret_from_the_environment() {
    let d = dir();
    let env = secret_env();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["user", "create", "--help"],
        &["user", "reset-password", "--help"],
        &["reports", "--help"],
        &["demo", "--help"],
        &["invite", "create", "--help"],
    ] {
        let out = run_env(d.path(), args, &env);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(stdout(&out).contains("CONFAB_"), "{args:?}: {}", text(&out));
        assert_clean(&format!("{args:?}"), &text(&out));
    }
}

fn serve_and_stop(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let port = free_port();
    let mut cmd = confab(dir);
    cmd.args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")]);
    cmd.envs(env.iter().copied());
    let server = Server::spawn(cmd, dir, port);
    server.stop()
}

#[test]
fn the_server_log_never_shows_a_secret() {
    let d = dir();
    let jwt = format!("{SECRET}-{SECRET}-{SECRET}");
    let env = [
        ("CONFAB_JWT_SECRET", jwt.as_str()),
        ("CONFAB_SMTP_PASSWORD", SECRET),
        ("CONFAB_SMTP_USERNAME", "mailer"),
        ("CONFAB_SMTP_HOST", "127.0.0.1"),
        ("RUST_LOG", "debug"),
    ];
    for format in ["text", "json"] {
        let err = serve_and_stop(d.path(), &env, &["--log-format", format]);
        assert!(err.contains("listening"), "{err}");
        assert_clean("serve", &err);
    }
}

#[test]
fn a_failed_start_never_shows_a_secret() {
    let d = dir();
    let env = secret_env();
    for args in [
        &["--listen", "127.0.0.1:0"][..],
        &["migrate"],
        &["user", "create", "ada"],
    ] {
        let out = run_env(d.path(), args, &env);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert_clean(&format!("{args:?}"), &text(&out));
        assert!(stderr(&out).contains("confab: "), "{}", text(&out));
    }
}

#[test]
fn a_secret_in_the_configuration_file_is_never_shown() {
    let d = dir();
    let body = format!(
        "database-url = \"sqlite://data.db\"\njwt-secret = \"{SECRET}-{SECRET}-{SECRET}\"\n\
         smtp-password = \"{SECRET}\"\nsmtp-username = \"mailer\"\nsmtp-host = \"127.0.0.1\"\n"
    );
    std::fs::write(d.path().join("confab.toml"), body).unwrap();
    let err = serve_and_stop(
        d.path(),
        &[("RUST_LOG", "debug")],
        &["--config", "confab.toml"],
    );
    assert!(err.contains("listening"), "{err}");
    assert_clean("serve --config", &err);
    assert!(d.path().join("data.db").exists());
}
