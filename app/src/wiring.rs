//! Picks the adapters for the configuration and plugs them into the ports.

use std::sync::Arc;

use confab_crypto::{Argon2Hasher, JwtIssuer, MIN_SECRET_LEN, generate_secret};
use confab_http::{AppState, HttpConfig};
use confab_ports::Ports;
use confab_ports::clock::SystemClock;
use confab_ports::local::{LocalRateLimiter, Quota, Quotas};
use confab_ports::service::Accounts;
use confab_ports::store::Health;
use confab_sqlite::SqliteStore;

use crate::StartError;
use crate::config::{DatabaseUrl, ServeArgs};

/// Opens the store named by the URL, running migrations.
pub(crate) async fn open_store(url: &str) -> Result<Arc<SqliteStore>, StartError> {
    let DatabaseUrl::Sqlite(path) = DatabaseUrl::parse(url).map_err(StartError)?;
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
        .await
        .map_err(|e| StartError(format!("opening the database failed: {e}")))?
        .map_err(|e| StartError(e.to_string()))?;
    Ok(Arc::new(store))
}

fn to_time(d: std::time::Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

fn quotas(args: &ServeArgs) -> Quotas {
    let window = args.login_failure_window;
    let requests = Quota {
        burst: args.request_burst,
        // The burst refills at the sustained rate: `burst` units every burst/rate seconds.
        per: std::time::Duration::from_secs_f64(
            f64::from(args.request_burst) / f64::from(args.requests_per_second),
        ),
    };
    Quotas {
        login_failures_per_account: Quota {
            burst: args.login_failures_per_account,
            per: window,
        },
        login_failures_per_ip: Quota {
            burst: args.login_failures_per_ip,
            per: window,
        },
        requests_per_user: requests,
        requests_per_ip: requests,
    }
}

/// Builds every port from the settings.
pub(crate) async fn ports(args: &ServeArgs) -> Result<Ports, StartError> {
    if let Some(secret) = &args.jwt_secret
        && secret.len() < MIN_SECRET_LEN
    {
        return Err(StartError(format!(
            "the JWT secret (--jwt-secret / CONFAB_JWT_SECRET) must be at least {MIN_SECRET_LEN} bytes"
        )));
    }
    let store = open_store(&args.store.database_url).await?;
    let secret = match &args.jwt_secret {
        Some(s) => s.as_bytes().to_vec(),
        None => store
            .signing_secret_or_init(generate_secret())
            .await
            .map_err(|e| StartError(format!("cannot read the signing secret: {e}")))?,
    };
    let hasher = tokio::task::spawn_blocking(Argon2Hasher::new)
        .await
        .map_err(|e| StartError(format!("password hasher: {e}")))?
        .map_err(|e| StartError(format!("password hasher: {e}")))?;
    Ok(Ports {
        users: store.clone(),
        sessions: store.clone(),
        health: store,
        clock: Arc::new(SystemClock),
        hasher: Arc::new(hasher),
        tokens: Arc::new(JwtIssuer::new(
            &secret,
            to_time(args.access_token_ttl),
            to_time(args.refresh_token_ttl),
        )),
        limiter: Arc::new(LocalRateLimiter::new(quotas(args))),
    })
}

/// The HTTP application over the ports.
pub(crate) fn router(ports: Ports, args: &ServeArgs) -> axum::Router {
    let health = ports.health.clone();
    confab_http::router(AppState {
        accounts: Accounts::new(ports),
        health,
        config: HttpConfig {
            body_limit: usize::try_from(args.body_limit).unwrap_or(usize::MAX),
            request_timeout: args.request_timeout,
            trust_forwarded_for: args.trust_forwarded_for,
        },
    })
}
