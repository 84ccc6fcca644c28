//! Time as a port, so that tests can move it instead of sleeping.

use confab_domain::Timestamp;

/// The current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC, truncated to milliseconds.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        confab_domain::to_millis(time::OffsetDateTime::now_utc())
    }
}
