//! Time as a port, so that tests can move it instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

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

/// The real clock moved forward by an offset that can be advanced: lets a black-box test see
/// 24 hours pass without sleeping. Clones share the offset.
#[derive(Debug, Default, Clone)]
pub struct ShiftedClock {
    offset_ms: Arc<AtomicI64>,
}

impl ShiftedClock {
    /// Moves this clock (and every clone of it) `by` into the future.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        let offset = time::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst));
        SystemClock.now().saturating_add(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_moves_with_its_clones() {
        let clock = ShiftedClock::default();
        let copy = clock.clone();
        let before = SystemClock.now();
        clock.advance(Duration::from_secs(86_400));
        let later = copy.now() - before;
        assert!(later >= time::Duration::hours(24), "{later}");
        assert!(later < time::Duration::hours(24) + time::Duration::minutes(1));
    }
}
