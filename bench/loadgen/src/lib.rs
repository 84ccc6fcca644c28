//! confab's load generator (issue 13): one function per scenario, each returning a summary
//! that prints as one line and serialises to JSON. The `confab-bench` binary is the command
//! line over these; the smoke test runs each once at a tiny size against a real server.
//!
//! `limits` is the exception: it talks to no confab server, and measures what this machine
//! allows (synced disk writes, loopback WebSocket echoes and HTTP requests), so the others'
//! figures can be given as ratios to the hardware.
//!
//! Every other scenario registers fresh users (named with a random run tag, so runs never
//! collide; Argon2 makes this slow on purpose and it is not measured), then measures. Start the
//! server with throttling out of the way: `--request-burst 100000 --requests-per-second 100000`.

pub mod api;
pub mod fanout;
pub mod idle;
pub mod limits;
pub mod presence;
pub mod sends;
pub mod stats;
pub mod storm;
pub mod ws;

pub use fanout::{FanoutConfig, FanoutSummary, fanout};
pub use idle::{IdleConfig, IdleSummary, idle};
pub use limits::{LimitsConfig, LimitsSummary, limits};
pub use presence::{PresenceConfig, PresenceSummary, presence};
pub use sends::{SendsConfig, SendsSummary, sends};
pub use storm::{StormConfig, StormSummary, storm};

/// How messages are sent: `POST /api/v1/groups/{id}/messages`, or `message.send` on a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Over {
    Http,
    Ws,
}

impl std::fmt::Display for Over {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Over::Http => "http",
            Over::Ws => "ws",
        })
    }
}

/// A scenario's result: one line for people, the whole of it as JSON.
pub trait Summary: serde::Serialize {
    /// The one-line summary.
    fn line(&self) -> String;
}

/// An error kind counted once more.
pub(crate) fn count(kinds: &mut std::collections::BTreeMap<String, u64>, kind: &str) {
    match kinds.get_mut(kind) {
        Some(n) => *n += 1,
        None => {
            kinds.insert(kind.to_owned(), 1);
        }
    }
}

/// The key under which a failed HTTP request is counted.
pub(crate) fn transport_error(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    }
}
