//! In-process implementations of ports that need no backend: used by a single instance, and
//! replaced by shared ones (Redis) when several instances run.

mod rate_limiter;

pub use rate_limiter::{LocalRateLimiter, Quotas, Rate, Window};
