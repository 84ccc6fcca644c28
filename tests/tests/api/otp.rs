//! One-time codes by email, against a real SMTP server on 127.0.0.1 (`confab_tests::smtp`):
//! the tests read each mail the server sent and use the code in it.

use std::time::Duration;

use confab_tests::smtp::SmtpServer;
use confab_tests::{Resp, Store, TestServer};
use serde_json::{Value, json};

/// A server that mails through a fresh SMTP server, with extra flags.
async fn start(store: Store, extra: &[&str]) -> (TestServer, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let mut flags = smtp.flags();
    flags.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    (TestServer::start_with(store, &refs).await, smtp)
}

async fn ask(s: &TestServer, token: Option<&str>, body: Value) -> Resp {
    s.post("/auth/otp", token, body).await
}

async fn login(s: &TestServer, login: &str, password: &str, otp: Option<&str>) -> Resp {
    let mut body = json!({"login": login, "password": password});
    if let Some(otp) = otp {
        body["otp"] = json!(otp);
    }
    s.post("/auth/login", None, body).await
}

const PASSWORD: &str = "correct horse battery";

/// A code that is not `code` (same shape).
fn other_than(code: &str) -> String {
    if code == "000000" {
        "111111".into()
    } else {
        "000000".into()
    }
}

async fn register_with_verified_emails(store: Store) {
    let (s, smtp) = start(store, &["--verify-emails"]).await;
    let email = "ada@example.com";
    let reg = |otp: Option<&str>| {
        let mut body = json!({"username": "ada", "password": PASSWORD, "email": email});
        if let Some(otp) = otp {
            body["otp"] = json!(otp);
        }
        body
    };

    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "ada", "password": PASSWORD}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("email"));
    let r = s.post("/auth/register", None, reg(None)).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));

    ask(
        &s,
        None,
        json!({"purpose": "register", "email": "Ada@Example.com"}),
    )
    .await
    .expect(202);
    let mail = smtp.wait_for(email, 1).await;
    assert_eq!(mail.from, "confab@test.invalid");
    assert!(
        mail.text().contains("expires in 10 minutes"),
        "{}",
        mail.data
    );
    let code = mail.code();

    let r = s
        .post("/auth/register", None, reg(Some(&other_than(&code))))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));
    let r = s.post("/auth/register", None, reg(Some(&code))).await;
    r.expect(201);
    let token = r.json["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = s.get("/users/me", Some(&token)).await;
    assert_eq!(me.expect(200).json["email"], email);

    // Single use: the same code does not register a second account.
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "ada2", "password": PASSWORD, "email": email, "otp": code}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));
}

/// Registers `name` with `email` and turns two-factor login on.
async fn two_factor_user(s: &TestServer, name: &str, email: &str) -> String {
    let me = s
        .register_with(json!({"username": name, "password": PASSWORD, "email": email}))
        .await;
    let r = s
        .patch("/users/me", Some(&me.access), json!({"two_factor": true}))
        .await;
    assert_eq!(r.expect(200).json["two_factor"], true);
    me.access
}

/// Bob logs in without a code (so the `nth` mail to `email` brings one), then tries `wrong`
/// other codes; the code that came.
async fn code_after_wrong_tries(
    s: &TestServer,
    smtp: &SmtpServer,
    email: &str,
    nth: usize,
    wrong: usize,
) -> String {
    login(s, "bob", PASSWORD, None)
        .await
        .expect_error(401, "otp_required");
    let code = smtp.code(email, nth).await;
    for _ in 0..wrong {
        login(s, "bob", PASSWORD, Some(&other_than(&code)))
            .await
            .expect_error(401, "invalid_credentials");
    }
    code
}

/// A server (with room for many failed logins) where `name` has two-factor login on, and the
/// first login code: asked for by logging in without one.
async fn two_factor_server(
    store: Store,
    name: &str,
    email: &str,
) -> (TestServer, SmtpServer, String) {
    let (s, smtp) = start(store, &["--login-failures-per-account", "100"]).await;
    two_factor_user(&s, name, email).await;
    // Right password, no code: otp_required, and a code arrives.
    login(&s, name, PASSWORD, None)
        .await
        .expect_error(401, "otp_required");
    let code = smtp.code(email, 1).await;
    (s, smtp, code)
}

