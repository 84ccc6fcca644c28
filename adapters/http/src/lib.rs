//! The HTTP edge: axum routes for the REST API, health, metrics and OpenAPI.
//!
//! Handlers only translate: wire types in, a use case from `confab-ports`, wire types out.
//! Errors are mapped to statuses once, in [`error`]. Only this crate knows JSON and HTTP.
#![forbid(unsafe_code)]

mod access_log;
mod error;
mod extract;
mod files;
#[doc(hidden)]
pub mod fuzzing;
mod metrics;
mod middleware;
mod openapi;
mod refusal;
mod routes;
mod seen;
mod wire;
pub mod ws;

use std::sync::Arc;
use std::time::Duration;

use confab_ports::service::{Accounts, Conversations, Files, Matchmaking, Presence};
use confab_ports::store::Health;

pub use metrics::{install_recorder, metrics_router, record_build_info};
pub use refusal::ConnectionRefusal;
pub use routes::router;
pub use wire::rfc3339_ms;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted (API: 64 KiB).
    pub body_limit: usize,
    /// A request taking longer than this is answered with 503 and abandoned.
    pub request_timeout: Duration,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a load balancer).
    pub trust_forwarded_for: bool,
    /// How often an idle socket is pinged; a socket silent for two intervals is dropped.
    pub ws_ping_interval: Duration,
    /// Frames queued for one socket before it counts as too slow (closed with 1013).
    pub ws_outbox: usize,
    /// Bytes of frames queued for one socket before it counts as too slow (closed with 1013).
    pub ws_outbox_bytes: usize,
    /// Largest upload (`--attachment-max-bytes`): an upload's body is held to this, not to
    /// `body_limit`, and is not bound by `request_timeout` (a stall of that long ends it).
    pub upload_limit: u64,
    /// Whether `/metrics` is served here; false when `--metrics-listen` serves it elsewhere.
    pub public_metrics: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            trust_forwarded_for: false,
            ws_ping_interval: Duration::from_secs(25),
            ws_outbox: 1024,
            ws_outbox_bytes: 40 * 1024,
            upload_limit: confab_ports::service::UploadSettings::default().max_bytes,
            public_metrics: true,
        }
    }
}

/// What handlers can reach: use cases and health, never a store or a driver.
#[derive(Clone)]
pub struct AppState {
    pub accounts: Accounts,
    pub conversations: Conversations,
    pub files: Files,
    pub pool: Matchmaking,
    /// Who is online: sockets report to it, `user` objects ask it.
    pub presence: Presence,
    pub hub: Arc<ws::hub::Hub>,
    pub health: Arc<dyn Health>,
    /// For readiness: a shared bus that cannot reach its backend makes the instance unready.
    pub bus: Arc<dyn confab_ports::bus::EventBus>,
    pub config: HttpConfig,
}
