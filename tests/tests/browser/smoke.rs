//! The harness itself, before any test hook: the page loads in Chromium with the title
//! "confab" and nothing in the console (no error, no Content-Security-Policy report); the relay
//! in front of the server keeps the page's origin through a restart and a cut.

use confab_tests::browser::BrowserServer;

use crate::NODE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_loads_without_console_errors() {
    let server = BrowserServer::start(NODE, &[]).await;
    let page = server.browser("smoke").await;
    assert_eq!(page.title().await, "confab");
    // The module script has run and whatever it fetched first has come back.
    page.wait_js(
        "the page to finish loading",
        "return document.readyState === 'complete';",
        vec![],
    )
    .await;
    page.settle().await;
    let errors = page.console_errors().await;
    assert!(
        errors.is_empty(),
        "the console of a fresh page has errors:\n{}",
        errors.join("\n")
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_origin_survives_a_restart_and_a_cut() {
    let mut server = BrowserServer::start(NODE, &[]).await;
    let health = server.page_url("/healthz");
    let get = |url: String| async move {
        reqwest::get(url)
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    assert_eq!(get(health.clone()).await, 200);
    let before = server.api.addr;
    server.restart().await;
    assert_ne!(server.api.addr, before, "a new process on a new port");
    assert_eq!(get(health.clone()).await, 200, "the same origin reaches it");
    server.block_browsers();
    assert_eq!(get(health.clone()).await, 0, "blocked: the relay hangs up");
    server.unblock_browsers();
    server.cut_connections();
    assert_eq!(get(health).await, 200);
}
