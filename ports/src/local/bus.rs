//! The in-process bus: a tokio broadcast channel. A subscriber that falls behind by more than
//! the capacity misses events (it learns how many); the session's gap fill repairs that.

use async_trait::async_trait;
use confab_domain::Event;
use tokio::sync::broadcast;

use crate::bus::EventBus;

/// Events buffered per subscriber before the slowest starts missing some.
const CAPACITY: usize = 4096;

/// Fan-out within one process.
#[derive(Debug)]
pub struct LocalBus {
    sender: broadcast::Sender<Event>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, event: Event) {
        // No subscriber (no hub running, e.g. the CLI) is not an error.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::{GroupId, UserId};

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order() {
        let bus = LocalBus::default();
        let (mut a, mut b) = (bus.subscribe(), bus.subscribe());
        let g = GroupId::new();
        for _ in 0..3 {
            bus.publish(Event::GroupUpdated { group_id: g }).await;
        }
        bus.publish(Event::Typing {
            group_id: g,
            user_id: UserId::new(),
        })
        .await;
        for rx in [&mut a, &mut b] {
            for _ in 0..3 {
                assert_eq!(
                    rx.recv().await.unwrap(),
                    Event::GroupUpdated { group_id: g }
                );
            }
            assert!(matches!(rx.recv().await.unwrap(), Event::Typing { .. }));
        }
    }

    #[tokio::test]
    async fn publishing_without_subscribers_is_fine() {
        LocalBus::default()
            .publish(Event::GroupUpdated {
                group_id: GroupId::new(),
            })
            .await;
    }
}
