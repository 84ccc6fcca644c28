//! In-process implementations of ports that need no backend: used by a single instance, and
//! replaced by shared ones (Redis) when several instances run.

mod bus;
mod rate_limiter;

pub use bus::LocalBus;
pub use rate_limiter::{
    LocalRateLimiter, OTP_SENDS_PER_ADDRESS, OTP_SENDS_PER_IP, Quotas, Rate, TYPING, Window,
};
