//! Migration checksums, on both stores: a database whose recorded checksum for a migration
//! differs from this build's (the file was edited after it ran) is refused at open with one
//! line naming the migration, and a database migrated before checksums were kept gets them
//! recorded on its next open. (Not `store_cases!`: these reach under the store, into its
//! bookkeeping, the way an edited file would look to it.)

use std::time::Duration;

use confab_tests::TestDatabase;

const TIMEOUT: Duration = Duration::from_secs(10);
const EDITED: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn open_sqlite(path: &std::path::Path) -> Result<(), String> {
    confab_sqlite::SqliteStore::open(path, TIMEOUT)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn sqlite_checksums(path: &std::path::Path) -> Vec<(i64, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT version, checksum FROM confab_migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn sqlite_execute(path: &std::path::Path, sql: &str) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

async fn open_postgres(url: &str) -> Result<(), String> {
    let settings = confab_postgres::PgSettings {
        max_connections: 2,
        timeout: TIMEOUT,
    };
    confab_postgres::PgStore::connect(url, &settings)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

async fn postgres_checksums(url: &str) -> Vec<(i64, Option<String>)> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows = sqlx::query_as("SELECT version, checksum FROM confab_schema ORDER BY version")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

async fn postgres_execute(url: &str, sql: &'static str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

fn assert_names_the_edit(refused: &str) {
    assert!(refused.contains("migration 3 (0003_"), "{refused}");
    assert!(refused.contains("must never be edited"), "{refused}");
    assert!(!refused.contains('\n'), "one line: {refused}");
}

#[test]
fn sqlite_refuses_a_database_whose_migration_was_edited_after_it_ran() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("confab.db");
    open_sqlite(&path).unwrap();
    sqlite_execute(
        &path,
        &format!("UPDATE confab_migrations SET checksum = '{EDITED}' WHERE version = 3"),
    );
    assert_names_the_edit(&open_sqlite(&path).unwrap_err());
    // Refused before anything was written: the record still holds what it held.
    assert_eq!(sqlite_checksums(&path)[2].1, EDITED);
}

#[test]
fn sqlite_records_the_checksums_a_database_migrated_before_them_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("confab.db");
    open_sqlite(&path).unwrap();
    let recorded = sqlite_checksums(&path);
    assert!(recorded.len() >= 12, "{recorded:?}");
    assert!(recorded.iter().all(|(_, c)| c.len() == 64));
    sqlite_execute(&path, "DELETE FROM confab_migrations");
    open_sqlite(&path).unwrap();
    assert_eq!(sqlite_checksums(&path), recorded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_a_database_whose_migration_was_edited_after_it_ran() {
    let database = TestDatabase::new().await;
    postgres_execute(
        database.url(),
        "UPDATE confab_schema SET checksum = repeat('0', 64) WHERE version = 3",
    )
    .await;
    assert_names_the_edit(&open_postgres(database.url()).await.unwrap_err());
    let after = postgres_checksums(database.url()).await;
    assert_eq!(after[2].1.as_deref(), Some(EDITED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_records_the_checksums_a_database_migrated_before_them_lacks() {
    let database = TestDatabase::new().await;
    let recorded = postgres_checksums(database.url()).await;
    assert!(recorded.len() >= 9, "{recorded:?}");
    assert!(
        recorded
            .iter()
            .all(|(_, c)| c.as_ref().is_some_and(|c| c.len() == 64))
    );
    postgres_execute(database.url(), "UPDATE confab_schema SET checksum = NULL").await;
    open_postgres(database.url()).await.unwrap();
    assert_eq!(postgres_checksums(database.url()).await, recorded);
}
