//! The web client's files as the server serves them: the page at `/` with its security policy,
//! its scripts and styles under `/assets/`, ETags and 304s, and nothing outside the client's
//! directory. (What the client does is tested in a real browser: `tests/tests/browser/`.)

use confab_tests::{Body, TestServer};
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(s: &TestServer, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut req = s.http.get(s.url(path));
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    req.send().await.expect("request sent")
}

/// The path of the first script the page loads.
fn script_of(page: &str) -> &str {
    page.split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script")
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn the_root_serves_the_page_under_a_policy_without_inline_script(s: &TestServer) {
    let r = get(s, "/", None).await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    assert_eq!(header(&r, "cache-control"), "no-cache");
    let policy = header(&r, "content-security-policy").to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let page = r.text().await.unwrap();
    assert!(page.contains("<title>confab</title>"), "{page}");
    // Scripts come from files (the policy would block inline ones), and none sets HTML.
    assert!(!page.contains("<script>"), "an inline script: {page}");
    assert!(page.contains("/assets/"), "{page}");
}

async fn assets_are_served_with_their_type_and_revalidated_by_etag(s: &TestServer) {
    let page = get(s, "/", None).await;
    let page_tag = header(&page, "etag").to_owned();
    assert!(
        page_tag.starts_with('"') && page_tag.len() > 10,
        "{page_tag}"
    );
    let again = get(s, "/", Some(&page_tag)).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), page_tag);
    assert!(again.text().await.unwrap().is_empty());
    // A stale tag gets the page.
    assert_eq!(get(s, "/", Some("\"stale\"")).await.status(), 200);

    let html = page.text().await.unwrap();
    let script = script_of(&html);
    let r = get(s, script, None).await;
    assert_eq!(r.status(), 200, "{script}");
    assert!(header(&r, "content-type").starts_with("text/javascript"));
    let tag = header(&r, "etag").to_owned();
    assert_ne!(tag, page_tag);
    assert_eq!(get(s, script, Some(&tag)).await.status(), 304);
}

async fn nothing_outside_the_client_is_served(s: &TestServer) {
    for path in [
        "/assets/nope.js",
        "/assets/index.html",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/%2e%2e%2fCargo.toml",
        "/assets/..%5cCargo.toml",
        "/assets//etc/passwd",
        "/assets/%2fetc%2fpasswd",
        "/assets/",
    ] {
        let r = s.call(Method::GET, path, None, Body::None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.json["error"]["code"], "not_found", "{path}: {}", r.text);
    }
}

/// A request sent byte for byte (an HTTP client would resolve `..` and `.` first): the status.
async fn raw_status(s: &TestServer, target: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

async fn dot_segments_sent_raw_lead_nowhere(s: &TestServer) {
    for target in [
        "/assets/../Cargo.toml",
        "/assets/../../Cargo.toml",
        "/assets/js/../../src/lib.rs",
        "/assets/./app.js",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/..%2fsrc%2flib.rs",
        "/assets/..\\Cargo.toml",
    ] {
        let status = raw_status(s, target).await;
        assert!(status.contains(" 404 "), "{target}: {status}");
    }
    let page = get(s, "/", None).await.text().await.unwrap();
    let script = script_of(&page);
    let status = raw_status(s, script).await;
    assert!(status.contains(" 200 "), "{script}: {status}");
}

confab_tests::store_tests!(
    dot_segments_sent_raw_lead_nowhere,
    the_root_serves_the_page_under_a_policy_without_inline_script,
    assets_are_served_with_their_type_and_revalidated_by_etag,
    nothing_outside_the_client_is_served,
);
