//! What several instances share through Redis: the event bus (pub/sub, with a heartbeat that
//! finds a silent subscription, and re-checks against the store whenever something may have
//! been lost), the rate limiter and the presence board (atomic Lua scripts). Redis holds nothing that must
//! survive: the database is the truth; losing Redis costs latency and shared limits, never a
//! message.
//!
//! Built on redis-rs: a plain `PubSub` connection whose life this crate manages (so it knows
//! exactly when a subscription is made again, which is when sockets must re-check), and
//! multiplexed connections with timeouts for commands. This crate must never make a caller
//! wait on Redis beyond its timeout.
#![forbid(unsafe_code)]

mod bus;
mod codec;
mod limiter;
mod link;
mod presence;

use std::time::Duration;

pub use bus::{RedisBus, Timing};
pub use limiter::RedisRateLimiter;
pub use presence::RedisPresence;

use confab_ports::presence::BoardSettings;
use confab_ports::rate_limit::Quotas;
use redis::Client;

use crate::link::{Limits, Link};

/// Redis could not be used; the text is one line for the operator, never with the password.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error(
        "the Redis URL is not valid: {0} (expected redis://[:password@]host:port[/db] or rediss://…)"
    )]
    BadUrl(String),
    #[error("cannot reach Redis at {at}: {reason}")]
    Unreachable { at: String, reason: String },
}

/// A bus, a limiter and a presence board over one Redis server.
#[derive(Debug)]
pub struct Redis {
    pub bus: RedisBus,
    pub limiter: RedisRateLimiter,
    pub presence: RedisPresence,
}

/// Where a client connects, for messages: host, port and database, without credentials.
fn describe(client: &Client) -> String {
    let info = client.get_connection_info();
    format!("{}/{}", info.addr(), info.redis_settings().db())
}

/// Checks `url` (`redis://` or `rediss://` only) without connecting.
pub fn parse_url(url: &str) -> Result<Client, RedisError> {
    let scheme_ok = url.starts_with("redis://") || url.starts_with("rediss://");
    if !scheme_ok {
        return Err(RedisError::BadUrl(
            "the scheme must be redis or rediss".into(),
        ));
    }
    // The driver's message may quote the URL: say only what kind of error it was.
    Client::open(url).map_err(|e| RedisError::BadUrl(format!("{:?}", e.kind())))
}

/// Connects to the Redis server at `url`, checks that it answers, and starts the bus's tasks
/// on the current runtime.
pub async fn connect(
    url: &str,
    quotas: Quotas,
    timing: Timing,
    presence: BoardSettings,
) -> Result<Redis, RedisError> {
    let client = parse_url(url)?;
    let at = describe(&client);
    // The first contact may take a little longer than the calls that follow.
    let patient = timing.timeout.max(Duration::from_secs(2));
    let probe = Link::new(
        client.clone(),
        Limits {
            connect: patient,
            response: patient,
        },
    );
    probe
        .run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
        .await
        .map_err(|e| RedisError::Unreachable {
            at: at.clone(),
            reason: e.to_string(),
        })?;
    tracing::info!(redis = %at, "sharing events, limits and presence through Redis");
    let limits = Limits {
        connect: timing.timeout,
        response: timing.timeout,
    };
    Ok(Redis {
        bus: RedisBus::start(client.clone(), timing),
        limiter: RedisRateLimiter::new(Link::new(client.clone(), limits), quotas),
        presence: RedisPresence::new(Link::new(client.clone(), limits), presence),
    })
}
