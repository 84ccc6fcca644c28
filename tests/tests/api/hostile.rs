//! Hostile input on every input path: NUL bytes, huge strings, look-alike Unicode, SQL-looking
//! text, deep nesting, invalid UTF-8. Each gets a clear 4xx, never a 500, and nothing is lost.

use confab_tests::TestServer;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

async fn nul_bytes_are_rejected_or_kept_harmless(s: &TestServer) {
    for (body, field) in [
        (
            json!({"username": "ali\u{0}ce", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "display_name": "A\u{0}"}),
            "display_name",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "email": "a\u{0}@example.com"}),
            "email",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "country": "D\u{0}"}),
            "country",
        ),
    ] {
        let r = s.post("/auth/register", None, body).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field));
    }
    // A NUL in a password is just a character of the secret.
    s.register_with(json!({"username": "alice", "password": "pass\u{0}word-123"}))
        .await;
    s.login("alice", "pass\u{0}word-123").await;
    s.post(
        "/auth/login",
        None,
        json!({"login": "alice", "password": "pass"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    // An escaped NUL in a login names nobody (PostgreSQL text cannot even hold it).
    for login in ["alice\u{0}", "\u{0}"] {
        s.post(
            "/auth/login",
            None,
            json!({"login": login, "password": "pass\u{0}word-123"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    let me = s.login("alice", "pass\u{0}word-123").await;
    let found = s.get("/users?q=al%00", Some(&me.access)).await;
    found.expect(200);
    assert_eq!(found.json["users"], json!([]));
    // A raw NUL byte is not valid JSON.
    s.post_raw_json(
        "/api/v1/auth/login",
        b"{\"login\":\"a\x00\",\"password\":\"x\"}",
    )
    .await
    .expect_error(400, "bad_request");
}

/// A request body is a JSON object: an array of the fields in order (which serde would read
/// into a struct) or a scalar is refused, on every kind of route.
async fn arrays_and_scalars_are_not_request_bodies(s: &TestServer) {
    let me = s.register("alice").await;
    let g = confab_tests::chat::id(&s.create_group(&me, "Team", &[]).await);
    let m = confab_tests::chat::id(&s.send(&me, &g, "hello").await);
    let cases = [
        ("/auth/login", None, json!(["alice", PASSWORD])),
        ("/auth/refresh", None, json!([me.refresh])),
        ("/auth/logout", None, json!([me.refresh])),
        ("/groups", Some(&me.access), json!(["Other", []])),
        (
            &*format!("/groups/{g}/messages"),
            Some(&me.access),
            json!(["hi", null]),
        ),
        (&*format!("/groups/{g}/read"), Some(&me.access), json!([1])),
        ("/auth/login", None, json!("alice")),
        ("/auth/login", None, json!(7)),
        ("/auth/login", None, json!(null)),
    ];
    for (path, token, body) in cases {
        let r = s.post(path, token.map(String::as_str), body).await;
        r.expect_error(400, "bad_request");
    }
    s.patch(
        &format!("/messages/{m}"),
        Some(&me.access),
        json!(["edited"]),
    )
    .await
    .expect_error(400, "bad_request");
    // Nothing of it happened.
    assert_eq!(s.all_messages(&me, &g).await.len(), 1);
    s.get("/users/me", Some(&me.access)).await.expect(200);
}

async fn five_thousand_character_strings_are_refused_cleanly(s: &TestServer) {
    let long = "a".repeat(5000);
    for (body, field) in [
        (json!({"username": long, "password": PASSWORD}), "username"),
        (json!({"username": "alice", "password": long}), "password"),
        (
            json!({"username": "alice", "password": PASSWORD, "display_name": long}),
            "display_name",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "email": format!("{long}@example.com")}),
            "email",
        ),
        (
            json!({"username": "alice", "password": PASSWORD, "country": long}),
            "country",
        ),
    ] {
        let r = s.post("/auth/register", None, body).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field));
    }
    s.post(
        "/auth/login",
        None,
        json!({"login": long, "password": long}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    let me = s.register("alice").await;
    s.get(&format!("/users?q={long}"), Some(&me.access))
        .await
        .expect_error(422, "validation_failed");
    s.get(&format!("/users/{long}"), Some(&me.access))
        .await
        .expect_error(404, "not_found");
}

async fn look_alike_unicode_usernames_are_refused(s: &TestServer) {
    s.register("alice").await;
    for name in [
        "\u{0430}lice",
        "ａｌｉｃｅ",
        "al\u{0131}ce",
        "\u{212A}ate",
        "alice\u{200B}",
        "ALİCE",
    ] {
        let r = s
            .post(
                "/auth/register",
                None,
                json!({"username": name, "password": PASSWORD}),
            )
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("username"), "{name}");
    }
}

async fn sql_looking_text_is_just_text(s: &TestServer) {
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "alice'--", "password": PASSWORD}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    let bobby = "Robert'); DROP TABLE users;--";
    let me = s
        .register_with(json!({"username": "bobby", "password": PASSWORD, "display_name": bobby}))
        .await;
    let r = s.get("/users/me", Some(&me.access)).await;
    assert_eq!(r.json["display_name"], bobby);
    s.post(
        "/auth/login",
        None,
        json!({"login": "' OR 1=1 --", "password": "' OR 1=1 --"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    s.post(
        "/auth/login",
        None,
        json!({"login": "bobby' --", "password": "x"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    let r = s
        .get("/users?q=%27%20OR%20%271%27%3D%271", Some(&me.access))
        .await;
    r.expect(200);
    assert_eq!(r.json["users"], json!([]));
    // The table is still there.
    s.login("bobby", PASSWORD).await;
}

async fn deeply_nested_and_invalid_utf8_bodies_are_400(s: &TestServer) {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    s.post_raw_json("/api/v1/auth/login", deep)
        .await
        .expect_error(400, "bad_request");
    s.post_raw_json(
        "/api/v1/auth/login",
        b"{\"login\":\"\xff\xfe\",\"password\":\"x\"}",
    )
    .await
    .expect_error(400, "bad_request");
}

async fn hostile_query_strings_are_refused_cleanly(s: &TestServer) {
    let me = s.register("alice").await;
    for q in ["limit=1&limit=2", "limit=1e3", "limit=", "email="] {
        let r = s.get(&format!("/users?{q}"), Some(&me.access)).await;
        assert!(
            r.status == 400 || r.status == 422,
            "{q}: {} {}",
            r.status,
            r.text
        );
        assert!(r.json["error"]["code"].is_string());
    }
    // Percent-encoded bytes that are not UTF-8 decode to U+FFFD, which no username contains.
    let r = s.get("/users?q=%FF%FE", Some(&me.access)).await;
    r.expect(200);
    assert_eq!(r.json["users"], json!([]));
}

confab_tests::store_tests!(
    arrays_and_scalars_are_not_request_bodies,
    nul_bytes_are_rejected_or_kept_harmless,
    five_thousand_character_strings_are_refused_cleanly,
    look_alike_unicode_usernames_are_refused,
    sql_looking_text_is_just_text,
    deeply_nested_and_invalid_utf8_bodies_are_400,
    hostile_query_strings_are_refused_cleanly,
);
