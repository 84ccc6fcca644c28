//! The harness's PostgreSQL half itself: every test gets a database of its own, copied from
//! the template, that nobody else sees and that is gone after the test.

use confab_tests::{PgCluster, TestDatabase};
use sqlx::{Connection, PgConnection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_each_test_gets_a_database_of_its_own_and_it_goes() {
    let (a, b) = tokio::join!(TestDatabase::new(), TestDatabase::new());
    assert_ne!(a.name(), b.name());

    let mut on_a = PgConnection::connect(a.url()).await.unwrap();
    let mut on_b = PgConnection::connect(b.url()).await.unwrap();
    sqlx::raw_sql("CREATE TABLE only_in_a (x int)")
        .execute(&mut on_a)
        .await
        .unwrap();
    let seen: Option<String> = sqlx::query_scalar("SELECT to_regclass('only_in_a')::text")
        .fetch_one(&mut on_b)
        .await
        .unwrap();
    assert_eq!(
        seen, None,
        "a table of one test's database shows in another's"
    );
    on_a.close().await.unwrap();

    // `on_b` stays connected: dropping the database still works (it disconnects it).
    let names = vec![a.name().to_owned(), b.name().to_owned()];
    drop((a, b));
    let cluster = PgCluster::shared().await;
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = ANY($1)")
        .bind(&names)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(left, 0, "the test databases were not dropped");
    drop(on_b);
}