async fn two_factor_login(store: Store) {
    let email = "bob@example.com";
    let (s, smtp, code) = two_factor_server(store, "bob", email).await;
    // A wrong password never sends a code and says nothing of the second factor.
    login(&s, "bob", "wrong password", None)
        .await
        .expect_error(401, "invalid_credentials");
    login(&s, email, PASSWORD, Some(&code)).await.expect(200);
    // Replayed: refused.
    login(&s, "bob", PASSWORD, Some(&code))
        .await
        .expect_error(401, "invalid_credentials");

    // Five wrong tries burn the code: the right one no longer works. Four do not.
    let code = code_after_wrong_tries(&s, &smtp, email, 2, 5).await;
    login(&s, "bob", PASSWORD, Some(&code))
        .await
        .expect_error(401, "invalid_credentials");
    let code = code_after_wrong_tries(&s, &smtp, email, 3, 4).await;
    login(&s, "bob", PASSWORD, Some(&code)).await.expect(200);

    // A code asked for with POST /auth/otp works too; a newer one replaces it.
    ask(&s, None, json!({"purpose": "login", "login": "bob"}))
        .await
        .expect(202);
    let first = smtp.code(email, 4).await;
    ask(&s, None, json!({"purpose": "login", "login": email}))
        .await
        .expect(202);
    let second = smtp.code(email, 5).await;
    if first != second {
        login(&s, "bob", PASSWORD, Some(&first))
            .await
            .expect_error(401, "invalid_credentials");
    }
    login(&s, "bob", PASSWORD, Some(&second)).await.expect(200);

    // Expired after 10 minutes.
    login(&s, "bob", PASSWORD, None)
        .await
        .expect_error(401, "otp_required");
    let code = smtp.code(email, 6).await;
    s.advance(Duration::from_secs(11 * 60));
    login(&s, "bob", PASSWORD, Some(&code))
        .await
        .expect_error(401, "invalid_credentials");
}

async fn two_factor_needs_an_email(store: Store) {
    let (s, _smtp) = start(store, &[]).await;
    let me = s.register("carol").await;
    let r = s
        .patch("/users/me", Some(&me.access), json!({"two_factor": true}))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("two_factor"));

    // With an email it works, and the email can then not be cleared.
    let me = s
        .register_with(
            json!({"username": "dave", "password": PASSWORD, "email": "dave@example.com"}),
        )
        .await;
    s.patch("/users/me", Some(&me.access), json!({"two_factor": true}))
        .await
        .expect(200);
    let r = s
        .patch("/users/me", Some(&me.access), json!({"email": null}))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("two_factor"));
    let r = s
        .patch(
            "/users/me",
            Some(&me.access),
            json!({"two_factor": false, "email": null}),
        )
        .await;
    assert_eq!(r.expect(200).json["email"], Value::Null);
}

