//! Presence dots in the page — needs the presence branch (`online` / `last_seen_at` on users,
//! `presence` events): its `mod` line in `main.rs` stays commented out until that branch is
//! merged.
//!
//! Alice has a direct chat with bob open. While bob has no page open, his dot (in the chat's
//! header, beside the chat in the sidebar, in the details' member list) says he is not online;
//! once bob's page is open it says "online" everywhere, live; once his page is closed it goes
//! back to "last seen …" (after the server's grace period), live again.

use std::time::Duration;

use confab_tests::browser::{Browser, BrowserServer, tid};
use serde_json::{Value, json};

use crate::NODE;
use crate::ui;

/// The server's grace period (5 s) plus its once-per-5-s limit, with room to spare.
const PRESENCE: Duration = Duration::from_secs(20);

// needs the presence branch
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dots_follow_a_user_going_online_and_offline() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    server.direct(&alice_api, &bob_api).await.expect(201);

    let alice = server.browser("presence-alice").await;
    ui::login(&alice, "alice", "alice").await;
    ui::open(&alice, "bob").await;
    ui::connected(&alice).await;
    alice.click_tid("members-button").await;
    let bob_dots = [
        format!("{} {}", tid("conversation-head"), dot(&bob_api.user_id)),
        format!("{} {}", tid("conversation"), dot(&bob_api.user_id)),
        format!("{} {}", tid("member"), dot(&bob_api.user_id)),
    ];
    for css in &bob_dots {
        let shown = wait_dot(&alice, css, false).await;
        assert_eq!(shown["label"], "offline", "{css}: never seen: {shown}");
    }

    // Bob's page opens: online, everywhere, live.
    let bob = server.browser("presence-bob").await;
    ui::login(&bob, "bob", "bob").await;
    ui::connected(&bob).await;
    for css in &bob_dots {
        let shown = wait_dot(&alice, css, true).await;
        assert_eq!(shown["label"], "online", "{css}: {shown}");
    }
    // Bob sees alice online too.
    ui::open(&bob, "alice").await;
    let shown = wait_dot(
        &bob,
        &format!("{} {}", tid("conversation-head"), dot(&alice_api.user_id)),
        true,
    )
    .await;
    assert_eq!(shown["label"], "online");

    // Bob's page closes: "last seen …" once the server's grace period is over.
    bob.close().await;
    for css in &bob_dots {
        let shown = wait_dot(&alice, css, false).await;
        let label = shown["label"].as_str().unwrap_or_default();
        assert!(label.starts_with("last seen "), "{css}: {shown}");
    }
    let u = server
        .get(
            &format!("/users/{}", bob_api.user_id),
            Some(&alice_api.access),
        )
        .await;
    assert_eq!(u.json["online"], json!(false));
    assert!(u.json["last_seen_at"].is_string(), "{}", u.json);
    alice.close().await;
}

/// A dot for the user with `id`.
fn dot(id: &str) -> String {
    format!("{}[data-user-id=\"{id}\"]", tid("presence"))
}

/// Waits until the dot matching `css` says `online`; returns `{online, label}` (the label is
/// its accessible name).
async fn wait_dot(page: &Browser, css: &str, online: bool) -> Value {
    page.wait_js_for(
        &format!("{css} to say online={online}"),
        PRESENCE,
        r#"const d = document.querySelector(arguments[0]);
        if (!d || d.getAttribute("data-online") !== String(arguments[1])) return null;
        return {online: arguments[1], label: d.getAttribute("aria-label")};"#,
        vec![json!(css), json!(online)],
    )
    .await
}
