//! One-time codes in the page, read from the test SMTP server: registering on a server that
//! verifies emails (the code step), changing one's email (its code), two-factor login (turned on
//! in the profile, then the code step at login), and a password reset by code.

use confab_tests::browser::{Browser, BrowserServer, tid};
use confab_tests::smtp::SmtpServer;

use crate::NODE;
use crate::ui;

async fn server_with_mail(verify_emails: bool) -> (BrowserServer, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let mut flags = smtp.flags();
    if verify_emails {
        flags.push("--verify-emails".to_owned());
    }
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    (BrowserServer::start(NODE, &flags).await, smtp)
}

/// Fills in alice's registration (with an email) and submits it: the server mails a code.
async fn register_until_the_code_step(page: &Browser) {
    page.click_tid("show-register").await;
    page.fill_and_submit(
        "register-form",
        &[
            ("username", "alice"),
            ("password", ui::PASSWORD),
            ("email", "alice@example.test"),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_with_an_email_code() {
    let (server, smtp) = server_with_mail(true).await;
    let page = server.browser("register_code").await;
    register_until_the_code_step(&page).await;
    // The code step: the field appears once the code has been mailed.
    page.wait_for(&format!("form{} [name=otp]", tid("register-form")))
        .await;
    let code = smtp.code("alice@example.test", 1).await;
    page.fill_and_submit("register-form", &[("otp", &code)])
        .await;
    ui::signed_in_as(&page, "alice").await;
    // The account exists, with that email.
    let alice = server.login("alice@example.test", ui::PASSWORD).await;
    assert_eq!(alice.username, "alice");
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_registration_code_is_refused() {
    let (server, smtp) = server_with_mail(true).await;
    let page = server.browser("register_wrong_code").await;
    register_until_the_code_step(&page).await;
    page.wait_for(&format!("form{} [name=otp]", tid("register-form")))
        .await;
    let code = smtp.code("alice@example.test", 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    page.fill_and_submit("register-form", &[("otp", wrong)])
        .await;
    page.wait_for(&tid("auth-error")).await;
    assert!(!page.shown(&tid("me")).await, "signed in with a wrong code");
    page.fill_and_submit("register-form", &[("otp", &code)])
        .await;
    ui::signed_in_as(&page, "alice").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_change_and_two_factor_login() {
    let (server, smtp) = server_with_mail(false).await;
    let page = server.browser("two_factor").await;
    ui::register(&page, "alice").await;

    // The email, with the code sent to it.
    page.click_tid("profile-button").await;
    page.fill_and_submit("email-form", &[("email", "alice@example.test")])
        .await;
    page.wait_for(&format!("form{} [name=otp]", tid("email-form")))
        .await;
    let code = smtp.code("alice@example.test", 1).await;
    page.fill_and_submit("email-form", &[("otp", &code)]).await;
    let alice = server.login("alice", ui::PASSWORD).await;
    let mut saved = false;
    for _ in 0..100 {
        let me = server.get("/users/me", Some(&alice.access)).await;
        if me.json["email"] == "alice@example.test" {
            saved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        saved,
        "the email change with its code did not reach the server"
    );

    // Two-factor on, from the profile.
    page.fill_and_submit("profile-form", &[("two_factor", "true")])
        .await;
    let mut on = false;
    for _ in 0..100 {
        let me = server.get("/users/me", Some(&alice.access)).await;
        if me.json["two_factor"] == true {
            on = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(on, "two-factor was not turned on");

    // Log out, log in: the password alone is not enough; the mailed code is.
    ui::escape(&page).await;
    page.click_tid("logout").await;
    page.fill_and_submit(
        "login-form",
        &[("login", "alice"), ("password", ui::PASSWORD)],
    )
    .await;
    page.wait_for(&format!("form{} [name=otp]", tid("login-form")))
        .await;
    assert!(!page.shown(&tid("me")).await, "signed in without the code");
    let code = smtp.code("alice@example.test", 2).await;
    page.fill_and_submit("login-form", &[("otp", &code)]).await;
    ui::signed_in_as(&page, "alice").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_by_code() {
    let (server, smtp) = server_with_mail(false).await;
    server
        .register_with(serde_json::json!({
            "username": "alice", "password": ui::PASSWORD, "email": "alice@example.test"
        }))
        .await;
    let page = server.browser("password_reset").await;
    page.click_tid("show-reset").await;
    page.fill_and_submit("reset-form", &[("login", "alice")])
        .await;
    page.wait_for(&format!("form{} [name=otp]", tid("reset-form")))
        .await;
    let code = smtp.code("alice@example.test", 1).await;
    page.fill_and_submit(
        "reset-form",
        &[("otp", &code), ("password", "a brand new password")],
    )
    .await;
    // Then the page either signs in by itself or shows an empty login form: the new password
    // works there, the old one no longer does.
    page.wait_js(
        "the login form or the signed-in page after the reset",
        r#"return q('[data-testid="me"]').some(vis) ||
            q('form[data-testid="login-form"]').some((f) => vis(f) &&
                f.querySelector('[name="password"]') && !f.querySelector('[name="password"]').value);"#,
        vec![],
    )
    .await;
    if !page.shown(&tid("me")).await {
        page.fill_and_submit(
            "login-form",
            &[("login", "alice"), ("password", "a brand new password")],
        )
        .await;
    }
    ui::signed_in_as(&page, "alice").await;
    server
        .post(
            "/auth/login",
            None,
            serde_json::json!({"login": "alice", "password": ui::PASSWORD}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    server.login("alice", "a brand new password").await;
    page.close().await;
}