async fn email_change(store: Store) {
    let (s, smtp) = start(store, &[]).await;
    let old = "erin@example.com";
    let new = "erin@example.org";
    let me = s
        .register_with(json!({"username": "erin", "password": PASSWORD, "email": old}))
        .await;

    ask(&s, None, json!({"purpose": "email_change", "email": new}))
        .await
        .expect_error(401, "unauthorized");
    ask(
        &s,
        Some("not.a.token"),
        json!({"purpose": "email_change", "email": new}),
    )
    .await
    .expect_error(401, "unauthorized");

    let r = s
        .patch("/users/me", Some(&me.access), json!({"email": new}))
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));

    ask(
        &s,
        Some(&me.access),
        json!({"purpose": "email_change", "email": new}),
    )
    .await
    .expect(202);
    let code = smtp.code(new, 1).await;
    smtp.assert_count_stays(old, 0).await;

    let r = s
        .patch(
            "/users/me",
            Some(&me.access),
            json!({"email": new, "otp": other_than(&code)}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));
    // The code is for this address only.
    let r = s
        .patch(
            "/users/me",
            Some(&me.access),
            json!({"email": "elsewhere@example.org", "otp": code}),
        )
        .await;
    assert_eq!(r.field(), Some("otp"));
    let r = s
        .patch(
            "/users/me",
            Some(&me.access),
            json!({"email": new, "otp": code}),
        )
        .await;
    assert_eq!(r.expect(200).json["email"], new);
    // Setting the same address again needs no code.
    s.patch("/users/me", Some(&me.access), json!({"email": new}))
        .await
        .expect(200);

    // Someone else's address: the code proves the mailbox, the store still refuses the taken
    // address.
    let other = s
        .register_with(
            json!({"username": "finn", "password": PASSWORD, "email": "finn@example.com"}),
        )
        .await;
    ask(
        &s,
        Some(&other.access),
        json!({"purpose": "email_change", "email": new}),
    )
    .await
    .expect(202);
    let code = smtp.code(new, 2).await;
    let r = s
        .patch(
            "/users/me",
            Some(&other.access),
            json!({"email": new, "otp": code}),
        )
        .await;
    r.expect_error(409, "conflict");
    assert_eq!(r.field(), Some("email"));
}

async fn password_reset(store: Store) {
    let (s, smtp) = start(store, &[]).await;
    let email = "fay@example.com";
    let first = s
        .register_with(json!({"username": "fay", "password": PASSWORD, "email": email}))
        .await;
    let second = s.login("fay", PASSWORD).await;

    ask(
        &s,
        None,
        json!({"purpose": "password_reset", "login": "fay"}),
    )
    .await
    .expect(202);
    let code = smtp.code(email, 1).await;
    assert!(
        smtp.wait_for(email, 1)
            .await
            .text()
            .contains("new password"),
        "the mail says what the code is for"
    );

    let reset = |otp: &str| json!({"login": "FAY", "otp": otp, "password": "a brand new password"});
    s.post("/auth/password-reset", None, reset(&other_than(&code)))
        .await
        .expect_error(401, "invalid_credentials");
    s.post("/auth/password-reset", None, reset(&code))
        .await
        .expect(204);
    s.post("/auth/password-reset", None, reset(&code))
        .await
        .expect_error(401, "invalid_credentials");

    // Every login of the account is over.
    for session in [&first, &second] {
        s.post(
            "/auth/refresh",
            None,
            json!({"refresh_token": session.refresh}),
        )
        .await
        .expect_error(401, "unauthorized");
        s.get("/users/me", Some(&session.access))
            .await
            .expect_error(401, "unauthorized");
    }
    s.fail_login("fay").await;
    login(&s, "fay", PASSWORD, None)
        .await
        .expect_error(401, "invalid_credentials");
    s.login(email, "a brand new password").await;
}

