//! `--config PATH` / `CONFAB_CONFIG`: a TOML file of settings by flag name. Precedence at each
//! boundary (flag > environment > file > default), the file for `serve` and for the store
//! subcommands, and bad files: each refused with one line naming the file (and the line/key),
//! never echoing a secret.

use std::path::Path;

use crate::h::{
    PASSWORD, Server, assert_one_error_line, confab, dir, free_port, get, login, run, run_env,
    run_stdin, text,
};

fn write(dir: &Path, name: &str, body: &str) -> String {
    std::fs::write(dir.join(name), body).unwrap();
    name.to_owned()
}

/// `migrate` with this file and environment: which database files exist afterwards.
fn migrated(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<&'static str> {
    let out = run_env(dir, ["migrate"].iter().chain(args), env);
    assert!(out.status.success(), "{}", text(&out));
    ["flag.db", "env.db", "file.db", "confab.db"]
        .into_iter()
        .filter(|f| dir.join(f).exists())
        .collect()
}

#[test]
fn the_file_beats_the_default() {
    let d = dir();
    let f = write(d.path(), "c.toml", "database-url = \"sqlite://file.db\"\n");
    assert_eq!(migrated(d.path(), &["--config", &f], &[]), ["file.db"]);
}

#[test]
fn the_environment_beats_the_file() {
    let d = dir();
    let f = write(d.path(), "c.toml", "database-url = \"sqlite://file.db\"\n");
    let env = [
        ("CONFAB_DATABASE_URL", "sqlite://env.db"),
        ("CONFAB_CONFIG", f.as_str()),
    ];
    assert_eq!(migrated(d.path(), &[], &env), ["env.db"]);
}

#[test]
fn a_flag_beats_the_environment_and_the_file() {
    let d = dir();
    let f = write(d.path(), "c.toml", "database_url = \"sqlite://file.db\"\n");
    let env = [("CONFAB_DATABASE_URL", "sqlite://env.db")];
    let args = ["--config", &f, "--database-url", "sqlite://flag.db"];
    assert_eq!(migrated(d.path(), &args, &env), ["flag.db"]);
}

