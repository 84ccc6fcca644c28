//! Fan-out as a port: the use cases publish events after their commit; every instance's hub
//! subscribes. In process now (a broadcast channel); Redis pub/sub when several instances run.
//!
//! The bus MAY drop or reorder events (a lagging subscriber, a network blip): delivery stays
//! right because each socket's session orders message events by `rev` and fills gaps from the
//! store. It MUST NOT make a publisher wait for slow subscribers.

use async_trait::async_trait;
use confab_domain::Event;
use tokio::sync::broadcast;

/// Publishes events to every subscriber on every instance.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Hands an event to every subscriber; never waits for them.
    async fn publish(&self, event: Event);

    /// A new subscription to every event published from now on.
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}
