//! Register, login, refresh (with rotation and reuse detection), logout, durability.

use confab_tests::{Store, TestServer};
use serde_json::{Value, json};

fn is_rfc3339_ms_utc(s: &str) -> bool {
    // 2026-11-24T09:18:07.123Z
    s.len() == 24
        && s.as_bytes()[10] == b'T'
        && s.ends_with('Z')
        && s.as_bytes()[19] == b'.'
        && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

async fn register_answers_201_with_user_and_tokens(s: &TestServer) {
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "Alice", "password": "correct horse battery", "display_name": " Alice A. ", "country": "de", "email": "Alice@Example.com"}),
        )
        .await;
    r.expect(201);
    let user = &r.json["user"];
    let mut keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "country",
            "created_at",
            "display_name",
            "id",
            "last_seen_at",
            "online",
            "roles",
            "username"
        ]
    );
    assert_eq!(user["username"], "alice");
    // Presence: a new account was never seen (its own, so shown).
    assert_eq!(
        (&user["online"], &user["last_seen_at"]),
        (&json!(false), &Value::Null)
    );
    assert_eq!(user["display_name"], "Alice A.");
    assert_eq!(user["country"], "DE");
    assert_eq!(user["roles"], json!([]));
    assert!(
        uuid::Uuid::parse_str(user["id"].as_str().unwrap())
            .unwrap()
            .get_version_num()
            == 7
    );
    assert!(
        is_rfc3339_ms_utc(user["created_at"].as_str().unwrap()),
        "{}",
        user["created_at"]
    );
    assert_eq!(r.headers["cache-control"], "no-store");
    let tokens = &r.json["tokens"];
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 32);
}

async fn usernames_and_emails_are_unique_without_regard_to_case(s: &TestServer) {
    s.register_with(
        json!({"username": "bob", "password": "correct horse battery", "email": "bob@example.com"}),
    )
    .await;
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "BOB", "password": "correct horse battery"}),
        )
        .await;
    r.expect_error(409, "conflict");
    assert_eq!(r.field(), Some("username"));
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "bobby", "password": "correct horse battery", "email": "BOB@example.COM"}),
        )
        .await;
    r.expect_error(409, "conflict");
    assert_eq!(r.field(), Some("email"));
}

async fn invalid_registrations_are_422_naming_the_field(s: &TestServer) {
    let cases = [
        (
            json!({"username": "ab", "password": "correct horse battery"}),
            "username",
        ),
        (
            json!({"username": "al ice", "password": "correct horse battery"}),
            "username",
        ),
        (
            json!({"username": "alice", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "alice", "password": "x".repeat(257)}),
            "password",
        ),
        (
            json!({"username": "alice", "password": "correct horse battery", "email": "nope"}),
            "email",
        ),
        (
            json!({"username": "alice", "password": "correct horse battery", "country": "XX"}),
            "country",
        ),
        (
            json!({"username": "alice", "password": "correct horse battery", "display_name": "  "}),
            "display_name",
        ),
    ];
    for (body, field) in cases {
        let r = s.post("/auth/register", None, body.clone()).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field), "{body}");
    }
    // Nothing was created along the way.
    s.register("alice").await;
}

async fn login_works_by_username_or_email_in_any_case(s: &TestServer) {
    s.register_with(json!({"username": "carol", "password": "correct horse battery", "email": "carol@example.com"}))
        .await;
    for login in [
        "carol",
        "CAROL",
        "carol@example.com",
        "Carol@Example.com",
        " carol ",
    ] {
        let me = s.login(login, "correct horse battery").await;
        let r = s.get("/users/me", Some(&me.access)).await;
        r.expect(200);
        assert_eq!(r.json["username"], "carol");
    }
}

