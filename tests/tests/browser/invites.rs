//! Sign-up under the registration policy: on an invite-only server the form asks for the code
//! once the server says it needs one (and takes it from a `?invite=` link), and a closed server's
//! refusal is said plainly.

use confab_tests::browser::{BrowserServer, tid};

use crate::NODE;
use crate::ui;

const FORM: &str = "register-form";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_only_server_asks_for_the_code_and_takes_it() {
    let server = BrowserServer::start(NODE, &["--registration", "invite"]).await;
    let code = server.invite();
    let page = server.browser("invite_asked").await;
    page.click_tid("show-register").await;
    page.fill_and_submit(FORM, &[("username", "alice"), ("password", ui::PASSWORD)])
        .await;
    page.wait_text(&tid("auth-error"), "by invite").await;
    page.wait_for(&format!("form{} [name=invite]", tid(FORM)))
        .await;
    page.fill_and_submit(FORM, &[("invite", "wrong-code-123")])
        .await;
    page.wait_text(&tid("auth-error"), "unknown, expired or used up")
        .await;
    page.fill_and_submit(FORM, &[("invite", &code)]).await;
    ui::signed_in_as(&page, "alice").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_link_fills_in_the_code() {
    let server = BrowserServer::start(NODE, &["--registration", "invite"]).await;
    let code = server.invite();
    let page = server.browser("invite_link").await;
    // The link opens the sign-up form, the code filled in.
    page.goto(&server.page_url(&format!("/?invite={code}")))
        .await;
    page.fill_and_submit(FORM, &[("username", "bob"), ("password", ui::PASSWORD)])
        .await;
    ui::signed_in_as(&page, "bob").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_server_says_so() {
    let server = BrowserServer::start(NODE, &["--registration", "closed"]).await;
    let page = server.browser("registration_closed").await;
    page.click_tid("show-register").await;
    page.fill_and_submit(FORM, &[("username", "carol"), ("password", ui::PASSWORD)])
        .await;
    page.wait_text(&tid("auth-error"), "does not take new accounts")
        .await;
    assert_eq!(
        page.count(&format!("form{} [name=invite]", tid(FORM)))
            .await,
        0
    );
    page.close().await;
}
