//! The in-process adapters of the ports that several instances would share: the event bus and
//! the rate limiter, for a single instance. They need no backend and must never be used by
//! more than one process at once (each instance would fan out and count on its own);
//! `adapters/redis` replaces both when several instances run.
#![forbid(unsafe_code)]

mod bus;
mod rate_limiter;

pub use bus::LocalBus;
pub use rate_limiter::LocalRateLimiter;