#[test]
fn serve_and_the_user_subcommands_read_the_same_file() {
    let d = dir();
    let port = free_port();
    let body = format!(
        "listen = \"127.0.0.1:{port}\"\ndatabase-url = \"sqlite://data.db\"\nlog-format = \"json\"\n\
         registration = \"closed\"\ntrust_forwarded_for = true\n"
    );
    let f = write(d.path(), "confab.toml", &body);
    // `user create` ignores the server-only settings and finds the same database.
    let out = run_stdin(
        d.path(),
        ["user", "create", "ada", "--config", &f],
        PASSWORD,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(d.path().join("data.db").exists());
    assert!(!d.path().join("confab.db").exists());

    let mut cmd = confab(d.path());
    cmd.env("CONFAB_CONFIG", &f);
    let server = Server::spawn(cmd, d.path(), port);
    assert_eq!(login(port, "ada", PASSWORD).status, 200);
    let refused = crate::h::post_json(
        port,
        "/api/v1/auth/register",
        r#"{"username":"bob","password":"correct horse"}"#,
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(get(port, "/healthz", &[]).status, 200);
    let err = server.stop();
    // log-format = "json" came from the file too.
    assert!(err.lines().all(|l| l.starts_with('{')), "{err}");
}

#[test]
fn bad_files_stop_the_start_with_one_line_naming_the_file_and_the_key() {
    let d = dir();
    let cases: &[(&str, &[&str])] = &[
        (
            "lsiten = \"127.0.0.1:0\"\n",
            &["bad.toml", "line 1", "lsiten", "not a setting"],
        ),
        (
            "\n\nlisten = 8080\n",
            &["bad.toml", "line 3", "listen", "string"],
        ),
        (
            "body-limit = \"lots\"\n",
            &["bad.toml", "body-limit", "invalid value"],
        ),
        ("body-limit = 10\n", &["bad.toml", "body-limit", "1024"]),
        ("body-limit = 1.5\n", &["bad.toml", "body-limit", "number"]),
        (
            "database-connections = -1\n",
            &["bad.toml", "database-connections"],
        ),
        (
            "trust-forwarded-for = \"yes\"\n",
            &["bad.toml", "trust-forwarded-for", "true or false"],
        ),
        (
            "log-format = \"xml\"\n",
            &["bad.toml", "log-format", "invalid value"],
        ),
        (
            "registration = \"maybe\"\n",
            &["bad.toml", "registration", "open, invite or closed"],
        ),
        ("listen = \"a\"\nlisten = \"b\"\n", &["bad.toml", "line 2"]),
        (
            "listen = \"a\"\nlisten_ = \"b\"\n",
            &["bad.toml", "listen_"],
        ),
        (
            "database-url = \"sqlite://a.db\"\ndatabase_url = \"sqlite://b.db\"\n",
            &["bad.toml", "twice"],
        ),
        (
            "[server]\nlisten = \"a\"\n",
            &["bad.toml", "server", "not a setting"],
        ),
        ("listen = [\"a\"]\n", &["bad.toml", "listen", "string"]),
        ("listen = \"127.0.0.1:0\n", &["bad.toml", "line 1"]),
        ("= 1\n", &["bad.toml", "line 1"]),
        (
            "config = \"other.toml\"\n",
            &["bad.toml", "config", "not a setting"],
        ),
        (
            "password = \"x\"\n",
            &["bad.toml", "password", "not a setting"],
        ),
        ("\u{1b}[31m = 1\n", &["bad.toml"]),
    ];
    for (body, needles) in cases {
        let f = write(d.path(), "bad.toml", body);
        for args in [
            vec!["--config", &f, "--listen", "127.0.0.1:0"],
            vec!["migrate", "--config", &f],
        ] {
            let out = run(d.path(), &args);
            let line = assert_one_error_line(&out, needles);
            assert!(line.contains("configuration file"), "{body:?}: {line}");
            assert!(!line.contains('\u{1b}'), "{line}");
        }
    }
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn an_unreadable_or_absurd_file_is_refused_with_one_line() {
    let d = dir();
    std::fs::create_dir(d.path().join("adir")).unwrap();
    std::fs::write(d.path().join("latin1.toml"), b"listen = \"\xe9\"\n").unwrap();
    let huge = format!("# {}\n", "x".repeat(2 << 20));
    write(d.path(), "huge.toml", &huge);
    for (path, needle) in [
        ("missing.toml", "cannot read"),
        ("adir", "cannot read"),
        ("latin1.toml", "latin1.toml"),
        ("huge.toml", "1 MiB"),
        ("/dev/zero", "1 MiB"),
    ] {
        let out = run(d.path(), ["--config", path, "--listen", "127.0.0.1:0"]);
        assert_one_error_line(&out, &["configuration file", path, needle]);
        let out = run_env(d.path(), ["migrate"], &[("CONFAB_CONFIG", path)]);
        assert_one_error_line(&out, &["configuration file", path]);
    }
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn a_secret_in_a_bad_file_is_never_echoed() {
    let d = dir();
    for body in [
        "database-url = \"postgres://confab:hunter2@127.0.0.1:1/x\"\n",
        "database-url = \"postgres://confab:hunter2@127.0.0.1:1/x\"\nlsiten = 1\n",
        "jwt-secret = \"hunter2\"\n",
        "redis-url = 12345\nsmtp-password = \"hunter2\"\n",
        "smtp-password = [\"hunter2\"]\n",
        "jwt-secret = \"hunter2\n",
    ] {
        let f = write(d.path(), "s.toml", body);
        let out = run(d.path(), ["--config", &f, "--listen", "127.0.0.1:0"]);
        assert_eq!(out.status.code(), Some(1), "{body}: {}", text(&out));
        assert!(!text(&out).contains("hunter2"), "{body}: {}", text(&out));
    }
}

#[test]
fn subcommands_without_store_settings_reject_config() {
    let d = dir();
    let out = run(
        d.path(),
        [
            "port",
            "--config",
            "x.toml",
            "--from",
            "sqlite://a",
            "--to",
            "sqlite://b",
        ],
    );
    crate::h::assert_usage_error(&out, &["--config"]);
}
