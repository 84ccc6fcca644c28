//! Running SQL from the harness: a short-lived connection per job, and a way to run async work
//! from places that cannot await (`Drop`, a blocking start-up).

use std::future::Future;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// Runs one statement (no parameters) on the database at `url`.
pub(super) async fn execute(url: &str, sql: String) -> Result<(), String> {
    let mut conn = connect(url).await?;
    let done = sqlx::raw_sql(AssertSqlSafe(sql.clone()))
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| format!("{sql}: {e}"));
    let _ = conn.close().await;
    done
}

/// The single `bigint` a query with one text parameter answers.
pub(super) async fn fetch_i64(url: &str, sql: String, param: &str) -> Result<i64, String> {
    let mut conn = connect(url).await?;
    let value = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.clone()))
        .bind(param)
        .fetch_one(&mut conn)
        .await
        .map_err(|e| format!("{sql}: {e}"));
    let _ = conn.close().await;
    value
}

async fn connect(url: &str) -> Result<PgConnection, String> {
    PgConnection::connect(url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

/// `name` as an SQL identifier.
pub(super) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs the future `job` makes on a runtime of its own, on a thread of its own, and waits for
/// it. Callable from anywhere, inside a tokio runtime or not (a runtime cannot be started
/// inside another, and blocking inside one's own worker could wait on itself). Never panics:
/// a failure to run is an `Err`.
pub(super) fn on_own_runtime<T, F, Fut>(job: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, String>>,
{
    let thread = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot build a runtime: {e}"))?
            .block_on(job())
    });
    thread
        .join()
        .unwrap_or_else(|_| Err("the harness's SQL thread panicked".to_owned()))
}
