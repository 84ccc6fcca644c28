//! The error contract: our JSON body for every error, also where axum would answer plain text.

use confab_tests::{Body, TestServer};
use reqwest::Method;
use serde_json::json;

fn raw(content_type: Option<&'static str>, bytes: impl Into<Vec<u8>>) -> Body {
    Body::Raw {
        content_type,
        bytes: bytes.into(),
    }
}

const JSON: Option<&str> = Some("application/json");

async fn malformed_json_is_400(s: &TestServer) {
    for body in [
        "{",
        "not json",
        "{\"username\": }",
        "",
        "{\"a\":1}{\"b\":2}",
    ] {
        s.call(Method::POST, "/api/v1/auth/register", None, raw(JSON, body))
            .await
            .expect_error(400, "bad_request");
    }
}

async fn wrong_shapes_are_400(s: &TestServer) {
    for body in [
        json!({"username": 5, "password": "correct horse battery"}),
        json!({"username": "alice", "password": ["correct horse battery"]}),
        json!({"username": "alice"}),
        json!({"username": "alice", "password": "correct horse battery", "is_admin": true}),
        json!(["alice", "correct horse battery"]),
        json!(null),
        json!("alice"),
        json!({"username": null, "password": "correct horse battery"}),
    ] {
        s.post("/auth/register", None, body.clone())
            .await
            .expect_error(400, "bad_request");
    }
    // Nothing sneaked in: no admin was created by an unknown field.
    let me = s.register("alice").await;
    let r = s.get("/users/me", Some(&me.access)).await;
    assert_eq!(r.json["roles"], json!([]));
}

async fn a_body_without_json_content_type_is_415(s: &TestServer) {
    let body = br#"{"login":"alice","password":"correct horse battery"}"#.to_vec();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        s.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            raw(ct, body.clone()),
        )
        .await
        .expect_error(415, "unsupported_media_type");
    }
    // With a charset parameter it is still JSON.
    s.register("alice").await;
    s.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        raw(Some("application/json; charset=utf-8"), body),
    )
    .await
    .expect(200);
}

/// Sends headers announcing a 10 MB body with `Expect: 100-continue`, as curl does for large
/// uploads, and reads the answer: it must come before any of the body is sent.
async fn ten_megabytes_announced(s: &TestServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        s.addr,
        10 * 1024 * 1024
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    answer
}

async fn a_body_over_64_kib_is_413(s: &TestServer) {
    // A plain client uploads the whole body and still reads the 413.
    let big = format!(
        "{{\"username\":\"alice\",\"password\":\"{}\"}}",
        "x".repeat(10 * 1024 * 1024)
    );
    s.call(Method::POST, "/api/v1/auth/register", None, raw(JSON, big))
        .await
        .expect_error(413, "payload_too_large");
    // A client that asks first is told before it sends anything.
    let answer = ten_megabytes_announced(s).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
    let just_over = format!(
        "{{\"username\":\"alice\",\"password\":\"{}\"}}",
        "x".repeat(64 * 1024)
    );
    s.call(
        Method::POST,
        "/api/v1/auth/register",
        None,
        raw(JSON, just_over),
    )
    .await
    .expect_error(413, "payload_too_large");
    let me = s.register("alice").await;
    let r = s
        .call(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&me.access),
            raw(
                JSON,
                format!("{{\"display_name\":\"{}\"}}", "y".repeat(70_000)),
            ),
        )
        .await;
    r.expect_error(413, "payload_too_large");
}

async fn an_oversized_chunked_body_is_413(s: &TestServer) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // No Content-Length: the limit is applied while reading. 70 KB fits the socket buffers, so
    // the whole request is written before the answer comes.
    let chunk = format!(
        "{{\"login\":\"{}\",\"password\":\"x\"}}",
        "a".repeat(70_000)
    );
    let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer:.400}"
    );
}

async fn an_unknown_route_is_404_json(s: &TestServer) {
    for path in [
        "/api/v1/nope",
        "/api/v2/users/me",
        "/nothing/here",
        "/api/v1/users/me/extra",
    ] {
        s.call(Method::GET, path, None, Body::None)
            .await
            .expect_error(404, "not_found");
    }
}

async fn a_wrong_method_is_405_json_with_allow(s: &TestServer) {
    let r = s
        .call(Method::DELETE, "/api/v1/auth/login", None, Body::None)
        .await;
    r.expect_error(405, "method_not_allowed");
    assert!(r.headers["allow"].to_str().unwrap().contains("POST"));
    s.call(Method::POST, "/healthz", None, Body::None)
        .await
        .expect_error(405, "method_not_allowed");
    s.call(Method::PUT, "/api/v1/users/me", None, Body::None)
        .await
        .expect_error(405, "method_not_allowed");
}

async fn missing_token_is_401_json(s: &TestServer) {
    for path in [
        "/users/me",
        "/users",
        "/users/00000000-0000-7000-8000-000000000000",
    ] {
        s.get(path, None).await.expect_error(401, "unauthorized");
    }
}

async fn the_request_budget_answers_429_with_retry_after(store: confab_tests::Store) {
    let s = TestServer::start_with(
        store,
        &["--request-burst", "5", "--requests-per-second", "1"],
    )
    .await;
    let me = s.register("alice").await; // one anonymous request spent
    for _ in 0..5 {
        s.get("/users/me", Some(&me.access)).await.expect(200);
    }
    let r = s.get("/users/me", Some(&me.access)).await;
    r.expect_error(429, "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // Anonymous callers have their own budget (4 left of 5).
    for _ in 0..4 {
        s.get("/users/me", None)
            .await
            .expect_error(401, "unauthorized");
    }
    s.get("/users/me", None)
        .await
        .expect_error(429, "rate_limited");
    // Unknown routes spend the budget too: probing for routes is not free.
    s.call(Method::GET, "/api/v1/no-such-route", None, Body::None)
        .await
        .expect_error(429, "rate_limited");
    // Health checks are never throttled.
    s.call(Method::GET, "/healthz", None, Body::None)
        .await
        .expect(200);
}

confab_tests::store_tests!(
    malformed_json_is_400,
    wrong_shapes_are_400,
    a_body_without_json_content_type_is_415,
    a_body_over_64_kib_is_413,
    an_oversized_chunked_body_is_413,
    an_unknown_route_is_404_json,
    a_wrong_method_is_405_json_with_allow,
    missing_token_is_401_json,
    ;
    own_server: the_request_budget_answers_429_with_retry_after,
);
