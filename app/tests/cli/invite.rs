//! `confab invite create|list|revoke`, and what the codes do on a server run with
//! `--registration invite` (or `closed`): made on the command line, spent over HTTP.

use crate::h::{
    PASSWORD, Server, assert_one_error_line, assert_usage_error, migrated_dir, post_json, run,
    stderr, stdout, text,
};

fn create(dir: &std::path::Path, args: &[&str]) -> String {
    let out = run(dir, ["invite", "create"].iter().chain(args));
    assert!(out.status.success(), "{}", text(&out));
    let code = stdout(&out).trim().to_owned();
    assert_eq!(code.len(), 22, "{}", text(&out));
    assert!(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    code
}

fn list(dir: &std::path::Path) -> Vec<Vec<String>> {
    let out = run(dir, ["invite", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    stdout(&out)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn register(port: u16, name: &str, invite: Option<&str>) -> crate::h::Response {
    let invite = invite.map_or(String::new(), |c| format!(r#","invite":"{c}""#));
    post_json(
        port,
        "/api/v1/auth/register",
        &format!(r#"{{"username":"{name}","password":"{PASSWORD}"{invite}}}"#),
    )
}

#[test]
fn create_list_and_revoke() {
    let d = migrated_dir();
    let out = run(d.path(), ["invite", "list"]);
    assert!(
        out.status.success() && stdout(&out).is_empty(),
        "{}",
        text(&out)
    );
    assert!(stderr(&out).contains("no invites"));

    let once = create(d.path(), &[]);
    let three = create(d.path(), &["--uses", "3", "--expires", "12h"]);
    let rows = list(d.path());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][0], three, "newest first");
    assert_eq!(&rows[0][1..2], ["0/3"]);
    assert_eq!(&rows[1][..2], [once.clone(), "0/1".to_owned()]);
    assert!(
        rows.iter().all(|r| r[3] == "live" && r[4] == "-"),
        "{rows:?}"
    );

    let out = run(d.path(), ["invite", "revoke", &once]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(list(d.path()).len(), 1);
    let out = run(d.path(), ["invite", "revoke", &once]);
    assert_one_error_line(&out, &["no such invite"]);
}

#[test]
fn hostile_arguments_are_refused_without_effect() {
    let d = migrated_dir();
    for uses in ["0", "-1", "10001", "99999999999999999999", "abc", ""] {
        let out = run(d.path(), ["invite", "create", &format!("--uses={uses}")]);
        assert_usage_error(&out, &["--uses"]);
    }
    for expires in ["0s", "soon", "-1d", "99999999999999999999d", ""] {
        let out = run(
            d.path(),
            ["invite", "create", &format!("--expires={expires}")],
        );
        assert_usage_error(&out, &["--expires"]);
    }
    let out = run(d.path(), ["invite", "create", "--expires", "366d"]);
    assert_one_error_line(&out, &["--expires", "365d"]);
    let huge = "x".repeat(100_000);
    for code in [
        "",
        "short",
        "\u{1b}[31mred\u{1b}[0m-code",
        "../../etc/passwd",
        huge.as_str(),
    ] {
        let out = run(d.path(), ["invite", "revoke", code]);
        let line = assert_one_error_line(&out, &["no such invite"]);
        assert!(!line.contains('\u{1b}') && line.len() < 200, "{line:?}");
    }
    assert!(list(d.path()).is_empty());
}

#[test]
fn a_code_made_on_the_command_line_admits_one_registration_over_http() {
    let d = migrated_dir();
    let code = create(d.path(), &[]);
    let server = Server::start(d.path(), &["--registration", "invite"]);
    let r = register(server.port, "ada", None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("invite_required"), "{}", r.body);
    let r = register(server.port, "ada", Some(&code));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = register(server.port, "bob", Some(&code));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("invite_invalid"), "{}", r.body);
    let rows = list(d.path());
    assert_eq!(&rows[0][1..4], ["1/1", rows[0][2].as_str(), "used-up"]);
    server.stop();
}

#[test]
fn each_registration_mode_through_the_binary() {
    let d = migrated_dir();
    let cases = [
        (&[][..], &[][..], 201, ""),
        (&["--registration", "open"][..], &[][..], 201, ""),
        (
            &["--registration", "closed"],
            &[][..],
            403,
            "registration_closed",
        ),
        (
            &[],
            &[("CONFAB_REGISTRATION", "closed")][..],
            403,
            "registration_closed",
        ),
        (&["--registration", "invite"], &[], 403, "invite_required"),
    ];
    for (i, (args, env, status, code)) in cases.into_iter().enumerate() {
        let server = Server::start_env(d.path(), args, env);
        let r = register(server.port, &format!("user{i}"), None);
        assert_eq!(r.status, status, "{args:?} {env:?}: {}", r.body);
        assert!(r.body.contains(code), "{}", r.body);
        let err = server.stop();
        let mode = args
            .get(1)
            .copied()
            .or(env.first().map(|e| e.1))
            .unwrap_or("open");
        assert!(
            err.contains(&format!("registration={mode}")) || err.contains(mode),
            "{err}"
        );
    }
    // The operator's way works whatever the mode.
    let out = crate::h::run_stdin(d.path(), ["user", "create", "root", "--admin"], PASSWORD);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(
        d.path(),
        ["--registration", "sometimes", "--listen", crate::h::ANY],
    );
    assert_usage_error(&out, &["--registration", "open, invite or closed"]);
}