async fn unknown_login_and_wrong_password_answer_alike(s: &TestServer) {
    s.register("dave").await;
    let wrong = s
        .post(
            "/auth/login",
            None,
            json!({"login": "dave", "password": "wrong password"}),
        )
        .await;
    let unknown = s
        .post(
            "/auth/login",
            None,
            json!({"login": "nobody", "password": "wrong password"}),
        )
        .await;
    wrong.expect_error(401, "invalid_credentials");
    unknown.expect_error(401, "invalid_credentials");
    assert_eq!(wrong.json, unknown.json);
}

async fn five_failed_logins_lock_the_account_with_retry_after(s: &TestServer) {
    s.register("erin").await;
    for _ in 0..5 {
        s.fail_login("erin").await;
    }
    // Even the right password is refused now, and the answer says when to come back.
    let r = s
        .post(
            "/auth/login",
            None,
            json!({"login": "ERIN", "password": "correct horse battery"}),
        )
        .await;
    r.expect_error(429, "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "retry-after {retry}");
    // Other accounts are not affected.
    s.register("frank").await;
    s.login("frank", "correct horse battery").await;
}

async fn the_failure_budget_is_per_account_whatever_the_spelling(s: &TestServer) {
    s.register_with(json!({"username": "carol", "password": "correct horse battery", "email": "carol@example.com"}))
        .await;
    for login in [
        "carol",
        "CAROL",
        "carol@example.com",
        "Carol@Example.com",
        "carol",
    ] {
        s.fail_login(login).await;
    }
    s.post(
        "/auth/login",
        None,
        json!({"login": "carol@example.com", "password": "correct horse battery"}),
    )
    .await
    .expect_error(429, "rate_limited");
}

async fn successful_logins_do_not_spend_the_failure_budget(s: &TestServer) {
    s.register("dora").await;
    for _ in 0..12 {
        s.login("dora", "correct horse battery").await;
    }
    for _ in 0..4 {
        s.fail_login("dora").await;
    }
    s.login("dora", "correct horse battery").await;
}

async fn parallel_guesses_cannot_outrun_the_failure_budget(s: &TestServer) {
    s.register("eve").await;
    let guesses = (0..20).map(|i| {
        s.post(
            "/auth/login",
            None,
            json!({"login": "eve", "password": format!("guess number {i}")}),
        )
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers.iter().filter(|r| r.status == 401).count();
    let refused = answers.iter().filter(|r| r.status == 429).count();
    assert_eq!((checked, refused), (5, 15));
}

async fn two_logins_are_independent_sessions(s: &TestServer) {
    let first = s.register("gina").await;
    let second = s.login("gina", "correct horse battery").await;
    assert_ne!(first.refresh, second.refresh);
    s.post(
        "/auth/logout",
        None,
        json!({"refresh_token": first.refresh}),
    )
    .await
    .expect(204);
    s.get("/users/me", Some(&second.access)).await.expect(200);
    s.get("/users/me", Some(&first.access))
        .await
        .expect_error(401, "unauthorized");
}

async fn refresh_rotates_the_pair(s: &TestServer) {
    let me = s.register("hank").await;
    let r = s
        .post("/auth/refresh", None, json!({"refresh_token": me.refresh}))
        .await;
    r.expect(200);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.json["user"]["username"], "hank");
    let next = confab_tests::Session {
        user_id: me.user_id.clone(),
        username: me.username.clone(),
        access: r.json["tokens"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        refresh: r.json["tokens"]["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert_ne!(next.refresh, me.refresh);
    assert_eq!(r.json["tokens"]["token_type"], "Bearer");
    s.get("/users/me", Some(&next.access)).await.expect(200);
    // The new refresh token works once more.
    s.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": next.refresh}),
    )
    .await
    .expect(200);
}

async fn a_reused_refresh_token_revokes_the_whole_login(s: &TestServer) {
    let me = s.register("ivy").await;
    let other_login = s.login("ivy", "correct horse battery").await;
    let r = s
        .post("/auth/refresh", None, json!({"refresh_token": me.refresh}))
        .await;
    r.expect(200);
    let rotated_refresh = r.json["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let rotated_access = r.json["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The old token again: an attacker (or the victim) replays it.
    s.post("/auth/refresh", None, json!({"refresh_token": me.refresh}))
        .await
        .expect_error(401, "unauthorized");
    // Every token of that login is now dead: the rotated refresh token and both access tokens.
    s.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": rotated_refresh}),
    )
    .await
    .expect_error(401, "unauthorized");
    s.get("/users/me", Some(&rotated_access))
        .await
        .expect_error(401, "unauthorized");
    s.get("/users/me", Some(&me.access))
        .await
        .expect_error(401, "unauthorized");
    // Another login of the same user lives on.
    s.get("/users/me", Some(&other_login.access))
        .await
        .expect(200);
}

async fn unknown_refresh_tokens_are_401(s: &TestServer) {
    for token in ["", "nope", &"x".repeat(5000)] {
        s.post("/auth/refresh", None, json!({"refresh_token": token}))
            .await
            .expect_error(401, "unauthorized");
    }
}

async fn logout_ends_the_login_and_is_idempotent(s: &TestServer) {
    let me = s.register("jack").await;
    s.post("/auth/logout", None, json!({"refresh_token": me.refresh}))
        .await
        .expect(204);
    s.post("/auth/logout", None, json!({"refresh_token": me.refresh}))
        .await
        .expect(204);
    s.post(
        "/auth/logout",
        None,
        json!({"refresh_token": "never issued"}),
    )
    .await
    .expect(204);
    s.post("/auth/refresh", None, json!({"refresh_token": me.refresh}))
        .await
        .expect_error(401, "unauthorized");
    s.get("/users/me", Some(&me.access))
        .await
        .expect_error(401, "unauthorized");
}

async fn acknowledged_accounts_and_the_generated_secret_survive_a_restart(store: Store) {
    let s = TestServer::start_with_generated_secret(store).await;
    let me = s.register("kate").await;
    s.patch(
        "/users/me",
        Some(&me.access),
        json!({"display_name": "Kate"}),
    )
    .await
    .expect(200);
    let s = s.restart().await;
    // The access token from before the restart is still good, and so is the data.
    let r = s.get("/users/me", Some(&me.access)).await;
    r.expect(200);
    assert_eq!(r.json["display_name"], "Kate");
    s.login("kate", "correct horse battery").await;
    s.post("/auth/refresh", None, json!({"refresh_token": me.refresh}))
        .await
        .expect(200);
}

async fn failed_logins_from_one_address_are_limited(store: Store) {
    let s = TestServer::start_with(store, &["--login-failures-per-ip", "3"]).await;
    for name in ["lara", "mike", "nina"] {
        s.fail_login(name).await;
    }
    let r = s
        .post(
            "/auth/login",
            None,
            json!({"login": "olga", "password": "wrong password"}),
        )
        .await;
    r.expect_error(429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
}

confab_tests::store_tests!(
    register_answers_201_with_user_and_tokens,
    usernames_and_emails_are_unique_without_regard_to_case,
    invalid_registrations_are_422_naming_the_field,
    login_works_by_username_or_email_in_any_case,
    unknown_login_and_wrong_password_answer_alike,
    five_failed_logins_lock_the_account_with_retry_after,
    the_failure_budget_is_per_account_whatever_the_spelling,
    successful_logins_do_not_spend_the_failure_budget,
    parallel_guesses_cannot_outrun_the_failure_budget,
    two_logins_are_independent_sessions,
    refresh_rotates_the_pair,
    a_reused_refresh_token_revokes_the_whole_login,
    unknown_refresh_tokens_are_401,
    logout_ends_the_login_and_is_idempotent,
    ;
    own_server: acknowledged_accounts_and_the_generated_secret_survive_a_restart,
    failed_logins_from_one_address_are_limited,
);
