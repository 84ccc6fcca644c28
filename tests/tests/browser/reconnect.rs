//! Lossless reconnect: bob's page is open on a group when the server restarts (SIGTERM, a new
//! process) or his connection is cut; while he cannot get through, alice sends 20 messages
//! over HTTP. Once he is let through again, the page says "reconnecting", comes back to
//! "connected" by itself, and shows all 20 once, in order — without a reload. And a message
//! bob writes while cut off is shown pending, then sent when he is back: stored and shown once.

use std::time::Duration;

use confab_tests::Session;
use confab_tests::browser::{Browser, BrowserServer, tid};
use serde_json::json;

use crate::NODE;
use crate::ui;

/// How long a reconnect may take (the client backs off, with jitter).
const RECONNECT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_lost_across_a_server_restart() {
    let mut server = BrowserServer::start(NODE, &[]).await;
    let (alice, group, bob) = setup(&server, "reconnect_restart").await;
    server.block_browsers();
    server.restart().await;
    missed_messages_arrive(&server, &alice, &group, &bob).await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_lost_across_a_cut_connection() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (alice, group, bob) = setup(&server, "reconnect_cut").await;
    server.block_browsers();
    server.cut_connections();
    missed_messages_arrive(&server, &alice, &group, &bob).await;
    bob.close().await;
}

/// Alice (over HTTP) and bob (in the page, connected, the group open, two messages shown).
/// Waits until the page says it is connected again.
async fn reconnected(page: &Browser) {
    page.wait_js_for(
        "the page to reconnect",
        RECONNECT,
        r#"return q('[data-testid="connection-status"]').some(
            (e) => e.getAttribute("data-state") === "connected");"#,
        vec![],
    )
    .await;
}

async fn setup(server: &BrowserServer, test: &str) -> (Session, String, Browser) {
    let alice = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let group = server.create_group(&alice, "Ops", &[&bob_api]).await;
    let group = group["id"].as_str().expect("id").to_owned();
    server.send(&alice, &group, "before 1").await;
    let bob = server.browser(test).await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&bob, "Ops").await;
    ui::connected(&bob).await;
    server.send(&alice, &group, "before 2").await;
    ui::wait_message(&bob, "before 2").await;
    // Marks this document: a reload would lose it.
    bob.js(
        "window.__confabNoReload = 'still here'; return null;",
        vec![],
    )
    .await;
    (alice, group, bob)
}

async fn missed_messages_arrive(
    server: &BrowserServer,
    alice: &Session,
    group: &str,
    bob: &Browser,
) {
    bob.wait_attr(&tid("connection-status"), "data-state", "reconnecting")
        .await;
    let texts: Vec<String> = (1..=20).map(|i| format!("while away {i}")).collect();
    for (i, text) in texts.iter().enumerate() {
        server
            .try_send(
                alice,
                group,
                json!({"body": text, "client_id": format!("away-{i}")}),
            )
            .await
            .expect(201);
    }
    server.unblock_browsers();
    reconnected(bob).await;
    bob.wait_js_for(
        "all 20 missed messages",
        RECONNECT,
        r#"const shown = q('[data-testid="message-body"]').map(txt);
        return shown.includes("while away 20") && shown.includes("while away 1");"#,
        vec![],
    )
    .await;
    let mut all = vec!["before 1", "before 2"];
    all.extend(texts.iter().map(String::as_str));
    ui::assert_each_once_in_order(bob, "bob", &all).await;
    let seqs = bob.attrs(&tid("message"), "data-seq").await;
    let mut distinct = seqs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), seqs.len(), "a seq shown twice: {seqs:?}");
    assert_eq!(
        bob.js("return window.__confabNoReload || null;", vec![])
            .await,
        json!("still here"),
        "the page was reloaded"
    );
    // And live delivery works again.
    server.send(alice, group, "after").await;
    ui::wait_message(bob, "after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_offline_is_delivered_once() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (alice, group, bob) = setup(&server, "reconnect_offline_send").await;
    server.block_browsers();
    server.cut_connections();
    bob.wait_attr(&tid("connection-status"), "data-state", "reconnecting")
        .await;
    // Sent while nothing gets through: shown at once, pending.
    let composer = bob
        .wait_for(&format!("form{} textarea[name=body]", tid("composer")))
        .await;
    composer
        .send_keys("written offline\u{e007}")
        .await
        .expect("typed");
    bob.wait_js(
        "the offline message to be shown as pending",
        r#"return q('[data-testid="message"]').some((m) =>
            m.getAttribute("data-pending") === "true" &&
            txt(m.querySelector('[data-testid="message-body"]') || m).includes("written offline"));"#,
        vec![],
    )
    .await;
    server.unblock_browsers();
    reconnected(&bob).await;
    // Sent once it can be: acknowledged, stored once, shown once.
    bob.wait_js_for(
        "the offline message to be sent",
        RECONNECT,
        r#"return q('[data-testid="message"]').some((m) =>
            m.getAttribute("data-pending") !== "true" &&
            txt(m.querySelector('[data-testid="message-body"]') || m) === "written offline");"#,
        vec![],
    )
    .await;
    let stored: Vec<String> = server
        .all_messages(&alice, &group)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(stored, ["before 1", "before 2", "written offline"]);
    ui::assert_each_once_in_order(&bob, "bob", &["before 1", "before 2", "written offline"]).await;
    bob.close().await;
}
