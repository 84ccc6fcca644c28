//! `confab user list`, `user delete` and `user disable-2fa`: the list's columns and filters,
//! what a deletion does (as the server then shows it: no login, the name free, the messages
//! kept from a `deleted-…` user, groups handed on, direct chats closed), the refusal to delete
//! without `--yes` when nobody can be asked, and turning two-factor login off.

use crate::h::{
    PASSWORD, Server, assert_one_error_line, assert_usage_error, bearer, call, create_users,
    created, dir, get, json_str, login, run, stderr, stdout, text,
};

/// `confab user list ARGS`: the lines' fields.
fn list(dir: &std::path::Path, args: &[&str]) -> Vec<Vec<String>> {
    let out = run(dir, [&["user", "list"][..], args].concat());
    assert!(out.status.success(), "{}", text(&out));
    stdout(&out)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn user_list_prints_one_tab_separated_line_per_user_by_username() {
    let d = dir();
    let out = run(d.path(), ["user", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).is_empty(), "{}", text(&out));
    assert!(stderr(&out).contains("no users"), "{}", text(&out));

    create_users(d.path(), &[("zed", true), ("ada", false), ("bob", false)]);
    let all = list(d.path(), &[]);
    let names: Vec<&str> = all.iter().map(|f| f[1].as_str()).collect();
    assert_eq!(names, ["ada", "bob", "zed"]);
    for f in &all {
        assert_eq!(f.len(), 6, "{f:?}");
        assert_eq!(f[0].len(), 36, "a UUID: {f:?}");
        assert_eq!(f[3..5], ["no", "no"], "not banned, no 2FA: {f:?}");
        assert!(f[5].starts_with("20") && f[5].ends_with('Z'), "{f:?}");
    }
    assert_eq!(all[2][2], "yes", "zed is an admin");
    assert_eq!(all[0][2], "no");

    let admins = list(d.path(), &["--admins"]);
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0][1], "zed");
    let two = list(d.path(), &["--limit", "2"]);
    assert_eq!(
        two.iter().map(|f| f[1].as_str()).collect::<Vec<_>>(),
        ["ada", "bob"]
    );

    let out = run(d.path(), ["user", "ban", "bob"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(list(d.path(), &[])[1][3], "yes", "bob is banned");

    for bad in ["0", "-1", "x", "99999999999", ""] {
        let out = run(d.path(), ["user", "list", &format!("--limit={bad}")]);
        assert_usage_error(&out, &["--limit"]);
    }
}

#[test]
fn user_delete_asks_for_yes_and_names_unknown_users() {
    let d = dir();
    create_users(d.path(), &[("ada", false)]);
    // No terminal to ask on (stdin is /dev/null): refused, and nothing changed.
    let out = run(d.path(), ["user", "delete", "ada"]);
    assert_one_error_line(&out, &["--yes", "ada"]);
    assert_eq!(list(d.path(), &[])[0][1], "ada");

    let out = run(d.path(), ["user", "delete", "nobody", "--yes"]);
    assert_one_error_line(&out, &["nobody", "not found"]);
    for hostile in ["", "A B!", "ada\u{1b}[2J", &"x".repeat(10_000)] {
        let out = run(d.path(), ["user", "delete", hostile, "--yes"]);
        assert_one_error_line(&out, &["username"]);
    }
    let out = run(d.path(), ["user", "disable-2fa", "nobody"]);
    assert_one_error_line(&out, &["nobody", "not found"]);
}

/// The deletion while the server runs, seen through the API by the others.
#[test]
fn a_deleted_user_cannot_log_in_their_messages_stay_and_their_groups_go_on() {
    let d = dir();
    create_users(d.path(), &[("ada", false), ("bob", false), ("cyd", false)]);
    let server = Server::start(d.path(), &[]);
    let port = server.port;
    let (ada, bob, cy) = (
        bearer(port, "ada"),
        bearer(port, "bob"),
        bearer(port, "cyd"),
    );
    let id_of = |name: &str| json_str(&login(port, name, PASSWORD).body, "id").expect("id");
    let (ada_id, bob_id, cy_id) = (id_of("ada"), id_of("bob"), id_of("cyd"));
    let group = created(&call(
        port,
        "POST",
        "/api/v1/groups",
        &ada,
        &format!(r#"{{"name":"Team","member_ids":["{bob_id}","{cy_id}"]}}"#),
    ));
    let said = created(&call(
        port,
        "POST",
        &format!("/api/v1/groups/{group}/messages"),
        &ada,
        r#"{"body":"hello from ada"}"#,
    ));
    let direct = call(
        port,
        "POST",
        "/api/v1/direct",
        &ada,
        r#"{"username":"cyd"}"#,
    );
    let direct = created(&direct);

    let out = run(d.path(), ["user", "delete", "ada", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout(&out);
    assert!(printed.starts_with("deleted ada: "), "{printed}");
    assert!(printed.contains("left 2 conversation(s)"), "{printed}");
    assert!(printed.contains("deleted-"), "{printed}");

    assert_eq!(
        login(port, "ada", PASSWORD).status,
        401,
        "no login by the old name"
    );
    let as_ada = get(port, "/api/v1/users/me", &[("Authorization", &ada)]);
    // Banned, then erased: 403 `banned` (as for any banned account), never 200.
    assert_eq!(as_ada.status, 403, "her tokens ended: {as_ada:?}");
    // Her message is still there, from her id, whose name is now deleted-….
    let page = get(
        port,
        &format!("/api/v1/groups/{group}/messages?after=0"),
        &[("Authorization", &bob)],
    );
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body.contains(&said) && page.body.contains("hello from ada"),
        "{page:?}"
    );
    assert!(
        page.body.contains(&format!(r#""sender_id":"{ada_id}""#)),
        "{page:?}"
    );
    let ghost = get(
        port,
        &format!("/api/v1/users/{ada_id}"),
        &[("Authorization", &bob)],
    );
    assert_eq!(ghost.status, 200, "{ghost:?}");
    let shown = json_str(&ghost.body, "username").expect("username");
    assert!(shown.starts_with("deleted-"), "{ghost:?}");
    assert_eq!(
        login(port, &shown, PASSWORD).status,
        401,
        "nor by the new name"
    );
    // The group went on without her, with a new owner; the direct chat is closed.
    let members = get(
        port,
        &format!("/api/v1/groups/{group}/members"),
        &[("Authorization", &bob)],
    );
    assert_eq!(members.status, 200, "{members:?}");
    assert!(!members.body.contains(&ada_id), "{members:?}");
    assert!(members.body.contains(r#""role":"owner""#), "{members:?}");
    let chat = get(
        port,
        &format!("/api/v1/groups/{direct}"),
        &[("Authorization", &cy)],
    );
    assert_eq!(chat.status, 200, "{chat:?}");
    assert!(chat.body.contains(r#""closed_at":"20"#), "{chat:?}");

    // The name is free again: a new, unrelated account.
    create_users(d.path(), &[("ada", false)]);
    let new_ada = login(port, "ada", PASSWORD);
    assert_eq!(new_ada.status, 200);
    assert_ne!(json_str(&new_ada.body, "id").expect("id"), ada_id);
    server.stop();
}

#[test]
fn disable_2fa_lets_a_user_log_in_without_a_code_again() {
    let d = dir();
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
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let server = Server::start(d.path(), &[]);
    let port = server.port;
    let ada = bearer(port, "ada");
    let on = call(
        port,
        "PATCH",
        "/api/v1/users/me",
        &ada,
        r#"{"two_factor":true}"#,
    );
    assert_eq!(on.status, 200, "{on:?}");
    let refused = login(port, "ada", PASSWORD);
    assert!(refused.body.contains("otp_required"), "{refused:?}");
    assert_eq!(list(d.path(), &[])[0][4], "yes");

    let out = run(d.path(), ["user", "disable-2fa", "ada"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).contains("two-factor login is off for ada"),
        "{}",
        text(&out)
    );
    assert_eq!(login(port, "ada", PASSWORD).status, 200);
    let still = get(port, "/api/v1/users/me", &[("Authorization", &ada)]);
    assert_eq!(still.status, 200, "her logins stay: {still:?}");

    let out = run(d.path(), ["user", "disable-2fa", "ada"]);
    assert!(stdout(&out).contains("already off"), "{}", text(&out));
    server.stop();
}