async fn unknown_accounts_get_202_and_no_mail(store: Store) {
    let (s, smtp) = start(store, &[]).await;
    // Known, but no two-factor login: a login code would be of no use, so none is sent.
    s.register_with(json!({"username": "gus", "password": PASSWORD, "email": "gus@example.com"}))
        .await;
    // Known, but no email: nowhere to send a reset code.
    s.register("hal").await;
    for body in [
        json!({"purpose": "login", "login": "nobody"}),
        json!({"purpose": "login", "login": "nobody@example.com"}),
        json!({"purpose": "password_reset", "login": "nobody"}),
        json!({"purpose": "password_reset", "login": "nobody@example.com"}),
        json!({"purpose": "login", "login": "gus"}),
        json!({"purpose": "password_reset", "login": "hal"}),
    ] {
        let r = ask(&s, None, body.clone()).await;
        r.expect(202);
        assert!(r.text.is_empty(), "202 has no body: {}", r.text);
    }
    s.post(
        "/auth/password-reset",
        None,
        json!({"login": "nobody", "otp": "123456", "password": "a brand new password"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.total(), 0, "no mail for accounts that cannot use one");
}

async fn bad_input(store: Store) {
    let (s, smtp) = start(store, &[]).await;
    let me = s.register("ivy").await;
    let invalid = [
        (json!({"purpose": "reset", "login": "ivy"}), "purpose"),
        (json!({"purpose": "", "login": "ivy"}), "purpose"),
        (json!({"purpose": "register"}), "email"),
        (
            json!({"purpose": "register", "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"purpose": "register", "email": "a b@example.com"}),
            "email",
        ),
        (json!({"purpose": "login"}), "login"),
        (json!({"purpose": "password_reset", "login": ""}), "login"),
        (
            json!({"purpose": "login", "login": "x".repeat(300)}),
            "login",
        ),
        (
            json!({"purpose": "login", "login": "ivy", "email": "a@example.com"}),
            "email",
        ),
    ];
    for (body, field) in invalid {
        let r = ask(&s, Some(&me.access), body.clone()).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field), "{body}");
    }
    for body in [
        json!({"login": "ivy"}),
        json!({"purpose": 5, "login": "ivy"}),
        json!({"purpose": "login", "login": ["ivy"]}),
        json!({"purpose": "login", "login": "ivy", "code": "123456"}),
        json!(["login"]),
    ] {
        ask(&s, None, body).await.expect_error(400, "bad_request");
    }
    let r = ask(
        &s,
        None,
        json!({"purpose": "register", "email": format!("{}@example.com", "a".repeat(5000))}),
    )
    .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("email"));
    let huge = format!(
        "{{\"purpose\": \"register\", \"email\": \"{}\"}}",
        "a".repeat(70 * 1024)
    );
    s.post_raw_json("/api/v1/auth/otp", huge)
        .await
        .expect_error(413, "payload_too_large");
    s.post_raw_json("/api/v1/auth/otp", "{\"purpose\": ")
        .await
        .expect_error(400, "bad_request");
    s.post_raw_json("/api/v1/auth/password-reset", "not json")
        .await
        .expect_error(400, "bad_request");

    for (body, field) in [
        (
            json!({"login": "ivy", "otp": "12345", "password": "a brand new password"}),
            "otp",
        ),
        (
            json!({"login": "ivy", "otp": "1234567", "password": "a brand new password"}),
            "otp",
        ),
        (
            json!({"login": "ivy", "otp": "12345a", "password": "a brand new password"}),
            "otp",
        ),
        (
            json!({"login": "ivy", "otp": "123456", "password": "short"}),
            "password",
        ),
        (
            json!({"login": "", "otp": "123456", "password": "a brand new password"}),
            "login",
        ),
    ] {
        let r = s.post("/auth/password-reset", None, body.clone()).await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some(field), "{body}");
    }
    for body in [
        json!({"login": "ivy", "password": "a brand new password"}),
        json!({"login": "ivy", "otp": 123456, "password": "a brand new password"}),
        json!({"login": "ivy", "otp": "123456", "password": "a brand new password", "x": 1}),
    ] {
        s.post("/auth/password-reset", None, body)
            .await
            .expect_error(400, "bad_request");
    }

    // A malformed code on login or profile is refused for its shape.
    let r = login(&s, "ivy", PASSWORD, Some("12 34")).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));
    let r = s
        .patch(
            "/users/me",
            Some(&me.access),
            json!({"email": "ivy@example.com", "otp": "abcdef"}),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("otp"));
    let r = s
        .post(
            "/auth/register",
            None,
            json!({"username": "jay", "password": PASSWORD, "otp": 5}),
        )
        .await;
    r.expect_error(400, "bad_request");
    assert_eq!(smtp.total(), 0);
}

