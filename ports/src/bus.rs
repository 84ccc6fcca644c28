//! Fan-out as a port: the use cases publish events after their commit; every instance's hub
//! subscribes. In process (`adapters/local`) for one instance, Redis pub/sub (`adapters/redis`)
//! for several.
//!
//! The bus MAY drop or reorder events (a lagging subscriber, a network blip, a Redis outage):
//! delivery stays right because each socket's session orders message events by `rev`, fills
//! gaps from the store, and re-checks every group against the store when its subscription
//! says [`Notice::Missed`]. A bus MUST say `Missed` whenever it may have lost an event for a
//! subscriber, and MUST NOT make a publisher wait for slow subscribers or a slow backend.
//!
//! The subscription type is this crate's own, so no adapter's channel or client type leaks into
//! the core: an adapter feeds a [`Feed`], the hub reads the matching [`Subscription`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use confab_domain::Event;
use tokio::sync::{Notify, mpsc};

/// Publishes events to every subscriber on every instance.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Hands an event to every subscriber; never waits for them (nor for a backend).
    async fn publish(&self, event: Event);

    /// A new subscription to every event published from now on.
    fn subscribe(&self) -> Subscription;

    /// Whether events published now reach every instance. MUST return `Error::Unavailable`
    /// while a shared backend is unreachable (the in-process bus is always ready).
    async fn ready(&self) -> crate::Result<()>;

    /// The server has stopped taking requests: MUST hand everything published before to the
    /// backend (waiting a few seconds at most) and tell other instances that this one is
    /// leaving, so a graceful stop loses no event. Publishing after it MAY be dropped.
    async fn close(&self);
}

/// What a subscriber hears.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// An event, shared by every subscriber that hears it.
    Event(Arc<Event>),
    /// Events may have been lost since the last notice: re-check everything against the store.
    Missed,
}

/// The publishing half of a subscription, held by the bus adapter.
#[derive(Debug, Clone)]
pub struct Feed {
    events: mpsc::Sender<Arc<Event>>,
    missed: Arc<Missed>,
}

/// The receiving half, held by the subscriber (an instance's hub).
#[derive(Debug)]
pub struct Subscription {
    events: mpsc::Receiver<Arc<Event>>,
    missed: Arc<Missed>,
}

/// A loss waiting to be told: a flag, and a wake-up for a subscriber idle on an empty queue.
#[derive(Debug, Default)]
struct Missed {
    pending: AtomicBool,
    wake: Notify,
}

/// A subscription that buffers up to `capacity` events; beyond that, events are dropped and
/// the subscriber hears [`Notice::Missed`] instead.
pub fn subscription(capacity: usize) -> (Feed, Subscription) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let missed = Arc::new(Missed::default());
    (
        Feed {
            events: tx,
            missed: Arc::clone(&missed),
        },
        Subscription { events: rx, missed },
    )
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// Queued for the subscriber.
    Queued,
    /// The subscriber's queue was full: the event was dropped and `Missed` is pending.
    Dropped,
    /// The subscriber is gone: forget this feed.
    Closed,
}

impl Feed {
    /// Queues `event` without waiting; a full queue turns into a pending [`Notice::Missed`].
    pub fn deliver(&self, event: Arc<Event>) -> Delivered {
        match self.events.try_send(event) {
            Ok(()) => Delivered::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.missed();
                Delivered::Dropped
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Delivered::Closed,
        }
    }

    /// Tells the subscriber that events may have been lost (once, however often it is called
    /// before the subscriber looks).
    pub fn missed(&self) {
        self.missed.pending.store(true, Ordering::Release);
        self.missed.wake.notify_one();
    }

    /// Whether the subscriber is gone.
    pub fn is_closed(&self) -> bool {
        self.events.is_closed()
    }
}

