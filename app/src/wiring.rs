//! Picks the adapters for the configuration and plugs them into the ports.

use std::sync::Arc;
use std::time::Duration;

use confab_crypto::{Argon2Hasher, HmacCodeMaker, JwtIssuer, MIN_SECRET_LEN, generate_secret};
use confab_http::ws::hub::Hub;
use confab_http::{AppState, HttpConfig};
use confab_local::{LocalBus, LocalPresence, LocalRateLimiter};
use confab_ports::Ports;
use confab_ports::bus::EventBus;
use confab_ports::clock::Clock;
use confab_ports::presence::PresenceBoard;
use confab_ports::rate_limit::{Quotas, REPORTS, Rate, RateLimiter, TYPING, Window};
use confab_ports::service::{Accounts, Conversations, Files, Matchmaking, PoolSettings, Presence};

use crate::StartError;
use crate::config::{DatabaseUrl, ServeArgs, parse_duration};
use crate::store::open_store;

/// What instances share: in process for one instance, over Redis for several.
struct Shared {
    bus: Arc<dyn EventBus>,
    limiter: Arc<dyn RateLimiter>,
    presence: Arc<dyn PresenceBoard>,
}

/// The bus, the limiter and the presence board: in process for one instance, over Redis for
/// several.
async fn shared(args: &ServeArgs) -> Result<Shared, StartError> {
    let board = args.presence.board();
    let Some(url) = &args.redis_url else {
        return Ok(Shared {
            bus: Arc::new(LocalBus::default()),
            limiter: Arc::new(LocalRateLimiter::new(quotas(args))),
            presence: Arc::new(LocalPresence::new(board)),
        });
    };
    let redis = confab_redis::connect(url, quotas(args), confab_redis::Timing::default(), board)
        .await
        .map_err(|e| StartError(e.to_string()))?;
    Ok(Shared {
        bus: Arc::new(redis.bus),
        limiter: Arc::new(redis.limiter),
        presence: Arc::new(redis.presence),
    })
}

