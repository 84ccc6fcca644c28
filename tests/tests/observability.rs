//! The operator's view of a real server process (`confab-node`, JSON logs): `/metrics` on
//! `--metrics-listen`'s own address (found in the log, the server bound port 0) and 404 on the
//! public port; the access log's fields; the failed-login line with the client address (and the
//! forwarded one behind a trusted proxy); the log-mailer warning at start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use confab_tests::{Body, Resp, Store, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_confab-node");

/// A server process over a fresh SQLite file, with `flags`.
async fn spawn(dir: &Path, flags: &[&str]) -> TestServer {
    let url = format!("sqlite://{}", dir.join("confab.db").display());
    TestServer::spawn(Path::new(BINARY), Store::Sqlite, &url, flags).await
}

/// The `fields` of the log's JSON lines.
fn entries(s: &TestServer) -> Vec<(String, Value)> {
    s.log()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            (
                v["level"].as_str().unwrap_or("").to_owned(),
                v["fields"].clone(),
            )
        })
        .collect()
}

/// Waits (bounded) until the log has an entry `found` accepts; that entry.
async fn wait_for(s: &TestServer, found: impl Fn(&str, &Value) -> bool) -> (String, Value) {
    for _ in 0..500 {
        if let Some(e) = entries(s).into_iter().find(|(level, f)| found(level, f)) {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no such log entry; the log:\n{}", s.log());
}

/// `GET path` on the public port.
async fn get(s: &TestServer, path: &str) -> Resp {
    s.call(Method::GET, path, None, Body::None).await
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_listen_serves_metrics_there_and_not_on_the_public_port() {
    let dir = tempfile::tempdir().unwrap();
    let s = spawn(dir.path(), &["--metrics-listen", "127.0.0.1:0"]).await;
    let (_, served) = wait_for(&s, |_, f| message(f) == "metrics are served").await;
    let addr: std::net::SocketAddr = served["addr"].as_str().unwrap().parse().unwrap();
    assert_ne!(addr.port(), 0);
    assert_ne!(addr, s.addr);

    let metrics = s
        .http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("confab_build_info{"), "{text}");
    assert!(text.contains("# TYPE confab_process_resident_memory_bytes gauge"));

    // The public port answers as for any unknown path; the side port serves nothing else.
    let public = get(&s, "/metrics").await;
    assert_eq!(public.status, 404);
    assert_eq!(public.json["error"]["code"], "not_found");
    for path in ["/healthz", "/api/v1/openapi.json", "/", "/metrics/x"] {
        let r = s
            .http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    s.get("/users/me", None).await.expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_metrics_listen_metrics_stay_on_the_public_port() {
    let dir = tempfile::tempdir().unwrap();
    let s = spawn(dir.path(), &[]).await;
    let r = get(&s, "/metrics").await;
    r.expect(200);
    assert!(r.text.contains("confab_build_info{"));
    assert!(!s.log().contains("metrics are served"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_has_its_fields_and_no_path_ids_query_or_body() {
    let dir = tempfile::tempdir().unwrap();
    let s = spawn(dir.path(), &[]).await;
    let alice = s.register("alice").await;
    let group = s.create_group(&alice, "ops", &[]).await;
    let id = group["id"].as_str().unwrap().to_owned();
    let history = s
        .http
        .get(s.url(&format!("/api/v1/groups/{id}/messages?limit=5")))
        .bearer_auth(&alice.access)
        .header("x-request-id", "trace-me.42")
        .send()
        .await
        .unwrap();
    assert_eq!(history.status(), 200);
    assert_eq!(history.headers()["x-request-id"], "trace-me.42");
    // The socket's token may ride in the query string: it must not reach the log.
    let secret = "query-secret-4711";
    let socket = s
        .http
        .get(s.url(&format!("/api/v1/ws?token={secret}")))
        .send()
        .await
        .unwrap();
    let socket_status = socket.status().as_u16();
    wait_for(&s, |_, f| {
        message(f) == "request" && f["route"] == "/api/v1/ws" && f["status"] == socket_status
    })
    .await;

    let (level, line) = wait_for(&s, |_, f| {
        message(f) == "request" && f["route"] == "/api/v1/groups/{id}/messages"
    })
    .await;
    assert_eq!(level, "INFO");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["status"], 200);
    assert_eq!(line["request_id"], "trace-me.42");
    assert!(
        line["duration_ms"].as_f64().is_some_and(|d| d >= 0.0),
        "{line}"
    );

    // A request id that could pass for more fields is replaced by one of ours, and returned.
    let forged = s
        .http
        .get(s.url("/api/v1/users/me"))
        .header("x-request-id", "x status=500")
        .send()
        .await
        .unwrap();
    let given = forged.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(given, "x status=500");
    assert_eq!(given.len(), 36, "{given}");
    let (_, line) = wait_for(&s, |_, f| f["request_id"] == given.as_str()).await;
    assert_eq!(line["route"], "/api/v1/users/me");
    assert_eq!(line["status"], 401);
    // An unknown path is logged under one name.
    get(&s, "/probe-8812?x=1").await.expect(404);
    wait_for(&s, |_, f| {
        message(f) == "request" && f["route"] == "unmatched" && f["status"] == 404
    })
    .await;

    let log = s.log();
    for never in [
        secret,
        id.as_str(),
        "probe-8812",
        "correct horse battery",
        &alice.access,
    ] {
        assert!(!log.contains(never), "{never:?} is in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_logged_with_the_client_address_and_the_login() {
    let dir = tempfile::tempdir().unwrap();
    let s = spawn(dir.path(), &["--login-failures-per-account", "2"]).await;
    s.register("bob").await;
    // A good login is not a failure.
    s.login("bob", "correct horse battery").await;
    for _ in 0..3 {
        s.post(
            "/auth/login",
            None,
            json!({"login": "bob", "password": "wrong password 1"}),
        )
        .await;
    }
    let (level, line) = wait_for(&s, |_, f| {
        message(f) == "login failed" && f["reason"] == "invalid_credentials"
    })
    .await;
    assert_eq!(level, "WARN");
    assert_eq!(line["client"], "127.0.0.1");
    assert_eq!(line["login"], "bob");
    let (_, limited) = wait_for(&s, |_, f| {
        message(f) == "login failed" && f["reason"] == "rate_limited"
    })
    .await;
    assert_eq!(limited["client"], "127.0.0.1");
    // A hostile login is cut and stays one field.
    let hostile = format!("e\u{7}vil\n{}", "z".repeat(5000));
    s.post(
        "/auth/login",
        None,
        json!({"login": hostile, "password": "wrong password 2"}),
    )
    .await;
    let (_, cut) = wait_for(&s, |_, f| {
        message(f) == "login failed"
            && f["login"]
                .as_str()
                .is_some_and(|l| l.starts_with("e\u{7}vil"))
    })
    .await;
    assert_eq!(cut["login"].as_str().unwrap().chars().count(), 64);
    let log = s.log();
    assert_eq!(log.matches("\"login failed\"").count(), 4, "{log}");
    assert!(!log.contains("wrong password"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_address_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let s = spawn(dir.path(), &["--trust-forwarded-for"]).await;
    let r = s
        .http
        .post(s.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
        .json(&json!({"login": "nobody", "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (_, line) = wait_for(&s, |_, f| message(f) == "login failed").await;
    assert_eq!(line["client"], "203.0.113.9");
    assert_eq!(line["login"], "nobody");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_mailer_is_warned_about_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let s = spawn(dir.path(), &[]).await;
    let (level, line) = wait_for(&s, |_, f| message(f).starts_with("no --smtp-host")).await;
    assert_eq!(level, "WARN");
    assert!(message(&line).contains("one-time codes"), "{line}");
}
