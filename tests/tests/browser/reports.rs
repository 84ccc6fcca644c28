//! Reports in the page (`POST /reports`, `GET /reports`, `PATCH /reports/{id}`).
//!
//! Bob reports alice's message from its actions with a reason; alice edits it afterwards. The
//! admin's page lists the open report with who reported whom, the message as it was when
//! reported and the reason (axe-core finds no serious or critical violation there); Resolve
//! takes it out of the open ones (the server agrees) and it shows under "Resolved"; the admin
//! bans alice from the report. A user report from the member list reaches the admin too, and
//! Dismiss dismisses it.

use confab_tests::Session;
use confab_tests::browser::{BrowserServer, tid};
use serde_json::{Value, json};

use crate::NODE;
use crate::moderation::banned;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_message_reaches_the_admin_who_resolves_it_and_bans() {
    let server = BrowserServer::start(NODE, &[]).await;
    let carol_api = server.register("carol").await;
    server.grant_admin("carol");
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let group = server.create_group(&alice_api, "Lobby", &[&bob_api]).await;
    let group = group["id"].as_str().expect("id").to_owned();
    let message = server
        .send(&alice_api, &group, "cheap followers at http://spam.example")
        .await;
    let message = message["id"].as_str().expect("id").to_owned();

    // Bob reports it, with a reason.
    let bob = server.browser("reports-message-bob").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&bob, "Lobby").await;
    ui::wait_message(&bob, "cheap followers at http://spam.example").await;
    ui::message_action(&bob, &message, "report-message").await;
    bob.fill_and_submit("report-form", &[("reason", "spam, and a link to a scam")])
        .await;
    bob.wait_gone(&format!("dialog{}", tid("report-dialog")))
        .await;
    bob.wait_text(&tid("action-status"), "report was sent")
        .await;
    let open = reports(&server, &carol_api, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    let report = &open[0];
    assert_eq!(report["message_id"], json!(message));
    assert_eq!(report["user_id"], json!(alice_api.user_id));
    assert_eq!(report["reporter_id"], json!(bob_api.user_id));
    assert_eq!(report["reason"], "spam, and a link to a scam");
    let id = report["id"].as_str().expect("id").to_owned();

    // Alice edits it afterwards: the admin still reads it as it was.
    server
        .edit(&alice_api, &message, "nothing to see here")
        .await;

    let admin = server.browser("reports-message-admin").await;
    ui::login(&admin, "carol", "carol").await;
    admin.click_tid("admin-button").await;
    let row = format!("{}[data-report-id=\"{id}\"]", tid("report"));
    admin.wait_attr(&row, "data-status", "open").await;
    admin
        .wait_text(&format!("{row} {}", tid("report-user")), "alice")
        .await;
    admin
        .wait_text(&format!("{row} {}", tid("report-reporter")), "bob")
        .await;
    admin
        .wait_text(
            &format!("{row} {}", tid("report-body")),
            "cheap followers at http://spam.example",
        )
        .await;
    admin
        .wait_text(
            &format!("{row} {}", tid("report-reason")),
            "spam, and a link to a scam",
        )
        .await;
    admin.assert_accessible("admin-with-reports").await;

    // Resolved: no longer open on the server; listed under "Resolved".
    admin
        .click(&format!("{row} {}", tid("resolve-report")))
        .await;
    admin.wait_attr(&row, "data-status", "resolved").await;
    assert!(reports(&server, &carol_api, "open").await.is_empty());
    let resolved = reports(&server, &carol_api, "resolved").await;
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0]["id"], json!(id));
    // A settled report stays in view (with its new status) until the list is read again.
    admin.click(&tid("reports-refresh")).await;
    admin.wait_gone(&row).await;
    admin
        .wait_for(&format!("select{}", tid("report-status")))
        .await
        .select_by_value("resolved")
        .await
        .expect("chosen");
    admin.wait_attr(&row, "data-status", "resolved").await;

    // Banned from the report.
    admin.click(&format!("{row} {}", tid("ban-user"))).await;
    admin
        .fill_and_submit("ban-form", &[("reason", "scam links")])
        .await;
    admin
        .wait_for(&format!("{row} {}", tid("banned-mark")))
        .await;
    admin
        .wait_for(&format!("{row} {}", tid("unban-user")))
        .await;
    assert_eq!(
        banned(&server, &carol_api, &alice_api.user_id).await,
        json!(true)
    );
    ui::assert_clean_console(&bob, "bob").await;
    admin.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_reported_from_the_member_list_is_dismissed_by_the_admin() {
    let server = BrowserServer::start(NODE, &[]).await;
    let carol_api = server.register("carol").await;
    server.grant_admin("carol");
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    server.create_group(&alice_api, "Lobby", &[&bob_api]).await;

    let bob = server.browser("reports-user-bob").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&bob, "Lobby").await;
    bob.click_tid("members-button").await;
    let alice_row = format!("{}[data-user-id=\"{}\"]", tid("member"), alice_api.user_id);
    bob.click(&format!("{alice_row} {}", tid("report-user")))
        .await;
    bob.fill_and_submit("report-form", &[("reason", "rude in every chat")])
        .await;
    bob.wait_gone(&format!("dialog{}", tid("report-dialog")))
        .await;
    let open = reports(&server, &carol_api, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["user_id"], json!(alice_api.user_id));
    assert!(open[0]["message_id"].is_null());
    assert!(open[0]["message_body"].is_null());
    let id = open[0]["id"].as_str().expect("id").to_owned();

    let admin = server.browser("reports-user-admin").await;
    ui::login(&admin, "carol", "carol").await;
    admin.click_tid("admin-button").await;
    let row = format!("{}[data-report-id=\"{id}\"]", tid("report"));
    admin
        .wait_text(
            &format!("{row} {}", tid("report-reason")),
            "rude in every chat",
        )
        .await;
    admin
        .click(&format!("{row} {}", tid("dismiss-report")))
        .await;
    admin.wait_attr(&row, "data-status", "dismissed").await;
    let dismissed = reports(&server, &carol_api, "dismissed").await;
    assert_eq!(dismissed.len(), 1, "{dismissed:?}");
    assert_eq!(dismissed[0]["id"], json!(id));
    assert!(reports(&server, &carol_api, "open").await.is_empty());
    admin.close().await;
    bob.close().await;
}

/// The reports with `status`, as the admin reads them over HTTP.
async fn reports(server: &BrowserServer, admin: &Session, status: &str) -> Vec<Value> {
    let r = server
        .get(
            &format!("/reports?status={status}&limit=100"),
            Some(&admin.access),
        )
        .await;
    r.expect(200);
    r.json["reports"].as_array().cloned().unwrap_or_default()
}
