//! Blocks and bans in the page. Alice blocks bob from their direct chat's details: the chat
//! closes on both pages (only alice's says she blocked him), bob asking for a new direct chat
//! with her gets the answer an unknown username gets, and once she unblocks him from her
//! profile's list he can start a new one. An admin bans bob from the admin page: bob's open page
//! is signed out within a couple of seconds saying the account is banned, and stays signed out
//! (no reconnect loop); logging in says it again; unbanned, he logs in. A non-admin has no admin
//! page. axe-core finds no serious or critical violation on the admin page, the ban dialog, the
//! report dialog and the members dialog with its Block / Report buttons (their screenshots are
//! kept in `target/browser-artifacts/moderation-axe/`).
//!
//! Reports and presence have their own files (`reports.rs`, `presence.rs`), enabled once the
//! server has them.

use std::time::Duration;

use confab_tests::browser::{Browser, BrowserServer, tid};
use serde_json::{Value, json};

use crate::NODE;
use crate::ui;

/// How soon a banned user's open page must be signed out.
const SIGNED_OUT: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_closes_the_direct_chat_for_both_until_unblocked() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let dm = server.direct(&bob_api, &alice_api).await;
    dm.expect(201);
    let dm = dm.json["id"].as_str().expect("id").to_owned();
    server.send(&bob_api, &dm, "hi alice").await;

    let alice = server.browser("moderation-block-alice").await;
    let bob = server.browser("moderation-block-bob").await;
    ui::login(&alice, "alice", "alice").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&alice, "bob").await;
    ui::open(&bob, "alice").await;
    ui::wait_message(&alice, "hi alice").await;
    ui::wait_message(&bob, "hi alice").await;
    let composer = format!("form{} textarea[name=body]", tid("composer"));
    assert!(bob.shown(&composer).await, "the chat is open for bob");

    // Alice blocks bob from the chat's details.
    alice.click_tid("members-button").await;
    let bob_row = format!("{}[data-user-id=\"{}\"]", tid("member"), bob_api.user_id);
    alice
        .click(&format!("{bob_row} {}", tid("block-user")))
        .await;
    alice
        .wait_for(&format!("{bob_row} {}", tid("unblock-user")))
        .await;
    ui::escape(&alice).await;

    // Closed for both, live: no composer; only alice's page says why.
    alice.wait_text(&tid("closed-note"), "You blocked").await;
    let note = bob.wait_text(&tid("closed-note"), "closed").await;
    assert!(
        !note.contains("block"),
        "bob is told he was blocked: {note:?}"
    );
    bob.wait_gone(&composer).await;
    alice.wait_gone(&composer).await;
    assert!(
        !server.group(&bob_api, &dm).await["closed_at"].is_null(),
        "the server has the chat closed"
    );
    assert_eq!(blocked_names(&server, &alice_api).await, ["bob"]);

    // Bob asks for a new direct chat with her: the answer an unknown username gets.
    bob.click_tid("new-direct").await;
    bob.fill_and_submit("new-direct-form", &[("username", "alice")])
        .await;
    bob.wait_text(
        &format!("form{} {}", tid("new-direct-form"), tid("form-error")),
        "No user with that username",
    )
    .await;
    ui::escape(&bob).await;
    assert_eq!(server.group_ids(&bob_api).await, [dm.as_str()]);

    // Alice unblocks him from her profile's list.
    alice.click_tid("profile-button").await;
    let listed = format!(
        "{}[data-user-id=\"{}\"]",
        tid("blocked-user"),
        bob_api.user_id
    );
    alice.wait_text(&listed, "bob").await;
    alice
        .click(&format!("{listed} {}", tid("unblock-user")))
        .await;
    alice.wait_gone(&listed).await;
    alice
        .wait_text(&format!("dialog{}", tid("profile")), "You block nobody.")
        .await;
    ui::escape(&alice).await;
    assert!(blocked_names(&server, &alice_api).await.is_empty());
    // The old chat stays closed; alice's page no longer says she blocks him.
    alice
        .wait_text(&tid("closed-note"), "This chat is closed")
        .await;

    // Now bob can start a new one, and write in it.
    bob.click_tid("new-direct").await;
    bob.fill_and_submit("new-direct-form", &[("username", "alice")])
        .await;
    bob.wait_gone(&format!("form{}", tid("new-direct-form")))
        .await;
    ui::send(&bob, "hello again").await;
    let groups = server.groups(&bob_api).await;
    assert_eq!(groups.len(), 2, "{groups:?}");
    let new = groups
        .iter()
        .find(|g| g["id"] != json!(dm))
        .expect("a new chat");
    assert!(new["closed_at"].is_null(), "the new chat is open: {new}");
    let stored = server
        .all_messages(&alice_api, new["id"].as_str().expect("id"))
        .await;
    assert_eq!(
        stored.last().map(|m| m["body"].clone()),
        Some(json!("hello again"))
    );
    ui::assert_clean_console(&alice, "alice").await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_user_is_signed_out_at_once_and_unbanned_logs_in_again() {
    let server = BrowserServer::start(NODE, &[]).await;
    let carol_api = server.register("carol").await;
    server.grant_admin("carol");
    let bob_api = server.register("bob").await;
    server.create_group(&carol_api, "Lobby", &[&bob_api]).await;

    let admin = server.browser("moderation-ban-admin").await;
    let bob = server.browser("moderation-ban-bob").await;
    ui::login(&admin, "carol", "carol").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&bob, "Lobby").await;
    ui::connected(&bob).await;
    count_sockets(&bob).await;

    // Carol finds bob on the admin page and bans him, with a reason.
    admin.click_tid("admin-button").await;
    admin.wait_for(&tid("admin-page")).await;
    let row = find_user(&admin, "bob", &bob_api.user_id).await;
    admin.click(&format!("{row} {}", tid("ban-user"))).await;
    admin
        .fill_and_submit("ban-form", &[("reason", "spam links")])
        .await;
    let banned_at = tokio::time::Instant::now();
    admin
        .wait_gone(&format!("dialog{}", tid("ban-dialog")))
        .await;
    admin.wait_attr(&row, "data-banned", "true").await;
    admin
        .wait_for(&format!("{row} {}", tid("unban-user")))
        .await;
    assert_eq!(
        banned(&server, &carol_api, &bob_api.user_id).await,
        json!(true)
    );

    // Bob's open page: signed out, saying why, within a couple of seconds.
    bob.wait_text_within(
        &tid("auth-error"),
        "This account has been banned",
        SIGNED_OUT,
    )
    .await;
    assert!(banned_at.elapsed() <= SIGNED_OUT);
    bob.wait_for(&format!("form{}", tid("login-form"))).await;
    assert!(!bob.shown(&tid("me")).await);
    // And it stays so: no new socket, no second try, still the login form.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        bob.js("return window.__sockets;", vec![]).await,
        json!(0),
        "the page tried to reconnect after the ban"
    );
    assert!(bob.shown(&format!("form{}", tid("login-form"))).await);
    assert!(!bob.shown(&tid("me")).await);

    // Logging in (on a fresh page) says it too.
    bob.goto(&server.page_url("/")).await;
    bob.fill_and_submit(
        "login-form",
        &[("login", "bob"), ("password", ui::PASSWORD)],
    )
    .await;
    bob.wait_text(&tid("auth-error"), "This account has been banned")
        .await;
    assert!(!bob.shown(&tid("me")).await);

    // Unbanned from the same row, he logs in.
    admin.click(&format!("{row} {}", tid("unban-user"))).await;
    admin.wait_attr(&row, "data-banned", "false").await;
    assert_eq!(
        banned(&server, &carol_api, &bob_api.user_id).await,
        json!(false)
    );
    ui::login(&bob, "bob", "bob").await;
    ui::connected(&bob).await;
    ui::open(&bob, "Lobby").await;
    admin.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_have_the_admin_page() {
    let server = BrowserServer::start(NODE, &[]).await;
    server.register("carol").await;
    server.grant_admin("carol");
    let bob_api = server.register("bob").await;

    // The admin has the button, and #/admin opens the page.
    let admin = server.browser("moderation-admin-only-carol").await;
    ui::login(&admin, "carol", "carol").await;
    admin.wait_for(&tid("admin-button")).await;
    admin.goto(&server.page_url("/#/admin")).await;
    admin.wait_for(&tid("admin-page")).await;

    // Bob has neither.
    let bob = server.browser("moderation-admin-only-bob").await;
    ui::login(&bob, "bob", "bob").await;
    ui::connected(&bob).await;
    assert!(!bob.shown(&tid("admin-button")).await);
    bob.goto(&server.page_url("/#/admin")).await;
    for _ in 0..10 {
        assert!(
            !bob.shown(&tid("admin-page")).await,
            "a non-admin sees the admin page"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(bob.count(&tid("admin-page")).await, 1, "mounted, hidden");
    ui::signed_in_as(&bob, "bob").await;
    // Nor when the page starts on #/admin (a reload).
    bob.js(
        "window.__before = true; location.reload(); return null;",
        vec![],
    )
    .await;
    bob.wait_js(
        "the reloaded page to be signed in",
        r#"return !window.__before && q('[data-testid="me"]').some(vis);"#,
        vec![],
    )
    .await;
    ui::connected(&bob).await;
    assert!(!bob.shown(&tid("admin-page")).await);
    // The server agrees.
    server
        .put_json(
            &format!("/users/{}/ban", bob_api.user_id),
            Some(&bob_api.access),
            json!({}),
        )
        .await
        .expect_error(403, "forbidden");
    admin.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_serious_violation_on_the_admin_page_and_the_report_dialog() {
    let server = BrowserServer::start(NODE, &[]).await;
    let carol_api = server.register("carol").await;
    server.grant_admin("carol");
    let bob_api = server.register("bob").await;
    let group = server.create_group(&carol_api, "Lobby", &[&bob_api]).await;
    let group = group["id"].as_str().expect("id").to_owned();
    let message = server.send(&bob_api, &group, "a message to report").await;
    let message = message["id"].as_str().expect("id").to_owned();

    let page = server.browser("moderation-axe").await;
    ui::login(&page, "carol", "carol").await;
    ui::open(&page, "Lobby").await;
    ui::wait_message(&page, "a message to report").await;

    // The report dialog, from the message's actions.
    ui::message_action(&page, &message, "report-message").await;
    page.wait_for(&format!(
        "dialog{} form{}",
        tid("report-dialog"),
        tid("report-form")
    ))
    .await;
    page.wait_text(&tid("report-excerpt"), "a message to report")
        .await;
    let focused = page.focused().await;
    assert_eq!(
        focused["name"], "reason",
        "the reason has the focus: {focused}"
    );
    page.assert_accessible("report-dialog").await;
    page.save_screenshot("report-dialog").await;
    ui::escape(&page).await;
    page.wait_gone(&format!("dialog{}", tid("report-dialog")))
        .await;

    // The members dialog, with Block and Report beside bob.
    page.click_tid("members-button").await;
    let bob_row = format!("{}[data-user-id=\"{}\"]", tid("member"), bob_api.user_id);
    page.wait_for(&format!("{bob_row} {}", tid("block-user")))
        .await;
    page.wait_for(&format!("{bob_row} {}", tid("report-user")))
        .await;
    page.assert_accessible("members-block").await;
    page.save_screenshot("members-block").await;
    ui::escape(&page).await;

    // The admin page, with a user found, and its ban dialog.
    page.click_tid("admin-button").await;
    page.wait_for(&tid("admin-page")).await;
    let row = find_user(&page, "bob", &bob_api.user_id).await;
    page.assert_accessible("admin").await;
    page.save_screenshot("admin").await;
    page.click(&format!("{row} {}", tid("ban-user"))).await;
    page.wait_for(&format!(
        "dialog{} form{}",
        tid("ban-dialog"),
        tid("ban-form")
    ))
    .await;
    page.assert_accessible("ban-dialog").await;
    page.save_screenshot("ban-dialog").await;
    ui::escape(&page).await;
    page.wait_gone(&format!("dialog{}", tid("ban-dialog")))
        .await;
    // Cancelled: nobody was banned.
    assert_eq!(
        banned(&server, &carol_api, &bob_api.user_id).await,
        json!(false)
    );
    for view in ["admin"] {
        page.set_width(375).await;
        page.assert_accessible(&format!("{view}-375")).await;
        page.save_screenshot(&format!("{view}-375")).await;
        page.set_width(1280).await;
    }
    let csp: Vec<String> = page
        .console_errors()
        .await
        .into_iter()
        .filter(|e| e.contains("Content Security Policy"))
        .collect();
    assert!(csp.is_empty(), "CSP violations:\n{}", csp.join("\n"));
    page.close().await;
}

/// Searches the admin page's user finder for `q`; returns the selector of the row of the user
/// with `id`.
pub async fn find_user(page: &Browser, q: &str, id: &str) -> String {
    page.fill_and_submit("user-search-form", &[("q", q)]).await;
    let row = format!("{}[data-user-id=\"{id}\"]", tid("admin-user"));
    page.wait_for(&row).await;
    row
}

/// Counts the WebSockets the page opens from now on, in `window.__sockets`.
async fn count_sockets(page: &Browser) {
    page.js(
        r#"const W = window.WebSocket;
        window.__sockets = 0;
        window.WebSocket = class extends W {
            constructor(...a) { super(...a); window.__sockets++; }
        };
        return null;"#,
        vec![],
    )
    .await;
}

/// `banned` of `GET /users/{id}` as the admin sees it.
pub async fn banned(server: &BrowserServer, admin: &confab_tests::Session, id: &str) -> Value {
    let r = server
        .get(&format!("/users/{id}"), Some(&admin.access))
        .await;
    r.expect(200);
    r.json["banned"].clone()
}

/// The usernames `me` blocks, as the server lists them.
async fn blocked_names(server: &BrowserServer, me: &confab_tests::Session) -> Vec<String> {
    let r = server.get("/users/me/blocks", Some(&me.access)).await;
    r.expect(200);
    r.json["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().unwrap_or_default().to_owned())
        .collect()
}
