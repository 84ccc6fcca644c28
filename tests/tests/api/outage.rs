//! When the database cannot be written, requests answer 503 `unavailable` within seconds (never
//! a hang, never a 500 with internals), `/readyz` says so, and everything works again once the
//! database is back, without a restart. For SQLite the outage is another process holding the
//! write lock; the PostgreSQL store will stop its cluster instead.

use confab_tests::{Body, Store, TestServer};
use reqwest::Method;
use serde_json::json;

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
