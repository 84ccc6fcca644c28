//! Editing and deleting one's own message from the page (both sides see it live), and search:
//! a result far back in the history is found, and clicking it jumps there and highlights it.

use confab_tests::browser::{BrowserServer, tid};
use serde_json::json;

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_and_delete_seen_on_both_sides() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    server.direct(&alice_api, &bob_api).await.expect(201);
    let alice = server.browser("edit_delete-alice").await;
    let bob = server.browser("edit_delete-bob").await;
    ui::login(&alice, "alice", "alice").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&alice, "bob").await;
    ui::open(&bob, "alice").await;

    let first = ui::send(&alice, "see you at 5").await;
    let second = ui::send(&alice, "wrong chat, sorry").await;
    ui::wait_message(&bob, "wrong chat, sorry").await;

    // Edit: the form comes with the old text; the new one replaces it on both sides.
    ui::message_action(&alice, &first, "edit-message").await;
    alice
        .fill_and_submit("edit-form", &[("body", "see you at 6")])
        .await;
    let bodies = format!(
        "{}[data-id=\"{first}\"] {}",
        tid("message"),
        tid("message-body")
    );
    alice.wait_text(&bodies, "see you at 6").await;
    bob.wait_text(&bodies, "see you at 6").await;
    for (who, page) in [("alice", &alice), ("bob", &bob)] {
        let shown = ui::bodies(page).await;
        assert!(
            !shown.iter().any(|b| b.contains("see you at 5")),
            "{who} still shows the old text: {shown:?}"
        );
    }

    // Delete: a tombstone on both sides, the text gone.
    ui::message_action(&alice, &second, "delete-message").await;
    let gone = format!("{}[data-id=\"{second}\"]", tid("message"));
    alice.wait_attr(&gone, "data-deleted", "true").await;
    bob.wait_attr(&gone, "data-deleted", "true").await;
    for (who, page) in [("alice", &alice), ("bob", &bob)] {
        let shown = ui::bodies(page).await;
        assert!(
            !shown.iter().any(|b| b.contains("wrong chat")),
            "{who} still shows the deleted text: {shown:?}"
        );
    }

    // The server agrees.
    let stored = server
        .all_messages(&bob_api, &group_of(&server, &bob_api).await)
        .await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0]["body"], "see you at 6");
    assert_eq!(stored[1]["deleted"], true);
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_and_jumps_to_an_old_message() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let group = server
        .create_group(&alice_api, "Archive", &[&bob_api])
        .await;
    let group = group["id"].as_str().expect("id").to_owned();
    let needle = server
        .send(&bob_api, &group, "the wifi password is marmalade")
        .await;
    // Far more than one page of history after it: the jump has to load it.
    for i in 0..150 {
        server
            .try_send(
                &bob_api,
                &group,
                json!({"body": format!("filler {i}"), "client_id": format!("f{i}")}),
            )
            .await
            .expect(201);
    }
    let alice = server.browser("search").await;
    ui::login(&alice, "alice", "alice").await;
    ui::open(&alice, "Archive").await;
    ui::wait_message(&alice, "filler 149").await;

    alice
        .fill_and_submit("search-form", &[("q", "marmalade")])
        .await;
    let result = alice
        .wait_for_text(&tid("search-result"), "marmalade")
        .await;
    assert_eq!(
        alice.count(&tid("search-result")).await,
        1,
        "one message matches"
    );
    result.click().await.expect("result clicked");
    let id = needle["id"].as_str().expect("id");
    let target = format!("{}[data-id=\"{id}\"]", tid("message"));
    alice.wait_attr(&target, "data-highlighted", "true").await;
    alice
        .wait_text(&format!("{target} {}", tid("message-body")), "marmalade")
        .await;
    // Scrolled into view.
    let in_view = alice
        .js(
            r#"const r = document.querySelector(arguments[0]).getBoundingClientRect();
            return r.bottom > 0 && r.top < window.innerHeight;"#,
            vec![json!(target)],
        )
        .await;
    assert_eq!(
        in_view,
        json!(true),
        "the highlighted message is not in view"
    );
    let highlighted: Vec<String> = ui::messages(&alice)
        .await
        .iter()
        .filter(|m| m["highlighted"] == true)
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(highlighted, ["the wifi password is marmalade"]);
    alice.close().await;
}

/// The one group `me` is in.
async fn group_of(server: &confab_tests::TestServer, me: &confab_tests::Session) -> String {
    let ids = server.group_ids(me).await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}
