//! Managing a group from the members panel: the owner makes someone admin, removes someone,
//! renames the group (the others' pages follow live), a member leaves, and the owner deletes
//! it — each checked against what the server then says.

use confab_tests::browser::{BrowserServer, tid};

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_removal_rename_leave_and_delete() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let carol_api = server.register("carol").await;
    let group = server
        .create_group(&alice_api, "Team", &[&bob_api, &carol_api])
        .await;
    let group = group["id"].as_str().expect("id").to_owned();
    let alice = server.browser("members-alice").await;
    let bob = server.browser("members-bob").await;
    ui::login(&alice, "alice", "alice").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&alice, "Team").await;
    alice.click_tid("members-button").await;
    alice.wait_count(&tid("member"), 3).await;

    // Bob becomes admin.
    let bob_row = format!("{}[data-user-id=\"{}\"]", tid("member"), bob_api.user_id);
    alice
        .wait_for(&format!("{bob_row} select{}", tid("member-role")))
        .await
        .select_by_value("admin")
        .await
        .expect("role chosen");
    ui::eventually(&alice, "bob to be admin on the server", async || {
        server
            .role_of(&alice_api, &group, &bob_api)
            .await
            .as_deref()
            == Some("admin")
    })
    .await;

    // Carol is removed.
    let carol_row = format!("{}[data-user-id=\"{}\"]", tid("member"), carol_api.user_id);
    alice
        .click(&format!("{carol_row} {}", tid("remove-member")))
        .await;
    alice.wait_count(&tid("member"), 2).await;
    ui::eventually(&alice, "carol to be gone on the server", async || {
        server
            .role_of(&alice_api, &group, &carol_api)
            .await
            .is_none()
    })
    .await;

    // Renamed: bob's sidebar follows.
    let rename = format!("form:has({}) [name=\"name\"]", tid("rename-group"));
    let input = alice.wait_for(&rename).await;
    input.clear().await.expect("cleared");
    input.send_keys("Team Rocket").await.expect("typed");
    alice.click_tid("rename-group").await;
    bob.wait_text(&tid("conversation-name"), "Team Rocket")
        .await;
    assert_eq!(server.group(&bob_api, &group).await["name"], "Team Rocket");
    ui::escape(&alice).await;

    // Bob leaves: the group goes from his sidebar, and he from the group.
    ui::open(&bob, "Team Rocket").await;
    bob.click_tid("members-button").await;
    bob.click_tid("leave-group").await;
    bob.wait_gone(&format!(
        "{} [data-group-id=\"{group}\"]",
        tid("conversations")
    ))
    .await;
    ui::eventually(&bob, "bob to have left on the server", async || {
        server.role_of(&alice_api, &group, &bob_api).await.is_none()
    })
    .await;

    // Alice deletes it.
    alice.click_tid("members-button").await;
    alice.click_tid("delete-group").await;
    alice
        .wait_gone(&format!(
            "{} [data-group-id=\"{group}\"]",
            tid("conversations")
        ))
        .await;
    ui::eventually(
        &alice,
        "the group to be deleted on the server",
        async || {
            server
                .get(&format!("/groups/{group}"), Some(&alice_api.access))
                .await
                .status
                == 404
        },
    )
    .await;
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}
