//! The template database every test database is copied from: created once per cluster and
//! prepared by the store's own migrations, whatever tables they make.

use std::time::{Duration, Instant};

use super::PgCluster;
use super::sql::{execute, fetch_i64, ident, on_own_runtime};

/// The template's name.
pub(super) const TEMPLATE: &str = "confab_template";

/// How long the template's last connections may take to go.
const QUIET_WITHIN: Duration = Duration::from_secs(10);

/// Creates the template on `cluster` and runs `confab_postgres::migrate` on it; when this
/// returns, nobody is connected to it (`CREATE DATABASE … TEMPLATE` refuses a template in use)
/// and nobody can connect to it any more.
pub(super) fn prepare(cluster: &PgCluster) -> Result<(), String> {
    let admin = cluster.url("postgres");
    let url = cluster.url(TEMPLATE);
    on_own_runtime(move || async move {
        let name = ident(TEMPLATE);
        execute(&admin, format!("CREATE DATABASE {name}")).await?;
        confab_postgres::migrate(&url)
            .await
            .map_err(|e| format!("confab_postgres::migrate failed on the template: {e}"))?;
        execute(
            &admin,
            format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"),
        )
        .await?;
        // The migration's pool may still be closing its connections; end whatever is left.
        let deadline = Instant::now() + QUIET_WITHIN;
        loop {
            let connected = fetch_i64(
                &admin,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()"
                    .to_owned(),
                TEMPLATE,
            )
            .await?;
            if connected == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{connected} connections to {TEMPLATE} stayed after the migration"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}
