//! `confab reports`: the admins' list on the command line — one tab-separated line per report
//! (open ones by default), `--status` and `--limit`, and a clear refusal of a bad `--status`.

use crate::h::{
    self, PASSWORD, Server, bearer, call, create_users, created, dir, json_str, login, run, stderr,
    stdout, text,
};

/// A database with three reports: ada reports bob's message (with a long body and a reason of
/// two lines), then bob as a user; bob reports ada, which root dismisses. Returns the
/// working directory and (message id, ids of the three reports).
fn with_reports() -> (tempfile::TempDir, String, [String; 3]) {
    let d = dir();
    create_users(d.path(), &[("root", true), ("ada", false), ("bob", false)]);
    let server = Server::start(d.path(), &[]);
    let port = server.port;
    let (ada, bob, root) = (
        bearer(port, "ada"),
        bearer(port, "bob"),
        bearer(port, "root"),
    );
    let bob_id = json_str(&login(port, "bob", PASSWORD).body, "id").expect("bob's id");
    let ada_id = json_str(&login(port, "ada", PASSWORD).body, "id").expect("ada's id");
    let group = created(&call(
        port,
        "POST",
        "/api/v1/groups",
        &ada,
        &format!(r#"{{"name":"Watches","member_ids":["{bob_id}"]}}"#),
    ));
    let long = "cheap watches ".repeat(10);
    let message = created(&call(
        port,
        "POST",
        &format!("/api/v1/groups/{group}/messages"),
        &bob,
        &format!(r#"{{"body":"{long}"}}"#),
    ));
    let file =
        |who: &str, json: String| created(&call(port, "POST", "/api/v1/reports", who, &json));
    let of_message = file(
        &ada,
        format!(r#"{{"message_id":"{message}","reason":"spam\nagain"}}"#),
    );
    let of_bob = file(&ada, format!(r#"{{"user_id":"{bob_id}","reason":"rude"}}"#));
    let of_ada = file(
        &bob,
        format!(r#"{{"user_id":"{ada_id}","reason":"grudge"}}"#),
    );
    let r = call(
        port,
        "PATCH",
        &format!("/api/v1/reports/{of_ada}"),
        &root,
        r#"{"status":"dismissed"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop();
    (d, message, [of_message, of_bob, of_ada])
}

fn fields(line: &str) -> Vec<&str> {
    line.split('\t').collect()
}

#[test]
fn reports_lists_the_open_ones_newest_first_one_line_each() {
    let (d, message, [of_message, of_bob, of_ada]) = with_reports();
    let out = run(d.path(), ["reports"]);
    assert!(out.status.success(), "{}", text(&out));
    h::assert_no_panic(&stderr(&out));
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{printed}");
    let newest = fields(lines[0]);
    assert_eq!(newest.len(), 8, "{}", lines[0]);
    assert_eq!(newest[0], of_bob);
    assert_eq!(&newest[2..], ["open", "ada", "bob", "-", "rude", "-"]);
    let oldest = fields(lines[1]);
    assert_eq!(oldest[0], of_message);
    assert_eq!(&oldest[2..6], ["open", "ada", "bob", message.as_str()]);
    assert_eq!(oldest[6], "spam\\nagain", "a reason stays on its line");
    let body = oldest[7];
    assert!(body.starts_with("cheap watches cheap"), "{body}");
    assert!(body.ends_with('…') && body.chars().count() == 81, "{body}");
    // RFC 3339 with milliseconds.
    assert!(
        newest[1].len() == 24 && newest[1].ends_with('Z'),
        "{}",
        newest[1]
    );

    let out = run(d.path(), ["reports", "--status", "all", "--limit", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    let ids: Vec<String> = stdout(&out)
        .lines()
        .map(|l| fields(l)[0].to_owned())
        .collect();
    assert_eq!(ids, [of_ada.clone(), of_bob]);
    let out = run(d.path(), ["reports", "--status", "dismissed"]);
    let printed = stdout(&out);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    let dismissed = fields(printed.trim_end());
    assert_eq!((dismissed[0], dismissed[2]), (of_ada.as_str(), "dismissed"));
    let out = run(d.path(), ["reports", "--status", "resolved"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).is_empty(), "{}", text(&out));
    assert!(
        stderr(&out).contains("no resolved reports"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_bad_status_or_limit_is_refused_with_the_choices() {
    let d = dir();
    for args in [
        &["reports", "--status", "bogus"][..],
        &["reports", "--status", "OPEN"],
        &["reports", "--limit", "0"],
        &["reports", "--limit", "lots"],
    ] {
        let out = run(d.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = stderr(&out);
        h::assert_no_panic(&err);
        assert!(err.contains(args[2]), "{args:?}: {err}");
        if args[1] == "--status" {
            for choice in ["open", "resolved", "dismissed", "all"] {
                assert!(err.contains(choice), "{choice} missing: {err}");
            }
        }
        assert!(stdout(&out).is_empty());
    }
    // Nothing was opened or created.
    assert!(!d.path().join("confab.db").exists());
}
