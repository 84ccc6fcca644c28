//! Announcements: one made by a server admin (over HTTP) while a user's page is open arrives
//! live as a banner with its text.

use confab_tests::browser::{BrowserServer, tid};
use serde_json::json;

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_arrives_live_as_a_banner() {
    let server = BrowserServer::start(NODE, &[]).await;
    let admin = server.register("admin").await;
    server.grant_admin("admin");
    let page = server.browser("announcement").await;
    ui::register(&page, "alice").await;
    ui::connected(&page).await;
    assert!(!page.shown(&tid("announcement-banner")).await);
    server
        .post(
            "/announcements",
            Some(&admin.access),
            json!({"body": "Maintenance on Sunday at 02:00"}),
        )
        .await
        .expect(201);
    page.wait_text(
        &tid("announcement-banner"),
        "Maintenance on Sunday at 02:00",
    )
    .await;
    page.close().await;
}
