//! Settings of client connections: how many the server holds and how long a quiet one stays.

use std::time::Duration;

use clap::Args;

use crate::config::parse_duration;

/// Client connections.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// An HTTP connection with no request in flight (also one that never sends a request) is
    /// closed after this long without traffic. WebSockets have their own ping instead.
    #[arg(long, env = "CONFAB_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Open connections in total, WebSockets included; more are refused with 503. Lowered at
    /// start to fit the open-files limit.
    #[arg(long, env = "CONFAB_MAX_CONNECTIONS", default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_connections: u32,
    /// Open connections per client address (IPv6: per /64); more are refused with 429. 0: no
    /// cap. Not applied with --trust-forwarded-for (every peer is then the proxy: cap
    /// connections per client there).
    #[arg(long, env = "CONFAB_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub max_connections_per_address: u32,
}
