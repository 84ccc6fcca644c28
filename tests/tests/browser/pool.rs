//! "Talk to a stranger": two users join the matching pool from their pages; the first waits,
//! the second's join pairs them, both pages open the room with its expiry countdown (which
//! counts down), they can talk, one sets an alias of their own (while the other writes), and
//! either can close it early.

use std::time::Duration;

use confab_tests::browser::{BrowserServer, tid};
use serde_json::json;

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_pairs_two_pages_and_counts_down() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice = server.browser("pool-alice").await;
    let bob = server.browser("pool-bob").await;
    ui::register(&alice, "alice").await;
    ui::register(&bob, "bob").await;

    alice.click_tid("pool-button").await;
    alice
        .fill_and_submit("pool-form", &[("same_country", "false")])
        .await;
    alice.wait_for(&tid("pool-waiting")).await;

    bob.click_tid("pool-button").await;
    bob.fill_and_submit("pool-form", &[("same_country", "false")])
        .await;

    // Both are in the room: alice learns of it over the socket, bob from his answer.
    for page in [&alice, &bob] {
        page.wait_for(&tid("room-expiry")).await;
        page.wait_gone(&tid("pool-waiting")).await;
    }
    // The countdown shows time and moves.
    let first = alice.wait_text(&tid("room-expiry"), "").await;
    assert!(
        first.chars().any(|c| c.is_ascii_digit()),
        "the room's expiry shows no time: {first:?}"
    );
    alice
        .wait_js_for(
            "the countdown to move",
            Duration::from_secs(70),
            r#"const e = document.querySelector('[data-testid="room-expiry"]');
            return e && txt(e) !== arguments[0];"#,
            vec![json!(first)],
        )
        .await;

    ui::send(&alice, "hi stranger").await;
    ui::wait_message(&bob, "hi stranger").await;
    ui::send(&bob, "hello to you").await;
    ui::wait_message(&alice, "hello to you").await;

    // An alias for bob's side only; alice writes while bob is typing it, and what he typed
    // is what he saves.
    bob.fill("alias-form", &[("alias", "Night owl")]).await;
    ui::send(&alice, "what should I call you?").await;
    ui::wait_message(&bob, "what should I call you?").await;
    let typed = bob
        .js(
            r#"const i = document.querySelector('form[data-testid="alias-form"] [name="alias"]');
            return i ? i.value : null;"#,
            vec![],
        )
        .await;
    assert_eq!(
        typed,
        json!("Night owl"),
        "the alias field lost what bob was typing when alice's message came in"
    );
    bob.submit("alias-form").await;
    let bob_api = server.login("bob", ui::PASSWORD).await;
    let alice_api = server.login("alice", ui::PASSWORD).await;
    let room = server.group_ids(&bob_api).await;
    assert_eq!(room.len(), 1, "one room");
    let room = room[0].clone();
    let group = server.group(&bob_api, &room).await;
    assert!(
        !group["expires_at"].is_null(),
        "a pool room expires: {group}"
    );
    let mut aliased = false;
    for _ in 0..100 {
        if server.my(&bob_api, &room).await["alias"] == "Night owl" {
            aliased = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !aliased {
        bob.fail("bob's alias did not reach the server").await;
    }
    assert_eq!(
        server.my(&alice_api, &room).await["alias"],
        serde_json::Value::Null,
        "an alias is per side"
    );

    // Alice closes it early: the server closes it, and bob's page hears of it.
    alice.click_tid("close-room").await;
    let mut closed = false;
    for _ in 0..100 {
        if !server.group(&bob_api, &room).await["closed_at"].is_null() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !closed {
        alice.fail("the room was not closed").await;
    }
    bob.wait_js(
        "bob's composer to go or be disabled in the closed room",
        r#"const f = q('form[data-testid="composer"]').filter(vis);
        return f.length === 0 || f.every((f) => Array.from(f.elements).every((e) => e.disabled));"#,
        vec![],
    )
    .await;
    alice.close().await;
    bob.close().await;
}
