//! Closing connections that hold a file descriptor and do nothing: one that never sends a
//! request, or a keep-alive connection with no request in flight, is closed once it has been
//! quiet (no byte read or written) for the idle timeout. This must never close a connection
//! while a request on it is being handled, and costs one relaxed store per read or write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// Quiet checks per idle timeout: a quiet connection closes between 1 and 1¼ timeouts.
const CHECKS_PER_TIMEOUT: u32 = 4;

/// What a connection's IO and its request handling tell the idle watch.
#[derive(Debug, Default)]
pub struct Activity {
    /// Set by every read or write that moved bytes; cleared by each check.
    moved: AtomicBool,
    /// Requests being handled now.
    in_flight: AtomicU32,
}

impl Activity {
    /// Marks a request as being handled until the returned guard drops.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    /// Bytes moved on the connection.
    pub fn touch(&self) {
        self.moved.store(true, Ordering::Relaxed);
    }

    /// Completes once the connection has been quiet, with nothing in flight, for `timeout`.
    pub async fn idle_for(&self, timeout: Duration) {
        let mut ticks = tokio::time::interval(timeout / CHECKS_PER_TIMEOUT);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        let mut quiet = 0;
        loop {
            ticks.tick().await;
            let moved = self.moved.swap(false, Ordering::Relaxed);
            if moved || self.in_flight.load(Ordering::Relaxed) > 0 {
                quiet = 0;
            } else {
                quiet += 1;
                if quiet >= CHECKS_PER_TIMEOUT {
                    return;
                }
            }
        }
    }
}

/// A request being handled; dropping it ends it.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        // The answer just went out: the quiet time counts from here.
        self.0.touch();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_quiet_connection_is_idle_after_the_timeout_but_not_while_a_request_runs() {
        let activity = Arc::new(Activity::default());
        let timeout = Duration::from_secs(8);
        let request = activity.begin();
        let waited = tokio::time::timeout(timeout * 3, activity.idle_for(timeout)).await;
        assert!(waited.is_err(), "idle while a request was in flight");
        drop(request);
        let started = tokio::time::Instant::now();
        activity.idle_for(timeout).await;
        let took = started.elapsed();
        assert!(
            took >= timeout && took <= timeout * 3 / 2,
            "idle after {took:?}"
        );
    }
}
