//! A database of one test's own: a copy of the cluster's template, dropped with its guard, so
//! that tests run in parallel on one cluster without seeing each other.

use std::time::Duration;

use super::PgCluster;
use super::sql::{execute, fetch_i64, ident, on_own_runtime};
use super::template::TEMPLATE;

/// How long dropping a database may take before the harness gives up on it (the cluster
/// goes at the end of the run anyway).
const DROP_WITHIN: Duration = Duration::from_secs(10);

/// A fresh copy of `confab_template`, dropped (`WITH (FORCE)`: whoever is still connected is
/// disconnected) when the guard is.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    /// The cluster's maintenance database, where the database is created and dropped.
    admin: String,
}

impl TestDatabase {
    /// A fresh database on the cluster every test shares ([`PgCluster::shared`]).
    pub async fn new() -> Self {
        Self::on(PgCluster::shared().await).await
    }

    /// A fresh database on `cluster`. Panics when it cannot be created.
    pub async fn on(cluster: &PgCluster) -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = cluster.url("postgres");
        execute(
            &admin,
            format!(
                "CREATE DATABASE {} TEMPLATE {}",
                ident(&name),
                ident(TEMPLATE)
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
        Self {
            url: cluster.url(&name),
            name,
            admin,
        }
    }

    /// Its URL, for `--database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name (`t_<uuid>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many rows of `table` have `column` (as text) equal to `value`. Panics on failure.
    pub async fn count_rows(&self, table: &str, column: &str, value: &str) -> i64 {
        count_rows_at(&self.url, table, column, value).await
    }
}

/// [`TestDatabase::count_rows`] in the database at `url`, whoever made it.
pub async fn count_rows_at(url: &str, table: &str, column: &str, value: &str) -> i64 {
    let sql = format!(
        "SELECT count(*) FROM {} WHERE {}::text = $1",
        ident(table),
        ident(column)
    );
    fetch_i64(url, sql, value)
        .await
        .unwrap_or_else(|e| panic!("cannot count rows: {e}"))
}

impl Drop for TestDatabase {
    /// Best effort, never a panic: a database left behind goes with the cluster.
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&self.name));
        let dropped = on_own_runtime(move || async move {
            tokio::time::timeout(DROP_WITHIN, execute(&admin, sql))
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {DROP_WITHIN:?}")))
        });
        if let Err(e) = dropped {
            eprintln!("the test database {} was not dropped: {e}", self.name);
        }
    }
}
