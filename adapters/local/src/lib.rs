//! The in-process adapters of the ports that several instances would share: the event bus, the
//! rate limiter and the presence board, for a single instance. They need no backend and must
//! never be used by more than one process at once (each instance would fan out, count and see
//! on its own); `adapters/redis` replaces them when several instances run.
#![forbid(unsafe_code)]

mod bus;
mod presence;
mod rate_limiter;

pub use bus::LocalBus;
pub use presence::LocalPresence;
pub use rate_limiter::LocalRateLimiter;
