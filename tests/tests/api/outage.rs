//! When the database cannot be written, requests answer 503 `unavailable` within seconds (never
//! a hang, never a 500 with internals), `/readyz` says so, and everything works again once the
//! database is back, without a restart. For SQLite the outage is another process holding the
//! write lock; for PostgreSQL it is the cluster stopping under the running server.

use std::future::Future;
use std::time::Duration;

use confab_tests::chat::id;
use confab_tests::ws::kind;
use confab_tests::{Body, PgCluster, Resp, Store, TestServer};
use reqwest::Method;
use serde_json::json;
use tokio::time::Instant;

/// How long one request may take while the database is down.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// How long everything may take to work again once the database is back.
const RECOVER_WITHIN: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_locked_database_answers_503_and_recovers() {
    let s = TestServer::start_with(Store::Sqlite, &["--database-timeout", "300ms"]).await;
    let me = s.register("alice").await;

    let blocker = rusqlite::Connection::open(s.sqlite_path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = std::time::Instant::now();
    let (ready, register, logout) = tokio::join!(
        s.call(Method::GET, "/readyz", None, Body::None),
        s.post(
            "/auth/register",
            None,
            json!({"username": "bob", "password": "correct horse battery"}),
        ),
        s.post("/auth/logout", None, json!({"refresh_token": me.refresh})),
    );
    // Each queued group of writes waits the timeout once: a few of them, not a hang.
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    for r in [&ready, &register, &logout] {
        r.expect_error(503, "unavailable");
        assert!(!r.text.to_lowercase().contains("sqlite"), "{}", r.text);
        assert!(!r.text.contains("locked"), "{}", r.text);
    }
    // Reads go on: WAL readers do not wait for the writer.
    s.get("/users/me", Some(&me.access)).await.expect(200);
    s.call(Method::GET, "/healthz", None, Body::None)
        .await
        .expect(200);

    blocker.execute_batch("ROLLBACK").unwrap();
    s.call(Method::GET, "/readyz", None, Body::None)
        .await
        .expect(200);
    s.register("bob").await;
    s.post("/auth/logout", None, json!({"refresh_token": me.refresh}))
        .await
        .expect(204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stopped_cluster_answers_503_and_recovers() {
    // A cluster of its own: stopping the shared one would fail every other test.
    let cluster = tokio::task::spawn_blocking(PgCluster::start_private)
        .await
        .unwrap();
    let s = TestServer::start_on(&cluster, &["--database-timeout", "1s"]).await;
    let me = s.register("alice").await;
    let group = id(&s.create_group(&me, "Outage", &[]).await);
    let mut ws = s.ws(&me).await;

    // `pg_ctl` blocks until the server is down; the test server shares this runtime.
    tokio::task::block_in_place(|| cluster.stop());

    let bob = json!({"username": "bob", "password": "correct horse battery"});
    let (ready, register, mine) = tokio::join!(
        within(
            "GET /readyz",
            s.call(Method::GET, "/readyz", None, Body::None)
        ),
        within(
            "POST /auth/register",
            s.post("/auth/register", None, bob.clone())
        ),
        within("GET /users/me", s.get("/users/me", Some(&me.access))),
    );
    for r in [&ready, &register, &mine] {
        r.expect_error(503, "unavailable");
        let text = r.text.to_lowercase();
        for internal in ["postgres", "sqlx", "connection"] {
            assert!(!text.contains(internal), "{}", r.text);
        }
    }
    within(
        "GET /healthz",
        s.call(Method::GET, "/healthz", None, Body::None),
    )
    .await
    .expect(200);
    // The socket stays open and keeps answering: it does not need the database for that.
    within("a ping over the socket", ws.ping()).await;
    assert_eq!(ws.ended(), None);

    tokio::task::block_in_place(|| cluster.start());

    let deadline = Instant::now() + RECOVER_WITHIN;
    let readyz = async || s.call(Method::GET, "/readyz", None, Body::None).await;
    eventually(deadline, "GET /readyz", 200, readyz).await;
    let register = async || s.post("/auth/register", None, bob.clone()).await;
    eventually(deadline, "POST /auth/register", 201, register).await;
    let mine = async || s.get("/users/me", Some(&me.access)).await;
    eventually(deadline, "GET /users/me of the old session", 200, mine).await;
    let sent = tokio::time::timeout_at(deadline, s.send(&me, &group, "after the outage"))
        .await
        .expect("a message sent within the recovery time");
    let frame = ws
        .take(|f| kind(f) == "message.created" && f["message"]["body"] == "after the outage")
        .await;
    assert_eq!(frame["message"]["id"], sent["id"], "{frame}");
}

/// `request`'s outcome, which must come within [`ANSWER_WITHIN`]: a hang fails the test.
async fn within<T>(what: &str, request: impl Future<Output = T>) -> T {
    tokio::time::timeout(ANSWER_WITHIN, request)
        .await
        .unwrap_or_else(|_| panic!("{what} took {ANSWER_WITHIN:?} or more"))
}

/// Repeats `request` until it answers `status`, failing the test at `deadline` with the last
/// answer (a request still running then counts as a failure too).
async fn eventually(
    deadline: Instant,
    what: &str,
    status: u16,
    mut request: impl AsyncFnMut() -> Resp,
) -> Resp {
    let mut last = None;
    loop {
        match tokio::time::timeout_at(deadline, request()).await {
            Ok(r) if r.status == status => return r,
            Ok(r) => last = Some(r),
            Err(_) => break,
        }
        if Instant::now() + Duration::from_millis(200) >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "{what} did not answer {status} within {RECOVER_WITHIN:?} of the restart; the last answer: {last:?}"
    )
}