async fn sending_is_rate_limited(store: Store) {
    let (s, smtp) = start(store, &["--otp-sends-per-ip", "12"]).await;
    let one = json!({"purpose": "register", "email": "kim@example.com"});
    for _ in 0..5 {
        ask(&s, None, one.clone()).await.expect(202);
    }
    let r = ask(&s, None, one.clone()).await;
    r.expect_error(429, "rate_limited");
    assert!(r.headers.get("retry-after").is_some());
    smtp.wait_for("kim@example.com", 5).await;
    smtp.assert_count_stays("kim@example.com", 5).await;

    // The same budget whether or not an account exists: the 429 says nothing about accounts.
    let nobody = json!({"purpose": "password_reset", "login": "nobody"});
    for _ in 0..5 {
        ask(&s, None, nobody.clone()).await.expect(202);
    }
    ask(&s, None, nobody)
        .await
        .expect_error(429, "rate_limited");

    // The client address's budget: 10 spent (refused asks gave theirs back), 2 left.
    for email in ["lee@example.com", "mia@example.com"] {
        ask(&s, None, json!({"purpose": "register", "email": email}))
            .await
            .expect(202);
    }
    ask(
        &s,
        None,
        json!({"purpose": "register", "email": "ned@example.com"}),
    )
    .await
    .expect_error(429, "rate_limited");
    smtp.assert_count_stays("ned@example.com", 0).await;
}

async fn a_code_is_accepted_once_under_concurrency(store: Store) {
    let (s, _smtp, code) = two_factor_server(store, "otto", "otto@example.com").await;
    let tries = (0..10).map(|_| login(&s, "otto", PASSWORD, Some(&code)));
    let answers = futures::future::join_all(tries).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "exactly one login gets through with one code");
    for r in answers.iter().filter(|r| r.status != 200) {
        r.expect_error(401, "invalid_credentials");
    }
}

/// New codes buy no new guesses: wrong reset codes for one account are budgeted across its
/// codes (5 per window), and an unknown login runs out alike, so the 429 tells nothing.
async fn asking_for_new_codes_buys_no_more_guesses(store: Store) {
    let (s, smtp) = start(store, &["--otp-ttl", "1h"]).await;
    let email = "gus@example.com";
    s.register_with(json!({"username": "gus", "password": PASSWORD, "email": email}))
        .await;
    let reset = |login: &str, otp: &str| json!({"login": login, "otp": otp, "password": "a brand new password"});
    for round in 1..=2 {
        ask(
            &s,
            None,
            json!({"purpose": "password_reset", "login": "gus"}),
        )
        .await
        .expect(202);
        let code = smtp.code(email, round).await;
        let wrong = if round == 1 { 4 } else { 1 };
        for _ in 0..wrong {
            s.post(
                "/auth/password-reset",
                None,
                reset("gus", &other_than(&code)),
            )
            .await
            .expect_error(401, "invalid_credentials");
        }
    }
    // Five wrong codes in all, over two codes: the budget is spent, even for the right code.
    let code = smtp.code(email, 2).await;
    s.post("/auth/password-reset", None, reset("gus", &code))
        .await
        .expect_error(429, "rate_limited");
    // An unknown login runs out the same way.
    for _ in 0..5 {
        s.post("/auth/password-reset", None, reset("nobody", "123456"))
            .await
            .expect_error(401, "invalid_credentials");
    }
    s.post("/auth/password-reset", None, reset("nobody", "123456"))
        .await
        .expect_error(429, "rate_limited");
    // Another account's budget is its own.
    let email = "hal@example.com";
    s.register_with(json!({"username": "hal", "password": PASSWORD, "email": email}))
        .await;
    ask(
        &s,
        None,
        json!({"purpose": "password_reset", "login": "hal"}),
    )
    .await
    .expect(202);
    let code = smtp.code(email, 1).await;
    s.post("/auth/password-reset", None, reset("hal", &code))
        .await
        .expect(204);
}

confab_tests::store_tests!(;
    own_server: asking_for_new_codes_buys_no_more_guesses, register_with_verified_emails, two_factor_login, two_factor_needs_an_email,
    email_change, password_reset, unknown_accounts_get_202_and_no_mail, bad_input,
    sending_is_rate_limited, a_code_is_accepted_once_under_concurrency
);
