//! Connections under abuse, against the real binary: idle connections (ones that never send a
//! request, and keep-alive ones between requests) are closed after `--idle-timeout` while other
//! clients are answered; the caps per address and in total refuse cleanly (429/503 with our
//! body) and `/healthz` still answers over them; request heads over the limits get 414/431 with
//! our body. Connection handling does not touch the store, so these run on SQLite only.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_tests::{Body, Store, TestServer, Token};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const NODE: &str = env!("CARGO_BIN_EXE_confab-node");

async fn spawn(flags: &[&str]) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("confab.db").display());
    let server = TestServer::spawn(std::path::Path::new(NODE), Store::Sqlite, &url, flags).await;
    (server, dir)
}

/// A TCP connection to `server` from the loopback address `from` (all of 127/8 is loopback).
async fn connect_from(server: SocketAddr, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(server).await.unwrap()
}

/// Sends one raw HTTP/1.1 request and reads the answer until the server closes or the body is
/// complete: (status, headers in lower case, body).
async fn raw_request(stream: &mut TcpStream, head: &str) -> (u16, String, String) {
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => panic!("reading the answer failed: {e}"),
            Err(_) => panic!(
                "no complete answer within 10 s: {:?}",
                String::from_utf8_lossy(&got)
            ),
        };
        got.extend_from_slice(&buf[..n]);
        if let Some(parsed) = parse_response(&got) {
            return parsed;
        }
        assert!(
            n > 0,
            "closed before a whole answer: {:?}",
            String::from_utf8_lossy(&got)
        );
    }
}

fn parse_response(raw: &[u8]) -> Option<(u16, String, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let head = head.to_ascii_lowercase();
    let status = head.get(9..12)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    (body.len() >= len).then(|| (status, head, body[..len].to_owned()))
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: confab\r\n\r\n")
}

/// Whether the server closed `stream` (end of file, or a reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(n)) => panic!("the server sent {n} bytes on an idle connection"),
        Err(_) => false,
    }
}