/// A setting's duration as a domain duration (settings are bounded at start: see [`BOUNDS`]).
pub(crate) fn to_time(d: std::time::Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

fn quotas(args: &ServeArgs) -> Quotas {
    let requests = Rate {
        burst: args.request_burst,
        // The burst refills at the sustained rate: `burst` units every burst/rate seconds.
        per: Duration::from_secs_f64(
            f64::from(args.request_burst) / f64::from(args.requests_per_second),
        ),
    };
    Quotas {
        login_failures_per_account: Window {
            limit: args.login_failures_per_account,
            window: args.login_failure_window,
        },
        login_failures_per_ip: Window {
            limit: args.login_failures_per_ip,
            window: args.login_failure_window,
        },
        login_failure_ceiling: args.login_failure_ceiling,
        requests_per_user: requests,
        requests_per_ip: requests,
        typing: TYPING,
        otp_sends_per_address: Window {
            limit: args.mail.otp_sends_per_address,
            window: args.mail.otp_send_window,
        },
        otp_sends_per_ip: Window {
            limit: args.mail.otp_sends_per_ip,
            window: args.mail.otp_send_window,
        },
        reports: Window {
            limit: args.reports_per_hour,
            window: REPORTS.window,
        },
    }
}

/// A setting's flag, how to read it, and its largest sensible value.
type Bound = (&'static str, fn(&ServeArgs) -> Duration, &'static str);

/// Longest settings that still make sense; beyond them date arithmetic could overflow.
const BOUNDS: [Bound; 13] = [
    ("--access-token-ttl", |a| a.access_token_ttl, "1d"),
    ("--refresh-token-ttl", |a| a.refresh_token_ttl, "3650d"),
    ("--login-failure-window", |a| a.login_failure_window, "1d"),
    ("--request-timeout", |a| a.request_timeout, "1h"),
    ("--shutdown-grace", |a| a.shutdown_grace, "1h"),
    ("--ws-ping-interval", |a| a.ws_ping_interval, "10m"),
    ("--database-timeout", |a| a.store.database_timeout, "10m"),
    ("--pool-wait", |a| a.pool_wait, "1d"),
    ("--room-lifetime", |a| a.room_lifetime, "3650d"),
    ("--expiry-sweep-interval", |a| a.expiry_sweep_interval, "1h"),
    ("--presence-grace", |a| a.presence.presence_grace, "1h"),
    ("--presence-gap", |a| a.presence.presence_gap, "1h"),
    (
        "--presence-instance-timeout",
        |a| a.presence.presence_instance_timeout,
        "1h",
    ),
];

fn check_bounds(args: &ServeArgs) -> Result<(), StartError> {
    args.presence.check()?;
    for (flag, get, max) in BOUNDS {
        let limit = parse_duration(max).map_err(StartError)?;
        if get(args) > limit {
            return Err(StartError(format!("{flag} may be at most {max}")));
        }
    }
    Ok(())
}

/// Builds every port from the settings.
pub(crate) async fn ports(args: &ServeArgs, clock: Arc<dyn Clock>) -> Result<Ports, StartError> {
    check_bounds(args)?;
    if let Some(secret) = &args.jwt_secret
        && secret.len() < MIN_SECRET_LEN
    {
        return Err(StartError(format!(
            "the JWT secret (--jwt-secret / CONFAB_JWT_SECRET) must be at least {MIN_SECRET_LEN} bytes"
        )));
    }
    let otp = args.mail.otp_settings()?;
    let mailer = args.mail.mailer()?;
    if let Some(url) = &args.redis_url {
        // Refused before anything is opened or migrated.
        confab_redis::parse_url(url).map_err(|e| StartError(e.to_string()))?;
        if matches!(
            DatabaseUrl::parse(&args.store.database_url),
            Ok(DatabaseUrl::Sqlite(_))
        ) {
            return Err(StartError(
                "--redis-url is for several instances on one PostgreSQL database; a SQLite file cannot be shared between instances (use --database-url postgres://…, or leave --redis-url unset)".into(),
            ));
        }
    }
    // Redis before the database: an unreachable Redis is refused before anything migrates.
    let shared = shared(args).await?;
    let store = open_store(&args.store).await?;
    let secret = match &args.jwt_secret {
        Some(s) => s.as_bytes().to_vec(),
        None => store
            .health
            .signing_secret_or_init(generate_secret())
            .await
            .map_err(|e| StartError(format!("cannot read the signing secret: {e}")))?,
    };
    let hasher = tokio::task::spawn_blocking(Argon2Hasher::new)
        .await
        .map_err(|e| StartError(format!("password hasher: {e}")))?
        .map_err(|e| StartError(format!("password hasher: {e}")))?;
    Ok(Ports {
        users: store.users,
        blocks: store.blocks,
        circles: store.circles,
        groups: store.groups,
        messages: store.messages,
        announcements: store.announcements,
        reports: store.reports,
        sessions: store.sessions,
        health: store.health,
        pool: store.pool,
        clock,
        hasher: Arc::new(hasher),
        tokens: Arc::new(JwtIssuer::new(
            &secret,
            to_time(args.access_token_ttl),
            to_time(args.refresh_token_ttl),
        )),
        limiter: shared.limiter,
        bus: shared.bus,
        presence: shared.presence,
        otp_codes: store.otp_codes,
        invites: store.invites,
        registration: args.registration,
        codes: Arc::new(HmacCodeMaker::new(&secret)),
        mailer,
        otp,
        attachments: store.attachments,
        blobs: blobs(args, store.blobs).await?,
        images: Arc::new(confab_files::RasterImages::default()),
        uploads: args.attachments.upload_settings(),
    })
}

/// Where attachment bytes live: the directory `--attachments-dir` names, else the database.
async fn blobs(
    args: &ServeArgs,
    in_database: Arc<dyn confab_ports::blobs::Blobs>,
) -> Result<Arc<dyn confab_ports::blobs::Blobs>, StartError> {
    let Some(dir) = &args.attachments.attachments_dir else {
        return Ok(in_database);
    };
    let blobs = confab_files::DirBlobs::open(dir).await.map_err(|e| {
        StartError(format!(
            "the attachments directory {} cannot be used: {e}",
            dir.display()
        ))
    })?;
    Ok(Arc::new(blobs))
}

/// The matching pool's use cases with the configured lifetimes.
pub(crate) fn matchmaking(ports: Ports, args: &ServeArgs) -> Matchmaking {
    Matchmaking::new(
        ports,
        PoolSettings {
            wait: args.pool_wait,
            room_lifetime: args.room_lifetime,
        },
    )
}

/// The HTTP application over the ports, and the hub that feeds its sockets.
pub(crate) fn router(
    ports: Ports,
    files: Files,
    presence: Presence,
    args: &ServeArgs,
) -> (axum::Router, Arc<Hub>) {
    let health = ports.health.clone();
    let bus = Arc::clone(&ports.bus);
    let ws_outbox = usize::try_from(args.ws_outbox).unwrap_or(1024);
    // The hub's inbox per socket is generous: a session drains it as fast as its client reads,
    // so it only fills for a client that stopped reading (see --ws-outbox).
    let hub = Hub::start(ports.bus.subscribe(), ws_outbox.max(256));
    let router = confab_http::router(AppState {
        conversations: Conversations::new(ports.clone()),
        files,
        pool: matchmaking(ports.clone(), args),
        presence,
        accounts: Accounts::new(ports),
        hub: Arc::clone(&hub),
        health,
        bus,
        config: HttpConfig {
            body_limit: usize::try_from(args.body_limit).unwrap_or(usize::MAX),
            request_timeout: args.request_timeout,
            trust_forwarded_for: args.trust_forwarded_for,
            ws_ping_interval: args.ws_ping_interval,
            ws_outbox,
            ws_outbox_bytes: usize::try_from(args.ws_outbox_bytes).unwrap_or(usize::MAX),
            upload_limit: args.attachments.attachment_max_bytes,
            public_metrics: args.metrics_listen.is_none(),
        },
    });
    (router, hub)
}
