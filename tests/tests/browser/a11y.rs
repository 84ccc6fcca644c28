//! Accessibility: axe-core on each main view (login, register, the conversation list, an open
//! conversation, members, profile, the pool) finds no serious or critical violation, and nothing
//! on the way breaks the Content-Security-Policy; then a keyboard-only walk — Tab, Enter and
//! typing, no mouse — from the login form to a group and a message sent.

use confab_tests::browser::{BrowserServer, tid};
use serde_json::Value;

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_serious_violation_on_the_main_views() {
    let server = BrowserServer::start(NODE, &[]).await;
    let page = server.browser("axe").await;
    let mut found: Vec<(String, Vec<Value>)> = Vec::new();
    let mut seen = Vec::new();
    ui::walk_views(&server, &page, async |page, view| {
        seen.push(view.to_owned());
        let violations = page.axe().await;
        if !violations.is_empty() {
            page.save_screenshot(&format!("axe-{view}")).await;
            found.push((view.to_owned(), violations));
        }
    })
    .await;
    assert_eq!(seen, ui::VIEWS, "every main view was checked");
    let csp: Vec<String> = page
        .console_errors()
        .await
        .into_iter()
        .filter(|e| e.contains("Content Security Policy"))
        .collect();
    assert!(csp.is_empty(), "CSP violations:\n{}", csp.join("\n"));
    if !found.is_empty() {
        let report: Vec<String> = found
            .iter()
            .map(|(view, v)| {
                format!(
                    "{view}: {}",
                    serde_json::to_string_pretty(v).unwrap_or_default()
                )
            })
            .collect();
        panic!(
            "axe-core: serious or critical violations on {} view(s):\n{}",
            found.len(),
            report.join("\n")
        );
    }
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_from_login_to_a_sent_message() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let group = server.create_group(&bob, "Standup", &[&alice]).await;
    let group = group["id"].as_str().expect("id").to_owned();
    server.send(&bob, &group, "who's here?").await;
    let page = server.browser("keyboard").await;
    page.wait_for(&format!("form{}", tid("login-form"))).await;

    let field = |form: &'static str, name: &'static str| {
        move |f: &Value| f["form"] == form && f["name"] == name
    };
    page.tab_to("the login field", 15, field("login-form", "login"))
        .await;
    page.type_keys("alice").await;
    page.tab_to("the password field", 5, field("login-form", "password"))
        .await;
    page.type_keys(ui::PASSWORD).await;
    page.enter().await;
    ui::signed_in_as(&page, "alice").await;

    // To the group in the sidebar, and open it with Enter.
    page.tab_to("the Standup conversation", 40, |f| {
        (f["testid"] == "conversation" || f["within"] == "conversation")
            && f["text"].as_str().is_some_and(|t| t.contains("Standup"))
    })
    .await;
    page.enter().await;
    page.wait_text(&tid("conversation-title"), "Standup").await;
    ui::wait_message(&page, "who's here?").await;

    // To the composer, type, Enter sends.
    page.tab_to("the composer", 60, field("composer", "body"))
        .await;
    page.type_keys("me, by keyboard\n").await;
    ui::wait_acked(&page, "me, by keyboard").await;
    let stored = server.all_messages(&bob, &group).await;
    assert_eq!(
        stored.last().map(|m| m["body"].clone()),
        Some("me, by keyboard".into())
    );
    page.close().await;
}
