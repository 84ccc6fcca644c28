//! Silent token refresh: with 5-second access tokens, a user whose page stays open for 30 s is
//! never sent back to the login form, the socket stays (or comes back) connected, a message
//! sent to them near the end arrives live, and sending still works at the end.

use std::time::Duration;

use confab_tests::browser::{BrowserServer, tid};

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_stays_signed_in_and_connected_for_30_s_of_5_s_tokens() {
    let server = BrowserServer::start(NODE, &["--access-token-ttl", "5s"]).await;
    server.register("bob").await;
    let alice_page = server.browser("token_refresh").await;
    ui::register(&alice_page, "alice").await;
    ui::start_direct(&alice_page, "bob").await;
    ui::connected(&alice_page).await;

    // Watch the page for 30 s: six token lifetimes.
    let start = tokio::time::Instant::now();
    let mut states = Vec::new();
    while start.elapsed() < Duration::from_secs(30) {
        let state = alice_page
            .js(
                r#"if (!q('[data-testid="me"]').some(vis)) return "signed out";
                const s = document.querySelector('[data-testid="connection-status"]');
                return s ? (s.getAttribute("data-state") || "?") : "no status";"#,
                vec![],
            )
            .await;
        let state = state.as_str().unwrap_or("?").to_owned();
        assert_ne!(
            state,
            "signed out",
            "signed out after {:?} (states so far: {states:?})",
            start.elapsed()
        );
        if states.last().map(|(s, _)| s) != Some(&state) {
            states.push((state, start.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Still (or again) connected, and both directions work on the socket's session.
    ui::connected(&alice_page).await;
    // Fresh tokens for the test's own HTTP calls (theirs expire too).
    let alice = server.login("alice", ui::PASSWORD).await;
    let bob = server.login("bob", ui::PASSWORD).await;
    let group = server.group_ids(&alice).await;
    assert_eq!(group.len(), 1);
    server.send(&bob, &group[0], "still with us?").await;
    ui::wait_message(&alice_page, "still with us?").await;
    ui::send(&alice_page, "yes, 30 s later").await;
    let stored = server.all_messages(&bob, &group[0]).await;
    assert_eq!(
        stored.last().map(|m| m["body"].clone()),
        Some("yes, 30 s later".into()),
        "the page's send did not reach the server"
    );
    // Each 4001 would show as a reconnect: a client that refreshes in time never drops.
    let drops = states.iter().filter(|(s, _)| s != "connected").count();
    assert!(
        drops <= 1,
        "the connection dropped {drops} times in 30 s (state changes: {states:?})"
    );
    assert!(alice_page.shown(&tid("me")).await);
    alice_page.close().await;
}
