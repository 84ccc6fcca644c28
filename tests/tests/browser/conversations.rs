//! Two and three users in their own browsers: a direct chat opened by username, messages both
//! ways (each shown once on both sides), typing, "seen by" (also after a reload), unread counts that rise while the
//! chat is closed, clear when it is opened and ignore the open chat's own live messages, a day
//! separator; a group whose members are added from the page.

use confab_tests::browser::{BrowserServer, tid};

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_chat_by_username() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice = server.browser("direct_chat-alice").await;
    let bob = server.browser("direct_chat-bob").await;
    ui::register(&alice, "alice").await;
    ui::register(&bob, "bob").await;

    // Alice opens the chat by bob's username; bob's sidebar gets it live, named after her.
    ui::start_direct(&alice, "bob").await;
    ui::send(&alice, "hello bob").await;
    ui::wait_unread(&bob, "alice", Some(1)).await;
    ui::send(&alice, "are you there?").await;
    ui::wait_unread(&bob, "alice", Some(2)).await;

    // Opening it clears the count, and shows both messages once.
    ui::open(&bob, "alice").await;
    ui::wait_message(&bob, "are you there?").await;
    ui::wait_unread(&bob, "alice", None).await;
    ui::assert_each_once_in_order(&bob, "bob", &["hello bob", "are you there?"]).await;
    bob.wait_for(&tid("day-separator")).await;

    // Alice sees that bob has read them.
    alice.wait_text(&tid("seen-by"), "bob").await;
    // Still after a reload, before any new `read` event: the member list carries bob's marker.
    alice.goto(&server.page_url("/")).await;
    ui::open(&alice, "bob").await;
    alice.wait_text(&tid("seen-by"), "bob").await;

    // Bob types: alice sees it.
    let composer = bob
        .wait_for(&format!("form{} textarea[name=body]", tid("composer")))
        .await;
    composer.send_keys("typing…").await.expect("typed");
    alice.wait_text(&tid("typing"), "bob").await;
    composer.clear().await.expect("cleared");

    // Bob answers; alice has the chat open, so it never counts as unread for her, and her read
    // marker follows (the server agrees).
    ui::send(&bob, "yes, hi alice").await;
    ui::wait_message(&alice, "yes, hi alice").await;
    ui::send(&bob, "second answer").await;
    ui::wait_message(&alice, "second answer").await;
    let alice_api = server.login("alice", ui::PASSWORD).await;
    let mut marker_moved = false;
    for _ in 0..100 {
        let groups = server.groups(&alice_api).await;
        if groups.len() == 1 && groups[0]["my"]["unread_count"] == 0 {
            marker_moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        marker_moved,
        "alice read bob's messages in the open chat, but the server still counts them unread: {:?}",
        server.groups(&alice_api).await
    );
    assert_eq!(
        ui::unread(&alice, "bob").await,
        None,
        "the open chat counts its own live messages as unread"
    );

    // Every message once on both sides, in order.
    let all = [
        "hello bob",
        "are you there?",
        "yes, hi alice",
        "second answer",
    ];
    ui::assert_each_once_in_order(&alice, "alice", &all).await;
    ui::wait_message(&bob, "second answer").await;
    ui::assert_each_once_in_order(&bob, "bob", &all).await;
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_with_members_added_from_the_page() {
    let server = BrowserServer::start(NODE, &[]).await;
    server.register("bob").await;
    server.register("carol").await;
    let alice = server.browser("group-alice").await;
    let carol = server.browser("group-carol").await;
    ui::register(&alice, "alice").await;
    ui::login(&carol, "carol", "carol").await;

    ui::create_group(&alice, "Trip planning").await;
    alice.click_tid("members-button").await;
    alice.wait_for(&tid("members")).await;
    for who in ["bob", "carol"] {
        alice
            .fill_and_submit("add-member-form", &[("username", who)])
            .await;
        alice.wait_text(&tid("member"), who).await;
    }
    alice.wait_count(&tid("member"), 3).await;
    ui::escape(&alice).await;
    alice.wait_gone(&tid("members")).await;

    // Carol was added while her page was open: the group arrives live.
    ui::open(&carol, "Trip planning").await;
    ui::send(&alice, "welcome both").await;
    ui::wait_message(&carol, "welcome both").await;
    carol
        .wait_text(
            &format!("{} {}", tid("message"), tid("message-sender")),
            "alice",
        )
        .await;
    ui::send(&carol, "thanks alice").await;
    ui::wait_message(&alice, "thanks alice").await;

    // The server agrees: three members, both messages once.
    let alice_api = server.login("alice", ui::PASSWORD).await;
    let groups = server.groups(&alice_api).await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    let group = groups[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(server.members(&alice_api, &group).await.len(), 3);
    let stored: Vec<String> = server
        .all_messages(&alice_api, &group)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(stored, ["welcome both", "thanks alice"]);
    ui::assert_each_once_in_order(&alice, "alice", &["welcome both", "thanks alice"]).await;
    ui::assert_each_once_in_order(&carol, "carol", &["welcome both", "thanks alice"]).await;
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&carol, "carol").await;
    alice.close().await;
    carol.close().await;
}
