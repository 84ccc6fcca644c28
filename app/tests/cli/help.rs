//! `--help` and `--version`, of `confab` and of its subcommands.

use crate::h::{dir, run, stderr, stdout, text};

#[test]
fn help_names_every_setting_and_its_environment_variable() {
    let d = dir();
    let out = run(d.path(), ["--help"]);
    assert!(out.status.success(), "{}", text(&out));
    let help = stdout(&out);
    for name in [
        "--listen",
        "--database-url",
        "--redis-url",
        "--jwt-secret",
        "--log-format",
        "CONFAB_LISTEN",
        "CONFAB_DATABASE_URL",
        "CONFAB_REDIS_URL",
        "CONFAB_JWT_SECRET",
        "CONFAB_LOG_FORMAT",
        // Subcommands are listed too.
        "serve",
        "user",
        "migrate",
    ] {
        assert!(
            help.contains(name),
            "--help does not mention {name}:\n{help}"
        );
    }
    // The defaults an operator relies on are shown.
    assert!(help.contains("sqlite://confab.db"), "{help}");
    assert!(help.contains("127.0.0.1:8080"), "{help}");
    // `help` writes nothing to stderr and creates no database.
    assert!(stderr(&out).is_empty(), "{}", text(&out));
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn subcommand_help_names_the_store_settings() {
    let d = dir();
    for args in [
        &["serve", "--help"][..],
        &["migrate", "--help"],
        &["user", "create", "--help"],
        &["user", "reset-password", "--help"],
    ] {
        let out = run(d.path(), args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let help = stdout(&out);
        for name in ["--database-url", "CONFAB_DATABASE_URL", "--log-format"] {
            assert!(help.contains(name), "{args:?} help lacks {name}:\n{help}");
        }
    }
}

#[test]
fn version_prints_the_package_version() {
    let d = dir();
    let out = run(d.path(), ["--version"]);
    assert!(out.status.success(), "{}", text(&out));
    // Then the commit: see `manual::version_names_the_commit_it_was_built_from`.
    let line = stdout(&out);
    assert!(
        line.starts_with(&format!("confab {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    assert!(stderr(&out).is_empty());
    assert!(!d.path().join("confab.db").exists());
}