impl Subscription {
    /// The next notice; `None` once every feed of this subscription is gone. A pending loss
    /// comes before queued events: the re-check it causes covers them, and a queued event that
    /// is older than the re-check is then a duplicate the sessions drop.
    pub async fn next(&mut self) -> Option<Notice> {
        loop {
            if self.missed.pending.swap(false, Ordering::AcqRel) {
                return Some(Notice::Missed);
            }
            tokio::select! {
                biased;
                () = self.missed.wake.notified() => continue,
                event = self.events.recv() => return event.map(Notice::Event),
            }
        }
    }

    /// The next notice if one is ready now.
    pub fn try_next(&mut self) -> Option<Notice> {
        if self.missed.pending.swap(false, Ordering::AcqRel) {
            return Some(Notice::Missed);
        }
        self.events.try_recv().ok().map(Notice::Event)
    }
}

/// Every subscription of one bus adapter in this process, fed without waiting: what both the
/// in-process and the shared bus hand their events to.
#[derive(Debug, Default)]
pub struct Feeds {
    feeds: Mutex<Vec<Feed>>,
}

/// How many subscriptions one delivery reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    pub queued: u64,
    pub dropped: u64,
}

impl Feeds {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Feed>> {
        self.feeds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new subscription buffering up to `capacity` events.
    pub fn subscribe(&self, capacity: usize) -> Subscription {
        let (feed, subscription) = subscription(capacity);
        self.lock().push(feed);
        subscription
    }

    /// Hands `event` to every subscription, forgetting those that are gone.
    pub fn deliver(&self, event: &Arc<Event>) -> Reach {
        let mut reach = Reach::default();
        self.lock()
            .retain(|feed| match feed.deliver(Arc::clone(event)) {
                Delivered::Queued => {
                    reach.queued += 1;
                    true
                }
                Delivered::Dropped => {
                    reach.dropped += 1;
                    true
                }
                Delivered::Closed => false,
            });
        reach
    }

    /// Tells every subscription that events may have been lost.
    pub fn missed(&self) {
        for feed in self.lock().iter() {
            feed.missed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::GroupId;

    fn event() -> Arc<Event> {
        Arc::new(Event::GroupUpdated {
            group_id: GroupId::new(),
        })
    }

    #[tokio::test]
    async fn events_arrive_in_order() {
        let (feed, mut sub) = subscription(4);
        let (a, b) = (event(), event());
        assert_eq!(feed.deliver(a.clone()), Delivered::Queued);
        assert_eq!(feed.deliver(b.clone()), Delivered::Queued);
        assert_eq!(sub.next().await, Some(Notice::Event(a)));
        assert_eq!(sub.next().await, Some(Notice::Event(b)));
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_the_loss_is_told_first_and_once() {
        let (feed, mut sub) = subscription(1);
        let kept = event();
        assert_eq!(feed.deliver(kept.clone()), Delivered::Queued);
        assert_eq!(feed.deliver(event()), Delivered::Dropped);
        assert_eq!(feed.deliver(event()), Delivered::Dropped);
        assert_eq!(sub.next().await, Some(Notice::Missed));
        assert_eq!(sub.next().await, Some(Notice::Event(kept)));
        assert_eq!(sub.try_next(), None);
    }

    #[tokio::test]
    async fn a_loss_wakes_a_subscriber_waiting_on_an_empty_queue() {
        let (feed, mut sub) = subscription(1);
        let waiting = tokio::spawn(async move { sub.next().await });
        tokio::task::yield_now().await;
        feed.missed();
        let got = tokio::time::timeout(std::time::Duration::from_secs(2), waiting).await;
        assert_eq!(got.unwrap().unwrap(), Some(Notice::Missed));
    }

    #[tokio::test]
    async fn the_subscription_ends_when_its_feeds_are_gone_and_a_feed_sees_its_subscriber_go() {
        let (feed, mut sub) = subscription(1);
        let other = feed.clone();
        drop(feed);
        assert!(!other.is_closed());
        drop(other);
        assert_eq!(sub.next().await, None);
        let (feed, sub) = subscription(1);
        drop(sub);
        assert!(feed.is_closed());
        assert_eq!(feed.deliver(event()), Delivered::Closed);
    }
}
