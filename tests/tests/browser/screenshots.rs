//! Screenshots of each main view at 1280 and 375 px wide, kept as test artifacts in
//! `target/browser-artifacts/screenshots/<view>-<width>.png` (plus the phone drawer open,
//! `drawer-375.png`). Each picture is checked to be a PNG of the width asked for, and no view
//! is wider than the phone's screen (nothing cut off or scrolled sideways at 375 px).

use confab_tests::browser::{Browser, BrowserServer, WIDTHS, tid};

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_view_at_desktop_and_phone_width() {
    let server = BrowserServer::start(NODE, &[]).await;
    let page = server.browser("screenshots").await;
    let mut overflow = Vec::new();
    let mut shots = Vec::new();
    ui::walk_views(&server, &page, async |page, view| {
        for (path, width) in page.screenshots(view).await.into_iter().zip(WIDTHS) {
            assert_eq!(png_width(&path), Some(width), "{}", path.display());
            shots.push(path);
        }
        page.set_width(375).await;
        let wide = page_width(page).await;
        if wide > 375 {
            overflow.push(format!("{view}: {wide} px"));
        }
        if view == "conversation" {
            // On a phone the sidebar is a drawer: closed, the conversation has the screen.
            page.click_tid("drawer-toggle").await;
            page.wait_for(&tid("conversations")).await;
            page.settle().await;
            let path = page.save_screenshot("drawer-375").await.expect("saved");
            shots.push(path);
            // Picking the conversation in the drawer closes it.
            ui::open(page, "Design review").await;
            page.wait_gone(&tid("conversations")).await;
        }
        page.set_width(1280).await;
    })
    .await;
    assert_eq!(shots.len(), ui::VIEWS.len() * 2 + 1);
    assert!(
        overflow.is_empty(),
        "views wider than a 375 px phone: {overflow:?}"
    );
    page.close().await;
}

/// The width of the page's content (what scrolls sideways beyond the viewport counts).
async fn page_width(page: &Browser) -> u64 {
    page.js(
        "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);",
        vec![],
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

/// The width in a PNG's header.
fn png_width(path: &std::path::Path) -> Option<u32> {
    let bytes = std::fs::read(path).ok()?;
    (bytes.get(..8)? == b"\x89PNG\r\n\x1a\n").then_some(())?;
    Some(u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?))
}