fn error_code(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    json["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_idle_timeout_while_others_are_answered() {
    let (server, _dir) =
        spawn(&["--idle-timeout", "3s", "--max-connections-per-address", "0"]).await;
    // 5,000 connections that never send a byte, from 20 addresses.
    let mut idle = Vec::with_capacity(5_000);
    for i in 0..5_000 {
        idle.push(connect_from(server.addr, &format!("127.0.0.{}", 2 + i % 20)).await);
    }
    let opened = Instant::now();
    // Meanwhile a normal client is answered, on a connection of its own.
    let alice = server.register("alice").await;
    server
        .call(Method::GET, "/healthz", None, Body::None)
        .await
        .expect(200);
    server
        .get("/users/me", Some(&alice.access))
        .await
        .expect(200);
    // A keep-alive connection that asked one thing and went quiet is closed too.
    let mut kept = connect_from(server.addr, "127.0.0.1").await;
    let (status, _, _) = raw_request(&mut kept, &get("/healthz")).await;
    assert_eq!(status, 200);
    for (i, conn) in idle.iter_mut().enumerate() {
        let left = Duration::from_secs(10).saturating_sub(opened.elapsed());
        assert!(
            closed_within(conn, left).await,
            "idle connection {i} still open {:?} after it was opened",
            opened.elapsed()
        );
    }
    assert!(
        opened.elapsed() >= Duration::from_millis(2_900),
        "closed before the idle timeout: {:?}",
        opened.elapsed()
    );
    assert!(
        closed_within(&mut kept, Duration::from_secs(6)).await,
        "the quiet keep-alive connection stayed open"
    );
    server
        .call(Method::GET, "/healthz", None, Body::None)
        .await
        .expect(200);
    let metrics = server.call(Method::GET, "/metrics", None, Body::None).await;
    let closed: f64 = metrics
        .text
        .lines()
        .find_map(|l| l.strip_prefix("confab_http_connections_idle_closed_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no idle-closed count in /metrics"));
    assert!(closed >= 5_000.0, "{closed} idle closes counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_over_its_cap_is_refused_with_429_and_others_are_served() {
    let (server, _dir) = spawn(&["--max-connections-per-address", "10"]).await;
    let alice = server.register("alice").await;
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(connect_from(server.addr, "127.0.0.2").await);
    }
    let mut over = connect_from(server.addr, "127.0.0.2").await;
    let (status, head, body) = raw_request(&mut over, &get("/api/v1/users/me")).await;
    assert_eq!(status, 429, "{head}{body}");
    assert_eq!(error_code(&body), "rate_limited");
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(
        closed_within(&mut over, Duration::from_secs(5)).await,
        "a refused connection stayed open"
    );
    // Health checks are answered over the cap.
    let mut probe = connect_from(server.addr, "127.0.0.2").await;
    let (status, _, body) = raw_request(&mut probe, &get("/healthz")).await;
    assert_eq!(status, 200, "{body}");
    // Another address is served as usual, sockets included.
    server
        .get("/users/me", Some(&alice.access))
        .await
        .expect(200);
    let _ws = server.ws(&alice).await;
    // Closing connections frees the address's places.
    drop(held);
    drop(probe);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut back = connect_from(server.addr, "127.0.0.2").await;
    let (status, _, _) = raw_request(&mut back, &get("/healthz")).await;
    assert_eq!(
        status, 200,
        "the address was not let back in after closing its connections"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_count_toward_the_address_cap() {
    let (server, _dir) = spawn(&["--max-connections-per-address", "6"]).await;
    let alice = server.register("alice").await;
    // Everything of this test connects from 127.0.0.1, the HTTP client's pooled connection
    // included: sockets fill what is left of the address's six places.
    let mut sockets = Vec::new();
    let refused = loop {
        match server.ws_open(Token::Bearer(&alice.access), None).await {
            Ok(ws) => sockets.push(ws),
            Err(refused) => break refused,
        }
        assert!(sockets.len() <= 6, "more than six sockets from one address");
    };
    assert!(
        sockets.len() >= 4,
        "only {} sockets before the cap",
        sockets.len()
    );
    assert_eq!(refused.status, 429, "{refused:?}");
    drop(sockets);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server
        .get("/users/me", Some(&alice.access))
        .await
        .expect(200);
    server
        .ws_open(Token::Bearer(&alice.access), None)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_total_cap_requests_get_503_health_checks_answer_and_the_rest_is_shed() {
    let (server, _dir) = spawn(&[
        "--max-connections",
        "20",
        "--max-connections-per-address",
        "0",
    ])
    .await;
    let mut held = Vec::new();
    for i in 0..20 {
        held.push(connect_from(server.addr, &format!("127.0.0.{}", 2 + i % 5)).await);
    }
    let mut over = connect_from(server.addr, "127.0.0.9").await;
    let (status, head, body) = raw_request(&mut over, &get("/api/v1/groups")).await;
    assert_eq!(status, 503, "{head}{body}");
    assert_eq!(error_code(&body), "unavailable");
    let mut probe = connect_from(server.addr, "127.0.0.9").await;
    let (status, _, body) = raw_request(&mut probe, &get("/healthz")).await;
    assert_eq!(status, 200, "{body}");
    drop(probe);
    drop(over);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Connections being refused are few; past them, the answer comes at once and unread.
    let mut refusing = Vec::new();
    for _ in 0..64 {
        refusing.push(connect_from(server.addr, "127.0.0.10").await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut shed = connect_from(server.addr, "127.0.0.11").await;
    let (status, head, body) = raw_request(&mut shed, &get("/api/v1/groups")).await;
    assert_eq!(status, 503, "{head}{body}");
    assert_eq!(error_code(&body), "unavailable");
    // Refused connections that say nothing are let go quickly (2 s), freeing their places.
    for (i, conn) in refusing.iter_mut().enumerate() {
        assert!(
            closed_within(conn, Duration::from_secs(6)).await,
            "refused connection {i} stayed open"
        );
    }
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.get("/users/me", None).await.expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_heads_get_414_and_431_with_our_body() {
    let (server, _dir) = spawn(&[]).await;
    let mut conn = connect_from(server.addr, "127.0.0.1").await;
    let long = format!("/api/v1/users?q={}", "a".repeat(9 * 1024));
    let (status, _, body) = raw_request(&mut conn, &get(&long)).await;
    assert_eq!(status, 414, "{body}");
    assert_eq!(error_code(&body), "uri_too_long");

    let mut conn = connect_from(server.addr, "127.0.0.1").await;
    let many: String = (0..101).map(|i| format!("x-h{i}: v\r\n")).collect();
    let head = format!("GET /healthz HTTP/1.1\r\nhost: confab\r\n{many}\r\n");
    let (status, _, body) = raw_request(&mut conn, &head).await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(error_code(&body), "headers_too_large");

    let mut conn = connect_from(server.addr, "127.0.0.1").await;
    let big = format!(
        "GET /healthz HTTP/1.1\r\nhost: confab\r\nx-big: {}\r\n\r\n",
        "b".repeat(20 * 1024)
    );
    let (status, _, body) = raw_request(&mut conn, &big).await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(error_code(&body), "headers_too_large");

    // Past the parser's own bound (64 KiB) the parser answers 431 itself.
    let mut conn = connect_from(server.addr, "127.0.0.1").await;
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nhost: confab\r\nx-big: {}\r\n\r\n",
        "b".repeat(80 * 1024)
    );
    conn.write_all(huge.as_bytes()).await.unwrap_or(());
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut got)).await;
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 431"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    server
        .call(Method::GET, "/healthz", None, Body::None)
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_files_limit_is_raised_and_logged_at_start() {
    let (server, _dir) = spawn(&[]).await;
    server
        .call(Method::GET, "/healthz", None, Body::None)
        .await
        .expect(200);
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("open-files limit"))
        .unwrap_or_else(|| panic!("no open-files line in the log:\n{log}"));
    let json: Value = serde_json::from_str(line).unwrap();
    let fields = &json["fields"];
    assert!(fields["soft"].as_u64().unwrap() >= fields["soft_before"].as_u64().unwrap());
    assert_eq!(fields["soft"], fields["hard"], "{line}");
}
