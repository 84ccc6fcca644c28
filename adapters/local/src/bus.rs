//! The in-process bus: every publish is handed to every subscription of this process. A
//! subscriber that falls behind by more than its queue hears `Missed` instead of the events it
//! lost; the sessions' re-check repairs that. It must never wait on a subscriber.

use std::sync::Arc;

use async_trait::async_trait;
use confab_domain::Event;
use confab_ports::bus::{EventBus, Feeds, Subscription};

/// Events buffered per subscriber before the slowest starts missing some.
const CAPACITY: usize = 4096;

/// Fan-out within one process.
#[derive(Debug, Default)]
pub struct LocalBus {
    feeds: Feeds,
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, event: Event) {
        metrics::counter!("confab_bus_events_published_total").increment(1);
        // No subscriber (no hub running, e.g. the CLI) is not an error.
        let reach = self.feeds.deliver(&Arc::new(event));
        metrics::counter!("confab_bus_events_received_total").increment(reach.queued);
        metrics::counter!("confab_bus_events_dropped_total").increment(reach.dropped);
    }

    fn subscribe(&self) -> Subscription {
        self.feeds.subscribe(CAPACITY)
    }

    async fn ready(&self) -> confab_ports::Result<()> {
        Ok(())
    }

    async fn close(&self) {
        // Every event was handed over when it was published.
    }
}
